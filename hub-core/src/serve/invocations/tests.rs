//! Scheduling invocations: the parallelism limit, the bounded queue, calls
//! that need no slot, cancellation, and failures that keep the connection.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::json;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{InvocationMeta, Invocations};
use crate::HubOptions;
use crate::outcome::{InvocationFuture, MethodValue};
use crate::reply::Ending;
use crate::test_hub;
use crate::testing::TestClient;

fn meta(id: &str) -> InvocationMeta {
    InvocationMeta {
        invocation_id: Some(id.into()),
        target: Cow::Borrowed("Test"),
        upload_ids: Vec::new(),
        uses_slot: true,
        streaming: false,
        registered: None,
        span: tracing::Span::none(),
    }
}

/// A call that finishes when `finish` is sent.
fn call() -> (oneshot::Sender<()>, InvocationFuture) {
    let (finish, finished) = oneshot::channel();
    let future: InvocationFuture = Box::pin(async move {
        let _ = finished.await;
        Ok(MethodValue::unit())
    });
    (finish, future)
}

#[tokio::test]
async fn the_queue_is_bounded_and_slots_pass_in_arrival_order() {
    let mut invocations = Invocations::new(1, 2);
    let (finish_a, a) = call();
    let (finish_b, b) = call();
    let (_finish_c, c) = call();
    invocations.submit(meta("a"), a);
    assert!(invocations.accepting(), "a runs");
    invocations.submit(meta("b"), b);
    assert!(invocations.accepting(), "b waits: 1 of 2 queued");
    invocations.submit(meta("c"), c);
    assert!(!invocations.accepting(), "2 of 2 queued: stop reading");

    finish_b.send(()).unwrap();
    finish_a.send(()).unwrap();
    let first = invocations.next_finished().await;
    assert_eq!(first.meta.invocation_id.as_deref(), Some("a"));
    assert!(matches!(first.ending, Ending::Ran(Ok(_))));
    assert!(invocations.accepting(), "b took a's slot; c waits alone");
    let second = invocations.next_finished().await;
    assert_eq!(second.meta.invocation_id.as_deref(), Some("b"));
    assert!(!invocations.is_idle(), "c runs");
    invocations.drop_queued();
}

#[tokio::test(start_paused = true)]
async fn one_invocation_at_a_time_by_default() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let start = Instant::now();
    let slow = client.start("Delay", json!([1000])).await;
    let fast = client.start("Echo", json!(["fast"])).await;
    assert_eq!(client.recv().await.unwrap()["invocationId"], slow);
    assert_eq!(client.recv().await.unwrap()["invocationId"], fast);
    assert_eq!(start.elapsed(), Duration::from_millis(1000));
}

#[tokio::test(start_paused = true)]
async fn parallel_invocations_overtake_a_slow_one() {
    let (hub, _) = test_hub::hub_with(HubOptions {
        maximum_parallel_invocations_per_client: 2,
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    let slow = client.start("Delay", json!([1000])).await;
    let fast = client.start("Echo", json!(["fast"])).await;
    assert_eq!(client.recv().await.unwrap()["invocationId"], fast);
    assert_eq!(client.recv().await.unwrap()["invocationId"], slow);
}

#[tokio::test(start_paused = true)]
async fn streams_hold_no_slot() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let stream = client.start_stream("Counter", json!([3, 1000])).await;
    let echo = client.invoke("Echo", json!(["meanwhile"])).await;
    assert_eq!(echo["result"], "meanwhile");
    let completion = client.completion(&stream).await;
    assert_eq!(completion, json!({"type": 3, "invocationId": stream}));
}

#[tokio::test(start_paused = true)]
async fn a_queue_full_of_calls_still_answers_each_in_order() {
    let (hub, _) = test_hub::hub_with(HubOptions {
        maximum_queued_invocations_per_client: 1,
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    let mut ids = vec![client.start("Delay", json!([100])).await];
    for n in 0..5 {
        ids.push(client.start("Echo", json!([n.to_string()])).await);
    }
    for id in ids {
        assert_eq!(client.recv().await.unwrap()["invocationId"], id);
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_stream_stops_and_completes() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let id = client.start_stream("Counter", json!([1000, 10])).await;
    for n in 0..3 {
        assert_eq!(
            client.recv().await.unwrap(),
            json!({"type": 2, "invocationId": id, "item": n})
        );
    }
    client.send(json!({"type": 5, "invocationId": id})).await;
    let start = Instant::now();
    let mut items = 3;
    loop {
        let message = client.recv().await.unwrap();
        if message["type"] == 3 {
            assert_eq!(message, json!({"type": 3, "invocationId": id}));
            break;
        }
        items += 1;
    }
    assert!(items < 6, "{items} items: the stream stopped");
    assert!(start.elapsed() < Duration::from_millis(100));
}

#[tokio::test]
async fn failures_are_answered_and_the_connection_goes_on() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let panicked = client.invoke("Panic", json!([])).await;
    assert_eq!(
        panicked["error"],
        "An unexpected error occurred invoking 'Panic' on the server."
    );
    let failed = client.invoke("Fail", json!(["no"])).await;
    assert_eq!(
        failed["error"],
        "An unexpected error occurred invoking 'Fail' on the server. HubException: no"
    );
    let unknown = client.invoke("Nope", json!([])).await;
    assert_eq!(
        unknown["error"],
        "Failed to invoke 'Nope' due to an error on the server. HubException: Method does not exist."
    );
    let arity = client.invoke("add", json!([1])).await;
    assert_eq!(
        arity["error"],
        "Failed to invoke 'add' due to an error on the server."
    );
    assert_eq!(client.invoke("ADD", json!([1, 2])).await["result"], 3);
}
