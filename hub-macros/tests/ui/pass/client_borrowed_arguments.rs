//! Client methods may borrow their arguments: a large value is serialized
//! straight from the caller's data, without a copy per call.

use hub_core::{HubCtx, HubResult, hub, hub_client};
use serde::Serialize;

#[derive(Serialize)]
pub struct Stroke {
    points: Vec<(f64, f64)>,
}

#[hub_client]
pub trait Canvas {
    async fn drawing(&self, strokes: &[Stroke]);
    async fn titled(&self, title: &str, strokes: &Vec<Stroke>);
    async fn confirm(&self, question: &str) -> bool;
}

#[hub(client = Canvas)]
pub trait Board {
    async fn join(&self, ctx: &HubCtx) -> HubResult<()>;
}

struct Impl {
    strokes: Vec<Stroke>,
}

impl Board for Impl {
    async fn join(&self, ctx: &HubCtx) -> HubResult<()> {
        ctx.clients().caller().drawing(&self.strokes).await?;
        let question = String::from("Draw?");
        let _sure: bool = ctx.clients().caller().confirm(&question).await?;
        let title = String::from("board");
        ctx.clients().others().titled(&title, &self.strokes).await
    }
}

fn main() {
    let _ = Impl { strokes: vec![Stroke { points: vec![(0.0, 1.0)] }] };
}
