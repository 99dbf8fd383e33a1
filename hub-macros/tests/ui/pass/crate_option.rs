//! `crate = "path"` names where `hub_core` lives, for both macros.

use hub_core::{HubCtx, HubResult};

#[hub_core::hub_client(crate = "hub_core")]
pub trait Client {
    async fn receive(&self, message: String);
}

#[hub_core::hub(client = Client, crate = "hub_core")]
pub trait WithCrate {
    async fn echo(&self, message: String) -> String;
    async fn broadcast(&self, ctx: &HubCtx, message: String) -> HubResult<()>;
}

/// Any path to the crate works, e.g. through a re-export.
mod reexport {
    pub use hub_core as core_again;
}

#[hub_core::hub(crate = "reexport::core_again")]
pub trait ThroughReexport {
    async fn ping(&self);
}

struct Impl;

impl WithCrate for Impl {
    async fn echo(&self, message: String) -> String {
        message
    }

    async fn broadcast(&self, ctx: &HubCtx, message: String) -> HubResult<()> {
        ctx.clients().all().receive(message).await
    }
}

impl ThroughReexport for Impl {
    async fn ping(&self) {}
}

fn main() {
    let hub = WithCrate::into_hub(Impl);
    let other = ThroughReexport::into_hub(Impl);
    drop((hub, other));
}
