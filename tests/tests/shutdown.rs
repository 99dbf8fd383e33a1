//! Graceful shutdown (`TestServer::stop`, i.e. `ShutdownHandle::shutdown`):
//! invocations in flight finish and are answered, then every client gets a
//! Close message with `allowReconnect` (so official clients built with
//! `withAutomaticReconnect` reconnect), and the server stops well within its
//! grace period.
//!
//! The official client runs `tests/js/shutdown-client.mjs`, spawned here:
//! it prints `READY` once its `Delay(500)` is running on the server, the
//! test then stops the server, and the script prints a `RESULT` line with
//! what it saw. Raw WebSocket clients check the exact Close message.

use std::process::Stdio;
use std::time::Duration;

use hub_core::HubOptions;
use serde_json::{Value, json};
use tests::TestServer;
use tests::raw_ws::{Closure, HubSocket, Protocol};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::{Instant, timeout};

const PATH: &str = samples::testhub::PATH;
/// A stop that needs more than this waited for a stuck connection (the
/// server's grace period is 10 s; a clean stop here takes about 0.5 s).
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// Stops the server, returning how long it took.
async fn stop(server: TestServer) -> Duration {
    let started = Instant::now();
    server.stop().await;
    started.elapsed()
}

/// The official client with `Delay(500)` in flight when the server shuts down.
async fn official_client_in_flight_at_shutdown(transport: &str) {
    tests::require_node_modules();
    let server = TestServer::testhub().await;
    let script = tests::repo_root().join("tests/js/shutdown-client.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .current_dir(tests::repo_root())
        .env("HUB_URL", server.testhub_url())
        .env("HUB_TRANSPORT", transport)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (is Node.js installed?)");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr_text = async move {
        let mut text = String::new();
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
        text
    };
    let stderr_text = tokio::spawn(stderr_text);

    let mut lines = Vec::new();
    let ready = timeout(Duration::from_secs(30), async {
        while let Some(line) = stdout.next_line().await.expect("read node's stdout") {
            if line == "READY" {
                return true;
            }
            lines.push(line);
        }
        false
    })
    .await
    .expect("node prints READY within 30 s");
    if !ready {
        let status = child.wait().await.expect("node exits");
        panic!(
            "node ended ({status}) before READY; stdout: {lines:?}\nstderr: {}",
            stderr_text.await.unwrap_or_default()
        );
    }

    let stop_time = stop(server).await;

    let mut result = None;
    timeout(Duration::from_secs(30), async {
        while let Some(line) = stdout.next_line().await.expect("read node's stdout") {
            match line.strip_prefix("RESULT ") {
                Some(json) => result = Some(json.to_owned()),
                None => lines.push(line),
            }
        }
    })
    .await
    .expect("node finishes within 30 s of the shutdown");
    let status = timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("node exits")
        .expect("node status");
    let stderr = stderr_text.await.unwrap_or_default();
    assert!(
        status.success(),
        "node failed ({status}); stdout: {lines:?}\nstderr: {stderr}"
    );
    let result: Value = serde_json::from_str(&result.expect("a RESULT line")).expect("JSON");
    println!("{transport}: server stopped in {stop_time:?}; client saw {result}");

    // The invocation in flight completed with its result.
    assert_eq!(result["delay"], json!({"value": 500}), "{result}");
    // Then the Close, without error and reconnectable, was the last message.
    let messages = result["messages"].as_array().expect("messages");
    let n = messages.len();
    assert!(n >= 2, "{result}");
    assert_eq!(
        messages[n - 2],
        json!({"type": 3, "invocationId": "0", "result": 500}),
        "the Delay's Completion, before the Close: {result}"
    );
    assert_eq!(
        messages[n - 1],
        json!({"type": 7, "allowReconnect": true}),
        "a reconnectable Close without error, last: {result}"
    );
    // The client took the Close as a cue to reconnect.
    assert_eq!(result["reconnectingError"], Value::Null, "{result}");
    assert!(
        stop_time < STOP_LIMIT,
        "the server took {stop_time:?} to stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_websockets_in_flight_at_shutdown() {
    official_client_in_flight_at_shutdown("WebSockets").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_server_sent_events_in_flight_at_shutdown() {
    official_client_in_flight_at_shutdown("ServerSentEvents").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_long_polling_in_flight_at_shutdown() {
    official_client_in_flight_at_shutdown("LongPolling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_websocket_gets_a_reconnectable_close_on_shutdown() {
    let server = TestServer::testhub().await;
    let mut idle = HubSocket::negotiated(server.addr, PATH, Protocol::Json, &[]).await;
    idle.assert_echo("before").await;
    let mut busy = HubSocket::negotiated(server.addr, PATH, Protocol::MessagePack, &[]).await;
    let delay = busy.invoke("Delay", json!([300])).await;
    // The Delay is running once a stream sent after it produces (streams take no slot).
    let stream = busy.stream("Counter", json!([1, 0])).await;
    assert_eq!(
        busy.next_message().await,
        json!({"type": 2, "invocationId": stream, "item": 0})
    );
    assert_eq!(
        busy.next_message().await,
        json!({"type": 3, "invocationId": stream})
    );

    let stopping = tokio::spawn(stop(server));

    // Exactly ASP.NET's message, then a normal close frame.
    let close = idle.expect_close_message().await;
    assert_eq!(close, json!({"type": 7, "allowReconnect": true}));
    // The busy connection first gets its answer.
    assert_eq!(
        busy.next_message().await,
        json!({"type": 3, "invocationId": delay, "result": 300})
    );
    let close = busy.next_message().await;
    assert_eq!(close, json!({"type": 7, "allowReconnect": true}));
    match busy.expect_closed().await {
        Closure::CloseFrame(Some(frame)) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("expected a close frame with 1000, got {other:?}"),
    }
    let stop_time = timeout(Duration::from_secs(15), stopping)
        .await
        .expect("the server stops")
        .expect("stop task");
    assert!(
        stop_time < STOP_LIMIT,
        "the server took {stop_time:?} to stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocation_outliving_the_drain_timeout_does_not_hold_up_shutdown() {
    let drain = Duration::from_millis(300);
    let options = HubOptions {
        invocation_drain_timeout: drain,
        ..Default::default()
    };
    let server =
        TestServer::testhub_with(samples::testhub::builder().options(options).build()).await;
    let mut client = HubSocket::negotiated(server.addr, PATH, Protocol::Json, &[]).await;
    let delay = client.invoke("Delay", json!([60_000])).await;
    let stream = client.stream("Counter", json!([1, 0])).await;
    assert_eq!(
        client.next_message().await,
        json!({"type": 2, "invocationId": stream, "item": 0})
    );
    assert_eq!(
        client.next_message().await,
        json!({"type": 3, "invocationId": stream})
    );

    let stopping = tokio::spawn(stop(server));
    // The Delay is dropped after the drain timeout: no Completion, just the Close.
    let close = client.expect_close_message().await;
    assert_eq!(
        close,
        json!({"type": 7, "allowReconnect": true}),
        "the Delay({delay}) is not answered"
    );
    let stop_time = timeout(Duration::from_secs(15), stopping)
        .await
        .expect("the server stops")
        .expect("stop task");
    assert!(
        stop_time >= drain && stop_time < STOP_LIMIT,
        "the server took {stop_time:?} to stop (drain timeout {drain:?})"
    );
}
