//! Streams both ways: items to the caller then an empty Completion, items
//! from the caller into an upload parameter, and their errors.

use serde_json::json;

use crate::HubOptions;
use crate::test_hub;
use crate::testing::TestClient;

#[tokio::test]
async fn a_server_stream_sends_its_items_then_completes() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let id = client.start_stream("Counter", json!([3, 0])).await;
    for n in 0..3 {
        assert_eq!(
            client.recv().await.unwrap(),
            json!({"type": 2, "invocationId": id, "item": n})
        );
    }
    assert_eq!(
        client.recv().await.unwrap(),
        json!({"type": 3, "invocationId": id})
    );
    // A stream invoked as a plain call is refused.
    assert_eq!(
        client.invoke("Counter", json!([1, 0])).await["error"],
        "The client attempted to invoke the streaming 'Counter' method with a non-streaming invocation."
    );
}

#[tokio::test]
async fn an_upload_feeds_the_method_until_the_client_completes_it() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    client
        .send(json!({"type": 1, "invocationId": "sum", "target": "Sum", "arguments": [], "streamIds": ["up"]}))
        .await;
    for n in 1..=4 {
        client
            .send(json!({"type": 2, "invocationId": "up", "item": n}))
            .await;
    }
    client.send(json!({"type": 3, "invocationId": "up"})).await;
    assert_eq!(client.completion("sum").await["result"], 10);
}

#[tokio::test]
async fn an_upload_ended_with_an_error_fails_the_method() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    client
        .send(json!({"type": 1, "invocationId": "sum", "target": "Sum", "arguments": [], "streamIds": ["up"]}))
        .await;
    client
        .send(json!({"type": 2, "invocationId": "up", "item": 1}))
        .await;
    client
        .send(json!({"type": 3, "invocationId": "up", "error": "the user gave up"}))
        .await;
    assert_eq!(
        client.completion("sum").await["error"],
        "An unexpected error occurred invoking 'Sum' on the server. HubException: the user gave up"
    );
    // An item that does not fit the parameter's type fails it too.
    client
        .send(json!({"type": 1, "invocationId": "bad", "target": "Sum", "arguments": [], "streamIds": ["up2"]}))
        .await;
    client
        .send(json!({"type": 2, "invocationId": "up2", "item": "one"}))
        .await;
    let error = client.completion("bad").await["error"].clone();
    assert_eq!(
        error,
        "An unexpected error occurred invoking 'Sum' on the server."
    );
}

#[tokio::test]
async fn uploads_beyond_the_buffer_push_back_instead_of_growing() {
    // Two buffered items per upload: the rest wait in the client's
    // transport until the method reads; nothing is lost.
    let (hub, _) = test_hub::hub_with(HubOptions {
        stream_buffer_capacity: 2,
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    client
        .send(json!({"type": 1, "invocationId": "sum", "target": "Sum", "arguments": [], "streamIds": ["up"]}))
        .await;
    for n in 1..=100 {
        client
            .send(json!({"type": 2, "invocationId": "up", "item": n}))
            .await;
    }
    client.send(json!({"type": 3, "invocationId": "up"})).await;
    assert_eq!(client.completion("sum").await["result"], 5050);
    let limit = client.invoke("Counter", json!([1, 0])).await;
    assert!(limit.get("error").is_some());
}
