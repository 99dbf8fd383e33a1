//! Authentication refresh (.NET 11) over raw HTTP: negotiate reports the
//! token's lifetime, and `POST {hub}/refresh?id={token}` replaces a running
//! connection's claims without reconnecting, answering as ASP.NET answers.

use std::time::{Duration, SystemTime};

use hub_transport::EndpointOptions;
use serde_json::{Value, json};
use tests::TestServer;
use tests::http::{RawResponse, request};
use tests::raw_ws::{HubSocket, Protocol};

const SECRET: &[u8] = b"refresh-test-secret";

async fn server(options: EndpointOptions) -> TestServer {
    let hub = samples::testhub::hub();
    let context = hub.context();
    let builder = hub_transport::Server::builder()
        .hub_with_options(samples::testhub::PATH, hub, options)
        .authenticate(samples::jwt::authenticator(SECRET));
    TestServer::start(builder, context).await
}

fn refreshing() -> EndpointOptions {
    EndpointOptions {
        enable_authentication_refresh: true,
        ..Default::default()
    }
}

fn token(user: &str, roles: &[&str], ttl: Duration) -> String {
    samples::jwt::issue(SECRET, user, roles, ttl)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Negotiates (version 1) with `token`; returns the negotiate document.
async fn negotiate(server: &TestServer, token: &str, version: u32) -> Value {
    let target = format!("/hubs/test/negotiate?negotiateVersion={version}");
    let authorization = bearer(token);
    let response = request(
        server.addr,
        "POST",
        &target,
        &[("Authorization", &authorization)],
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

/// A WebSocket connection of the negotiated `document` (JSON protocol).
async fn connect(server: &TestServer, document: &Value, token: &str) -> HubSocket {
    let id = document["connectionToken"].as_str().expect("a token");
    let authorization = bearer(token);
    let mut socket = HubSocket::connect(
        server.addr,
        &format!("/hubs/test?id={id}"),
        &[("Authorization", &authorization)],
    )
    .await;
    socket.handshake(Protocol::Json).await;
    socket
}

async fn refresh(server: &TestServer, query: &str, token: Option<&str>) -> RawResponse {
    let authorization = token.map(bearer);
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|value| ("Authorization", value.as_str()))
        .collect();
    request(
        server.addr,
        "POST",
        &format!("/hubs/test/refresh{query}"),
        &headers,
    )
    .await
}

fn roles(claims: &Value) -> Vec<String> {
    claims
        .as_array()
        .expect("claims")
        .iter()
        .filter(|pair| pair[0] == "role")
        .map(|pair| pair[1].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiate_reports_how_long_the_token_lasts() {
    let server = server(refreshing()).await;
    let ann = token("ann", &[], Duration::from_secs(1800));
    let lifetime = negotiate(&server, &ann, 1).await["tokenLifetimeSeconds"]
        .as_i64()
        .expect("a lifetime");
    assert!((1790..=1800).contains(&lifetime), "{lifetime}");
    // Anonymous: no expiry, no lifetime.
    let response = request(
        server.addr,
        "POST",
        "/hubs/test/negotiate?negotiateVersion=1",
        &[],
    )
    .await;
    assert!(response.json().get("tokenLifetimeSeconds").is_none());
    server.stop().await;

    // Refresh off (the default): never reported, and no refresh route.
    let server = self::server(EndpointOptions::default()).await;
    let document = negotiate(&server, &ann, 1).await;
    assert!(document.get("tokenLifetimeSeconds").is_none(), "{document}");
    let id = document["connectionToken"].as_str().unwrap();
    let response = refresh(&server, &format!("?id={id}"), Some(&ann)).await;
    assert_eq!(response.status, 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maximum_caps_the_lifetime_and_gives_one_to_tokens_that_never_expire() {
    let server = server(EndpointOptions {
        maximum_authentication_expiration: Some(Duration::from_secs(600)),
        ..refreshing()
    })
    .await;
    let long = token("ann", &[], Duration::from_secs(7200));
    assert_eq!(
        negotiate(&server, &long, 1).await["tokenLifetimeSeconds"],
        600
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_replaces_the_claims_of_the_running_connection() {
    let server = server(refreshing()).await;
    let first = token("ann", &["reader"], Duration::from_secs(60));
    let document = negotiate(&server, &first, 1).await;
    let id = document["connectionToken"].as_str().unwrap().to_owned();
    let mut socket = connect(&server, &document, &first).await;
    assert_eq!(
        roles(&socket.call("GetClaims", json!([])).await),
        ["reader"]
    );
    let refused = socket.invoke("AdminByRole", json!([])).await;
    assert!(socket.completion(&refused).await["error"].is_string());

    let second = token("ann", &["reader", "admin"], Duration::from_secs(3600));
    let response = refresh(&server, &format!("?id={id}"), Some(&second)).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("application/json"));
    let lifetime = response.json()["tokenLifetimeSeconds"].as_i64().unwrap();
    assert!((3590..=3600).contains(&lifetime), "{lifetime}");

    // The same connection, its new claims: authorization sees them too.
    assert_eq!(
        roles(&socket.call("GetClaims", json!([])).await),
        ["reader", "admin"]
    );
    assert_eq!(socket.call("AdminByRole", json!([])).await, "admin secret");
    assert_eq!(socket.call("Whoami", json!([])).await, "ann");
    socket.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_token_is_refused_and_the_connection_keeps_its_own() {
    let server = server(refreshing()).await;
    let ann = token("ann", &["reader"], Duration::from_secs(60));
    let document = negotiate(&server, &ann, 1).await;
    let id = document["connectionToken"].as_str().unwrap().to_owned();
    let mut socket = connect(&server, &document, &ann).await;

    let bob = token("bob", &["admin"], Duration::from_secs(3600));
    let response = refresh(&server, &format!("?id={id}"), Some(&bob)).await;
    assert_eq!(response.status, 403);
    assert_eq!(
        response.json(),
        json!({"error": "permission_change_rejected"})
    );
    // Anonymous is another user too.
    let response = refresh(&server, &format!("?id={id}"), None).await;
    assert_eq!(response.status, 403);

    assert_eq!(socket.call("Whoami", json!([])).await, "ann");
    assert_eq!(
        roles(&socket.call("GetClaims", json!([])).await),
        ["reader"]
    );
    socket.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_refreshes_get_asp_net_s_error_codes() {
    let server = server(refreshing()).await;
    let ann = token("ann", &[], Duration::from_secs(60));
    let document = negotiate(&server, &ann, 1).await;
    let id = document["connectionToken"].as_str().unwrap().to_owned();
    let socket = connect(&server, &document, &ann).await;

    let error = |response: RawResponse| (response.status, response.json()["error"].clone());
    assert_eq!(
        error(refresh(&server, "", Some(&ann)).await),
        (400, json!("missing_connection_token"))
    );
    assert_eq!(
        error(refresh(&server, "?id=nobody", Some(&ann)).await),
        (404, json!("connection_not_found"))
    );
    let expired = samples::jwt::issue_expiring_at(
        SECRET,
        "ann",
        &[],
        SystemTime::now() - Duration::from_secs(3600),
    );
    assert_eq!(
        error(refresh(&server, &format!("?id={id}"), Some(&expired)).await),
        (401, json!("invalid_token"))
    );
    assert_eq!(
        error(refresh(&server, &format!("?id={id}"), Some("not-a-jwt")).await),
        (401, json!("invalid_token"))
    );
    let authorization = bearer(&ann);
    let get = request(
        server.addr,
        "GET",
        &format!("/hubs/test/refresh?id={id}"),
        &[("Authorization", &authorization)],
    )
    .await;
    assert_eq!(get.status, 405);

    // Negotiate version 0 has no token: its connections cannot refresh.
    let old = negotiate(&server, &ann, 0).await;
    let connection_id = old["connectionId"].as_str().unwrap();
    assert_eq!(
        error(refresh(&server, &format!("?id={connection_id}"), Some(&ann)).await),
        (400, json!("unsupported_negotiate_version"))
    );
    socket.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_expiry_refreshes_to_an_empty_answer() {
    // The test hub's own authentication: the token is the user id, no expiry.
    let hub = samples::testhub::hub();
    let context = hub.context();
    let builder = samples::testhub::server_with(hub, refreshing());
    let server = TestServer::start(builder, context).await;
    let response = request(
        server.addr,
        "POST",
        "/hubs/test/negotiate?negotiateVersion=1",
        &[("Authorization", "Bearer ann")],
    )
    .await;
    let document = response.json();
    assert!(document.get("tokenLifetimeSeconds").is_none(), "{document}");
    let id = document["connectionToken"].as_str().unwrap();
    let response = request(
        server.addr,
        "POST",
        &format!("/hubs/test/refresh?id={id}"),
        &[("Authorization", "Bearer ann")],
    )
    .await;
    assert_eq!((response.status, response.json()), (200, json!({})));
    server.stop().await;
}
