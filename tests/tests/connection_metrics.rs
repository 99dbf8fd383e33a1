//! The SignalR connection metrics of the OpenTelemetry conventions
//! (`signalr.server.connection.duration`, `signalr.server.active_connections`)
//! as the axum sample's `/metrics` shows them (Prometheus), after connections
//! of each transport ended in each way the conventions tell apart: a normal
//! closure, a timeout (no poll, no reconnect within the disconnect timeout),
//! an application shutdown. The hub's own metrics stay beside them.

use std::net::SocketAddr;
use std::time::Duration;

use hub_transport::{EndpointOptions, HubService};
use tests::http::request;
use tests::raw_http::{HttpConn, SseStream, negotiate};
use tests::raw_ws::{HubSocket, Protocol};

const HUB: &str = "/chatHub";
const HANDSHAKE: &[u8] = b"{\"protocol\":\"json\",\"version\":1}\x1e";

struct App {
    addr: SocketAddr,
    hub: HubService,
}

/// The axum sample's application, with its Prometheus recorder, and a
/// disconnect timeout of a second.
async fn start() -> App {
    let metrics = samples::axum_chat::install_prometheus().expect("the binary's only recorder");
    let hub = HubService::builder(samples::chat::hub())
        .options(EndpointOptions {
            disconnect_timeout: Duration::from_secs(1),
            allow_stateful_reconnects: true,
            ..Default::default()
        })
        .build();
    let client = samples::BrowserClient::locate(None).expect("npm ci has run");
    let app = samples::axum_chat::app(hub.clone(), metrics, &client);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    App { addr, hub }
}

