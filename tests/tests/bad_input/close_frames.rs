//! Bad input: webSocket close frames.

use futures_util::SinkExt;

use super::*;

/// The close code of a closure, if the server sent a Close frame with one.
fn close_code(closure: &Closure) -> Option<u16> {
    match closure {
        Closure::CloseFrame(Some(frame)) => Some(frame.code.into()),
        _ => None,
    }
}

#[tokio::test]
async fn server_close_frames_use_status_1000() {
    let (server, healthy) = start().await;
    // The official client reports an error for any close code but 1000
    // (protocol doc section 3.1: "normal server close uses status 1000").

    // After an error Close message.
    let mut client = ready(&server).await;
    client.send_text("{\"type\":99}\u{1e}").await;
    let close = client.next_message().await;
    assert_eq!(close["type"], 7);
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1000), "{closure:?}");

    // After a refused handshake.
    let mut client = HubSocket::negotiated_without_handshake(server.addr, PATH, &[]).await;
    client
        .send_text("{\"protocol\":\"foo\",\"version\":1}\u{1e}")
        .await;
    client.next_message().await;
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1000), "{closure:?}");

    // After the client's Close message.
    let mut client = ready(&server).await;
    client.send_text("{\"type\":7}\u{1e}").await;
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1000), "{closure:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_gets_a_close_frame() {
    let (server, healthy) = start().await;
    let mut client = ready(&server).await;
    let frame = Frame::message(
        Bytes::from_static(&[b'"', 0xff, 0xfe, b'"', 0x1e]),
        OpCode::Data(Data::Text),
        true,
    );
    client.send(Message::Frame(frame)).await;
    // The WebSocket layer refuses the frame; the client still hears why, in a
    // Close message, then a close frame with RFC 6455's 1007 ("data within a
    // message that was not consistent with the type of the message").
    let close = client.next_message().await;
    assert_eq!(close["type"], 7);
    let error = close["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("Connection closed with an error. Invalid payload: invalid UTF-8"),
        "{close}"
    );
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1007), "{closure:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn message_over_the_websocket_limit_gets_a_close_frame() {
    let (server, healthy) = start().await;
    let mut client = ready(&server).await;
    let text = "x".repeat(1024 * 1024 + 1);
    let _ = timeout(TIMEOUT, client.socket().send(Message::text(text))).await;
    // A Close message naming the limit, then RFC 6455's 1009 ("a message that
    // is too big for it to process").
    let close = client.next_message().await;
    assert_eq!(close["type"], 7);
    let error = close["error"].as_str().unwrap_or_default();
    assert!(error.contains("1048577 > 1048576"), "{close}");
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1009), "{closure:?}");
    assert_healthy_and_stop(server, healthy).await;
}
