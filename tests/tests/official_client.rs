//! The official `@microsoft/signalr` client (Node.js) against the test hub.

use tests::{TestServer, node_test};

async fn run(script: &str) {
    let server = TestServer::testhub().await;
    node_test(script, &[("HUB_URL", &server.testhub_url())]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basics() {
    run("basics.test.mjs").await;
}
