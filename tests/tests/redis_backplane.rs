//! `hub-redis` on its own, against a real `redis-server`: what it carries
//! and to whom, the live nodes, isolation by prefix, and how it comes back
//! after Redis goes away.

use std::time::Duration;

use bytes::Bytes;
use hub_core::Backplane;
use hub_redis::{RedisBackplane, RedisOptions};
use tests::processes::RedisServer;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

/// A backplane on `redis` (hub `test`, prefix `prefix`) and what it receives.
async fn joined(
    redis: &RedisServer,
    prefix: &str,
) -> (RedisBackplane, mpsc::UnboundedReceiver<Bytes>) {
    let options = RedisOptions {
        channel_prefix: prefix.to_owned(),
        ..RedisOptions::new(redis.url(), "test")
    };
    tests::backplane::subscribed(options).await
}

/// Publishes `message` to everyone until `received` gets it (the
/// subscription may still be starting, and right after an outage a publish
/// fails fast until the next reconnection attempt); every copy received is
/// `message`.
async fn until_subscribed(
    publisher: &RedisBackplane,
    received: &mut mpsc::UnboundedReceiver<Bytes>,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "never subscribed");
        if publisher
            .publish(None, Bytes::from_static(b"hello"))
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        if let Ok(Some(bytes)) = timeout(Duration::from_millis(200), received.recv()).await {
            assert_eq!(bytes, "hello");
            while let Ok(bytes) = received.try_recv() {
                assert_eq!(bytes, "hello");
            }
            return;
        }
    }
}

async fn next(received: &mut mpsc::UnboundedReceiver<Bytes>) -> Bytes {
    timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a message within 10 s")
        .expect("still subscribed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_reach_every_node_or_one_in_order_and_bytes_intact() {
    let redis = RedisServer::start().await;
    let (a, mut to_a) = joined(&redis, "signalr").await;
    let (b, mut to_b) = joined(&redis, "signalr").await;
    until_subscribed(&a, &mut to_a).await;
    until_subscribed(&a, &mut to_b).await;
    // Both subscribed: skip what the probes left, up to a marker.
    a.publish(None, Bytes::from_static(b"ready")).await.unwrap();
    for received in [&mut to_a, &mut to_b] {
        while next(received).await != "ready" {}
    }

    // Any bytes, in publish order, to every node (the sender too).
    let binary = Bytes::from_static(&[0, 0xff, 0x1e, b'\n', 0x80]);
    for n in 0..50u8 {
        a.publish(None, Bytes::from(vec![n])).await.unwrap();
    }
    a.publish(None, binary.clone()).await.unwrap();
    for received in [&mut to_a, &mut to_b] {
        for n in 0..50u8 {
            assert_eq!(next(received).await, Bytes::from(vec![n]));
        }
        assert_eq!(next(received).await, binary);
    }

    // To one node: only it.
    a.publish(Some(b.node_id()), Bytes::from_static(b"for b"))
        .await
        .unwrap();
    b.publish(Some(a.node_id()), Bytes::from_static(b"for a"))
        .await
        .unwrap();
    assert_eq!(next(&mut to_b).await, "for b");
    assert_eq!(next(&mut to_a).await, "for a");
    a.publish(None, Bytes::from_static(b"end")).await.unwrap();
    assert_eq!(next(&mut to_a).await, "end", "nothing else reached a");
    assert_eq!(next(&mut to_b).await, "end", "nothing else reached b");

    let mut nodes = a.nodes().await.unwrap();
    nodes.sort();
    let mut expected = vec![a.node_id().to_owned(), b.node_id().to_owned()];
    expected.sort();
    assert_eq!(nodes, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_keeps_hubs_apart_on_one_redis() {
    let redis = RedisServer::start().await;
    let (a, mut to_a) = joined(&redis, "one").await;
    let (other, mut to_other) = joined(&redis, "two").await;
    until_subscribed(&a, &mut to_a).await;
    until_subscribed(&other, &mut to_other).await;
    a.publish(None, Bytes::from_static(b"one's")).await.unwrap();
    other
        .publish(None, Bytes::from_static(b"two's"))
        .await
        .unwrap();
    assert_eq!(next(&mut to_a).await, "one's");
    assert_eq!(next(&mut to_other).await, "two's");
    assert!(
        !a.nodes()
            .await
            .unwrap()
            .contains(&other.node_id().to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_leaves_is_dropped_from_the_live_nodes() {
    let redis = RedisServer::start().await;
    let (a, _to_a) = joined(&redis, "signalr").await;
    let (b, _to_b) = joined(&redis, "signalr").await;
    let b_id = b.node_id().to_owned();
    assert!(
        a.nodes().await.unwrap().contains(&b_id),
        "listed as soon as it has joined"
    );
    drop(b);
    // Its heartbeat stops; it expires 6 s after the last one.
    let deadline = Instant::now() + Duration::from_secs(15);
    while a.nodes().await.unwrap().contains(&b_id) {
        assert!(Instant::now() < deadline, "b is still listed");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_comes_back_after_redis_goes_away() {
    let mut redis = RedisServer::start().await;
    let (a, mut to_a) = joined(&redis, "signalr").await;
    until_subscribed(&a, &mut to_a).await;

    redis.stop().await;
    assert!(
        a.publish(None, Bytes::from_static(b"lost")).await.is_err(),
        "a publish while Redis is away fails (the hub counts it lost)"
    );
    redis.restart().await;
    // The publisher reconnects and the subscription is renewed, by themselves.
    until_subscribed(&a, &mut to_a).await;
    a.publish(None, Bytes::from_static(b"after")).await.unwrap();
    assert_eq!(next(&mut to_a).await, "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_can_start_while_redis_is_away_and_join_when_it_comes() {
    let mut redis = RedisServer::start().await;
    redis.stop().await;
    let url = redis.url();
    let refused = RedisBackplane::connect(&url, "test").await;
    assert!(
        refused.is_err(),
        "by default, an unreachable Redis is an error"
    );
    let options = RedisOptions {
        start_degraded: true,
        ..RedisOptions::new(url, "test")
    };
    let backplane = RedisBackplane::connect_with(options)
        .await
        .expect("degraded start");
    let (sender, mut received) = mpsc::unbounded_channel();
    backplane
        .subscribe(Box::new(move |bytes| {
            let _ = sender.send(bytes);
        }))
        .await
        .unwrap();
    redis.restart().await;
    until_subscribed(&backplane, &mut received).await;
}
