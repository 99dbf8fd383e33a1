//! Bad input at the socket level, against the test hub: raw HTTP requests for
//! negotiate and the connection endpoint, and a raw WebSocket client for the
//! handshake and hub messages (the shared `tests::http`, `tests::raw_http`
//! and `tests::raw_ws` helpers).
//!
//! Every test asserts the documented answer to the bad input, then that the
//! server is unharmed: a connection opened before the bad input (negotiate +
//! WebSocket + handshake) still gets correct `Echo` replies, and a new one can
//! still be opened and used.
//!
//! Every read is bounded by [`TIMEOUT`]; nothing sleeps to synchronise.
//!
//! This file holds the fixture; the tests are grouped by what they send, one
//! module each.

use serde_json::json;
use tests::TestServer;
use tests::http::request;
use tests::raw_http::{self, HttpConn};
use tests::raw_ws::{CLOSED_WITH_ERROR, Closure, HubSocket, JSON_HANDSHAKE, Protocol, RS, TIMEOUT};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Message};

mod close_frames;
mod handshake;
mod http_verbs;
mod hub_messages;
mod negotiate;
mod websocket_connect;

/// The hub's path.
const PATH: &str = samples::testhub::PATH;
/// The text of the 32 KiB message size limit.
const TOO_LARGE: &str = "The maximum message size of 32768B was exceeded.";

/// A successful version 1 negotiate with `headers`, on a connection of its
/// own: `(connectionId, connectionToken)`.
async fn negotiate(server: &TestServer, headers: &[(&str, &str)]) -> (String, String) {
    let mut conn = HttpConn::connect(server.addr).await;
    raw_http::negotiate(&mut conn, PATH, headers).await
}

/// ASP.NET's ids: 16 random bytes in base64url without padding.
fn assert_url_safe_id(id: &str) {
    assert_eq!(id.len(), 22, "22 characters: {id:?}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "URL-safe characters only: {id:?}"
    );
}

/// Opens a WebSocket to the hub with `query` (which starts with `?`, or is
/// empty), without any handshake; fails if the upgrade is refused.
async fn open(server: &TestServer, query: &str) -> HubSocket {
    HubSocket::connect(server.addr, &format!("{PATH}{query}"), &[]).await
}

/// The `(status, body)` of an upgrade to the hub with `query` that the server
/// must refuse; fails if the upgrade is accepted.
async fn refused(server: &TestServer, query: &str) -> (u16, String) {
    HubSocket::connect_refused(server.addr, &format!("{PATH}{query}"), &[]).await
}

/// Negotiate, WebSocket, handshake, and a first `Echo`: a working connection.
async fn ready(server: &TestServer) -> HubSocket {
    let mut client = HubSocket::negotiated(server.addr, PATH, Protocol::Json, &[]).await;
    client.assert_next_echo("ready").await;
    client
}

/// The server is unharmed: `healthy` (opened before the bad input) still echoes,
/// and a new connection can be negotiated, opened and used. Closes both, stops the server.
async fn assert_healthy_and_stop(server: TestServer, mut healthy: HubSocket) {
    healthy.assert_next_echo("still healthy").await;
    healthy.assert_next_echo("twice").await;
    let mut fresh = ready(&server).await;
    fresh.assert_next_echo("fresh").await;
    fresh.close().await;
    healthy.close().await;
    server.stop().await;
}

/// A test hub and a working connection to it.
async fn start() -> (TestServer, HubSocket) {
    let server = TestServer::testhub().await;
    let healthy = ready(&server).await;
    (server, healthy)
}
