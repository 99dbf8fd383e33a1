//! The official `@microsoft/signalr` client (Node.js) against the test hub.

use std::time::Duration;

use hub_core::HubOptions;
use tests::{TestServer, node_test};

async fn run(script: &str) {
    let server = TestServer::testhub().await;
    node_test(script, &[("HUB_URL", &server.testhub_url())]).await;
    server.stop().await;
}

/// Runs `script` against the test hub with `options`; `env` tells the script
/// what it runs against.
async fn run_with(script: &str, options: HubOptions, env: &[(&str, &str)]) {
    let server = TestServer::testhub_with(samples::testhub::hub().with_options(options)).await;
    let url = server.testhub_url();
    let mut all = vec![("HUB_URL", url.as_str())];
    all.extend_from_slice(env);
    node_test(script, &all).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_results_timeout() {
    let options = HubOptions {
        client_result_timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let env = [("CLIENT_RESULT_TIMEOUT_MS", "300")];
    run_with("client-results.test.mjs", options, &env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduling() {
    run("scheduling.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduling_parallel() {
    let options = HubOptions {
        maximum_parallel_invocations_per_client: 4,
        ..Default::default()
    };
    run_with("scheduling.test.mjs", options, &[("MAX_PARALLEL", "4")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle() {
    run("lifecycle.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_control() {
    run("connection-control.test.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive() {
    let options = HubOptions {
        keep_alive_interval: Duration::from_millis(200),
        ..Default::default()
    };
    run_with("keep-alive.test.mjs", options, &[("KEEP_ALIVE_MS", "200")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_timeout() {
    let options = HubOptions {
        client_timeout_interval: Duration::from_millis(500),
        // Official clients ping only after receiving something: the server must ping first.
        keep_alive_interval: Duration::from_millis(100),
        ..Default::default()
    };
    run_with(
        "client-timeout.test.mjs",
        options,
        &[("CLIENT_TIMEOUT_MS", "500")],
    )
    .await;
}
