//! The axum sample exports traces and metrics by OTLP (HTTP, JSON encoding)
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector: this test is that
//! collector, and checks what it receives from the sample running as a
//! process, as an OpenTelemetry collector would receive it.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use tests::raw_ws::{HubSocket, Protocol};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const TRACE_ID: &str = "5bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";

/// What the collector received, by signal (`traces`, `metrics`).
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(&'static str, Value)>>>);

impl Received {
    fn push(&self, signal: &'static str, body: &[u8]) {
        let document = serde_json::from_slice(body).expect("OTLP/JSON bodies");
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((signal, document));
    }

    fn of(&self, signal: &str) -> Vec<Value> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(kind, _)| *kind == signal)
            .map(|(_, document)| document.clone())
            .collect()
    }

    /// Waits (at most 30 s) until `find` finds something in what arrived.
    async fn until<T>(&self, what: &str, find: impl Fn(&Received) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = find(self) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {what} within 30 s; received: {:?}",
                self.0.lock().unwrap_or_else(PoisonError::into_inner)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A collector accepting OTLP/HTTP JSON on `/v1/traces` and `/v1/metrics`.
async fn collector() -> (SocketAddr, Received) {
    let received = Received::default();
    let app = Router::new()
        .route(
            "/v1/traces",
            post(|State(received): State<Received>, body: Bytes| async move {
                received.push("traces", &body);
                ([("content-type", "application/json")], "{}")
            }),
        )
        .route(
            "/v1/metrics",
            post(|State(received): State<Received>, body: Bytes| async move {
                received.push("metrics", &body);
                ([("content-type", "application/json")], "{}")
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("collector") });
    (addr, received)
}

/// Every span of the received trace exports, with its resource.
fn spans(received: &Received) -> Vec<(Value, Value)> {
    let mut spans = Vec::new();
    for document in received.of("traces") {
        for resource in document["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    spans.push((resource["resource"].clone(), span.clone()));
                }
            }
        }
    }
    spans
}

/// Every metric of the received metric exports.
fn metrics(received: &Received) -> Vec<Value> {
    let mut metrics = Vec::new();
    for document in received.of("metrics") {
        for resource in document["resourceMetrics"].as_array().into_iter().flatten() {
            for scope in resource["scopeMetrics"].as_array().into_iter().flatten() {
                metrics.extend(scope["metrics"].as_array().into_iter().flatten().cloned());
            }
        }
    }
    metrics
}

fn attribute<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    item["attributes"]
        .as_array()?
        .iter()
        .find(|attribute| attribute["key"] == key)
        .map(|attribute| &attribute["value"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axum_sample_exports_spans_and_metrics_to_a_collector() {
    let (collector, received) = collector().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_axum-chat-process"))
        .args(["--addr", "127.0.0.1:0"])
        .arg("--node-modules")
        .arg(tests::repo_root().join("node_modules"))
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .env("OTEL_METRIC_EXPORT_INTERVAL", "200")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start axum-chat");
    let stdout = child.stdout.take().expect("piped stdout");
    let line = tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("it announces itself")
    .expect("stdout")
    .expect("a line");
    let addr: SocketAddr = line
        .strip_prefix("listening on http://")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));

    let mut socket = HubSocket::negotiated(addr, "/chatHub", Protocol::Json, &[]).await;
    let id = socket.next_id();
    socket
        .send_message(&json!({
            "type": 1, "invocationId": id, "target": "SendMessage", "arguments": ["ann", "hi"],
            "headers": {"traceparent": format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01")}
        }))
        .await;
    let completion = socket.completion(&id).await;
    assert!(completion.get("error").is_none(), "{completion}");
    socket.close().await;

    // The invocation's span, continuing the caller's trace.
    let (resource, span) = received
        .until("invocation span", |received| {
            spans(received)
                .into_iter()
                .find(|(_, span)| span["name"] == "Chat/SendMessage")
        })
        .await;
    assert_eq!(
        attribute(&resource, "service.name"),
        Some(&json!({"stringValue": "axum-chat"}))
    );
    assert_eq!(span["traceId"], TRACE_ID, "{span}");
    assert_eq!(span["parentSpanId"], PARENT_SPAN_ID, "{span}");
    assert!(
        span["kind"] == 2 || span["kind"] == "SPAN_KIND_SERVER",
        "a server span: {span}"
    );
    for (key, value) in [
        ("rpc.system", "signalr"),
        ("rpc.service", "Chat"),
        ("rpc.method", "SendMessage"),
    ] {
        assert_eq!(
            attribute(&span, key),
            Some(&json!({"stringValue": value})),
            "{key}: {span}"
        );
    }
    // The WebSocket request's span, from the application's middleware.
    received
        .until("request span", |received| {
            spans(received).into_iter().find(|(_, span)| {
                span["name"] == "GET"
                    && attribute(span, "url.path") == Some(&json!({"stringValue": "/chatHub"}))
            })
        })
        .await;

    // The connection's end, in the conventions' metrics.
    let duration = received
        .until("connection duration", |received| {
            metrics(received).into_iter().rev().find(|metric| {
                metric["name"] == "signalr.server.connection.duration"
                    && metric["histogram"]["dataPoints"]
                        .as_array()
                        .is_some_and(|points| !points.is_empty())
            })
        })
        .await;
    assert_eq!(duration["unit"], "s");
    let point = &duration["histogram"]["dataPoints"][0];
    assert_eq!(
        attribute(point, "signalr.connection.status"),
        Some(&json!({"stringValue": "normal_closure"}))
    );
    assert_eq!(
        attribute(point, "signalr.transport"),
        Some(&json!({"stringValue": "web_sockets"}))
    );
    let active = received
        .until("active connections", |received| {
            metrics(received)
                .into_iter()
                .find(|metric| metric["name"] == "signalr.server.active_connections")
        })
        .await;
    assert_eq!(active["unit"], "{connection}");
    assert_eq!(
        active["sum"]["isMonotonic"], false,
        "an up-down counter: {active}"
    );
    child.kill().await.expect("stop axum-chat");
}
