use futures_util::Stream;
use hub_core::hub;

pub struct NotSerialize;

#[hub]
pub trait Streams {
    async fn items(&self) -> impl Stream<Item = NotSerialize>;
}

fn main() {}
