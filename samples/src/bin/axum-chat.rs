//! `axum-chat`: the chat hub mounted in an axum application, beside the
//! application's own routes and layers, with Prometheus metrics at `/metrics`.
//!
//! `scripts/sample.sh axum-chat --addr 127.0.0.1:5000`, then open
//! `http://127.0.0.1:5000` in two tabs and `http://127.0.0.1:5000/metrics`.

use std::net::SocketAddr;

use hub_transport::HubService;
use metrics_exporter_prometheus::PrometheusBuilder;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::cli::init_logging();
    let args = samples::cli::parse("axum-chat");
    let client = args.browser_client();
    let metrics = PrometheusBuilder::new()
        .install_recorder()
        .map_err(std::io::Error::other)?;
    let hub = args
        .join_backplane(samples::chat::builder(), "chat")
        .await
        .build();
    let hub_service = HubService::new(hub);
    let app = samples::axum_chat::app(hub_service.clone(), metrics, &client);
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    samples::cli::announce(listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        hub_transport::shutdown_signal().await;
        hub_service.shutdown().await;
    })
    .await
}
