//! Client results: the server invokes a client method and waits for its
//! answer, its error, the timeout, or the end of the connection.

use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use crate::HubOptions;
use crate::test_hub;
use crate::test_hub::Calls;
use crate::testing::TestClient;

/// Reads the server's invocation of `Answer` and returns its id.
async fn question(client: &mut TestClient, asked: &str) -> String {
    let invocation = client
        .find(|message| message["type"] == 1 && message["target"] == "Answer")
        .await
        .expect("the question arrives");
    assert_eq!(invocation["arguments"], json!([asked]));
    let id = invocation["invocationId"]
        .as_str()
        .expect("it wants an answer");
    assert!(id.starts_with('s'), "{id}");
    id.to_owned()
}

#[tokio::test]
async fn the_clients_answer_is_the_methods_result() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let call = client.start("AskCaller", json!(["6 x 7?"])).await;
    let asked = question(&mut client, "6 x 7?").await;
    client
        .send(json!({"type": 3, "invocationId": asked, "result": 42}))
        .await;
    assert_eq!(client.completion(&call).await["result"], 42);

    let call = client.start("AskCaller", json!(["?"])).await;
    let asked = question(&mut client, "?").await;
    client
        .send(json!({"type": 3, "invocationId": asked, "result": "not a number"}))
        .await;
    let error = client.completion(&call).await["error"].clone();
    assert!(
        error
            .as_str()
            .unwrap()
            .contains("The client's result has the wrong type"),
        "{error}"
    );
}

#[tokio::test]
async fn the_clients_error_is_the_methods_error() {
    let hub = test_hub::hub();
    let mut client = TestClient::connect(&hub).await;
    let call = client.start("AskCaller", json!(["?"])).await;
    let asked = question(&mut client, "?").await;
    client
        .send(json!({"type": 3, "invocationId": asked, "error": "Client didn't provide a result."}))
        .await;
    assert_eq!(
        client.completion(&call).await["error"],
        "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Client didn't provide a result."
    );
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_question_times_out() {
    let (hub, _) = test_hub::hub_with(HubOptions {
        client_result_timeout: Some(Duration::from_secs(5)),
        // No Pings in the way.
        keep_alive_interval: Duration::from_secs(60),
        client_timeout_interval: Duration::from_secs(120),
        ..Default::default()
    });
    let mut client = TestClient::connect(&hub).await;
    let start = Instant::now();
    let call = client.start("AskCaller", json!(["?"])).await;
    let asked = question(&mut client, "?").await;
    let error = client.completion(&call).await["error"].clone();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert!(
        error.as_str().unwrap().contains("Timed out after 5s"),
        "{error}"
    );
    // A late answer is ignored.
    client
        .send(json!({"type": 3, "invocationId": asked, "result": 1}))
        .await;
    assert_eq!(client.invoke("Echo", json!(["on"])).await["result"], "on");
}

#[tokio::test]
async fn a_question_to_a_client_that_leaves_fails_at_once() {
    let hub = test_hub::hub();
    let mut asker = TestClient::connect(&hub).await;
    let mut asked = TestClient::connect(&hub).await;
    let asked_id = asked.connection_id().to_string();
    // `asked` gets the question from another connection's method.
    let context = hub.context();
    let question_task =
        tokio::spawn(async move { context.clients().client(asked_id).answer("?".into()).await });
    question(&mut asked, "?").await;
    asked.send(json!({"type": 7})).await;
    let result = question_task.await.unwrap();
    let error = result.unwrap_err();
    assert!(error.message().ends_with("disconnected."), "{error:?}");
    let unknown = asker.invoke("Echo", json!(["still serving"])).await;
    assert_eq!(unknown["result"], "still serving");
}
