//! The chat hub inside an axum application (see the `axum-chat` binary):
//! the hub is one `nest_service` among the app's routes.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use hub_transport::HubService;
use metrics_exporter_prometheus::PrometheusHandle;

/// The application: the page and scripts of the chat sample, the official
/// client, `/health`, `/metrics` (Prometheus text) and the hub at `/chatHub`.
pub fn app(hub: HubService, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route(
            "/",
            get(|| file("chat/wwwroot/index.html", "text/html; charset=utf-8")),
        )
        .route(
            "/chat.js",
            get(|| file("chat/wwwroot/chat.js", "text/javascript; charset=utf-8")),
        )
        .route(
            "/chat-hub.js",
            get(|| file("chat/wwwroot/chat-hub.js", "text/javascript; charset=utf-8")),
        )
        .route("/lib/signalr.min.js", get(signalr_js))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(render_metrics))
        .with_state(metrics)
        .nest_service("/chatHub", hub)
}

async fn file(relative: &str, content_type: &'static str) -> impl IntoResponse {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    match tokio::fs::read(path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

async fn signalr_js() -> impl IntoResponse {
    match tokio::fs::read(crate::signalr_browser_js()).await {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            bytes,
        )
            .into_response(),
        Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

async fn render_metrics(State(metrics): State<PrometheusHandle>) -> String {
    metrics.render()
}
