//! Cancelling plain invocations (CancelInvocation for an Invocation, as
//! .NET 11 clients send it) through an in-memory client.

use serde_json::json;

use crate::HubOptions;
use crate::test_hub;
use crate::testing::TestClient;

/// Waits until the hub recorded `event`.
async fn recorded(events: &test_hub::Events, event: &str) {
    while !events.all().iter().any(|recorded| recorded == event) {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_cancel_invocation_cancels_the_methods_token() {
    let (hub, events) = test_hub::hub_with(HubOptions::default());
    let mut client = TestClient::connect(&hub).await;
    let id = client.start("Cancellable", json!(["a", 60_000])).await;
    client.send(json!({"type": 5, "invocationId": id})).await;
    // The method saw its token cancelled and failed; the Completion still
    // comes (the protocol requires one), worded as any unexpected error.
    assert_eq!(
        client.completion(&id).await,
        json!({
            "type": 3,
            "invocationId": id,
            "error": "An unexpected error occurred invoking 'Cancellable' on the server."
        })
    );
    assert!(events.all().contains(&"cancelled a".to_owned()));
    // The connection goes on.
    assert_eq!(client.invoke("Echo", json!(["on"])).await["result"], "on");
}

#[tokio::test]
async fn detailed_errors_name_the_cancellation() {
    let (hub, _) = test_hub::hub_with(HubOptions {
        enable_detailed_errors: true,
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    let id = client.start("Cancellable", json!(["a", 60_000])).await;
    client.send(json!({"type": 5, "invocationId": id})).await;
    assert_eq!(
        client.completion(&id).await["error"],
        "An unexpected error occurred invoking 'Cancellable' on the server. Cancelled: The operation was canceled."
    );
}

#[tokio::test]
async fn only_the_named_invocation_is_cancelled() {
    let (hub, events) = test_hub::hub_with(HubOptions {
        maximum_parallel_invocations_per_client: 2,
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    let first = client.start("Cancellable", json!(["first", 60_000])).await;
    let second = client.start("Cancellable", json!(["second", 50])).await;
    client.send(json!({"type": 5, "invocationId": first})).await;
    recorded(&events, "cancelled first").await;
    assert_eq!(client.completion(&second).await["result"], 50);
    assert!(!events.all().contains(&"cancelled second".to_owned()));
}

#[tokio::test]
async fn a_method_that_ignores_its_token_answers_as_usual() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let id = client.start("IgnoresCancel", json!([50])).await;
    client.send(json!({"type": 5, "invocationId": id})).await;
    // Its result: the token was cancelled, and it finished anyway.
    assert_eq!(
        client.completion(&id).await,
        json!({"type": 3, "invocationId": id, "result": true})
    );
}

#[tokio::test]
async fn cancels_for_unknown_ids_and_uncancellable_methods_are_ignored() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    client
        .send(json!({"type": 5, "invocationId": "nobody"}))
        .await;
    let id = client.start("Delay", json!([20])).await;
    client.send(json!({"type": 5, "invocationId": id})).await;
    assert_eq!(
        client.completion(&id).await,
        json!({"type": 3, "invocationId": id, "result": 20})
    );
    assert_eq!(client.invoke("Add", json!([2, 3])).await["result"], 5);
}

#[tokio::test]
async fn a_finished_invocations_id_cancels_nothing_later() {
    let (hub, events) = test_hub::hub_with(HubOptions {
        maximum_parallel_invocations_per_client: 2,
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    let id = client.start("Cancellable", json!(["early", 0])).await;
    assert_eq!(client.completion(&id).await["result"], 0);
    // The client reuses the id for a new call; a late cancel meant for the
    // finished one reaches the new one (ids are the client's to choose), but
    // an earlier call's end did not unregister it.
    client
        .send(json!({"type": 1, "invocationId": id, "target": "Cancellable", "arguments": ["reused", 60_000]}))
        .await;
    client.send(json!({"type": 5, "invocationId": id})).await;
    recorded(&events, "cancelled reused").await;
    assert!(client.completion(&id).await["error"].is_string());
}

#[tokio::test]
async fn the_end_of_the_connection_cancels_running_invocations() {
    let (hub, events) = test_hub::hub_with(HubOptions {
        maximum_parallel_invocations_per_client: 2,
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    // With and without an id: both tokens end with the connection.
    client
        .start("Cancellable", json!(["with id", 60_000]))
        .await;
    client
        .send(json!({"type": 1, "target": "Cancellable", "arguments": ["without id", 60_000]}))
        .await;
    client.drop_transport();
    client.ended().await;
    let all = events.all();
    assert!(all.contains(&"cancelled with id".to_owned()), "{all:?}");
    assert!(all.contains(&"cancelled without id".to_owned()), "{all:?}");
}
