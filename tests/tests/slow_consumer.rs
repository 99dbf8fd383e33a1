//! Slow consumers: a client that stops reading while others receive a storm of
//! broadcasts (`SendToAll`/`SendToOthers` of ~1 KB messages from one sender).
//!
//! * `SlowConsumerPolicy::Disconnect` (the default): the healthy receivers
//!   get every message exactly once and in order, the sender's invocations
//!   keep completing quickly, and the server closes the slow connection (its
//!   socket ends, the registry forgets it), so its memory is bounded by the
//!   outbound queue rather than by the storm.
//! * `SlowConsumerPolicy::DropOldest`: a client that pauses reading, then
//!   resumes, stays connected; the broadcasts it gets are in order, ending
//!   with the newest; replies to its own calls (Completions, stream items)
//!   are never dropped.
//!
//! The slow client is a raw WebSocket with a small receive buffer, so the
//! server's writes to it block after a few kilobytes. No test sleeps: every
//! wait polls an observable condition with a deadline, and every read has a
//! timeout.

use std::time::Duration;

use hub_core::{HubOptions, RegistryStats, SlowConsumerPolicy};
use serde_json::{Value, json};
use tests::TestServer;
use tests::raw_ws::{Closure, HubSocket, Protocol};
use tokio::sync::watch;
use tokio::time::{Instant, timeout};

const PATH: &str = samples::testhub::PATH;
/// Size of each broadcast payload.
const PAYLOAD: usize = 1024;
/// The receive buffer of the slow client: its socket fills after a few kilobytes.
const SLOW_RECEIVE_BUFFER: u32 = 4096;
/// The message that ends a storm.
const END: &str = "end";

/// Broadcast number `n`: its number, then padding up to [`PAYLOAD`] bytes.
fn payload(n: usize) -> String {
    let mut text = format!("{n:07}:");
    text.push_str(&"x".repeat(PAYLOAD - text.len()));
    text
}

/// The number of a broadcast received as `Receive(payload(n))`; `None` for [`END`].
fn broadcast_number(message: &Value) -> Option<usize> {
    assert_eq!(message["type"], 1, "a broadcast Invocation: {message}");
    assert_eq!(message["target"], "Receive", "{message}");
    assert!(
        message.get("invocationId").is_none(),
        "broadcasts are non-blocking: {message}"
    );
    let text = message["arguments"][0].as_str().expect("a string argument");
    if text == END {
        return None;
    }
    assert_eq!(text.len(), PAYLOAD, "payload intact");
    let (number, padding) = text.split_once(':').expect("n:padding");
    assert!(padding.bytes().all(|b| b == b'x'), "payload intact");
    Some(number.parse().expect("a broadcast number"))
}

