//! Logs, traces and metrics of the sample servers.
//!
//! - Logs go to stderr, filtered by `RUST_LOG` (default `info`).
//! - Spans of the hub (invocations, `on_connected`/`on_disconnected`) and of
//!   HTTP requests go to OpenTelemetry through `tracing-opentelemetry`, so
//!   every invocation has a W3C trace id (`CurrentTraceId` of the test hub
//!   returns it), and an Invocation carrying a `traceparent` continues the
//!   caller's trace.
//! - With `OTEL_EXPORTER_OTLP_ENDPOINT` set (`http://127.0.0.1:4318`, say),
//!   spans and metrics (`signalr.server.connection.duration`,
//!   `signalr.server.active_connections`) are exported to that collector by
//!   OTLP over HTTP (JSON encoding). The SDK's other variables apply too:
//!   `OTEL_SERVICE_NAME`, `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_METRIC_EXPORT_INTERVAL`...

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// The installed providers; dropping it flushes what is not exported yet.
#[derive(Debug)]
#[must_use = "dropping it shuts telemetry down"]
pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Err(error) = self.tracer_provider.shutdown() {
            eprintln!("exporting the last spans failed: {error}");
        }
        if let Some(meter_provider) = &self.meter_provider
            && let Err(error) = meter_provider.shutdown()
        {
            eprintln!("exporting the last metrics failed: {error}");
        }
    }
}

/// Whether an OTLP collector is configured.
fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// Installs logging and OpenTelemetry for the sample `service` (the
/// `service.name` unless `OTEL_SERVICE_NAME` says otherwise).
pub fn init(service: &'static str) -> Telemetry {
    let resource = Resource::builder().with_service_name(service).build();
    let export = otlp_configured();

    let mut tracers = SdkTracerProvider::builder().with_resource(resource.clone());
    if export {
        match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .build()
        {
            Ok(exporter) => tracers = tracers.with_batch_exporter(exporter),
            Err(error) => eprintln!("cannot export spans: {error}"),
        }
    }
    let tracer_provider = tracers.build();
    let tracer = tracer_provider.tracer(service);
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());

    let meter_provider = export.then(|| {
        let mut meters = SdkMeterProvider::builder().with_resource(resource);
        match opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .build()
        {
            Ok(exporter) => meters = meters.with_reader(PeriodicReader::builder(exporter).build()),
            Err(error) => eprintln!("cannot export metrics: {error}"),
        }
        let provider = meters.build();
        opentelemetry::global::set_meter_provider(provider.clone());
        provider
    });

    let logs = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The spans OpenTelemetry records: the hub's and the HTTP servers'
    // (hub-transport's own server, the axum sample's middleware).
    let spans = Targets::new()
        .with_target("hub_core", Level::INFO)
        .with_target("hub_transport", Level::INFO)
        .with_target("samples", Level::INFO);
    tracing_subscriber::registry()
        .with(fmt::layer().with_writer(std::io::stderr).with_filter(logs))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(spans),
        )
        .init();
    Telemetry {
        tracer_provider,
        meter_provider,
    }
}
