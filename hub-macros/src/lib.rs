//! The `#[hub]` and `#[hub_client]` attribute macros.
//!
//! Use them through `hub-core`, which re-exports both and documents the
//! accepted signatures:
//!
//! ```
//! use hub_core::{HubCtx, HubResult, hub, hub_client};
//!
//! #[hub_client]
//! pub trait ChatClient {
//!     async fn receive_message(&self, user: String, message: String);
//! }
//!
//! #[hub(client = ChatClient)]
//! pub trait Chat {
//!     #[hub(name = "Send")]
//!     async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()>;
//! }
//!
//! struct ChatHub;
//! impl Chat for ChatHub {
//!     async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()> {
//!         ctx.clients().others().receive_message(user, message).await
//!     }
//! }
//! let hub = ChatHub.into_hub();
//! # let _ = hub;
//! ```
//!
//! Each macro parses the trait into a model (`model`), validates it while
//! collecting every error (`errors`: each one spanned where the mistake is),
//! then generates code (`expand`) that calls into `hub_core::__private`.

mod attr;
mod errors;
mod expand;
mod model;
mod naming;

use proc_macro::TokenStream;

/// Turns a trait into a SignalR hub: every `async fn` becomes a method clients
/// can invoke, and the trait gains `fn into_hub(self) -> hub_core::Hub`.
///
/// Trait options: `#[hub(client = ClientTrait)]` names the client callbacks
/// trait; `authorize` / `authorize = "role"` guards every method;
/// `typescript` adds `fn typescript() -> hub_core::typescript::HubApi` (the
/// client trait needs `#[hub_client(typescript)]`, hub-core its `typescript`
/// feature); `#[hub(crate = "path")]` overrides the path of `hub_core`.
/// Method options: `#[hub(name = "WireName")]` renames a method on the wire;
/// `#[hub(authorize)]` / `#[hub(authorize = "role")]` guards it.
#[proc_macro_attribute]
pub fn hub(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::server::expand(args.into(), input.into()).into()
}

/// Turns a trait into typed client callbacks: each `async fn` becomes a call of
/// that client method, available on every client target (`ctx.clients().all()`,
/// `ctx.clients().caller()`, ...).
///
/// Trait options: `#[hub_client(typescript)]` describes the callbacks for a
/// `#[hub(typescript)]` hub; `#[hub_client(crate = "path")]`. Method options:
/// `#[hub(name = "WireName")]`.
#[proc_macro_attribute]
pub fn hub_client(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::client::expand(args.into(), input.into()).into()
}
