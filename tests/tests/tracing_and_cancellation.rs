//! The test hub's tracing and cancellation methods (`CurrentTraceId`,
//! `CancellableDelay`, `CancelledCount`), as `shared/docs/test-hub.md`
//! specifies them, over the raw protocol against the `testhub` binary.

use serde_json::{Value, json};
use tests::processes::TestHubProcess;
use tests::raw_ws::{HubSocket, Protocol};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

async fn testhub() -> TestHubProcess {
    TestHubProcess::start_alone(env!("CARGO_BIN_EXE_testhub-process")).await
}

async fn connect(hub: &TestHubProcess, protocol: Protocol) -> HubSocket {
    HubSocket::negotiated(hub.addr, samples::testhub::PATH, protocol, &[]).await
}

fn is_trace_id(value: &Value) -> bool {
    value.as_str().is_some_and(|id| {
        id.len() == 32
            && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && id.bytes().any(|b| b != b'0')
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_trace_id_continues_the_callers_traceparent() {
    let hub = testhub().await;
    for protocol in [Protocol::Json, Protocol::MessagePack] {
        let mut socket = connect(&hub, protocol).await;
        let id = socket.next_id();
        socket
            .send_message(&json!({
                "type": 1,
                "invocationId": id,
                "target": "CurrentTraceId",
                "arguments": [],
                "headers": {
                    "traceparent": format!("00-{TRACE_ID}-00f067aa0ba902b7-01"),
                    "tracestate": "vendor=value"
                }
            }))
            .await;
        assert_eq!(
            socket.completion(&id).await["result"],
            TRACE_ID,
            "{protocol:?}"
        );

        // Without a traceparent: a trace of its own, new for each call.
        let first = socket.call("CurrentTraceId", json!([])).await;
        let second = socket.call("CurrentTraceId", json!([])).await;
        assert!(
            is_trace_id(&first) && is_trace_id(&second),
            "{first} {second}"
        );
        assert_ne!(first, second);
        assert_ne!(first, TRACE_ID);

        // An invalid traceparent is no parent (a new trace, not an error).
        let id = socket.next_id();
        socket
            .send_message(&json!({
                "type": 1, "invocationId": id, "target": "CurrentTraceId", "arguments": [],
                "headers": {"traceparent": "00-not-a-trace-01"}
            }))
            .await;
        assert!(is_trace_id(&socket.completion(&id).await["result"]));
        socket.close().await;
    }
    hub.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_invocation_ends_a_cancellable_delay_early() {
    let hub = testhub().await;
    let mut socket = connect(&hub, Protocol::Json).await;
    assert_eq!(socket.call("CancelledCount", json!([])).await, 0);

    // An hour's wait, cancelled: the Completion comes now, with an error.
    let id = socket.invoke("CancellableDelay", json!([3_600_000])).await;
    socket
        .send_message(&json!({"type": 5, "invocationId": id}))
        .await;
    let completion = socket.completion(&id).await;
    assert_eq!(
        completion["error"],
        "An unexpected error occurred invoking 'CancellableDelay' on the server.",
        "{completion}"
    );
    assert_eq!(socket.call("CancelledCount", json!([])).await, 1);

    // Not cancelled: it returns its argument, and the count stays.
    assert_eq!(socket.call("CancellableDelay", json!([10])).await, 10);
    // A cancel for a call that already ended is ignored.
    socket
        .send_message(&json!({"type": 5, "invocationId": id}))
        .await;
    assert_eq!(socket.call("CancelledCount", json!([])).await, 1);

    // MessagePack, from another connection: the count is the server's.
    let mut other = connect(&hub, Protocol::MessagePack).await;
    let id = other.invoke("CancellableDelay", json!([3_600_000])).await;
    other
        .send_message(&json!({"type": 5, "invocationId": id}))
        .await;
    assert!(other.completion(&id).await["error"].is_string());
    assert_eq!(other.call("CancelledCount", json!([])).await, 2);
    socket.close().await;
    other.close().await;
    hub.kill().await;
}
