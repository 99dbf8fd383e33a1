//! Traces and metrics as OpenTelemetry receives them, captured with the SDK's
//! in-memory exporters: invocation spans by ASP.NET's conventions (name,
//! kind, attributes, status), parented on a raw Invocation's `traceparent`
//! or linked to the HTTP request that started the connection; the SignalR
//! connection metrics as their instruments.
//!
//! One subscriber and one pair of providers serve the whole binary (they
//! are global); each test finds its own spans by trace id or connection.

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId, TracerProvider as _};
use opentelemetry::{Key, KeyValue, Value as OtelValue};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tests::TestServer;
use tests::raw_ws::{HubSocket, Protocol};
use tracing_subscriber::layer::SubscriberExt;

struct Telemetry {
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
}

/// Installs the subscriber and providers once for the binary.
fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let tracer = tracer_provider.tracer("tests");
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        opentelemetry::global::set_meter_provider(meter_provider.clone());
        Telemetry {
            spans,
            metrics,
            meter_provider,
        }
    })
}

/// The finished spans `wanted` selects, once there are `count` of them
/// (spans end after their Completion is written: wait for them).
async fn spans_where(count: usize, wanted: impl Fn(&SpanData) -> bool) -> Vec<SpanData> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<SpanData> = telemetry()
            .spans
            .get_finished_spans()
            .expect("the exporter is up")
            .into_iter()
            .filter(|span| wanted(span))
            .collect();
        if found.len() >= count {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} spans expected, {} found",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a OtelValue> {
    span.attributes
        .iter()
        .find(|KeyValue { key: name, .. }| name == &Key::new(key.to_owned()))
        .map(|attribute| &attribute.value)
}

fn string_attribute(span: &SpanData, key: &str) -> Option<String> {
    attribute(span, key).map(|value| value.as_str().into_owned())
}

async fn server() -> TestServer {
    telemetry();
    TestServer::testhub().await
}

