//! Bad input: negotiate.

use super::*;

#[tokio::test]
async fn negotiate_version_1_returns_id_token_and_transports() {
    let (server, healthy) = start().await;
    let target = format!("{PATH}/negotiate?negotiateVersion=1");
    let response = request(server.addr, "POST", &target, &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert!(
        response.header("content-length").is_some(),
        "explicit Content-Length"
    );
    let body = response.json();
    assert_eq!(body["negotiateVersion"], 1);
    let id = body["connectionId"].as_str().expect("connectionId");
    let token = body["connectionToken"].as_str().expect("connectionToken");
    assert_url_safe_id(id);
    assert_url_safe_id(token);
    assert_ne!(id, token, "the token is not the public id");
    assert_eq!(
        body["availableTransports"],
        json!([
            {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
            {"transport": "ServerSentEvents", "transferFormats": ["Text"]},
            {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]},
        ])
    );
    assert_eq!(body["useStatefulReconnect"], false);
    assert!(body.get("ProtocolVersion").is_none(), "no legacy marker");

    // Every negotiate creates another connection.
    let (again_id, again_token) = negotiate(&server, &[]).await;
    assert_ne!(again_id, id);
    assert_ne!(again_token, token);
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn negotiate_without_version_is_version_0_without_token() {
    let (server, healthy) = start().await;
    let response = request(server.addr, "POST", &format!("{PATH}/negotiate"), &[]).await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["negotiateVersion"], 0);
    assert!(
        body.get("connectionToken").is_none(),
        "no connectionToken in version 0: {body}"
    );
    let id = body["connectionId"].as_str().expect("connectionId");
    assert_url_safe_id(id);

    // A version 0 client connects with the connection id.
    let mut client = open(&server, &format!("?id={id}")).await;
    client.handshake(Protocol::Json).await;
    client.assert_next_echo("v0").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn negotiate_bad_versions() {
    let (server, healthy) = start().await;

    // Not an integer: HTTP 200 with only an error.
    let response = request(
        server.addr,
        "POST",
        &format!("{PATH}/negotiate?negotiateVersion=abc"),
        &[],
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    let object = body.as_object().expect("a JSON object");
    assert_eq!(object.len(), 1, "only an error: {body}");
    let error = body["error"].as_str().expect("error string");
    assert!(error.contains("non-integer"), "{error:?}");

    // Below the minimum (0): an error too.
    let response = request(
        server.addr,
        "POST",
        &format!("{PATH}/negotiate?negotiateVersion=-1"),
        &[],
    )
    .await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert!(body["error"].is_string(), "{body}");
    assert!(body.get("connectionId").is_none(), "{body}");

    // Above the maximum: clamped to 1.
    let response = request(
        server.addr,
        "POST",
        &format!("{PATH}/negotiate?negotiateVersion=7"),
        &[],
    )
    .await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["negotiateVersion"], 1, "{body}");
    assert_url_safe_id(body["connectionToken"].as_str().expect("token in v1"));

    // The query parameter's name matches ignoring case, as in ASP.NET.
    let response = request(
        server.addr,
        "POST",
        &format!("{PATH}/negotiate?NegotiateVersion=1"),
        &[],
    )
    .await;
    assert_eq!(response.json()["negotiateVersion"], 1);
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn negotiate_only_accepts_post() {
    let (server, healthy) = start().await;
    for method in ["GET", "PUT", "DELETE"] {
        let target = format!("{PATH}/negotiate?negotiateVersion=1");
        let response = request(server.addr, method, &target, &[]).await;
        assert_eq!(response.status, 405, "{method} /negotiate");
        assert!(
            response
                .header("content-type")
                .is_some_and(|value| value.starts_with("text/plain")),
            "{response:?}"
        );
    }
    assert_healthy_and_stop(server, healthy).await;
}
