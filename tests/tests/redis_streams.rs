//! `hub-redis`'s streams mode on its own, against a real `redis-server`:
//! duplicates and gaps by sender, a Redis that lost the stream, and the
//! bounded local queue while Redis is away.

use std::time::Duration;

use bytes::Bytes;
use hub_core::Backplane;
use hub_redis::{Mode, RedisBackplane, RedisOptions, StreamOptions};
use tests::processes::RedisServer;
use tests::topologies::redis_cli;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, timeout};

const STREAM: &str = "{signalr:test}:stream";

async fn joined(
    redis: &RedisServer,
    streams: StreamOptions,
) -> (RedisBackplane, mpsc::UnboundedReceiver<Bytes>) {
    let options = RedisOptions {
        mode: Mode::Streams(streams),
        ..RedisOptions::new(redis.url(), "test")
    };
    tests::backplane::subscribed(options).await
}

async fn next(received: &mut mpsc::UnboundedReceiver<Bytes>) -> Bytes {
    timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a message within 10 s")
        .expect("still subscribed")
}

/// Polls `check` every 50 ms for at most 10 s.
async fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        sleep(Duration::from_millis(50)).await;
    }
}

/// Appends an entry by hand, as sender `sender` with sequence number `seq`.
async fn xadd(redis: &RedisServer, sender: &str, seq: u64, data: &str) {
    let id = redis_cli(
        redis.port,
        &[
            "XADD",
            STREAM,
            "*",
            "s",
            sender,
            "q",
            &seq.to_string(),
            "d",
            data,
        ],
    )
    .await;
    assert!(id.contains('-'), "XADD: {id:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_drops_duplicates_and_counts_gaps_by_sender() {
    let redis = RedisServer::start().await;
    let (backplane, mut received) = joined(&redis, StreamOptions::default()).await;
    backplane
        .publish(None, Bytes::from_static(b"own"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut received).await,
        "own",
        "a node reads its own messages"
    );

    xadd(&redis, "x/1", 1, "one").await;
    xadd(&redis, "x/1", 1, "one again").await; // A retried write.
    xadd(&redis, "x/1", 4, "four").await; // 2 and 3 never came.
    xadd(&redis, "y/1", 9, "other sender").await;
    xadd(&redis, "x/1", 3, "late three").await; // Older than 4: a duplicate.
    xadd(&redis, "x/1", 5, "five").await;
    for expected in ["one", "four", "other sender", "five"] {
        assert_eq!(next(&mut received).await, expected);
    }
    let stats = backplane.stats();
    assert_eq!((stats.duplicates, stats.missed), (2, 2), "{stats:?}");
    assert!(received.try_recv().is_err(), "nothing else delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_lost_the_stream_is_detected_and_reading_goes_on() {
    let redis = RedisServer::start().await;
    let (a, mut to_a) = joined(&redis, StreamOptions::default()).await;
    let (b, mut to_b) = joined(&redis, StreamOptions::default()).await;
    a.publish(None, Bytes::from_static(b"before"))
        .await
        .unwrap();
    assert_eq!(next(&mut to_a).await, "before");
    assert_eq!(next(&mut to_b).await, "before");
    assert_eq!(redis_cli(redis.port, &["FLUSHALL"]).await.trim(), "OK");
    until("both nodes see the stream is gone", || {
        a.stats().stream_resets == 1 && b.stats().stream_resets == 1
    })
    .await;
    a.publish(None, Bytes::from_static(b"after")).await.unwrap();
    assert_eq!(next(&mut to_a).await, "after");
    assert_eq!(next(&mut to_b).await, "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_wait_in_order_while_redis_is_away_and_a_full_queue_refuses() {
    let mut redis = RedisServer::start().await;
    let small = StreamOptions {
        queue_capacity: 10,
        ..StreamOptions::default()
    };
    let (a, mut to_a) = joined(&redis, small).await;
    let (b, mut to_b) = joined(&redis, StreamOptions::default()).await;
    a.publish(None, Bytes::from_static(b"first")).await.unwrap();
    assert_eq!(next(&mut to_b).await, "first");
    assert_eq!(next(&mut to_a).await, "first");

    redis.stop().await;
    for n in 0..10 {
        a.publish(None, Bytes::from(format!("queued {n}")))
            .await
            .unwrap();
    }
    until("ten queued", || a.stats().queued == 10).await;
    assert!(
        a.publish(None, Bytes::from_static(b"refused"))
            .await
            .is_err(),
        "the eleventh is refused"
    );
    assert_eq!(a.stats().refused, 1);
    redis.restart().await;
    for n in 0..10 {
        assert_eq!(next(&mut to_b).await, format!("queued {n}"), "in order");
        assert_eq!(next(&mut to_a).await, format!("queued {n}"));
    }
    a.publish(None, Bytes::from_static(b"last")).await.unwrap();
    assert_eq!(next(&mut to_b).await, "last");
    // b knows a message of a is missing (the refused one) only now.
    until("the refused message counted missing at b", || {
        b.stats().missed == 1
    })
    .await;
    assert_eq!(b.stats().stream_resets, 1, "the restarted Redis was empty");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_replicas_asked_a_batch_counts_once_a_replica_has_it() {
    use tests::processes::Persistence;
    let redis = RedisServer::start().await;
    let wait = StreamOptions {
        replicas: 1,
        ..StreamOptions::default()
    };
    let (a, mut to_a) = joined(&redis, wait).await;
    a.publish(None, Bytes::from_static(b"one")).await.unwrap();
    // No replica: the batch is written, not acknowledged, written again.
    until("a retried write", || a.stats().retries >= 2).await;
    assert_eq!(a.stats().written, 0);
    let port = redis.port.to_string();
    let _replica =
        RedisServer::start_with(Persistence::None, &["--replicaof", "127.0.0.1", &port]).await;
    until("written once the replica has it", || a.stats().written == 1).await;
    // Every copy reached the stream; the reader delivered one.
    assert_eq!(next(&mut to_a).await, "one");
    a.publish(None, Bytes::from_static(b"two")).await.unwrap();
    assert_eq!(next(&mut to_a).await, "two");
    assert!(a.stats().duplicates >= 2, "{:?}", a.stats());
}
