//! The SignalR hub runtime: typed hubs, typed client proxies, groups, users,
//! and the JSON hub protocol, independent of any HTTP stack.
//!
//! A hub is a trait annotated with [`#[hub]`](hub); the client methods it calls
//! are a trait annotated with [`#[hub_client]`](hub_client):
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
//!     async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()>;
//! }
//!
//! struct ChatHub;
//!
//! impl Chat for ChatHub {
//!     async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()> {
//!         ctx.clients().all().receive_message(user, message).await
//!     }
//! }
//!
//! let hub = ChatHub.into_hub();
//! # let _ = hub;
//! ```
//!
//! Serve the hub with `hub-transport` (`Server::builder().hub("/chatHub", hub)`).
//!
//! # Wire names
//! `send_message` is `SendMessage` on the wire; `#[hub(name = "...")]` on a
//! method renames it. Incoming names match ignoring ASCII case, as in ASP.NET Core.
//!
//! # Method signatures
//! * the receiver is `&self`;
//! * an optional first parameter `ctx: &HubCtx` receives the call's context;
//! * every other parameter is an argument: any `serde::de::DeserializeOwned + Send` type;
//! * the return type is `()`, any `Serialize` type, or `Result<T, E>` with
//!   `E: Into<HubError>` (every `std::error::Error` converts; [`HubError::new`]
//!   reaches the client verbatim, other errors only with detailed errors on).
//!
//! Client methods (`#[hub_client]`) take any `Serialize + Send + Sync`
//! arguments, borrowed ones included (`strokes: &[Stroke]`): the value is
//! serialized from the caller's data once per protocol, never copied per
//! recipient. A client method with a return type is a client result, callable
//! on single-connection targets only.

pub mod client_api;
mod clients;
pub mod cluster;
mod connection;
mod context;
mod error;
mod filter;
mod groups;
mod hub;
mod hub_context;
mod hub_state;
mod id;
mod items;
mod message;
mod method;
pub mod metrics;
mod options;
mod outcome;
mod registry;
mod reply;
mod serve;
#[cfg(test)]
mod test_hub;
pub mod testing;
mod trace_context;
mod transport;
#[cfg(feature = "typescript")]
pub mod typescript;
mod upload;

pub use clients::{CallerClients, ClientProxy, Clients, Recipient, Recipients, SingleClientProxy};
pub use cluster::{Backplane, BackplaneError, ClusterStats};
pub use context::HubCtx;
pub use error::{ArgumentError, Cancelled, HubError, HubResult};
pub use filter::{HubFilter, Invocation, Next};
pub use groups::{Groups, Users};
pub use hub::{Hub, HubBuilder};
pub use hub_context::{ClusterLink, HubContext};
pub use hub_macros::{hub, hub_client};
/// The wire protocol (the `hub-protocol` crate): hub messages, the JSON and
/// MessagePack hub protocols, framing, handshake and negotiate documents.
pub use hub_protocol as protocol;
pub use hub_protocol::ProtocolError;
pub use id::{ConnectionId, random_id};
pub use items::Items;
pub use method::Authorize;
pub use options::{HubOptions, SlowConsumerPolicy};
pub use outcome::{InvocationFuture, InvocationResult, MethodValue};
pub use registry::RegistryStats;
pub use tokio_util::sync::CancellationToken;
pub use trace_context::TraceParent;
pub use transport::{
    ConnectionEnd, ConnectionInfo, Identity, IdentityRefused, Inbound, Transport, TransportError,
    TransportEvent,
};
pub use upload::UploadStream;

/// What `#[hub]` and `#[hub_client]` expand to. Not a public API: it may change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::method::{
        ConnectedFn, DisconnectedFn, IntoMethodResult, InvokeFn, MethodCall, MethodSpec,
        MethodTable, StreamSink, boxed,
    };
    pub use crate::outcome::InvocationFuture;
    pub use futures_util::future::BoxFuture;
    pub use std::future::Future;
    pub use std::sync::Arc;

    use crate::clients::ClientProxy;
    use crate::error::HubResult;

    /// The builder of a hub whose methods are `table`.
    pub fn hub_builder<H: Send + Sync + 'static>(table: MethodTable<H>) -> crate::HubBuilder {
        crate::HubBuilder::new(Box::new(table))
    }

    /// Sends a client method call through any target.
    ///
    /// The future captures `proxy` and `arguments` without tying them to one
    /// lifetime, so client methods may take borrowed arguments (`&[T]`).
    pub fn send<P, A>(
        proxy: &P,
        method: &'static str,
        arguments: A,
    ) -> impl Future<Output = HubResult<()>> + Send
    where
        P: ClientProxy + ?Sized,
        A: serde::Serialize + Send + Sync,
    {
        proxy.send(method, arguments)
    }

    /// Invokes a client method on one connection and awaits its result.
    pub fn invoke<P, A, R>(
        proxy: &P,
        method: &'static str,
        arguments: A,
    ) -> impl Future<Output = HubResult<R>> + Send
    where
        P: crate::clients::SingleClientProxy + ?Sized,
        A: serde::Serialize + Send + Sync,
        R: serde::de::DeserializeOwned + Send,
    {
        proxy.invoke(method, arguments)
    }

    /// Compile-time check that an argument type can be received.
    pub fn assert_argument<T: serde::de::DeserializeOwned + Send + 'static>() {}

    /// Compile-time check that a method's error type converts into `HubError`.
    pub fn assert_into_hub_error<E: Into<crate::error::HubError>>() {}

    /// Implemented when hub-core's `typescript` feature is on: what
    /// `#[hub(typescript)]` and `#[hub_client(typescript)]` require.
    #[diagnostic::on_unimplemented(
        message = "`typescript` in `#[hub]` or `#[hub_client]` needs hub-core's `typescript` feature",
        label = "enable it in Cargo.toml: `features = [\"typescript\"]` on the hub-core dependency"
    )]
    pub trait TypeScriptFeature {}

    #[cfg(feature = "typescript")]
    impl TypeScriptFeature for () {}

    /// Compile-time check that the `typescript` feature is on.
    pub fn require_typescript_feature<T: TypeScriptFeature>() {}

    /// Never implemented: what a `#[hub(typescript)]` requires of a client
    /// trait declared without `typescript`.
    #[diagnostic::on_unimplemented(
        message = "the hub's client trait has no TypeScript description",
        label = "add `typescript` to the client trait's attribute: `#[hub_client(typescript)]`"
    )]
    pub trait ClientTraitWithoutTypeScript {}

    /// Compile-time check that a client method argument can be sent.
    pub fn assert_client_argument<T: serde::Serialize + Send + Sync>() {}

    /// What the typed proxies (`#[hub]`) and callback handlers
    /// (`#[hub_client]`) of a *client* expand to.
    pub mod client {
        pub use crate::client_api::{
            Answer, Call, Callback, CallbackRegistry, Dep, FromArguments, HubCaller,
            IntoCallbackOutcome, IntoUploads, StreamCall, Upload, callback,
        };
        pub use futures_util::stream::{BoxStream, Stream};
        pub use serde::Serialize;

        /// Compile-time check that a proxy argument can be sent.
        pub fn assert_argument<T: serde::Serialize + Send + 'static>() {}

        /// Compile-time check that a proxy result can be received.
        pub fn assert_result<T: serde::de::DeserializeOwned + Send + 'static>() {}

        /// A client result's value, or its error's text.
        pub fn answer<T, E>(result: Result<T, E>) -> Result<Answer<T>, crate::HubError>
        where
            E: Into<crate::HubError>,
        {
            result.map(Answer).map_err(Into::into)
        }
    }
}
