//! Authentication, authorization, CORS and the WebSocket Origin check.

use std::time::Duration;

use hub_transport::{Cors, EndpointOptions};
use samples::{jwt, testhub};
use tests::http::request;
use tests::{TestServer, node_test};

const SECRET: &[u8] = b"the test secret, at least 32 bytes long";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_marked_authorize_refuse_other_users() {
    let server = TestServer::testhub().await;
    node_test("auth.test.mjs", &[("HUB_URL", &server.testhub_url())]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_authentication_maps_claims_and_refuses_bad_tokens() {
    let hub = testhub::hub();
    let context = hub.context();
    let options = EndpointOptions {
        require_authenticated_user: true,
        ..testhub::endpoint_options()
    };
    let builder = hub_transport::Server::builder()
        .hub_with_options(testhub::PATH, hub, options)
        .authenticate(jwt::authenticator(SECRET));
    let server = TestServer::start(builder, context).await;
    let valid = jwt::issue(SECRET, "alice", &["admin"], Duration::from_secs(300));
    let forged = jwt::issue(
        b"not the server's secret, but as long",
        "alice",
        &["admin"],
        Duration::from_secs(300),
    );
    // Past jsonwebtoken's default 60 s of allowed clock skew.
    let expired = jwt::issue_expiring_at(
        SECRET,
        "alice",
        &["admin"],
        std::time::SystemTime::now() - Duration::from_secs(300),
    );
    node_test(
        "auth.test.mjs",
        &[
            ("HUB_URL", &server.testhub_url()),
            ("JWT", "1"),
            ("VALID_TOKEN", &valid),
            ("FORGED_TOKEN", &forged),
            ("EXPIRED_TOKEN", &expired),
        ],
    )
    .await;
    server.stop().await;
}

async fn cors_server() -> TestServer {
    let hub = testhub::hub();
    let context = hub.context();
    let builder = testhub::server(hub)
        .cors(Cors::allow_origins(["https://app.example.com"]).allow_credentials(true));
    TestServer::start(builder, context).await
}

#[tokio::test]
async fn cors_preflights_and_responses_name_only_allowed_origins() {
    let server = cors_server().await;
    let negotiate = "/hubs/test/negotiate?negotiateVersion=1";

    let preflight = request(
        server.addr,
        "OPTIONS",
        negotiate,
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "x-requested-with,x-signalr-user-agent",
            ),
        ],
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );
    let allowed_headers = preflight
        .header("access-control-allow-headers")
        .unwrap_or_default();
    for header in ["X-Requested-With", "X-SignalR-User-Agent", "Authorization"] {
        assert!(allowed_headers.contains(header), "{allowed_headers}");
    }

    let post = request(
        server.addr,
        "POST",
        negotiate,
        &[("Origin", "https://app.example.com")],
    )
    .await;
    assert_eq!(post.status, 200);
    assert_eq!(
        post.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(post.header("vary"), Some("Origin"));

    let evil = request(
        server.addr,
        "POST",
        negotiate,
        &[("Origin", "https://evil.example.com")],
    )
    .await;
    assert_eq!(
        evil.header("access-control-allow-origin"),
        None,
        "the browser keeps the response from the page"
    );
    let evil_preflight = request(
        server.addr,
        "OPTIONS",
        negotiate,
        &[
            ("Origin", "https://evil.example.com"),
            ("Access-Control-Request-Method", "POST"),
        ],
    )
    .await;
    assert_eq!(evil_preflight.status, 403);
    server.stop().await;
}

#[tokio::test]
async fn websocket_upgrades_from_other_origins_are_refused() {
    let server = cors_server().await;
    let upgrade = |origin: &'static str| {
        let addr = server.addr;
        async move {
            request(
                addr,
                "GET",
                "/hubs/test",
                &[
                    ("Upgrade", "websocket"),
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Version", "13"),
                    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                    ("Origin", origin),
                ],
            )
            .await
        }
    };
    assert_eq!(upgrade("https://evil.example.com").await.status, 403);
    assert_eq!(upgrade("https://app.example.com").await.status, 101);
    server.stop().await;
}

#[tokio::test]
async fn connection_tokens_never_reveal_connection_ids() {
    let server = TestServer::testhub().await;
    for _ in 0..50 {
        let response = request(
            server.addr,
            "POST",
            "/hubs/test/negotiate?negotiateVersion=1",
            &[],
        )
        .await;
        let body: serde_json::Value = serde_json::from_slice(&response.body).expect("json");
        let id = body["connectionId"].as_str().expect("id");
        let token = body["connectionToken"].as_str().expect("token");
        assert_ne!(id, token);
        assert!(!token.contains(id) && !id.contains(token));
        // Connecting with the id instead of the token finds nothing.
        let wrong = request(server.addr, "POST", &format!("/hubs/test?id={id}"), &[]).await;
        assert_eq!(wrong.status, 404);
    }
    server.stop().await;
}
