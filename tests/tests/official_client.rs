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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods() {
    run("methods.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets() {
    run("targets.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups() {
    run("groups.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors() {
    run("errors.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordering() {
    run("ordering.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load() {
    run("load.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams() {
    run("streams.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads() {
    run("uploads.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_results() {
    run("client-results.test.mjs").await;
}
