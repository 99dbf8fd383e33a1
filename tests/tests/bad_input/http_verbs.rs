//! Bad input: hTTP verbs on the connection endpoint.

use super::*;

#[tokio::test]
async fn other_verbs_on_the_connection_endpoint() {
    let (server, healthy) = start().await;
    let (connection_id, _) = negotiate(&server, &[]).await;

    let response = request(server.addr, "PUT", PATH, &[]).await;
    assert_eq!(response.status, 405, "PUT: {response:?}");

    for method in ["POST", "DELETE"] {
        let target = format!("{PATH}?id=AAAAAAAAAAAAAAAAAAAAAA");
        let response = request(server.addr, method, &target, &[]).await;
        assert_eq!(
            response.status, 404,
            "{method} with an unknown id: {response:?}"
        );

        let response = request(server.addr, method, PATH, &[]).await;
        assert_eq!(response.status, 400, "{method} without id: {response:?}");
        assert_eq!(response.text(), "Connection ID required");

        // The public connection id is not a token.
        let target = format!("{PATH}?id={connection_id}");
        let response = request(server.addr, method, &target, &[]).await;
        assert_eq!(
            response.status, 404,
            "{method} with the connection id: {response:?}"
        );
    }

    // A plain GET without id is a poll that names no connection.
    let response = request(server.addr, "GET", PATH, &[]).await;
    assert_eq!(response.status, 400, "GET without id: {response:?}");

    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn post_on_a_websocket_connection_is_405() {
    let (server, healthy) = start().await;
    let (_, token) = negotiate(&server, &[]).await;
    let target = format!("{PATH}?id={token}");
    let mut client = open(&server, &format!("?id={token}")).await;
    client.handshake(Protocol::Json).await;
    // Sends to a connection bound to a WebSocket: 405 (ASP.NET).
    let response = request(server.addr, "POST", &target, &[]).await;
    assert_eq!(
        response.status, 405,
        "POST on a WebSocket connection: {response:?}"
    );
    client.assert_next_echo("unaffected").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn delete_on_a_websocket_connection_is_400() {
    let (server, healthy) = start().await;
    let (_, token) = negotiate(&server, &[]).await;
    let target = format!("{PATH}?id={token}");
    let mut client = open(&server, &format!("?id={token}")).await;
    client.handshake(Protocol::Json).await;
    // DELETE is for Long Polling connections only: 400 otherwise (ASP.NET;
    // protocol doc section 3 and checklist item 48).
    let response = request(server.addr, "DELETE", &target, &[]).await;
    assert_eq!(
        response.status, 400,
        "DELETE on a WebSocket connection: {response:?}"
    );
    client.assert_next_echo("unaffected").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}
