//! Methods taking `ctx: &HubCtx` right after `&self`, mixed with methods that do not.

use hub_core::{HubCtx, HubResult, hub};

#[hub]
pub trait WithCtx {
    async fn whoami(&self, ctx: &HubCtx) -> Option<String>;
    async fn connection_id(&self, ctx: &HubCtx) -> String;
    async fn join(&self, ctx: &HubCtx, group: String) -> HubResult<()>;
    async fn add(&self, ctx: &HubCtx, a: i64, b: i64) -> i64;
    async fn plain(&self, value: u8) -> u8;
    // The full path of the context type is recognised too.
    async fn full_path(&self, ctx: &hub_core::HubCtx) -> bool;
}

struct Impl;

impl WithCtx for Impl {
    async fn whoami(&self, ctx: &HubCtx) -> Option<String> {
        ctx.user_id().map(str::to_owned)
    }

    async fn connection_id(&self, ctx: &HubCtx) -> String {
        ctx.connection_id().to_string()
    }

    async fn join(&self, ctx: &HubCtx, group: String) -> HubResult<()> {
        ctx.groups().add(ctx.connection_id(), &group).await
    }

    async fn add(&self, _ctx: &HubCtx, a: i64, b: i64) -> i64 {
        a + b
    }

    async fn plain(&self, value: u8) -> u8 {
        value
    }

    async fn full_path(&self, ctx: &HubCtx) -> bool {
        ctx.user_id().is_some()
    }
}

fn main() {
    let hub: hub_core::Hub = Impl.into_hub();
    drop(hub);
}