async fn invoke_with_headers(socket: &mut HubSocket, target: &str, traceparent: &str) {
    let id = socket.next_id();
    socket
        .send_message(&json!({
            "type": 1, "invocationId": id, "target": target, "arguments": ["x"],
            "headers": {"traceparent": traceparent}
        }))
        .await;
    socket.completion(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_with_a_traceparent_continues_the_callers_trace() {
    let server = server().await;
    for (protocol, trace) in [
        (Protocol::Json, "0af7651916cd43dd8448eb211c80319c"),
        (Protocol::MessagePack, "1bf7651916cd43dd8448eb211c80319d"),
    ] {
        let mut socket =
            HubSocket::negotiated(server.addr, samples::testhub::PATH, protocol, &[]).await;
        let parent = "b7ad6b7169203331";
        invoke_with_headers(&mut socket, "Echo", &format!("00-{trace}-{parent}-01")).await;
        let trace_id = TraceId::from_hex(trace).unwrap();
        let span = spans_where(1, |span| span.span_context.trace_id() == trace_id)
            .await
            .remove(0);
        assert_eq!(span.name, "Test/Echo");
        assert_eq!(span.span_kind, SpanKind::Server);
        assert_eq!(span.parent_span_id, SpanId::from_hex(parent).unwrap());
        assert!(span.parent_span_is_remote);
        assert_eq!(
            string_attribute(&span, "rpc.system").as_deref(),
            Some("signalr")
        );
        assert_eq!(
            string_attribute(&span, "rpc.service").as_deref(),
            Some("Test")
        );
        assert_eq!(
            string_attribute(&span, "rpc.method").as_deref(),
            Some("Echo")
        );
        assert_eq!(span.status, Status::Unset);
        assert!(attribute(&span, "error.type").is_none());
        socket.close().await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_without_one_is_linked_to_the_request_that_started_the_connection() {
    let server = server().await;
    let mut socket =
        HubSocket::negotiated(server.addr, samples::testhub::PATH, Protocol::Json, &[]).await;
    // A method name no other test calls, to find its span.
    let connection_id = socket.call("GetConnectionId", json!([])).await;
    assert!(connection_id.is_string());
    let span = spans_where(1, |span| span.name == "Test/GetConnectionId")
        .await
        .remove(0);
    assert_eq!(span.parent_span_id, SpanId::INVALID, "a root span");
    let links: Vec<_> = span.links.iter().collect();
    assert_eq!(links.len(), 1, "{links:?}");
    // The link leads to the WebSocket request's span (the server's own).
    let linked = links[0].span_context.clone();
    let request = spans_where(1, |candidate| candidate.span_context == linked)
        .await
        .remove(0);
    assert_eq!(request.span_kind, SpanKind::Server);
    assert_eq!(request.name, "GET");
    assert_eq!(
        string_attribute(&request, "url.path").as_deref(),
        Some(samples::testhub::PATH)
    );
    assert_eq!(
        attribute(&request, "http.response.status_code")
            .map(OtelValue::as_str)
            .as_deref(),
        Some("101")
    );
    assert_ne!(
        request.span_context.trace_id(),
        span.span_context.trace_id()
    );
    socket.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_carry_error_type_and_an_error_status() {
    let server = server().await;
    let mut socket =
        HubSocket::negotiated(server.addr, samples::testhub::PATH, Protocol::Json, &[]).await;
    let failures = [
        (
            "Throw",
            "dd0000000000000000000000000000a1",
            "hub_core::HubError",
        ),
        ("Panic", "dd0000000000000000000000000000a2", "panic"),
    ];
    for (method, trace, _) in failures {
        invoke_with_headers(
            &mut socket,
            method,
            &format!("00-{trace}-00000000000000aa-01"),
        )
        .await;
    }
    for (method, trace, error_type) in failures {
        let trace_id = TraceId::from_hex(trace).unwrap();
        let span = spans_where(1, |span| span.span_context.trace_id() == trace_id)
            .await
            .remove(0);
        assert_eq!(span.name, format!("Test/{method}"));
        assert_eq!(
            string_attribute(&span, "error.type").as_deref(),
            Some(error_type)
        );
        assert!(
            matches!(span.status, Status::Error { .. }),
            "{:?}",
            span.status
        );
    }
    // A stream the client cancels is no failure.
    let trace = "dd0000000000000000000000000000a3";
    let id = socket.next_id();
    socket
        .send_message(&json!({
            "type": 4, "invocationId": id, "target": "Counter", "arguments": [1000, 10],
            "headers": {"traceparent": format!("00-{trace}-00000000000000aa-01")}
        }))
        .await;
    socket
        .send_message(&json!({"type": 5, "invocationId": id}))
        .await;
    let completion = socket.completion(&id).await;
    assert!(completion.get("error").is_none(), "{completion}");
    let trace_id = TraceId::from_hex(trace).unwrap();
    let span = spans_where(1, |span| span.span_context.trace_id() == trace_id)
        .await
        .remove(0);
    assert_eq!(span.name, "Test/Counter");
    assert_eq!(span.status, Status::Unset);
    socket.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_metrics_are_the_conventions_instruments() {
    let server = server().await;
    for protocol in [Protocol::Json, Protocol::MessagePack] {
        let mut socket =
            HubSocket::negotiated(server.addr, samples::testhub::PATH, protocol, &[]).await;
        socket.assert_echo("hi").await;
        socket.close().await;
    }
    server.stop().await;
    let telemetry = telemetry();
    telemetry.meter_provider.force_flush().expect("flushed");
    let exported = telemetry.metrics.get_finished_metrics().expect("metrics");
    let metrics: Vec<_> = exported
        .iter()
        .flat_map(|resource| resource.scope_metrics())
        .flat_map(|scope| scope.metrics())
        .collect();
    let metric = |name: &str| {
        metrics
            .iter()
            .rev()
            .find(|metric| metric.name() == name)
            .unwrap_or_else(|| panic!("no {name} in {metrics:?}"))
    };

    let duration = metric("signalr.server.connection.duration");
    assert_eq!(duration.unit(), "s");
    let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = duration.data() else {
        panic!("a histogram: {duration:?}")
    };
    let normal_web_sockets = histogram
        .data_points()
        .find(|point| {
            let attributes: Vec<_> = point.attributes().cloned().collect();
            attributes.contains(&KeyValue::new(
                "signalr.connection.status",
                "normal_closure",
            )) && attributes.contains(&KeyValue::new("signalr.transport", "web_sockets"))
        })
        .expect("closed WebSocket connections");
    assert!(normal_web_sockets.count() >= 2);
    let bounds: Vec<f64> = normal_web_sockets.bounds().collect();
    assert_eq!(bounds, hub_transport::CONNECTION_DURATION_BUCKETS);

    let active = metric("signalr.server.active_connections");
    assert_eq!(active.unit(), "{connection}");
    let AggregatedMetrics::I64(MetricData::Sum(sum)) = active.data() else {
        panic!("an up-down counter: {active:?}")
    };
    assert!(!sum.is_monotonic());
    let web_sockets = sum
        .data_points()
        .find(|point| {
            point
                .attributes()
                .any(|attribute| attribute == &KeyValue::new("signalr.transport", "web_sockets"))
        })
        .expect("WebSocket connections counted");
    // Other tests of this binary may still hold connections; never negative.
    assert!(web_sockets.value() >= 0);
}
