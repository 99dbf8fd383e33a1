//! Bad input: handshake.

use super::*;

#[tokio::test]
async fn handshake_response_is_exactly_empty_object() {
    let (server, healthy) = start().await;
    let mut client = HubSocket::negotiated_without_handshake(server.addr, PATH, &[]).await;
    client.send_text(JSON_HANDSHAKE).await;
    match client.next_ws_message().await {
        Some(Ok(Message::Text(text))) => assert_eq!(text.as_bytes(), b"{}\x1e"),
        other => panic!("expected a text frame with {{}}RS, got {other:?}"),
    }
    client.assert_next_echo("after handshake").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_version_2_and_unknown_keys_are_accepted() {
    let (server, healthy) = start().await;
    let mut client = HubSocket::negotiated_without_handshake(server.addr, PATH, &[]).await;
    client
        .send_text("{\"version\":2,\"extra\":[1],\"protocol\":\"JSON\"}\u{1e}")
        .await;
    client.expect_text_frame("{}\u{1e}").await;
    client.assert_next_echo("v2").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

/// Sends `handshake`; expects exactly the error response `error`, then the socket closing.
async fn assert_handshake_refused(server: &TestServer, handshake: &str, error: &str) {
    let mut client = HubSocket::negotiated_without_handshake(server.addr, PATH, &[]).await;
    client.send_text(handshake).await;
    let expected = format!("{}{RS}", json!({ "error": error }));
    client.expect_text_frame(&expected).await;
    let closure = client.expect_closed().await;
    assert!(
        matches!(closure, Closure::CloseFrame(_)),
        "the server closes the WebSocket after a refused handshake: {closure:?}"
    );
}

#[tokio::test]
async fn handshake_with_unknown_protocol_is_refused() {
    let (server, healthy) = start().await;
    assert_handshake_refused(
        &server,
        "{\"protocol\":\"foo\",\"version\":1}\u{1e}",
        "The protocol 'foo' is not supported.",
    )
    .await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_with_unsupported_version_is_refused() {
    let (server, healthy) = start().await;
    assert_handshake_refused(
        &server,
        "{\"protocol\":\"json\",\"version\":3}\u{1e}",
        "The server does not support version 3 of the 'json' protocol.",
    )
    .await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_garbage_is_refused() {
    let (server, healthy) = start().await;
    let error = "An unexpected error occurred during connection handshake.";
    assert_handshake_refused(&server, "this is not JSON\u{1e}", error).await;
    // Valid JSON without the required fields is malformed too.
    assert_handshake_refused(&server, "{\"protocol\":\"json\"}\u{1e}", error).await;
    assert_handshake_refused(&server, "[1,2]\u{1e}", error).await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_as_a_json_array_is_refused() {
    let (server, healthy) = start().await;
    // The handshake is a JSON object; an array holding the right values in
    // the fields' order is not one.
    assert_handshake_refused(
        &server,
        "[\"json\",1]\u{1e}",
        "An unexpected error occurred during connection handshake.",
    )
    .await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_and_ping_in_one_frame_are_both_processed() {
    let (server, healthy) = start().await;
    let mut client = HubSocket::negotiated_without_handshake(server.addr, PATH, &[]).await;
    client
        .send_text(&format!("{JSON_HANDSHAKE}{{\"type\":6}}{RS}"))
        .await;
    client.expect_text_frame("{}\u{1e}").await;
    // The Ping gets no answer: the Echo's Completion is the next record.
    client.assert_next_echo("after ping").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_and_invocation_in_one_frame_are_both_processed() {
    let (server, healthy) = start().await;
    let mut client = HubSocket::negotiated_without_handshake(server.addr, PATH, &[]).await;
    client
        .send_text(&format!(
            "{JSON_HANDSHAKE}{{\"type\":1,\"invocationId\":\"0\",\"target\":\"Echo\",\"arguments\":[\"same frame\"]}}{RS}"
        ))
        .await;
    // The handshake response is a message of its own, before the Completion.
    client.expect_text_frame("{}\u{1e}").await;
    client.expect_completion("0", json!("same frame")).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_split_across_two_frames() {
    let (server, healthy) = start().await;
    let mut client = HubSocket::negotiated_without_handshake(server.addr, PATH, &[]).await;
    client.send_text("{\"protocol\":\"json\",").await;
    client.send_text("\"version\":1}\u{1e}").await;
    client.expect_text_frame("{}\u{1e}").await;
    client.assert_next_echo("split handshake").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}
