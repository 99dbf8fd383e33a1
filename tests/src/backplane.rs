//! A Redis backplane joined directly, without a hub: what it delivers goes
//! to a channel the test reads.

use bytes::Bytes;
use hub_core::Backplane;
use hub_redis::{RedisBackplane, RedisOptions};
use tokio::sync::mpsc;

/// Connects with `options` and subscribes; every message delivered arrives
/// on the returned receiver.
pub async fn subscribed(options: RedisOptions) -> (RedisBackplane, mpsc::UnboundedReceiver<Bytes>) {
    let backplane = RedisBackplane::connect_with(options).await.expect("Redis");
    let (sender, received) = mpsc::unbounded_channel();
    backplane
        .subscribe(Box::new(move |bytes| {
            let _ = sender.send(bytes);
        }))
        .await
        .expect("subscribed");
    (backplane, received)
}
