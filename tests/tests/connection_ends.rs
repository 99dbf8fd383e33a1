//! Requests around the start and the end of a connection, over raw HTTP:
//!
//! * a POST before the first poll (the PyPI client `signalrcore` sends its
//!   handshake so) waits for the transport, bounded, as ASP.NET lets it;
//! * every request on a connection that has ended answers at once: `204` for
//!   the poll that finds it over, `404` once it is gone, whether it ended by
//!   the disconnect timeout, by the server, or by the client's DELETE; SSE,
//!   WebSocket and POST requests on an ended connection get `404`.

use std::net::SocketAddr;
use std::time::Duration;

use hub_core::HubContext;
use hub_transport::EndpointOptions;
use samples::testhub;
use serde_json::{Value, json};
use tests::TestServer;
use tests::raw_http::{HttpConn, negotiate};
use tokio::time::{Instant, timeout};

const PATH: &str = testhub::PATH;
const HANDSHAKE: &[u8] = b"{\"protocol\":\"json\",\"version\":1}\x1e";
/// How soon "at once" is: far below any poll or disconnect timeout.
const AT_ONCE: Duration = Duration::from_secs(3);

async fn server(options: EndpointOptions) -> TestServer {
    let hub = testhub::hub();
    let context = hub.context();
    TestServer::start(testhub::server_with(hub, options), context).await
}

/// A request with a body on a connection of its own; its status and body.
async fn send(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut conn = HttpConn::connect(addr).await;
    let response = conn
        .request(method, target, &[("Connection", "close")], body)
        .await;
    (response.status, response.body)
}

/// The same, answered within [`AT_ONCE`].
async fn send_at_once(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    timeout(AT_ONCE, send(addr, method, target, body))
        .await
        .unwrap_or_else(|_| panic!("{method} {target} did not answer within {AT_ONCE:?}"))
}

fn record(message: Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(&message).unwrap();
    bytes.push(0x1e);
    bytes
}

/// The JSON records of a poll's body.
fn records(body: &[u8]) -> Vec<Value> {
    body.split(|&byte| byte == 0x1e)
        .filter(|record| !record.is_empty())
        .map(|record| serde_json::from_slice(record).expect("JSON records"))
        .collect()
}

/// Negotiates; the connection's `?id=` target.
async fn negotiated(addr: SocketAddr) -> String {
    let mut conn = HttpConn::connect(addr).await;
    let (_, token) = negotiate(&mut conn, PATH, &[]).await;
    format!("{PATH}?id={token}")
}

/// Polls until the records received include one `wanted` accepts; all of them.
async fn poll_until(addr: SocketAddr, target: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !received.iter().any(&wanted) {
        assert!(Instant::now() < deadline, "not received: {received:?}");
        let (status, body) = send(addr, "GET", target, b"").await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        received.extend(records(&body));
    }
    received
}

