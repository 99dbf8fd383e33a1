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

/// Anyone can mint a connection token naming a node (`<random>.<node>`).
/// A node nobody runs is answered `404` at once, without a trip through
/// Redis; a live node answers for its own connections (here: none, `404`).
/// A flood of both leaves the two nodes serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_are_refused_at_once_and_both_nodes_keep_serving() {
    use std::time::Duration;
    use tests::raw_ws::{HubSocket, Protocol};
    use tokio::time::Instant;

    let redis = RedisServer::start().await;
    let node1 = TestHubProcess::start(TESTHUB, &redis.url()).await;
    let node2 = TestHubProcess::start(TESTHUB, &redis.url()).await;
    const PATH: &str = samples::testhub::PATH;
    let mut on_node2 = HubSocket::negotiated(node2.addr, PATH, Protocol::Json, &[]).await;
    let node2_id = on_node2.call("NodeId", serde_json::json!([])).await;
    let node2_id = node2_id.as_str().expect("a node id").to_owned();

    let started = Instant::now();
    let mut requests = Vec::new();
    for n in 0..400 {
        let node = if n % 4 == 0 {
            node2_id.clone()
        } else {
            format!("nobody{n}")
        };
        let (method, body): (&str, &[u8]) = match n % 3 {
            0 => ("GET", b""),
            1 => ("POST", b"{\"type\":6}\x1e"),
            _ => ("DELETE", b""),
        };
        let addr = node1.addr;
        requests.push(tokio::spawn(async move {
            let target = format!("{PATH}?id=forged{n}.{node}");
            let mut conn = tests::raw_http::HttpConn::connect(addr).await;
            let response = conn
                .request(method, &target, &[("Connection", "close")], body)
                .await;
            (method, node, response.status)
        }));
    }
    for request in requests {
        let (method, node, status) = request.await.expect("request task");
        assert_eq!(status, 404, "{method} with a token naming {node}");
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "400 forged requests took {took:?}; each would have waited 10 s for a node nobody runs"
    );

    // Both nodes still serve, and still reach each other.
    let mut on_node1 = HubSocket::negotiated(node1.addr, PATH, Protocol::Json, &[]).await;
    assert_eq!(
        on_node1.call("Echo", serde_json::json!(["one"])).await,
        "one"
    );
    assert_eq!(
        on_node2.call("Echo", serde_json::json!(["two"])).await,
        "two"
    );
    let node2_connection = on_node2
        .call("GetConnectionId", serde_json::json!([]))
        .await;
    on_node1
        .call(
            "SendToConnection",
            serde_json::json!([node2_connection, "across"]),
        )
        .await;
    let message = on_node2.next_message().await;
    assert_eq!(message["arguments"][0], "across", "{message}");
    node1.kill().await;
    node2.kill().await;
}

/// Requests waiting for another node are bounded
/// (`EndpointOptions::max_forwarded_requests`): past the bound, `503` at
/// once; the permit comes back when the forwarded request ends. Two nodes in
/// this process, on a real Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_waiting_for_another_node_are_bounded() {
    use hub_transport::EndpointOptions;
    use samples::testhub;
    use std::time::Duration;
    use tests::TestServer;
    use tests::raw_http::{HttpConn, negotiate};
    use tokio::time::Instant;

    const PATH: &str = testhub::PATH;
    let redis = RedisServer::start().await;
    let node = |options: EndpointOptions| {
        let url = redis.url();
        async move {
            let backplane = hub_redis::RedisBackplane::connect(&url, "test")
                .await
                .expect("Redis");
            let hub = testhub::builder().backplane(backplane).build();
            let context = hub.context();
            TestServer::start(testhub::server_with(hub, options), context).await
        }
    };
    let node1 = node(EndpointOptions {
        max_forwarded_requests: 1,
        ..testhub::endpoint_options()
    })
    .await;
    let node2 = node(EndpointOptions {
        long_polling_poll_timeout: Duration::from_secs(3),
        ..testhub::endpoint_options()
    })
    .await;
    let request = |addr, method: &'static str, target: String, body: &'static [u8]| async move {
        let mut conn = HttpConn::connect(addr).await;
        conn.request(method, &target, &[("Connection", "close")], body)
            .await
            .status
    };

    // A Long Polling connection on node 2, through its handshake.
    let mut conn = HttpConn::connect(node2.addr).await;
    let (_, token) = negotiate(&mut conn, PATH, &[]).await;
    let target = format!("{PATH}?id={token}");
    assert_eq!(request(node2.addr, "GET", target.clone(), b"").await, 200);
    let handshake = b"{\"protocol\":\"json\",\"version\":1}\x1e";
    assert_eq!(
        request(node2.addr, "POST", target.clone(), handshake).await,
        200
    );
    assert_eq!(request(node2.addr, "GET", target.clone(), b"").await, 200);

    // A poll through node 1 waits at node 2 (nothing to send): it holds
    // node 1's only permit until node 2's poll timeout. A send through node 1
    // then gets 503 at once. (Whichever of the two takes the permit first,
    // the other gets 503: until the poll is the one waiting, start again.)
    let poll = || tokio::spawn(request(node1.addr, "GET", target.clone(), b""));
    let ping = b"{\"type\":6}\x1e";
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut waiting = poll();
    loop {
        assert!(Instant::now() < deadline, "no 503 while a poll waited");
        let status = request(node1.addr, "POST", target.clone(), ping).await;
        if status == 503 && !waiting.is_finished() {
            break;
        }
        if waiting.is_finished() {
            let status = waiting.await.unwrap();
            assert!(status == 503 || status == 200, "poll: {status}");
            waiting = poll();
        }
    }
    let started = Instant::now();
    assert_eq!(
        waiting.await.unwrap(),
        200,
        "the poll ends at node 2's poll timeout"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(
        request(node1.addr, "POST", target.clone(), ping).await,
        200,
        "the permit is back"
    );
    node1.stop().await;
    node2.stop().await;
}
