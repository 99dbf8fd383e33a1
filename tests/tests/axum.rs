//! A hub mounted in an axum application (`HubService` via `nest_service`),
//! with the official client: Echo, SendToAll and Counter, over WebSockets and
//! Long Polling; the application's own routes and layers keep working.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use hub_transport::HubService;
use tests::http::request;
use tests::node_test;

struct AxumApp {
    addr: SocketAddr,
    hub: HubService,
    server: tokio::task::JoinHandle<()>,
}

async fn start() -> AxumApp {
    let hub = HubService::builder(samples::testhub::hub())
        .authenticate(samples::testhub::token_is_user_id())
        .build();
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .nest_service("/hubs/test", hub.clone())
        // A layer around everything, hub included.
        .layer(axum::middleware::from_fn(
            |request: axum::extract::Request, next: axum::middleware::Next| async move {
                let mut response = next.run(request).await;
                response
                    .headers_mut()
                    .insert("x-app-layer", "yes".parse().expect("header value"));
                response
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let shutdown = hub.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            std::future::pending::<()>().await;
            shutdown.shutdown().await;
        })
        .await
        .expect("serve");
    });
    AxumApp { addr, hub, server }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_works_through_axum() {
    let app = start().await;
    let url = format!("http://{}/hubs/test", app.addr);
    // Default transport (WebSockets): Echo, SendToAll, Counter.
    node_test(
        "fallback.test.mjs",
        &[
            ("HUB_URL", &url),
            ("EXPECTED_TRANSPORT", "WebSocketTransport"),
        ],
    )
    .await;
    // Long Polling and streams through axum.
    node_test(
        "streams.test.mjs",
        &[("HUB_URL", &url), ("HUB_TRANSPORT", "LongPolling")],
    )
    .await;
    node_test(
        "basics.test.mjs",
        &[("HUB_URL", &url), ("HUB_TRANSPORT", "ServerSentEvents")],
    )
    .await;
    app.hub.shutdown().await;
    app.server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_applications_routes_and_layers_keep_working() {
    let app = start().await;
    let health = request(app.addr, "GET", "/health", &[]).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, b"ok");
    assert_eq!(health.header("x-app-layer"), Some("yes"));
    let negotiate = request(
        app.addr,
        "POST",
        "/hubs/test/negotiate?negotiateVersion=1",
        &[],
    )
    .await;
    assert_eq!(negotiate.status, 200);
    assert_eq!(
        negotiate.header("x-app-layer"),
        Some("yes"),
        "the app's layers wrap the hub"
    );
    let body: serde_json::Value = serde_json::from_slice(&negotiate.body).expect("json");
    assert_eq!(body["negotiateVersion"], 1);
    let elsewhere = request(app.addr, "GET", "/nothing-here", &[]).await;
    assert_eq!(elsewhere.status, 404);
    app.hub.shutdown().await;
    app.server.abort();
}
