//! `axum-chat`: the chat hub mounted in an axum application, beside the
//! application's own routes and layers, with Prometheus metrics at `/metrics`
//! and, when `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector, traces and
//! metrics exported to it by OTLP (see `samples::telemetry`).
//!
//! `scripts/sample.sh axum-chat --addr 127.0.0.1:5000`, then open
//! `http://127.0.0.1:5000` in two tabs and `http://127.0.0.1:5000/metrics`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::axum_chat::main(hub_transport::shutdown_signal()).await
}
