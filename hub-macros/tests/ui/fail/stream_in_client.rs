use futures_util::Stream;
use hub_core::hub_client;

#[hub_client]
pub trait Client {
    async fn ticks(&self) -> impl Stream<Item = u32>;
}

fn main() {}
