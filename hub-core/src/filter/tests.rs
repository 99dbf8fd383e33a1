//! Filters around invocations and hooks: they see a method's value or error
//! before it is encoded, may replace it or answer instead of the method, and
//! nest in the order they were added.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::test_hub;
use crate::testing::TestClient;
use crate::{
    HubCtx, HubError, HubFilter, HubResult, Invocation, InvocationResult, MethodValue, Next,
};

/// Shouts every string result, turns `Fail`'s error into a value, and
/// answers `Add` itself.
struct Shout;

impl HubFilter for Shout {
    async fn invoke(
        &self,
        invocation: &Invocation,
        next: Next<InvocationResult>,
    ) -> InvocationResult {
        if invocation.method() == "Add" {
            return Ok(MethodValue::new(-1));
        }
        match next.run().await {
            Ok(value) => match value.downcast_ref::<String>() {
                Some(text) => Ok(MethodValue::new(text.to_uppercase())),
                None => Ok(value),
            },
            Err(error) if invocation.method() == "Fail" => Ok(MethodValue::new(format!(
                "recovered from {}",
                error.message()
            ))),
            Err(error) => Err(error),
        }
    }
}

#[tokio::test]
async fn a_filter_sees_and_replaces_results() {
    let hub = test_hub::builder().0.filter(Shout).build();
    let mut client = TestClient::connect(&hub).await;
    assert_eq!(client.invoke("Echo", json!(["hi"])).await["result"], "HI");
    assert_eq!(client.invoke("Add", json!([1, 2])).await["result"], -1);
    assert_eq!(
        client.invoke("Fail", json!(["oops"])).await["result"],
        "recovered from oops"
    );
    assert_eq!(
        client.invoke("Delay", json!([0])).await["result"],
        0,
        "other types pass"
    );
    // A stream's Completion carries no value, whatever the filter returns.
    let stream = client.start_stream("Counter", json!([2, 0])).await;
    assert_eq!(client.recv().await.unwrap()["item"], 0);
    assert_eq!(client.recv().await.unwrap()["item"], 1);
    assert_eq!(
        client.recv().await.unwrap(),
        json!({"type": 3, "invocationId": stream})
    );
}

/// Records when it runs, under its name.
struct Trace(&'static str, Arc<Mutex<Vec<String>>>);

impl HubFilter for Trace {
    async fn invoke(
        &self,
        invocation: &Invocation,
        next: Next<InvocationResult>,
    ) -> InvocationResult {
        self.1
            .lock()
            .unwrap()
            .push(format!("{} before {}", self.0, invocation.method()));
        let result = next.run().await;
        let seen = match &result {
            Ok(value) => value.to_json().unwrap().to_string(),
            Err(error) => error.message().to_owned(),
        };
        self.1
            .lock()
            .unwrap()
            .push(format!("{} after {seen}", self.0));
        result
    }
}

#[tokio::test]
async fn filters_run_outermost_first() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let hub = test_hub::builder()
        .0
        .filter(Trace("outer", log.clone()))
        .filter(Trace("inner", log.clone()))
        .build();
    let mut client = TestClient::connect(&hub).await;
    assert_eq!(client.invoke("Add", json!([2, 3])).await["result"], 5);
    assert_eq!(
        *log.lock().unwrap(),
        [
            "outer before Add",
            "inner before Add",
            "inner after 5",
            "outer after 5"
        ]
    );
}

/// Refuses connections of anonymous users.
struct UsersOnly;

impl HubFilter for UsersOnly {
    async fn connected(&self, ctx: &HubCtx, next: Next<HubResult<()>>) -> HubResult<()> {
        if ctx.user_id().is_none() {
            return Err(HubError::new("sign in first"));
        }
        next.run().await
    }
}

#[tokio::test]
async fn a_connected_filter_can_refuse_a_connection() {
    let (builder, events) = test_hub::builder();
    let hub = builder.filter(UsersOnly).build();
    let mut anonymous = TestClient::connect(&hub).await;
    assert_eq!(
        anonymous.recv().await.unwrap(),
        json!({"type": 7, "error": "Connection closed with an error. HubException: sign in first"})
    );
    let anonymous_id = anonymous.connection_id().to_string();
    anonymous.ended().await;
    let mut ann = TestClient::connect_as(&hub, "ann").await;
    assert_eq!(ann.invoke("Echo", json!(["in"])).await["result"], "in");
    let ann_id = ann.connection_id().to_string();
    assert_eq!(
        events.all(),
        [
            format!(
                "disconnected {anonymous_id}: Connection closed with an error. HubException: sign in first"
            ),
            format!("connected {ann_id}"),
        ],
        "the hub's on_connected never ran for the refused connection"
    );
}
