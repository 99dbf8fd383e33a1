//! Every client target, seen from four connections: `a` and `b` of user
//! `ann`, `c` of user `bob`, anonymous `d`; `a` and `c` in group `g1`, `b`
//! and `c` in `g2`. `a` calls each time.

use serde_json::{Value, json};

use crate::Hub;
use crate::test_hub::Calls;
use crate::test_hub::{self, received_before};
use crate::testing::TestClient;

struct Room {
    hub: Hub,
    clients: Vec<TestClient>,
}

impl Room {
    async fn new() -> Self {
        let hub = test_hub::hub();
        let mut clients = vec![
            TestClient::connect_as(&hub, "ann").await,
            TestClient::connect_as(&hub, "ann").await,
            TestClient::connect_as(&hub, "bob").await,
            TestClient::connect(&hub).await,
        ];
        for (index, group) in [(0, "g1"), (2, "g1"), (1, "g2"), (2, "g2")] {
            let id = clients[index].connection_id().to_string();
            let done = clients[0].invoke("AddToGroup", json!([id, group])).await;
            assert_eq!(done["result"], Value::Null, "{done}");
        }
        Self { hub, clients }
    }

    fn id(&self, index: usize) -> String {
        self.clients[index].connection_id().to_string()
    }

    /// `a` invokes `method(arguments..., "x")`; returns how many `x` each
    /// client got before the marker `a` then sends to everyone.
    async fn deliveries(&mut self, method: &str, mut arguments: Vec<Value>) -> Vec<usize> {
        arguments.push(json!("x"));
        let completion = self.clients[0].invoke(method, json!(arguments)).await;
        assert_eq!(completion.get("error"), None, "{completion}");
        self.clients[0].invoke("ToAll", json!(["end"])).await;
        let mut counts = Vec::new();
        for client in &mut self.clients {
            let got = received_before(client, "end").await;
            assert!(got.iter().all(|text| text == "x"), "{got:?}");
            counts.push(got.len());
        }
        counts
    }
}

#[tokio::test]
async fn every_target_reaches_exactly_its_connections() {
    let mut room = Room::new().await;
    let (b, c, d) = (room.id(1), room.id(2), room.id(3));
    let cases: Vec<(&str, Vec<Value>, [usize; 4])> = vec![
        ("ToAll", vec![], [1, 1, 1, 1]),
        ("ToAllExcept", vec![json!([b])], [1, 0, 1, 1]),
        ("ToOthers", vec![], [0, 1, 1, 1]),
        ("ToCaller", vec![], [1, 0, 0, 0]),
        ("ToClient", vec![json!(c)], [0, 0, 1, 0]),
        ("ToClient", vec![json!("nobody")], [0, 0, 0, 0]),
        ("ToClients", vec![json!([b, d, b])], [0, 1, 0, 1]),
        ("ToGroup", vec![json!("g1")], [1, 0, 1, 0]),
        ("ToGroup", vec![json!("empty")], [0, 0, 0, 0]),
        // One copy per group, as in ASP.NET: c is in both.
        ("ToGroups", vec![json!(["g1", "g2"])], [1, 1, 2, 0]),
        ("ToGroupExcept", vec![json!("g1"), json!([c])], [1, 0, 0, 0]),
        ("ToOthersInGroup", vec![json!("g1")], [0, 0, 1, 0]),
        ("ToUser", vec![json!("ann")], [1, 1, 0, 0]),
        ("ToUsers", vec![json!(["ann", "bob", "ann"])], [1, 1, 1, 0]),
    ];
    for (method, arguments, expected) in cases {
        let got = room.deliveries(method, arguments.clone()).await;
        assert_eq!(got, expected, "{method}({arguments:?})");
    }
    assert_eq!(room.hub.context().stats().connections, 4);
}

#[tokio::test]
async fn a_hub_context_reaches_clients_from_outside_a_method() {
    let mut room = Room::new().await;
    let context = room.hub.context();
    context
        .clients()
        .group("g2")
        .receive("x".into())
        .await
        .unwrap();
    context.clients().all().receive("end".into()).await.unwrap();
    let mut counts = Vec::new();
    for client in &mut room.clients {
        counts.push(received_before(client, "end").await.len());
    }
    assert_eq!(counts, [0, 1, 1, 0]);
}
