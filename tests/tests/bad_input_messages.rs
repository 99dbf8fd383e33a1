//! More bad input at the hub-message level, over raw WebSockets (JSON and
//! MessagePack), against the test hub. Complements `bad_input/`.
//!
//! 20 bad inputs, each with its documented answer (inputs 1 and 16 also in
//! the tests after them, which check that a refused duplicate leaves the
//! running stream cancellable and counted):
//!
//!  1. a StreamInvocation reusing the id of an active stream → Completion
//!     `Invocation ID '<id>' is already in use.`; the first stream goes on
//!     alone (no second producer);
//!  2. a StreamItem for an unknown stream id → ignored;
//!  3. a Completion with a result for an unknown invocation id → ignored;
//!  4. a Completion with an error for an unknown invocation id → ignored;
//!  5. a Completion without result or error for an unknown id → ignored;
//!  6. a CancelInvocation for an unknown id → ignored;
//!  7. a CancelInvocation for an invocation that already completed → ignored;
//!  8. a text frame on a MessagePack connection after the handshake → Close with an error;
//!  9. `"target": 5` → Close with an error;
//! 10. `"arguments": {}` → Close with an error;
//! 11. `"invocationId": 7` → Close with an error;
//! 12. `"type": "1"` → Close with an error;
//! 13. `"streamIds": 5` → Close with an error;
//! 14. a truncated JSON record, then a valid record in the next frame (the two
//!     are one byte stream: a parse error) → Close with an error;
//! 15. a frame ending without its 0x1E, completed by the next frame (which
//!     starts with the 0x1E and carries more records) → valid, reassembled;
//! 16. a stream beyond `maximum_streams_per_client` → the documented error;
//! 17. an upload stream beyond `maximum_streams_per_client` → the documented
//!     error, and its stream id stays unknown;
//! 18. a MessagePack length prefix of 5 bytes over 2 GB (2^32 - 1) → Close with an error;
//! 19. a MessagePack length prefix of 6 bytes → Close with an error;
//! 20. a MessagePack length prefix of 2^31 - 1 (valid, over 32 KiB) → Close
//!     with the size error;
//! 21. a handshake that never completes (no 0x1E) → after `handshake_timeout`,
//!     the handshake error `Handshake was canceled.` and the socket closes.
//!
//! Every test then checks that the server is unharmed: a connection opened
//! before the bad input still answers, and a new one can be opened and used.
//! Every read is bounded; nothing sleeps to synchronise.

use std::time::Duration;

use hub_core::HubOptions;
use serde_json::{Value, json};
use tests::TestServer;
use tests::raw_ws::{Event, HubSocket, Protocol, RS};
use tokio::time::Instant;

const PATH: &str = samples::testhub::PATH;
/// ASP.NET's text for the 32 KiB message size limit.
const TOO_LARGE: &str = "The maximum message size of 32768B was exceeded.";

/// A negotiated WebSocket connection with a completed handshake.
async fn ready(server: &TestServer, protocol: Protocol) -> HubSocket {
    let mut socket = HubSocket::negotiated(server.addr, PATH, protocol, &[]).await;
    socket.assert_echo("ready").await;
    socket
}

/// A test hub with `options` and a working connection to it.
async fn start_with(options: HubOptions) -> (TestServer, HubSocket) {
    let server =
        TestServer::testhub_with(samples::testhub::builder().options(options).build()).await;
    let healthy = ready(&server, Protocol::Json).await;
    (server, healthy)
}

async fn start() -> (TestServer, HubSocket) {
    start_with(HubOptions::default()).await
}

/// The server is unharmed: `healthy` still echoes and a fresh connection works.
async fn assert_healthy_and_stop(server: TestServer, mut healthy: HubSocket) {
    healthy.assert_echo("still healthy").await;
    let mut fresh = ready(&server, Protocol::Json).await;
    fresh.assert_echo("fresh").await;
    fresh.close().await;
    healthy.close().await;
    server.stop().await;
}

/// Sends `records` in one text frame (each ends with RS).
fn frame(records: &[Value]) -> String {
    records
        .iter()
        .map(|record| format!("{record}{RS}"))
        .collect()
}

