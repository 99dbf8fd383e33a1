use futures_util::{Stream, stream};
use hub_core::{HubCtx, HubError, HubResult, UploadStream, hub};

#[hub]
pub trait Streams {
    async fn counter(&self, count: u32) -> impl Stream<Item = u32>;
    async fn borrowing(&self) -> impl Stream<Item = String>;
    async fn fallible_items(&self, ctx: &HubCtx) -> impl Stream<Item = HubResult<u32>>;
    async fn may_refuse(&self, count: u32) -> HubResult<impl Stream<Item = u32>>;
    async fn sum(&self, numbers: UploadStream<i64>) -> HubResult<i64>;
    async fn mixed(&self, first: UploadStream<i64>, label: String, second: UploadStream<String>) -> String;
}

struct StreamsHub {
    names: Vec<String>,
}

impl Streams for StreamsHub {
    async fn counter(&self, count: u32) -> impl Stream<Item = u32> {
        stream::iter(0..count)
    }

    async fn borrowing(&self) -> impl Stream<Item = String> {
        // A stream may borrow the hub.
        stream::iter(self.names.iter().cloned())
    }

    async fn fallible_items(&self, _ctx: &HubCtx) -> impl Stream<Item = HubResult<u32>> {
        stream::iter([Ok(1), Err(HubError::new("boom"))])
    }

    async fn may_refuse(&self, count: u32) -> HubResult<impl Stream<Item = u32>> {
        if count > 100 {
            return Err(HubError::new("too many"));
        }
        Ok(stream::iter(0..count))
    }

    async fn sum(&self, mut numbers: UploadStream<i64>) -> HubResult<i64> {
        let mut total = 0;
        while let Some(number) = numbers.next().await {
            total += number?;
        }
        Ok(total)
    }

    async fn mixed(&self, _first: UploadStream<i64>, label: String, _second: UploadStream<String>) -> String {
        label
    }
}

fn main() {
    let _ = StreamsHub { names: Vec::new() }.into_hub();
}
