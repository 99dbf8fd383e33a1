use futures_util::{Stream, stream};
use hub_core::{CancellationToken, Cancelled, HubCtx, HubResult, hub};

#[hub]
pub trait Waits {
    /// The token anywhere among the parameters, as in ASP.NET.
    async fn first(&self, cancellation: CancellationToken, millis: u64) -> HubResult<u64>;
    async fn middle(&self, ctx: &HubCtx, a: u64, token: CancellationToken, b: u64) -> u64;
    async fn last(&self, label: String, token: hub_core::CancellationToken) -> String;
    async fn streaming(&self, count: u32, token: CancellationToken) -> impl Stream<Item = u32>;
}

struct WaitsHub;

impl Waits for WaitsHub {
    async fn first(&self, cancellation: CancellationToken, millis: u64) -> HubResult<u64> {
        cancellation
            .run_until_cancelled(async move { millis })
            .await
            .ok_or(Cancelled.into())
    }

    async fn middle(&self, _ctx: &HubCtx, a: u64, token: CancellationToken, b: u64) -> u64 {
        if token.is_cancelled() { 0 } else { a + b }
    }

    async fn last(&self, label: String, _token: hub_core::CancellationToken) -> String {
        label
    }

    async fn streaming(&self, count: u32, _token: CancellationToken) -> impl Stream<Item = u32> {
        stream::iter(0..count)
    }
}

fn main() {
    let _hub = WaitsHub.into_hub();
}
