//! Bad input: webSocket connect.

use super::*;

#[tokio::test]
async fn websocket_with_unknown_id_is_404() {
    let (server, healthy) = start().await;
    let (status, body) = ws_refused(&ws_url(&server, "?id=AAAAAAAAAAAAAAAAAAAAAA")).await;
    assert_eq!(status, 404);
    assert_eq!(body, "No Connection with that ID");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn websocket_with_connection_id_instead_of_token_is_404() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let url = ws_url(&server, &format!("?id={}", negotiated.connection_id));
    assert_eq!(ws_refused(&url).await.0, 404);
    // The token itself still works: the refusal did not consume the connection.
    let mut client = Client::open(&ws_url(&server, &format!("?id={}", negotiated.token))).await;
    client.handshake().await;
    client.assert_echo("token").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn second_websocket_for_the_same_token_is_409() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let url = ws_url(&server, &format!("?id={}", negotiated.token));
    let mut first = Client::open(&url).await;
    first.handshake().await;
    let (status, body) = ws_refused(&url).await;
    assert_eq!(status, 409);
    assert_eq!(body, "Connection ID is already in use.");
    // The first socket is unaffected.
    first.assert_echo("first").await;
    first.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn websocket_without_id_skips_negotiation() {
    let (server, healthy) = start().await;
    let mut client = Client::open(&ws_url(&server, "")).await;
    client.handshake().await;
    client.assert_echo("skipNegotiation").await;
    // It is a real connection with its own id.
    client.send_text("{\"type\":1,\"invocationId\":\"id\",\"target\":\"GetConnectionId\",\"arguments\":[]}\u{1e}")
        .await;
    let completion = client.next_record().await;
    assert_eq!(completion["invocationId"], "id");
    assert_url_safe_id(completion["result"].as_str().expect("a connection id"));
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn token_of_a_closed_connection_is_404() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let url = ws_url(&server, &format!("?id={}", negotiated.token));
    let mut client = Client::open(&url).await;
    client.handshake().await;
    client.assert_echo("before").await;
    client.close().await;
    // The connection's task forgets the token right after its socket closes,
    // which the client cannot observe: until then the server still answers 409
    // (the token is bound). Retry, without sleeping, until the final answer.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let (status, body) = ws_refused(&url).await;
        match status {
            404 => {
                assert_eq!(body, "No Connection with that ID");
                break;
            }
            409 if Instant::now() < deadline => tokio::task::yield_now().await,
            _ => panic!("reusing a closed connection's token: {status} {body:?}"),
        }
    }
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn websocket_from_another_user_is_403() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[("Authorization", "Bearer alice")]).await;
    let token = &negotiated.token;
    // Browsers send the token in the query string.
    let (status, _) = ws_refused(&ws_url(&server, &format!("?id={token}&access_token=bob"))).await;
    assert_eq!(status, 403);
    // Anonymous is another user too.
    let (status, _) = ws_refused(&ws_url(&server, &format!("?id={token}"))).await;
    assert_eq!(status, 403);
    // Neither refusal used up the connection: alice still gets it.
    let mut alice =
        Client::open(&ws_url(&server, &format!("?id={token}&access_token=alice"))).await;
    alice.handshake().await;
    alice
        .send_text(
            "{\"type\":1,\"invocationId\":\"w\",\"target\":\"Whoami\",\"arguments\":[]}\u{1e}",
        )
        .await;
    alice.expect_completion("w", json!("alice")).await;
    alice.close().await;
    assert_healthy_and_stop(server, healthy).await;
}
