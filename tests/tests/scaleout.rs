//! Scale-out on Redis: two `testhub` processes and a real `redis-server`,
//! driven by the official client.

use tests::processes::{RedisServer, TestHubProcess};
use tests::{node_test, node_test_interactive};

const TESTHUB: &str = env!("CARGO_BIN_EXE_testhub-process");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_serve_one_hub() {
    let redis = RedisServer::start().await;
    let node1 = TestHubProcess::start(TESTHUB, &redis.url()).await;
    let node2 = TestHubProcess::start(TESTHUB, &redis.url()).await;
    node_test(
        "scaleout.test.mjs",
        &[
            ("HUB_URL", &node1.hub_url()),
            ("NODE1_URL", &node1.hub_url()),
            ("NODE2_URL", &node2.hub_url()),
        ],
    )
    .await;
    node1.kill().await;
    node2.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_survive_a_redis_outage_and_reconnect() {
    let mut redis = RedisServer::start().await;
    let node1 = TestHubProcess::start(TESTHUB, &redis.url()).await;
    let node2 = TestHubProcess::start(TESTHUB, &redis.url()).await;
    let env = [
        ("HUB_URL", node1.hub_url()),
        ("NODE1_URL", node1.hub_url()),
        ("NODE2_URL", node2.hub_url()),
    ];
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect();
    let redis = std::sync::Arc::new(tokio::sync::Mutex::new(&mut redis));
    node_test_interactive("scaleout-fault.test.mjs", &env, |request| {
        let redis = redis.clone();
        async move {
            let mut redis = redis.lock().await;
            match request.as_str() {
                "stop-redis" => {
                    redis.stop().await;
                    "stopped".to_owned()
                }
                "start-redis" => {
                    redis.restart().await;
                    "started".to_owned()
                }
                other => panic!("unknown request from the test: {other}"),
            }
        }
    })
    .await;
    node1.kill().await;
    node2.kill().await;
}
