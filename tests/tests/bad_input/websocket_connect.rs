//! Bad input: webSocket connect.

use super::*;

#[tokio::test]
async fn websocket_with_unknown_id_is_404() {
    let (server, healthy) = start().await;
    let (status, body) = refused(&server, "?id=AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, 404);
    assert_eq!(body, "No Connection with that ID");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn websocket_with_connection_id_instead_of_token_is_404() {
    let (server, healthy) = start().await;
    let (connection_id, token) = negotiate(&server, &[]).await;
    assert_eq!(
        refused(&server, &format!("?id={connection_id}")).await.0,
        404
    );
    // The token itself still works: the refusal did not consume the connection.
    let mut client = open(&server, &format!("?id={token}")).await;
    client.handshake(Protocol::Json).await;
    client.assert_next_echo("token").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn second_websocket_for_the_same_token_is_409() {
    let (server, healthy) = start().await;
    let (_, token) = negotiate(&server, &[]).await;
    let query = format!("?id={token}");
    let mut first = open(&server, &query).await;
    first.handshake(Protocol::Json).await;
    let (status, body) = refused(&server, &query).await;
    assert_eq!(status, 409);
    assert_eq!(body, "Connection ID is already in use.");
    // The first socket is unaffected.
    first.assert_next_echo("first").await;
    first.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn websocket_without_id_skips_negotiation() {
    let (server, healthy) = start().await;
    let mut client = open(&server, "").await;
    client.handshake(Protocol::Json).await;
    client.assert_next_echo("skipNegotiation").await;
    // It is a real connection with its own id.
    client.send_text("{\"type\":1,\"invocationId\":\"id\",\"target\":\"GetConnectionId\",\"arguments\":[]}\u{1e}")
        .await;
    let completion = client.next_message().await;
    assert_eq!(completion["invocationId"], "id");
    assert_url_safe_id(completion["result"].as_str().expect("a connection id"));
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn token_of_a_closed_connection_is_404() {
    let (server, healthy) = start().await;
    let (_, token) = negotiate(&server, &[]).await;
    let query = format!("?id={token}");
    let mut client = open(&server, &query).await;
    client.handshake(Protocol::Json).await;
    client.assert_next_echo("before").await;
    client.close().await;
    // The connection's task forgets the token right after its socket closes,
    // which the client cannot observe: until then the server still answers 409
    // (the token is bound). Retry, without sleeping, until the final answer.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let (status, body) = refused(&server, &query).await;
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
    let (_, token) = negotiate(&server, &[("Authorization", "Bearer alice")]).await;
    // Browsers send the token in the query string.
    let (status, _) = refused(&server, &format!("?id={token}&access_token=bob")).await;
    assert_eq!(status, 403);
    // Anonymous is another user too.
    let (status, _) = refused(&server, &format!("?id={token}")).await;
    assert_eq!(status, 403);
    // Neither refusal used up the connection: alice still gets it.
    let mut alice = open(&server, &format!("?id={token}&access_token=alice")).await;
    alice.handshake(Protocol::Json).await;
    alice
        .send_text(
            "{\"type\":1,\"invocationId\":\"w\",\"target\":\"Whoami\",\"arguments\":[]}\u{1e}",
        )
        .await;
    alice.expect_completion("w", json!("alice")).await;
    alice.close().await;
    assert_healthy_and_stop(server, healthy).await;
}
