//! The event loop through an in-memory client: ordering, keep-alive and
//! timeouts, how a connection closes, and what a full outbox or a stalled
//! transport does.

use std::time::Duration;

use bytes::Bytes;
use hub_protocol::TransferFormat;
use serde_json::json;
use tokio::time::Instant;

use crate::test_hub::{self, received_before};
use crate::testing::{MemoryTransportOptions, TestClient, TestClientOptions};
use crate::{HubOptions, SlowConsumerPolicy};

#[tokio::test]
async fn what_a_method_sends_its_caller_comes_before_its_completion() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let id = client.start("FloodCaller", json!([3])).await;
    for n in 0..3 {
        assert_eq!(
            client.recv().await.unwrap(),
            json!({"type": 1, "target": "Receive", "arguments": [n.to_string()]})
        );
    }
    assert_eq!(
        client.recv().await.unwrap(),
        json!({"type": 3, "invocationId": id, "result": null})
    );
}

#[tokio::test]
async fn replies_to_the_caller_wait_for_room_instead_of_overflowing() {
    // 100 messages to the caller through an outbox of 8: the method is paced
    // by the connection, and the caller gets every one, in order.
    let (hub, _) = test_hub::hub_with(HubOptions {
        outbound_queue_capacity: 8,
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    let id = client.start("FloodCaller", json!([100])).await;
    for n in 0..100 {
        let message = client.recv().await.expect("still connected");
        assert_eq!(message["arguments"][0], n.to_string(), "{message}");
    }
    assert_eq!(client.recv().await.unwrap()["invocationId"], id);
}

#[tokio::test(start_paused = true)]
async fn pings_fill_the_silence_and_a_silent_client_times_out() {
    let (hub, events) = test_hub::hub_with(HubOptions::default());
    let mut client = TestClient::connect(&hub).await;
    let id = client.connection_id().clone();
    let start = Instant::now();
    assert_eq!(client.recv_any().await.unwrap(), json!({"type": 6}));
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(15),
        "keep_alive_interval"
    );
    assert_eq!(
        client.recv_any().await.unwrap(),
        json!({
            "type": 7,
            "error": "Connection closed with an error. Client timeout: nothing received within the client timeout interval.",
            "allowReconnect": true
        })
    );
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(30),
        "client_timeout_interval"
    );
    assert_eq!(client.recv_any().await, None, "then the transport closes");
    client.ended().await;
    assert_eq!(
        events.all()[1],
        format!("disconnected {id}: Client timeout.")
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_pings_is_not_timed_out() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(20)).await;
        client.send(json!({"type": 6})).await;
    }
    // 80 s without a call, but never 30 s without a message from the client.
    assert_eq!(
        client.invoke("Echo", json!(["alive"])).await["result"],
        "alive"
    );
}

#[tokio::test]
async fn a_close_message_ends_the_connection_and_runs_on_disconnected() {
    let (hub, events) = test_hub::hub_with(HubOptions::default());
    let mut client = TestClient::connect(&hub).await;
    let id = client.connection_id().clone();
    client.send(json!({"type": 7, "error": "bye"})).await;
    assert_eq!(client.recv_any().await, None, "no Close is sent back");
    client.ended().await;
    assert_eq!(
        events.all(),
        [format!("connected {id}"), format!("disconnected {id}: bye")]
    );
    assert_eq!(hub.context().stats().connections, 0);
}

#[tokio::test]
async fn a_method_can_close_its_callers_connection() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let id = client.start("Abort", json!(["go away"])).await;
    assert_eq!(client.recv().await.unwrap()["invocationId"], id);
    assert_eq!(
        client.recv().await.unwrap(),
        json!({"type": 7, "error": "go away", "allowReconnect": true})
    );
    assert_eq!(client.recv().await, None);
}

#[tokio::test]
async fn a_server_shutdown_lets_the_client_reconnect() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    client.shut_down();
    assert_eq!(
        client.recv().await.unwrap(),
        json!({"type": 7, "allowReconnect": true})
    );
    assert_eq!(client.recv().await, None);
}

