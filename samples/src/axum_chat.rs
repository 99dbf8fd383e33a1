//! The chat hub inside an axum application (see the `axum-chat` binary):
//! the hub is one `nest_service` among the app's routes.

use std::path::PathBuf;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use hub_transport::HubService;
use metrics_exporter_prometheus::PrometheusHandle;

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
