//! The chat hub inside an axum application (see the `axum-chat` binary):
//! the hub is one `nest_service` among the app's routes.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use hub_transport::{CONNECTION_DURATION_BUCKETS, HubService};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::BrowserClient;

/// The application: the page and scripts of the chat sample (built in), the
/// official client, `/health`, `/metrics` (Prometheus text) and the hub at
/// `/chatHub`.
pub fn app(hub: HubService, metrics: PrometheusHandle, client: &BrowserClient) -> Router {
    let signalr = client.signalr.clone();
    let router = Router::new()
        .route(
            "/lib/signalr.min.js",
            get(move || script_file(signalr.clone())),
        )
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(render_metrics));
    crate::chat::PAGE
        .into_iter()
        .fold(router, |router, (path, content_type, body)| {
            router.route(
                path,
                get(move || async move { ([(header::CONTENT_TYPE, content_type)], body) }),
            )
        })
        .with_state(metrics)
        .nest_service("/chatHub", hub)
        .layer(axum::middleware::from_fn(request_span))
}

/// Runs each request in a span of the OpenTelemetry HTTP server conventions
/// (what `tower_http::trace::TraceLayer` would do): the hub's invocation
/// spans link to the request that started their connection.
async fn request_span(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;

    let method = request.method().as_str().to_owned();
    let span = tracing::info_span!(
        "http_request",
        otel.name = %method,
        otel.kind = "server",
        http.request.method = %method,
        url.path = request.uri().path(),
        http.response.status_code = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

/// The `axum-chat` binary, until `stop` resolves: telemetry, the Prometheus
/// recorder, the application on `--addr`; prints `listening on http://HOST:PORT`.
pub async fn main(stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let _telemetry = crate::telemetry::init("axum-chat");
    let args = crate::cli::parse("axum-chat");
    let client = args.browser_client();
    let metrics = install_prometheus().map_err(std::io::Error::other)?;
    let hub = args
        .join_backplane(crate::chat::builder(), "chat")
        .await
        .build();
    let hub_service = HubService::new(hub);
    let app = app(hub_service.clone(), metrics, &client);
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    crate::cli::announce(listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop.await;
        hub_service.shutdown().await;
    })
    .await
}

/// Installs the process's Prometheus recorder, as the application serves
/// it at `/metrics`: the SignalR metrics of the OpenTelemetry conventions as
/// Prometheus names them (`signalr_server_connection_duration_seconds`, a
/// histogram with ASP.NET's buckets; `signalr_server_active_connections`),
/// beside the hub's own (`signalr_messages_received_total`, ...).
pub fn install_prometheus() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new()
        .with_recommended_naming(true)
        .set_buckets_for_metric(
            Matcher::Full("signalr.server.connection.duration".into()),
            CONNECTION_DURATION_BUCKETS,
        )?
        .install_recorder()
}

/// A script read from disk when asked for.
async fn script_file(path: PathBuf) -> impl IntoResponse {
    match tokio::fs::read(path).await {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, crate::browser_client::JAVASCRIPT)],
            bytes,
        )
            .into_response(),
        Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

async fn render_metrics(State(metrics): State<PrometheusHandle>) -> String {
    metrics.render()
}
