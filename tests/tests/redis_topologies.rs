//! The backplane on Redis as large deployments run it: a three-primary
//! Redis Cluster (sharded pub/sub, the stream on one shard) and a primary
//! watched by Sentinel, through a failover. Two `testhub` nodes, two
//! clients on each sending steadily to all, to users and to groups; every
//! message counted (see `tests::chaos`).

use tests::chaos::{Tally, steady};
use tests::topologies::{RedisCluster, RedisSentinel, redis_cli};

const TESTHUB: &str = env!("CARGO_BIN_EXE_testhub-process");

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn assert_exact(tally: Tally) {
    assert!(tally.acked > 300, "too few messages to judge: {tally}");
    assert_eq!(tally.lost, 0, "{tally}");
    assert_eq!(tally.duplicated, 0, "{tally}");
    assert_eq!(tally.out_of_order, 0, "{tally}");
    assert_eq!(tally.unexpected, 0, "{tally}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backplanes_work_on_a_redis_cluster() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let cluster = RedisCluster::start().await;
    // Sharded pub/sub: the hub's channels are shard channels, on one node.
    let shard_channels = async {
        let mut channels = String::new();
        for node in &cluster.nodes {
            channels += &redis_cli(node.port, &["pubsub", "shardchannels"]).await;
        }
        assert!(channels.contains("{signalr:test}:all"), "{channels:?}");
    };
    assert_exact(steady(TESTHUB, &cluster.url(), "pubsub", shard_channels).await);
    // The stream lives on the shard of its hash tag.
    let stream = async {
        let mut types = String::new();
        for node in &cluster.nodes {
            types += &redis_cli(node.port, &["type", "{signalr:test}:stream"]).await;
        }
        assert!(types.contains("stream"), "{types:?}");
    };
    assert_exact(steady(TESTHUB, &cluster.url(), "streams", stream).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_follow_a_sentinel_failover_losing_nothing() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let sentinel = RedisSentinel::start().await;
    let tally = steady(TESTHUB, &sentinel.url(), "streams", sentinel.failover()).await;
    assert_exact(tally);
    assert_eq!(sentinel.primary_port().await, sentinel.replica.port);
    sentinel.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_follows_a_sentinel_failover_and_reports_what_it_loses() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let sentinel = RedisSentinel::start().await;
    let tally = steady(TESTHUB, &sentinel.url(), "pubsub", sentinel.failover()).await;
    // Messages published while the primary changes may be lost; the rest
    // arrive once, in order.
    assert_eq!(tally.duplicated, 0, "{tally}");
    assert_eq!(tally.out_of_order, 0, "{tally}");
    assert!(tally.delivered * 100 >= tally.expected * 80, "{tally}");
    sentinel.stop().await;
}
