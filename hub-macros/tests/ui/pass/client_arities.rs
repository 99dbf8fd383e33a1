//! A client trait with methods of zero, one and several arguments, called on
//! client targets from a hub method and from outside one.

use hub_core::{HubContext, HubCtx, HubResult, hub, hub_client};
use serde::Serialize;

#[derive(Serialize)]
pub struct Payload {
    id: u32,
}

#[hub_client]
pub trait Callbacks {
    async fn ping(&self);
    async fn message(&self, text: String);
    async fn many(&self, a: i32, b: String, c: Vec<u8>, d: Option<Payload>);
}

#[hub(client = Callbacks)]
pub trait Server {
    async fn notify(&self, ctx: &HubCtx) -> HubResult<()>;
}

struct Impl;

impl Server for Impl {
    async fn notify(&self, ctx: &HubCtx) -> HubResult<()> {
        call_all(ctx).await?;
        ctx.clients().caller().message(String::from("you")).await?;
        ctx.clients().others().ping().await
    }
}

/// The generated methods on `ctx.clients().all()` (compile only).
async fn call_all(ctx: &HubCtx) -> HubResult<()> {
    ctx.clients().all().ping().await?;
    ctx.clients().all().message(String::from("hello")).await?;
    ctx.clients()
        .all()
        .many(1, String::from("b"), vec![1, 2], Some(Payload { id: 7 }))
        .await
}

/// The same outside hub methods, through a `HubContext`.
async fn from_outside(context: &HubContext) -> HubResult<()> {
    context
        .clients()
        .group("g")
        .message(String::from("hi"))
        .await?;
    context.clients().all().ping().await
}

fn main() {
    let hub = Impl.into_hub();
    let context = hub.context();
    // Compile only: the futures are never run.
    let _ = from_outside(&context);
}
