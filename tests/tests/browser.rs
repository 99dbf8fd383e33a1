//! The samples' pages in a real browser: headless Chromium, driven by
//! `playwright-core` from the Node scripts in `tests/browser/`, against the
//! sample servers started here. Each test runs twice: over the transport the
//! page picks (WebSockets), and with the page forced to Long Polling. Each
//! writes screenshots of its pages to `tests/artifacts/`. The chat page also
//! runs inside the axum application (`axum-chat`).

use tests::TestServer;
use tokio::sync::Mutex;

/// One browser at a time: a machine of two cores runs one Chromium well.
static BROWSER: Mutex<()> = Mutex::const_new(());

const DEFAULT: &str = "default";
const LONG_POLLING: &str = "LongPolling";

async fn chat(transport: &str) {
    let _browser = BROWSER.lock().await;
    let hub = samples::chat::hub();
    let context = hub.context();
    let server = TestServer::start(samples::chat::server(hub, &browser_client()), context).await;
    tests::browser::run("chat.test.mjs", &server.base_url, transport).await;
    server.stop().await;
}

/// The chat page served by the axum application (`samples::axum_chat`).
async fn axum_chat(transport: &str) {
    let _browser = BROWSER.lock().await;
    let hub = hub_transport::HubService::new(samples::chat::hub());
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .build_recorder()
        .handle();
    let app = samples::axum_chat::app(hub.clone(), metrics, &browser_client());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    tests::browser::run_as("chat.test.mjs", Some("axum-chat"), &url, transport).await;
    hub.shutdown().await;
    server.abort();
}

async fn clock(transport: &str) {
    let _browser = BROWSER.lock().await;
    let hub = samples::clock::hub();
    let context = hub.context();
    let ticker = samples::clock::spawn_ticker(context.clone());
    let server = TestServer::start(samples::clock::server(hub, &browser_client()), context).await;
    tests::browser::run("clock.test.mjs", &server.base_url, transport).await;
    ticker.abort();
    server.stop().await;
}

async fn whiteboard(transport: &str) {
    let _browser = BROWSER.lock().await;
    let hub = samples::whiteboard::hub();
    let context = hub.context();
    let server =
        TestServer::start(samples::whiteboard::server(hub, &browser_client()), context).await;
    tests::browser::run("whiteboard.test.mjs", &server.base_url, transport).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_default_transport() {
    chat(DEFAULT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_long_polling() {
    chat(LONG_POLLING).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_chat_default_transport() {
    axum_chat(DEFAULT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_chat_long_polling() {
    axum_chat(LONG_POLLING).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_default_transport() {
    clock(DEFAULT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_long_polling() {
    clock(LONG_POLLING).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whiteboard_default_transport() {
    whiteboard(DEFAULT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whiteboard_long_polling() {
    whiteboard(LONG_POLLING).await;
}

/// The official browser client the pages load (installed by `npm ci`).
fn browser_client() -> samples::BrowserClient {
    samples::BrowserClient::locate(None).expect("the browser client")
}