/// Polls the registry until `done(stats)`, failing with the last stats after `limit`.
async fn wait_for_stats(
    server: &TestServer,
    limit: Duration,
    what: &str,
    done: impl Fn(&RegistryStats) -> bool,
) -> RegistryStats {
    let deadline = Instant::now() + limit;
    loop {
        let stats = server.context.stats();
        if done(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}; stats: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The largest send buffer the kernel grows a TCP socket to (`tcp_wmem`'s maximum).
fn kernel_send_buffer_max() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|values| values.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 * 1024 * 1024)
}

/// A healthy receiver: reads broadcasts until [`END`], returns their numbers in arrival order.
async fn receive_storm(mut client: HubSocket) -> (Vec<usize>, HubSocket) {
    let mut numbers = Vec::new();
    loop {
        let message = client.next_message().await;
        match broadcast_number(&message) {
            Some(number) => numbers.push(number),
            None => return (numbers, client),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_disconnected_and_others_get_everything() {
    const MIN_STORM: usize = 3000;
    const MAX_STORM: usize = 40_000;
    const HEALTHY_RECEIVERS: usize = 2;
    let send_timeout = Duration::from_secs(3);
    let options = HubOptions {
        outbound_queue_capacity: 128,
        send_timeout,
        ..Default::default()
    };
    let server =
        TestServer::testhub_with(samples::testhub::builder().options(options).build()).await;
    let addr = server.addr;

    // The slow client: completes the handshake, then never reads again.
    let mut slow = HubSocket::connect_with_receive_buffer(addr, PATH, SLOW_RECEIVE_BUFFER).await;
    slow.handshake(Protocol::Json).await;
    let mut sender = HubSocket::negotiated(addr, PATH, Protocol::Json, &[]).await;
    let mut receivers = Vec::new();
    for _ in 0..HEALTHY_RECEIVERS {
        receivers.push(HubSocket::negotiated(addr, PATH, Protocol::Json, &[]).await);
    }
    let everyone = 2 + HEALTHY_RECEIVERS;
    wait_for_stats(
        &server,
        Duration::from_secs(10),
        "every connection",
        |stats| stats.connections == everyone,
    )
    .await;
    let receiving: Vec<_> = receivers
        .into_iter()
        .map(|client| tokio::spawn(receive_storm(client)))
        .collect();

    // The storm: one SendToAll at a time, until the slow client is gone (and
    // at least MIN_STORM messages). The sender is a healthy receiver too.
    let started = Instant::now();
    let mut max_latency = Duration::ZERO;
    let mut sent = 0;
    let mut slow_gone_after = None;
    while sent < MIN_STORM || slow_gone_after.is_none() {
        assert!(
            sent < MAX_STORM,
            "the slow client is still connected after {sent} broadcasts ({:?}): {:?}",
            started.elapsed(),
            server.context.stats()
        );
        let call = Instant::now();
        let id = sender.invoke("SendToAll", json!([payload(sent)])).await;
        let completion = sender.completion(&id).await;
        max_latency = max_latency.max(call.elapsed());
        assert_eq!(
            completion,
            json!({"type": 3, "invocationId": id, "result": null})
        );
        // A method's messages to its caller go out before its Completion.
        let own: Vec<Option<usize>> = sender.take_others().iter().map(broadcast_number).collect();
        assert_eq!(own, [Some(sent)], "the sender's copy of broadcast {sent}");
        sent += 1;
        if slow_gone_after.is_none() && server.context.stats().connections < everyone {
            slow_gone_after = Some((sent, started.elapsed()));
        }
    }
    let storm_time = started.elapsed();
    sender.call("SendToAll", json!([END])).await;
    assert_eq!(
        sender
            .take_others()
            .iter()
            .map(broadcast_number)
            .collect::<Vec<_>>(),
        [None]
    );

    // Every healthy receiver got every broadcast, exactly once, in order.
    let expected: Vec<usize> = (0..sent).collect();
    for receiving in receiving {
        let (numbers, client) = timeout(Duration::from_secs(30), receiving)
            .await
            .expect("the receivers finish")
            .expect("receiver task");
        assert_eq!(
            numbers.len(),
            expected.len(),
            "a receiver's broadcast count"
        );
        assert!(
            numbers == expected,
            "a receiver got the broadcasts out of order"
        );
        client.close().await;
    }

    // The sender was never held up by the slow client: the slowest call took
    // well under the slow client's send timeout, which a broadcast blocked
    // on the slow client would have lasted.
    assert!(
        max_latency < send_timeout / 2,
        "slowest SendToAll took {max_latency:?}"
    );

    // The slow client is gone from the registry; what it had been sent ends
    // with its socket, as a gapless prefix of the storm (nothing skipped
    // silently), possibly followed by a slow-consumer Close message.
    // (The receivers closed just now: the registry forgets them right after.)
    wait_for_stats(
        &server,
        Duration::from_secs(10),
        "only the sender",
        |stats| stats.connections == 1,
    )
    .await;
    let (messages, closure) = slow.drain_to_end().await;
    let mut got = Vec::new();
    let mut close = None;
    for message in &messages {
        if message["type"] == 7 {
            assert!(close.is_none(), "one Close message");
            close = Some(message.clone());
        } else {
            assert!(
                close.is_none(),
                "nothing after the Close message: {message}"
            );
            got.push(broadcast_number(message).expect("a numbered broadcast"));
        }
    }
    let prefix: Vec<usize> = (0..got.len()).collect();
    assert!(
        got == prefix,
        "the slow client got a gapless prefix of the storm"
    );
    assert!(
        got.len() < sent,
        "the slow client cannot have got everything"
    );
    if let Some(close) = &close {
        let error = close["error"].as_str().unwrap_or_default();
        assert!(error.contains("Slow consumer"), "{close}");
        assert_eq!(close["allowReconnect"], true, "{close}");
    }
    let (gone_after, gone_at) = slow_gone_after.expect("the slow client was dropped");
    println!(
        "storm: {sent} broadcasts of {PAYLOAD} B to {everyone} clients in {storm_time:?}, \
         slowest call {max_latency:?}; the slow client was dropped after {gone_after} \
         broadcasts ({gone_at:?}) having received {} of them; Close message: {close:?}; \
         socket end: {closure:?}",
        got.len()
    );
    if !matches!(closure, Closure::CloseFrame(_)) {
        // Ended or reset after a send timeout: no close handshake to expect.
        assert!(
            close.is_none(),
            "a Close message is followed by a close frame"
        );
    }

    sender.close().await;
    wait_for_stats(&server, Duration::from_secs(10), "no connection", |stats| {
        *stats == RegistryStats::default()
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_oldest_keeps_a_paused_reader_connected_and_its_replies_whole() {
    // Broadcasts sent while the slow client does not read at all: half as
    // much again as the kernel may buffer for the socket (its largest send
    // buffer; the client's receive buffer is tiny), so that many must be dropped.
    let paused_for = kernel_send_buffer_max() * 3 / 2 / PAYLOAD + 500;
    let storm = paused_for + 2000;
    const ECHOES: usize = 20;
    const STREAM_ITEMS: usize = 100;
    let options = HubOptions {
        outbound_queue_capacity: 32,
        slow_consumer_policy: SlowConsumerPolicy::DropOldest,
        // Longer than the pause: a blocked write must not end the connection.
        send_timeout: Duration::from_secs(20),
        ..Default::default()
    };
    let server =
        TestServer::testhub_with(samples::testhub::builder().options(options).build()).await;
    let addr = server.addr;

    let mut slow = HubSocket::connect_with_receive_buffer(addr, PATH, SLOW_RECEIVE_BUFFER).await;
    slow.handshake(Protocol::Json).await;
    let mut sender = HubSocket::negotiated(addr, PATH, Protocol::Json, &[]).await;
    wait_for_stats(
        &server,
        Duration::from_secs(10),
        "both connections",
        |stats| stats.connections == 2,
    )
    .await;

    // The sender storms the others (only the slow client), one call at a
    // time, and publishes how far it got.
    let (progress, mut progress_rx) = watch::channel(0usize);
    let storming = tokio::spawn(async move {
        for n in 0..storm {
            let result = sender.call("SendToOthers", json!([payload(n)])).await;
            assert_eq!(result, Value::Null);
            progress.send_replace(n + 1);
        }
        sender.call("SendToOthers", json!([END])).await;
        sender
    });

    // Not reading while `paused_for` broadcasts go out: far more than the
    // socket buffers and the queue of 32 hold.
    timeout(
        Duration::from_secs(60),
        progress_rx.wait_for(|&sent| sent >= paused_for),
    )
    .await
    .expect("the sender makes progress while the slow client does not read")
    .expect("progress channel");
    // Still paused, the slow client calls the server: Echoes and a stream,
    // answered while the storm goes on.
    let mut echo_ids = Vec::new();
    for n in 0..ECHOES {
        echo_ids.push(slow.invoke("Echo", json!([format!("reply {n}")])).await);
    }
    let stream_id = slow.stream("Counter", json!([STREAM_ITEMS, 0])).await;

    // Now it reads everything until its replies and the end of the storm are in.
    let mut broadcasts = Vec::new();
    let mut echoes = Vec::new();
    let mut items = Vec::new();
    let mut stream_completion = None;
    let mut ended = false;
    let reading = Instant::now();
    while !(ended && echoes.len() == ECHOES && stream_completion.is_some()) {
        assert!(
            reading.elapsed() < Duration::from_secs(60),
            "the slow client's replies and the storm's end within 60 s"
        );
        let message = slow.next_message().await;
        match message["type"].as_u64() {
            Some(1) => match broadcast_number(&message) {
                Some(number) => {
                    assert!(!ended, "broadcast {number} after the end marker");
                    broadcasts.push(number);
                }
                None => ended = true,
            },
            Some(2) => {
                assert_eq!(message["invocationId"], stream_id.as_str(), "{message}");
                items.push(message["item"].clone());
            }
            Some(3) if message["invocationId"] == stream_id.as_str() => {
                assert_eq!(message.get("error"), None, "{message}");
                stream_completion = Some(message);
            }
            Some(3) => echoes.push(message),
            _ => panic!("unexpected message {message}"),
        }
    }
    let sender = timeout(Duration::from_secs(60), storming)
        .await
        .expect("the storm ends")
        .expect("storm task");

    // Replies: every Echo answered, in order; every stream item, in order.
    let expected_echoes: Vec<Value> = echo_ids
        .iter()
        .enumerate()
        .map(|(n, id)| json!({"type": 3, "invocationId": id, "result": format!("reply {n}")}))
        .collect();
    assert_eq!(echoes, expected_echoes);
    let expected_items: Vec<Value> = (0..STREAM_ITEMS).map(|n| json!(n)).collect();
    assert_eq!(items, expected_items);

    // Broadcasts: in order, some dropped, the newest kept.
    assert!(
        broadcasts.windows(2).all(|pair| pair[0] < pair[1]),
        "broadcasts in order, without duplicates"
    );
    assert_eq!(
        broadcasts.last(),
        Some(&(storm - 1)),
        "the newest broadcast is never the one dropped"
    );
    assert!(
        broadcasts.len() < storm,
        "with the reader paused over {paused_for} broadcasts, some were dropped"
    );
    println!(
        "drop-oldest: the reader paused over {paused_for} broadcasts got {} of {storm} in order, \
         {ECHOES} Echo replies and {STREAM_ITEMS} stream items",
        broadcasts.len()
    );

    // Still connected and working.
    assert_eq!(server.context.stats().connections, 2);
    slow.assert_echo("still here").await;
    slow.close().await;
    sender.close().await;
    wait_for_stats(&server, Duration::from_secs(10), "no connection", |stats| {
        *stats == RegistryStats::default()
    })
    .await;
    server.stop().await;
}