/// Opens a connection of `protocol`, sends `data` as one frame of `kind`
/// (text or binary), and expects an error Close; returns its error text.
async fn closes_with_error(
    server: &TestServer,
    protocol: Protocol,
    data: Vec<u8>,
    text: bool,
) -> String {
    let mut client = ready(server, protocol).await;
    if text {
        client
            .send_text(&String::from_utf8(data).expect("a text frame is UTF-8"))
            .await;
    } else {
        client.send_binary(data).await;
    }
    client.expect_close_with_error().await
}

/// Reads until the Completion of `id`, returning it and the items of stream `stream` seen meanwhile.
async fn completion_and_items(client: &mut HubSocket, id: &str, stream: &str) -> (Value, Vec<u64>) {
    let completion = client.completion(id).await;
    let mut items = Vec::new();
    for message in client.take_others() {
        assert_eq!(message["type"], 2, "only stream items meanwhile: {message}");
        assert_eq!(message["invocationId"], stream, "{message}");
        items.push(message["item"].as_u64().expect("a numbered item"));
    }
    (completion, items)
}

/// Polls `LiveProducers` until it is `expected` (producers drop asynchronously).
async fn wait_for_live_producers(client: &mut HubSocket, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let live = client.call("LiveProducers", json!([])).await;
        if live == json!(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "LiveProducers is {live}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Starts `Endless(20)` as stream `id` and waits for its first item.
async fn start_endless(client: &mut HubSocket, id: &str) {
    let stream = json!({"type": 4, "invocationId": id, "target": "Endless", "arguments": [20]});
    client.send_message(&stream).await;
    loop {
        let message = client.next_message().await;
        assert_eq!(message["type"], 2, "a stream item: {message}");
        if message["invocationId"] == id {
            return;
        }
    }
}

/// Sends a StreamInvocation of `Endless` reusing the active stream id `id`;
/// expects the documented refusal.
async fn reuse_stream_id(client: &mut HubSocket, id: &str) {
    let stream = json!({"type": 4, "invocationId": id, "target": "Endless", "arguments": [20]});
    client.send_message(&stream).await;
    let (completion, _) = completion_and_items(client, id, id).await;
    assert_eq!(
        completion,
        json!({"type": 3, "invocationId": id, "error": format!("Invocation ID '{id}' is already in use.")})
    );
}

#[tokio::test]
async fn stream_reusing_an_active_stream_id_is_refused() {
    let (server, mut healthy) = start().await;
    let mut client = ready(&server, Protocol::Json).await;
    start_endless(&mut client, "dup").await;
    // Input 1: the same id again while the stream runs.
    reuse_stream_id(&mut client, "dup").await;
    // The refused call started no producer: one is alive, feeding "dup"
    // with consecutive numbers.
    let live = client.call("LiveProducers", json!([])).await;
    assert_eq!(live, json!(1));
    let items: Vec<u64> = client
        .take_others()
        .iter()
        .map(|message| {
            assert_eq!(message["invocationId"], "dup", "{message}");
            message["item"].as_u64().expect("a numbered item")
        })
        .collect();
    assert!(
        items.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "the items of a single producer: {items:?}"
    );
    // The connection ends; its producer is gone once the connection is.
    client.close().await;
    wait_for_live_producers(&mut healthy, 0).await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn stream_with_a_refused_duplicate_id_can_still_be_cancelled() {
    let (server, healthy) = start().await;
    let mut client = ready(&server, Protocol::Json).await;
    start_endless(&mut client, "dup").await;
    reuse_stream_id(&mut client, "dup").await;
    // Expected: the Cancel stops the original stream, which completes.
    // Actual: the Cancel is ignored ("unknown stream") and items keep coming.
    client
        .send_message(&json!({"type": 5, "invocationId": "dup"}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let message = client.next_message().await;
        if message == json!({"type": 3, "invocationId": "dup"}) {
            break;
        }
        assert_eq!(message["type"], 2, "{message}");
        assert!(
            Instant::now() < deadline,
            "stream 'dup' still producing 5 s after its CancelInvocation"
        );
    }
    wait_for_live_producers(&mut client, 0).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn refused_duplicate_stream_id_stays_in_use() {
    let (server, healthy) = start_with(HubOptions {
        maximum_streams_per_client: 2,
        ..Default::default()
    })
    .await;
    let mut client = ready(&server, Protocol::Json).await;
    start_endless(&mut client, "x").await;
    reuse_stream_id(&mut client, "x").await;
    // Expected: "x" is still in use (its stream runs), so this is refused too.
    // Actual: accepted; a second producer feeds "x".
    let stream = json!({"type": 4, "invocationId": "x", "target": "Endless", "arguments": [20]});
    client.send_message(&stream).await;
    let live = client.call("LiveProducers", json!([])).await;
    assert_eq!(live, json!(1), "one producer per stream id");
    let refusal =
        json!({"type": 3, "invocationId": "x", "error": "Invocation ID 'x' is already in use."});
    assert!(client.take_others().contains(&refusal), "refused again");
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn stream_limit_holds_against_refused_duplicates() {
    let (server, healthy) = start_with(HubOptions {
        maximum_streams_per_client: 2,
        ..Default::default()
    })
    .await;
    let mut client = ready(&server, Protocol::Json).await;
    for n in 0..10 {
        let stream = json!({"type": 4, "invocationId": format!("s{n}"), "target": "Endless", "arguments": [1000]});
        client.send_message(&stream).await;
        client.send_message(&stream).await;
    }
    // Expected: 2 producers (the rest refused with the limit's error).
    // Actual: 10 (every duplicate's refusal unregisters the stream it names).
    let live = client.call("LiveProducers", json!([])).await;
    assert_eq!(
        live,
        json!(2),
        "at most maximum_streams_per_client producers"
    );
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn invocation_sharing_an_active_stream_id_leaves_the_stream_cancellable() {
    let (server, healthy) = start().await;
    let mut client = ready(&server, Protocol::Json).await;
    start_endless(&mut client, "5").await;
    // A plain invocation with the stream's id: ASP.NET answers it and leaves
    // the stream alone (ids are only checked for cancellable calls).
    client
        .send_message(
            &json!({"type": 1, "invocationId": "5", "target": "Echo", "arguments": ["same id"]}),
        )
        .await;
    let (completion, _) = completion_and_items(&mut client, "5", "5").await;
    assert_eq!(
        completion,
        json!({"type": 3, "invocationId": "5", "result": "same id"})
    );
    // Expected: the Cancel still ends stream "5". Actual: ignored; it never ends.
    client
        .send_message(&json!({"type": 5, "invocationId": "5"}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let message = client.next_message().await;
        if message == json!({"type": 3, "invocationId": "5"}) {
            break;
        }
        assert_eq!(message["type"], 2, "{message}");
        assert!(
            Instant::now() < deadline,
            "stream '5' still producing 5 s after its CancelInvocation"
        );
    }
    wait_for_live_producers(&mut client, 0).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn stream_item_and_completion_for_unknown_ids_are_ignored() {
    let (server, healthy) = start().await;
    let mut client = ready(&server, Protocol::Json).await;
    // Inputs 2 to 5, in one frame with an Echo after them.
    client
        .send_text(&frame(&[
            json!({"type": 2, "invocationId": "nope", "item": 1}),
            json!({"type": 3, "invocationId": "nope", "result": 1}),
            json!({"type": 3, "invocationId": "nope", "error": "client-side failure"}),
            json!({"type": 3, "invocationId": "nope"}),
            json!({"type": 1, "invocationId": "e", "target": "Echo", "arguments": ["after"]}),
        ]))
        .await;
    // Nothing answers them: the Echo's Completion is the next message.
    assert_eq!(
        client.next_message().await,
        json!({"type": 3, "invocationId": "e", "result": "after"})
    );
    // And again in a frame of their own each.
    client
        .send_message(&json!({"type": 2, "invocationId": "7", "item": [1, 2]}))
        .await;
    client
        .send_message(&json!({"type": 3, "invocationId": "8", "result": null}))
        .await;
    client.assert_echo("still").await;
    assert!(client.take_others().is_empty());
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn cancel_for_unknown_or_finished_ids_is_ignored() {
    let (server, healthy) = start().await;
    let mut client = ready(&server, Protocol::Json).await;
    // Input 6.
    client
        .send_message(&json!({"type": 5, "invocationId": "nope"}))
        .await;
    // Input 7: the id of an invocation that already completed.
    let id = client.invoke("Add", json!([1, 2])).await;
    assert_eq!(
        client.next_message().await,
        json!({"type": 3, "invocationId": id, "result": 3})
    );
    client
        .send_message(&json!({"type": 5, "invocationId": id}))
        .await;
    // A Cancel for a running non-streaming call without a cancellation
    // parameter leaves it be: its Completion still comes.
    let delay = client.invoke("Delay", json!([50])).await;
    client
        .send_message(&json!({"type": 5, "invocationId": delay}))
        .await;
    assert_eq!(
        client.next_message().await,
        json!({"type": 3, "invocationId": delay, "result": 50})
    );
    client.assert_echo("after").await;
    assert!(client.take_others().is_empty());
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn text_frame_on_a_messagepack_connection_closes_with_error() {
    let (server, healthy) = start().await;
    // Input 8: after the handshake, MessagePack connections take binary frames only.
    let invocation = json!({"type": 1, "invocationId": "1", "target": "Echo", "arguments": ["x"]});
    let error = closes_with_error(
        &server,
        Protocol::MessagePack,
        frame(&[invocation]).into_bytes(),
        true,
    )
    .await;
    assert_eq!(
        error,
        "Connection closed with an error. Received a text frame on a connection using the messagepack protocol."
    );
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn wrong_field_types_close_with_error() {
    let (server, healthy) = start().await;
    // Inputs 9 to 13.
    let inputs = [
        json!({"type": 1, "invocationId": "1", "target": 5, "arguments": []}),
        json!({"type": 1, "invocationId": "1", "target": "Echo", "arguments": {}}),
        json!({"type": 1, "invocationId": 7, "target": "Echo", "arguments": ["x"]}),
        json!({"type": "1", "invocationId": "1", "target": "Echo", "arguments": ["x"]}),
        json!({"type": 1, "invocationId": "1", "target": "Sum", "arguments": [], "streamIds": 5}),
    ];
    for input in inputs {
        let error = closes_with_error(
            &server,
            Protocol::Json,
            frame(std::slice::from_ref(&input)).into_bytes(),
            true,
        )
        .await;
        println!("{input} -> {error}");
    }
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn truncated_record_followed_by_a_valid_one_closes_with_error() {
    let (server, healthy) = start().await;
    let mut client = ready(&server, Protocol::Json).await;
    // Input 14: the frames are one byte stream, so the first record is
    // `{"type":1,...,"target":"Ec{"type":1,...}`: not JSON.
    client
        .send_text("{\"type\":1,\"invocationId\":\"a\",\"target\":\"Ec")
        .await;
    client
        .send_text(&frame(&[
            json!({"type": 1, "invocationId": "b", "target": "Echo", "arguments": ["valid"]}),
        ]))
        .await;
    // No Completion for either: the Close comes first.
    client.expect_close_with_error().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn record_completed_by_the_next_frame_is_reassembled() {
    let (server, healthy) = start().await;
    let mut client = ready(&server, Protocol::Json).await;
    let echo =
        |id: &str| json!({"type": 1, "invocationId": id, "target": "Echo", "arguments": [id]});
    // Input 15: a whole record and one without its separator; then the
    // separator at the start of the next frame, with another record.
    client
        .send_text(&format!("{}{RS}{}", echo("1"), echo("2")))
        .await;
    client.send_text(&format!("{RS}{}{RS}", echo("3"))).await;
    for id in ["1", "2", "3"] {
        assert_eq!(
            client.next_message().await,
            json!({"type": 3, "invocationId": id, "result": id})
        );
    }
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn streams_beyond_the_limit_are_refused() {
    let (server, healthy) = start_with(HubOptions {
        maximum_streams_per_client: 2,
        ..Default::default()
    })
    .await;
    let mut client = ready(&server, Protocol::Json).await;
    let endless =
        |id: &str| json!({"type": 4, "invocationId": id, "target": "Endless", "arguments": [20]});
    client.send_message(&endless("a")).await;
    client.send_message(&endless("b")).await;
    // Input 16: a third stream.
    client.send_message(&endless("c")).await;
    let completion = client.completion("c").await;
    assert_eq!(
        completion,
        json!({"type": 3, "invocationId": "c", "error": "An unexpected error occurred invoking 'Endless' on the server. HubException: The connection already has the maximum of 2 open streams."})
    );
    // Input 17: an upload stream counts too.
    client
        .send_message(&json!({"type": 1, "invocationId": "s", "target": "Sum", "arguments": [], "streamIds": ["u"]}))
        .await;
    let completion = client.completion("s").await;
    assert_eq!(
        completion,
        json!({"type": 3, "invocationId": "s", "error": "An unexpected error occurred invoking 'Sum' on the server. HubException: The connection already has the maximum of 2 open streams."})
    );
    // The refused upload's id is unknown: its items and end are ignored.
    client
        .send_message(&json!({"type": 2, "invocationId": "u", "item": 5}))
        .await;
    client
        .send_message(&json!({"type": 3, "invocationId": "u"}))
        .await;
    // Ending one stream makes room for another.
    client
        .send_message(&json!({"type": 5, "invocationId": "a"}))
        .await;
    client.completion("a").await;
    client.send_message(&endless("d")).await;
    loop {
        let message = client.next_message().await;
        assert_eq!(message["type"], 2, "stream items only: {message}");
        if message["invocationId"] == "d" {
            break;
        }
    }
    for id in ["b", "d"] {
        client
            .send_message(&json!({"type": 5, "invocationId": id}))
            .await;
    }
    for id in ["b", "d"] {
        let completion = client.completion(id).await;
        assert_eq!(completion, json!({"type": 3, "invocationId": id}));
    }
    for message in client.take_others() {
        assert_eq!(message["type"], 2, "stream items only: {message}");
        assert_ne!(
            message["invocationId"], "c",
            "the refused stream sends nothing"
        );
    }
    wait_for_live_producers(&mut client, 0).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn messagepack_length_prefixes_over_the_limits_close_with_error() {
    let (server, healthy) = start().await;
    // Inputs 18 and 19: prefixes no valid message has.
    for prefix in [
        vec![0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    ] {
        let error = closes_with_error(&server, Protocol::MessagePack, prefix.clone(), false).await;
        assert!(
            error.contains("Messages over 2GB in size are not supported."),
            "{prefix:x?}: {error:?}"
        );
    }
    // Input 20: 2^31 - 1 is a valid prefix, far over the 32 KiB limit; refused
    // as soon as the prefix is read.
    let error = closes_with_error(
        &server,
        Protocol::MessagePack,
        vec![0xff, 0xff, 0xff, 0xff, 0x07, 0x95],
        false,
    )
    .await;
    assert!(error.contains(TOO_LARGE), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_that_never_completes_is_canceled_after_the_timeout() {
    let handshake_timeout = Duration::from_millis(300);
    let (server, healthy) = start_with(HubOptions {
        handshake_timeout,
        ..Default::default()
    })
    .await;
    let mut silent = HubSocket::connect(server.addr, PATH, &[]).await;
    let started = Instant::now();
    // The start of a handshake, never finished by its record separator.
    silent.send_text(r#"{"protocol":"json","version":1"#).await;
    match silent.next_event().await {
        Event::Message(response) => {
            assert_eq!(response, json!({"error": "Handshake was canceled."}));
            silent.expect_closed().await;
        }
        Event::Closed(closure) => panic!("closed ({closure:?}) without the handshake error"),
    }
    assert!(
        started.elapsed() >= handshake_timeout,
        "refused only once the timeout ran out ({:?})",
        started.elapsed()
    );
    assert_healthy_and_stop(server, healthy).await;
}