/// Waits until the hub has no connection left.
async fn until_no_connection(context: &HubContext) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while context.stats().connections > 0 {
        assert!(Instant::now() < deadline, "the connection did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A Long Polling connection, started and through its handshake.
async fn long_polling(addr: SocketAddr) -> String {
    let target = negotiated(addr).await;
    let (status, _) = send(addr, "GET", &target, b"").await;
    assert_eq!(status, 200, "the first poll starts the connection");
    assert_eq!(send(addr, "POST", &target, HANDSHAKE).await.0, 200);
    poll_until(addr, &target, |message| message == &json!({})).await;
    target
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_before_the_first_poll_waits_for_the_transport() {
    let server = server(testhub::endpoint_options()).await;
    let target = negotiated(server.addr).await;
    let mut early = HANDSHAKE.to_vec();
    early.extend(record(
        json!({"type": 1, "invocationId": "1", "target": "Echo", "arguments": ["early"]}),
    ));
    let (status, body) = send(server.addr, "POST", &target, &early).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        send(server.addr, "POST", &target, &record(json!({"type": 6})))
            .await
            .0,
        200,
        "a second one too"
    );
    let received = poll_until(server.addr, &target, |message| message["type"] == 3).await;
    assert_eq!(received[0], json!({}), "the handshake response first");
    assert!(
        received.contains(&json!({"type": 3, "invocationId": "1", "result": "early"})),
        "{received:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_waits_for_the_transport_is_bounded() {
    let server = server(EndpointOptions {
        max_payload_size: 64,
        ..testhub::endpoint_options()
    })
    .await;
    let target = negotiated(server.addr).await;
    assert_eq!(send(server.addr, "POST", &target, HANDSHAKE).await.0, 200);
    // 32 bytes wait; 40 more would pass the 64 that may.
    let more = record(json!({"type": 6, "padding": "xxxxxxxxxxxxxxxx"}));
    assert_eq!(more.len(), 40);
    let (status, body) = send(server.addr, "POST", &target, &more).await;
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    // What was accepted is still there for the transport.
    let received = poll_until(server.addr, &target, |message| message == &json!({})).await;
    assert_eq!(received, [json!({})]);
    server.stop().await;
}

/// After the end: the next poll answers 204 at once, later requests 404.
async fn answers_at_once_after_the_end(addr: SocketAddr, target: &str) {
    let (status, body) = send_at_once(addr, "GET", target, b"").await;
    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&body));
    assert_eq!(send_at_once(addr, "GET", target, b"").await.0, 404);
    let ping = record(json!({"type": 6}));
    assert_eq!(send_at_once(addr, "POST", target, &ping).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_polling_connection_ended_by_the_disconnect_timeout_answers_at_once() {
    let server = server(EndpointOptions {
        disconnect_timeout: Duration::from_secs(1),
        ..testhub::endpoint_options()
    })
    .await;
    let target = long_polling(server.addr).await;
    // The client stops polling: the connection ends after the disconnect timeout.
    until_no_connection(&server.context).await;
    answers_at_once_after_the_end(server.addr, &target).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_polling_connection_ended_by_the_server_answers_at_once() {
    let server = server(testhub::endpoint_options()).await;
    let target = long_polling(server.addr).await;
    let abort = record(json!({"type": 1, "target": "AbortMe", "arguments": ["bye", false]}));
    assert_eq!(send(server.addr, "POST", &target, &abort).await.0, 200);
    poll_until(server.addr, &target, |message| message["type"] == 7).await;
    until_no_connection(&server.context).await;
    answers_at_once_after_the_end(server.addr, &target).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_polling_connection_ended_by_delete_answers_at_once() {
    let server = server(testhub::endpoint_options()).await;
    let target = long_polling(server.addr).await;
    assert_eq!(send(server.addr, "DELETE", &target, b"").await.0, 202);
    until_no_connection(&server.context).await;
    answers_at_once_after_the_end(server.addr, &target).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_and_sends_on_an_ended_connection_get_404_at_once() {
    let server = server(testhub::endpoint_options()).await;
    let target = long_polling(server.addr).await;
    assert_eq!(send(server.addr, "DELETE", &target, b"").await.0, 202);
    until_no_connection(&server.context).await;
    // Not a poll: the connection is not a Server-Sent Events one to start,
    // nor a WebSocket one.
    let mut conn = HttpConn::connect(server.addr).await;
    let sse = timeout(
        AT_ONCE,
        conn.request(
            "GET",
            &target,
            &[("Accept", "text/event-stream"), ("Connection", "close")],
            b"",
        ),
    )
    .await
    .expect("answered at once");
    assert_eq!(sse.status, 404);
    let mut conn = HttpConn::connect(server.addr).await;
    let upgrade = timeout(
        AT_ONCE,
        conn.request(
            "GET",
            &target,
            &[
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
            b"",
        ),
    )
    .await
    .expect("answered at once");
    assert_eq!(upgrade.status, 404);
    server.stop().await;
}
