//! `#[hub(name = "...")]` renames a method on the wire, in hubs and client traits;
//! the Rust name stays usable (and other methods keep their derived names).

use hub_core::{HubCtx, HubResult, hub, hub_client};

#[hub_client]
pub trait RenamedClient {
    #[hub(name = "newMessage")]
    async fn receive(&self, message: String);
}

#[hub(client = RenamedClient)]
pub trait Renamed {
    #[hub(name = "Other")]
    async fn echo(&self, message: String) -> String;
    /// Doc comments and other attributes stay on the method.
    #[hub(name = "send-it")]
    #[doc(alias = "post")]
    async fn send(&self, ctx: &HubCtx, message: String) -> HubResult<()>;
    // Renaming to what another method would be called is fine when no clash remains.
    #[hub(name = "Echo")]
    async fn not_echo(&self) -> u8;
}

struct Impl;

impl Renamed for Impl {
    async fn echo(&self, message: String) -> String {
        message
    }

    async fn send(&self, ctx: &HubCtx, message: String) -> HubResult<()> {
        ctx.clients().all().receive(message).await
    }

    async fn not_echo(&self) -> u8 {
        0
    }
}

fn main() {
    let hub = Impl.into_hub();
    drop(hub);
}