/// A request with a body on a connection of its own; its status.
async fn send(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> u16 {
    let mut conn = HttpConn::connect(addr).await;
    conn.request(method, target, &[], body).await.status
}

async fn negotiated(addr: SocketAddr) -> (HttpConn, String) {
    let mut conn = HttpConn::connect(addr).await;
    let (_, token) = negotiate(&mut conn, HUB, &[]).await;
    (conn, token)
}

/// A Long Polling connection past its handshake (its first poll answered);
/// returns its target.
async fn long_polling(addr: SocketAddr) -> String {
    let (_, token) = negotiated(addr).await;
    let target = format!("{HUB}?id={token}");
    assert_eq!(send(addr, "GET", &target, b"").await, 200, "first poll");
    assert_eq!(send(addr, "POST", &target, HANDSHAKE).await, 200);
    target
}

/// A Server-Sent Events connection past its handshake.
async fn server_sent_events(addr: SocketAddr) -> SseStream {
    let (_, token) = negotiated(addr).await;
    let target = format!("{HUB}?id={token}");
    let mut events = SseStream::open(addr, &target, &[]).await;
    assert_eq!(send(addr, "POST", &target, HANDSHAKE).await, 200);
    assert_eq!(events.next_event().await.as_deref(), Some("{}\u{1e}"));
    events
}

/// A stateful WebSocket connection (protocol version 2) past its handshake.
async fn stateful_websocket(addr: SocketAddr) -> HubSocket {
    let mut conn = HttpConn::connect(addr).await;
    let target = format!("{HUB}/negotiate?negotiateVersion=1&useStatefulReconnect=true");
    let response = conn.request("POST", &target, &[], b"").await;
    let document: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON");
    assert_eq!(document["useStatefulReconnect"], true, "{document}");
    let token = document["connectionToken"].as_str().expect("a token");
    let mut socket =
        HubSocket::upgrade(conn.into_stream(), addr, &format!("{HUB}?id={token}"), &[])
            .await
            .expect("upgraded");
    socket
        .send_text("{\"protocol\":\"json\",\"version\":2}\u{1e}")
        .await;
    socket.expect_text_frame("{}\u{1e}").await;
    socket
}

/// What `/metrics` shows now.
async fn metrics(addr: SocketAddr) -> String {
    let response = request(addr, "GET", "/metrics", &[]).await;
    assert_eq!(response.status, 200);
    response.text()
}

/// The value of the sample `name{labels...}` (labels in any order).
fn sample(rendered: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    rendered
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .find(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

fn ended(rendered: &str, status: &str, transport: &str) -> f64 {
    sample(
        rendered,
        "signalr_server_connection_duration_seconds_count",
        &[
            ("signalr_connection_status", status),
            ("signalr_transport", transport),
        ],
    )
    .unwrap_or(0.0)
}

/// Waits until `/metrics` shows every `(status, transport, count)`.
async fn until_ended(addr: SocketAddr, expected: &[(&str, &str, f64)]) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let rendered = metrics(addr).await;
        if expected
            .iter()
            .all(|(status, transport, count)| ended(&rendered, status, transport) >= *count)
        {
            return rendered;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {expected:?} within 30 s:\n{rendered}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_of_each_transport_end_in_each_way() {
    let app = start().await;
    let addr = app.addr;

    // Normal closures: a Close message, a closed event stream, a DELETE.
    let socket = HubSocket::negotiated(addr, HUB, Protocol::Json, &[]).await;
    let events = server_sent_events(addr).await;
    let polling = long_polling(addr).await;
    let live = metrics(addr).await;
    for transport in ["web_sockets", "server_sent_events", "long_polling"] {
        assert_eq!(
            sample(
                &live,
                "signalr_server_active_connections",
                &[("signalr_transport", transport)]
            ),
            Some(1.0),
            "{transport}:\n{live}"
        );
    }
    socket.close().await;
    drop(events);
    assert_eq!(send(addr, "DELETE", &polling, b"").await, 202);
    until_ended(
        addr,
        &[
            ("normal_closure", "web_sockets", 1.0),
            ("normal_closure", "server_sent_events", 1.0),
            ("normal_closure", "long_polling", 1.0),
        ],
    )
    .await;

    // Timeouts: a Long Polling client that stops polling, a stateful
    // WebSocket client that does not come back.
    let _abandoned = long_polling(addr).await;
    drop(stateful_websocket(addr).await);
    until_ended(
        addr,
        &[
            ("timeout", "long_polling", 1.0),
            ("timeout", "web_sockets", 1.0),
        ],
    )
    .await;

    // The application shuts the hub down (its /metrics stays up).
    let mut socket = HubSocket::negotiated(addr, HUB, Protocol::Json, &[]).await;
    let reader = tokio::spawn(async move { socket.drain_to_end().await });
    let mut events = server_sent_events(addr).await;
    let polling = long_polling(addr).await;
    let poll = tokio::spawn(async move { send(addr, "GET", &polling, b"").await });
    app.hub.shutdown().await;
    let (messages, _) = reader.await.expect("reader");
    assert_eq!(
        messages.last().map(|close| close["type"].clone()),
        Some(7.into())
    );
    while events.next_event().await.is_some() {}
    assert_eq!(poll.await.expect("poll"), 200);
    let rendered = until_ended(
        addr,
        &[
            ("app_shutdown", "web_sockets", 1.0),
            ("app_shutdown", "server_sent_events", 1.0),
            ("app_shutdown", "long_polling", 1.0),
        ],
    )
    .await;

    for transport in ["web_sockets", "server_sent_events", "long_polling"] {
        assert_eq!(
            sample(
                &rendered,
                "signalr_server_active_connections",
                &[("signalr_transport", transport)]
            ),
            Some(0.0),
            "{transport}:\n{rendered}"
        );
        // Nothing counted twice, nothing counted in the wrong way.
        assert_eq!(
            ended(&rendered, "normal_closure", transport),
            1.0,
            "{rendered}"
        );
        assert_eq!(
            ended(&rendered, "app_shutdown", transport),
            1.0,
            "{rendered}"
        );
    }
    assert_eq!(ended(&rendered, "timeout", "server_sent_events"), 0.0);
    // A histogram with ASP.NET's buckets, in seconds.
    assert!(rendered.contains("# TYPE signalr_server_connection_duration_seconds histogram"));
    assert!(rendered.contains("signalr_server_connection_duration_seconds_bucket{"));
    assert!(rendered.contains("le=\"300\""), "{rendered}");
    // The hub's own metrics, beside them.
    assert!(
        sample(
            &rendered,
            "signalr_connections_total",
            &[("hub", "Chat"), ("transport", "WebSockets")]
        ) == Some(3.0),
        "{rendered}"
    );
}
