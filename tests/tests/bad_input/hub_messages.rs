//! Bad input: hub messages after the handshake.

use super::*;

#[tokio::test]
async fn record_split_across_two_frames_is_reassembled() {
    let (server, healthy) = start().await;
    let mut client = ready(&server).await;
    client
        .send_text("{\"type\":1,\"invocationId\":\"s\",\"tar")
        .await;
    client
        .send_text("get\":\"Echo\",\"arguments\":[\"split\"]}\u{1e}")
        .await;
    client.expect_completion("s", json!("split")).await;
    // A split right before the separator, too.
    client
        .send_text("{\"type\":1,\"invocationId\":\"t\",\"target\":\"Echo\",\"arguments\":[\"rs\"]}")
        .await;
    client.send_text("\u{1e}").await;
    client.expect_completion("t", json!("rs")).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn several_records_in_one_frame_are_answered_in_order() {
    let (server, healthy) = start().await;
    let mut client = ready(&server).await;
    // The JS client's key order (type last), a Ping, and unknown properties among them.
    let frame = [
        "{\"target\":\"Echo\",\"arguments\":[\"a\"],\"invocationId\":\"1\",\"type\":1}",
        "{\"type\":6}",
        "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Add\",\"arguments\":[40,2],\"headers\":{},\"extra\":null}",
        "{\"type\":1,\"invocationId\":\"3\",\"target\":\"Delay\",\"arguments\":[20]}",
        "{\"type\":1,\"invocationId\":\"4\",\"target\":\"Echo\",\"arguments\":[\"d\"]}",
    ]
    .map(|record| format!("{record}{RS}"))
    .concat();
    client.send_text(&frame).await;
    client.expect_completion("1", json!("a")).await;
    client.expect_completion("2", json!(42)).await;
    client.expect_completion("3", json!(20)).await;
    client.expect_completion("4", json!("d")).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

/// Sends `message` on a ready connection; expects an error Close, then the socket closing.
/// Returns the Close's error text.
async fn assert_closed_with_error(server: &TestServer, message: Message) -> String {
    let mut client = ready(server).await;
    client.send(message).await;
    client.expect_close_with_error().await
}

#[tokio::test]
async fn garbage_json_closes_with_error() {
    let (server, healthy) = start().await;
    let error = assert_closed_with_error(&server, Message::text("this is not JSON\u{1e}")).await;
    // Observed: "Connection closed with an error. invalid message: expected
    // ident at line 1 column 2" (ASP.NET adds no detail without detailed errors).
    assert!(error.len() > CLOSED_WITH_ERROR.len(), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn unknown_message_type_closes_with_error() {
    let (server, healthy) = start().await;
    let error = assert_closed_with_error(&server, Message::text("{\"type\":99}\u{1e}")).await;
    assert_eq!(
        error,
        "Connection closed with an error. Unknown message type: 99"
    );
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn invocation_without_target_closes_with_error() {
    let (server, healthy) = start().await;
    let error = assert_closed_with_error(
        &server,
        Message::text("{\"type\":1,\"invocationId\":\"1\",\"arguments\":[]}\u{1e}"),
    )
    .await;
    assert_eq!(
        error,
        "Connection closed with an error. Missing required property 'target'."
    );
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn binary_frame_on_a_json_connection_closes_with_error() {
    let (server, healthy) = start().await;
    let invocation =
        "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Echo\",\"arguments\":[\"x\"]}\u{1e}";
    let error =
        assert_closed_with_error(&server, Message::binary(invocation.as_bytes().to_vec())).await;
    assert_eq!(
        error,
        "Connection closed with an error. Received a binary frame on a connection using the json protocol."
    );
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_binary_frame_closes_with_error() {
    let (server, healthy) = start().await;
    // On a JSON connection any binary frame is refused, before its bytes are looked at.
    let error =
        assert_closed_with_error(&server, Message::binary(vec![0xff, 0xfe, b'{', 0x1e])).await;
    assert!(error.contains("binary frame"), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn record_over_32_kib_closes_with_the_size_error() {
    let (server, healthy) = start().await;
    let text = "x".repeat(40 * 1024);
    let invocation =
        json!({"type": 1, "invocationId": "big", "target": "Echo", "arguments": [text]});
    let error = assert_closed_with_error(&server, Message::text(format!("{invocation}{RS}"))).await;
    assert!(error.contains(TOO_LARGE), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn record_over_32_kib_split_across_frames_closes_with_the_size_error() {
    let (server, healthy) = start().await;
    let mut client = ready(&server).await;
    let chunk = "x".repeat(16 * 1024);
    client
        .send_text(&format!(
            "{{\"type\":1,\"invocationId\":\"big\",\"target\":\"Echo\",\"arguments\":[\"{chunk}"
        ))
        .await;
    client.send_text(&chunk).await;
    // The limit is enforced before the record ends.
    client.send_text(&chunk).await;
    let error = client.expect_close_with_error().await;
    assert!(error.contains(TOO_LARGE), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn one_megabyte_message_closes_with_the_size_error() {
    let (server, healthy) = start().await;
    // 1 MB (10^6 bytes) fits in the WebSocket limit (1 MiB): the hub protocol refuses it.
    let text = "x".repeat(1_000_000 - 100);
    let invocation =
        json!({"type": 1, "invocationId": "huge", "target": "Echo", "arguments": [text]});
    let message = format!("{invocation}{RS}");
    assert!(message.len() <= 1_000_000);
    let error = assert_closed_with_error(&server, Message::text(message)).await;
    assert!(error.contains(TOO_LARGE), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn non_blocking_invocation_of_an_unknown_method_gets_no_answer() {
    let (server, healthy) = start().await;
    let mut client = ready(&server).await;
    client
        .send_text("{\"type\":1,\"target\":\"NoSuchMethod\",\"arguments\":[1]}\u{1e}")
        .await;
    // Nor a failing or wrongly called one.
    client
        .send_text("{\"type\":1,\"target\":\"Throw\",\"arguments\":[\"boom\"]}\u{1e}")
        .await;
    client
        .send_text("{\"type\":1,\"target\":\"Echo\",\"arguments\":[]}\u{1e}")
        .await;
    // The next message received is this Echo's Completion.
    client.assert_next_echo("next").await;
    // With an id, the same unknown method gets the documented error.
    client
        .send_text("{\"type\":1,\"invocationId\":\"u\",\"target\":\"NoSuchMethod\",\"arguments\":[1]}\u{1e}")
        .await;
    let completion = client.next_message().await;
    assert_eq!(
        completion,
        json!({"type": 3, "invocationId": "u", "error": "Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist."})
    );
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}
