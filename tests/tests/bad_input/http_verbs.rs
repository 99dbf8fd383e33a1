//! Bad input: hTTP verbs on the connection endpoint.

use super::*;

#[tokio::test]
async fn other_verbs_on_the_connection_endpoint() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;

    let response = http(server.addr, "PUT", PATH, &[]).await;
    assert_eq!(response.status, 405, "PUT: {response:?}");

    for method in ["POST", "DELETE"] {
        let target = format!("{PATH}?id=AAAAAAAAAAAAAAAAAAAAAA");
        let response = http(server.addr, method, &target, &[]).await;
        assert_eq!(
            response.status, 404,
            "{method} with an unknown id: {response:?}"
        );

        let response = http(server.addr, method, PATH, &[]).await;
        assert_eq!(response.status, 400, "{method} without id: {response:?}");
        assert_eq!(response.text(), "Connection ID required");

        // The public connection id is not a token.
        let target = format!("{PATH}?id={}", negotiated.connection_id);
        let response = http(server.addr, method, &target, &[]).await;
        assert_eq!(
            response.status, 404,
            "{method} with the connection id: {response:?}"
        );
    }

    // A plain GET without id is a poll that names no connection.
    let response = http(server.addr, "GET", PATH, &[]).await;
    assert_eq!(response.status, 400, "GET without id: {response:?}");

    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn post_on_a_websocket_connection_is_405() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let target = format!("{PATH}?id={}", negotiated.token);
    let mut client = Client::open(&ws_url(&server, &format!("?id={}", negotiated.token))).await;
    client.handshake().await;
    // Sends to a connection bound to a WebSocket: 405 (ASP.NET).
    let response = http(server.addr, "POST", &target, &[]).await;
    assert_eq!(
        response.status, 405,
        "POST on a WebSocket connection: {response:?}"
    );
    client.assert_echo("unaffected").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn delete_on_a_websocket_connection_is_400() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let target = format!("{PATH}?id={}", negotiated.token);
    let mut client = Client::open(&ws_url(&server, &format!("?id={}", negotiated.token))).await;
    client.handshake().await;
    // DELETE is for Long Polling connections only: 400 otherwise (ASP.NET;
    // protocol doc section 3 and checklist item 48).
    let response = http(server.addr, "DELETE", &target, &[]).await;
    assert_eq!(
        response.status, 400,
        "DELETE on a WebSocket connection: {response:?}"
    );
    client.assert_echo("unaffected").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}