#[tokio::test]
async fn bad_input_closes_with_the_reason() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    client.send_bytes(Bytes::from_static(b"{nope\x1e")).await;
    let close = client.recv().await.unwrap();
    assert_eq!(close["type"], 7);
    let error = close["error"].as_str().unwrap();
    assert!(
        error.starts_with("Connection closed with an error. invalid message:"),
        "{error}"
    );
    assert_eq!(close.get("allowReconnect"), None);

    let mut client = TestClient::connect(&hub).await;
    client
        .send_frame(Bytes::from_static(b"\x02\x91\x06"), TransferFormat::Binary)
        .await;
    assert_eq!(
        client.recv().await.unwrap()["error"],
        "Connection closed with an error. Received a binary frame on a connection using the json protocol."
    );
    // Neither took the hub down.
    let mut other = TestClient::connect(&hub).await;
    assert_eq!(other.invoke("Add", json!([2, 3])).await["result"], 5);
}

#[tokio::test]
async fn a_full_outbox_disconnects_a_slow_consumer_without_holding_up_the_sender() {
    let (hub, events) = test_hub::hub_with(HubOptions {
        outbound_queue_capacity: 8,
        ..Default::default()
    });
    let mut slow = TestClient::connect(&hub).await;
    let slow_id = slow.connection_id().clone();
    let mut sender = TestClient::connect(&hub).await;
    // The sender's method never yields to the slow connection's task: 100
    // broadcasts meet its outbox of 8.
    let completion = sender.invoke("FloodOthers", json!([100])).await;
    assert_eq!(completion["result"], json!(null), "{completion}");
    for n in 0..8 {
        let message = slow.recv().await.unwrap();
        assert_eq!(message["arguments"][0], n.to_string(), "a gapless prefix");
    }
    assert_eq!(
        slow.recv().await.unwrap(),
        json!({
            "type": 7,
            "error": "Connection closed with an error. Slow consumer: the outbound queue of 8 messages is full.",
            "allowReconnect": true
        })
    );
    slow.ended().await;
    assert!(events.all().contains(&format!(
        "disconnected {slow_id}: Slow consumer: the outbound queue of 8 messages was full."
    )));
    assert_eq!(sender.invoke("Echo", json!(["ok"])).await["result"], "ok");
}

#[tokio::test]
async fn drop_oldest_keeps_a_slow_consumer_with_the_newest_broadcasts() {
    let (hub, _) = test_hub::hub_with(HubOptions {
        outbound_queue_capacity: 8,
        slow_consumer_policy: SlowConsumerPolicy::DropOldest,
        ..Default::default()
    });
    let mut slow = TestClient::connect(&hub).await;
    let mut sender = TestClient::connect(&hub).await;
    sender.invoke("FloodOthers", json!([100])).await;
    sender.invoke("ToAll", json!(["end"])).await;
    let got = received_before(&mut slow, "end").await;
    let newest: Vec<String> = (92..100).map(|n| n.to_string()).collect();
    assert_eq!(got, newest, "the 8 newest broadcasts, then the marker");
    assert_eq!(
        slow.invoke("Echo", json!(["still here"])).await["result"],
        "still here"
    );
}

#[tokio::test(start_paused = true)]
async fn a_transport_that_stops_taking_writes_ends_after_the_send_timeout() {
    let (hub, events) = test_hub::hub_with(HubOptions::default());
    let options = TestClientOptions {
        transport: MemoryTransportOptions {
            capacity: 1,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut client = TestClient::connect_with(&hub, options).await.unwrap();
    let id = client.connection_id().clone();
    let start = Instant::now();
    client.start("FloodCaller", json!([10])).await;
    // The client reads nothing: one payload fits, the next write waits.
    let ended = tokio::spawn(async move {
        client.ended().await;
    });
    ended.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(10), "send_timeout");
    assert!(events.all().contains(&format!(
        "disconnected {id}: A write to the transport timed out."
    )));
}
