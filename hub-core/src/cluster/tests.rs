//! Two nodes of one hub in one process, joined by an in-process backplane:
//! what crosses between nodes (sends to every target, group changes,
//! queries, client results, aborts) without Redis. `tests/tests/scaleout.rs`
//! does the same with real processes and a real Redis.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;

use super::{Backplane, BackplaneFuture, Deliver};
use crate::Hub;
use crate::test_hub::{self, Calls, received_before};
use crate::testing::TestClient;

/// A node's id and its inbox.
type Inbox = (String, Arc<Deliver>);

/// Every node's inbox.
#[derive(Default, Clone)]
struct Bus(Arc<Mutex<Vec<Inbox>>>);

/// One node's end of the bus: delivers in publish order, synchronously.
struct BusBackplane {
    node: String,
    bus: Bus,
}

impl Backplane for BusBackplane {
    fn node_id(&self) -> &str {
        &self.node
    }

    fn publish(&self, to: Option<&str>, message: Bytes) -> BackplaneFuture<()> {
        let inboxes: Vec<Arc<Deliver>> = self
            .bus
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|(node, _)| to.is_none_or(|to| to == node))
            .map(|(_, deliver)| deliver.clone())
            .collect();
        for deliver in inboxes {
            deliver(message.clone());
        }
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self, deliver: Deliver) -> BackplaneFuture<()> {
        self.bus
            .0
            .lock()
            .unwrap()
            .push((self.node.clone(), Arc::new(deliver)));
        Box::pin(async { Ok(()) })
    }

    fn nodes(&self) -> BackplaneFuture<Vec<String>> {
        let nodes = self
            .bus
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|(node, _)| node.clone())
            .collect();
        Box::pin(async move { Ok(nodes) })
    }
}

/// Two nodes of the test hub on one bus.
fn two_nodes() -> (Hub, Hub) {
    let bus = Bus::default();
    let node = |name: &str| {
        let backplane = BusBackplane {
            node: name.to_owned(),
            bus: bus.clone(),
        };
        test_hub::builder().0.backplane(backplane).build()
    };
    (node("a"), node("b"))
}

#[tokio::test]
async fn messages_reach_every_target_on_every_node() {
    let (a, b) = two_nodes();
    let mut on_a = TestClient::connect_as(&a, "ann").await;
    let mut on_b = TestClient::connect_as(&b, "ann").await;
    let b_id = on_b.connection_id().to_string();

    on_a.invoke("ToAll", json!(["all"])).await;
    on_a.invoke("ToClient", json!([b_id, "one"])).await;
    on_a.invoke("ToUser", json!(["ann", "user"])).await;
    on_a.invoke("AddToGroup", json!([b_id, "g"])).await;
    on_a.invoke("ToGroup", json!(["g", "group"])).await;
    on_a.invoke("ToAll", json!(["end"])).await;
    assert_eq!(
        received_before(&mut on_b, "end").await,
        ["all", "one", "user", "group"]
    );
    assert_eq!(received_before(&mut on_a, "end").await, ["all", "user"]);

    // Queries gather every node's answer.
    let a_id = on_a.connection_id().to_string();
    let mut both = vec![a_id, b_id.clone()];
    both.sort();
    assert_eq!(
        on_a.invoke("UserConnections", json!(["ann"])).await["result"],
        json!(both)
    );
    assert_eq!(
        on_a.invoke("Members", json!(["g"])).await["result"],
        json!([b_id])
    );
    assert_eq!(
        on_a.invoke("GroupsOf", json!([b_id])).await["result"],
        json!(["g"])
    );
    let stats = a.context().cluster_stats().unwrap();
    assert!(stats.published > 0 && stats.lost == 0, "{stats:?}");
}

#[tokio::test]
async fn client_results_and_aborts_reach_a_connection_on_another_node() {
    let (a, b) = two_nodes();
    let mut on_b = TestClient::connect(&b).await;
    let b_id = on_b.connection_id().to_string();
    let context = a.context();
    let asked = {
        let b_id = b_id.clone();
        let context = context.clone();
        tokio::spawn(async move { context.clients().client(b_id).answer("?".into()).await })
    };
    let question = on_b
        .find(|message| message["target"] == "Answer")
        .await
        .unwrap();
    let id = question["invocationId"].as_str().unwrap();
    on_b.send(json!({"type": 3, "invocationId": id, "result": 7}))
        .await;
    assert_eq!(asked.await.unwrap().unwrap(), 7);

    assert!(context.abort(&b_id, Some("moved".into()), false).await);
    assert_eq!(
        on_b.recv().await.unwrap(),
        json!({"type": 7, "error": "moved"})
    );
    assert!(
        !context.abort("nobody", None, false).await,
        "no node has it"
    );
}

#[tokio::test]
async fn only_nodes_on_the_backplane_are_live() {
    let (a, b) = two_nodes();
    let link = a.context().cluster().expect("a backplane");
    assert!(
        !link.is_live("b").await,
        "b has not joined: it was never used"
    );
    let _on_b = TestClient::connect(&b).await;
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(link.is_live("a").await, "this node");
    assert!(link.is_live("b").await, "the other node, once it serves");
    assert!(!link.is_live("nobody").await, "a node nobody runs");
}
