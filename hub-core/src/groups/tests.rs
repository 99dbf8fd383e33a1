//! Group membership and user lookups.

use serde_json::{Value, json};

use crate::test_hub;
use crate::testing::TestClient;

#[tokio::test]
async fn membership_is_added_listed_removed_and_ends_with_the_connection() {
    let hub = test_hub::hub();
    let mut a = TestClient::connect(&hub).await;
    let b = TestClient::connect(&hub).await;
    let (a_id, b_id) = (a.connection_id().to_string(), b.connection_id().to_string());
    for (id, group) in [(&a_id, "one"), (&b_id, "one"), (&b_id, "two")] {
        a.invoke("AddToGroup", json!([id, group])).await;
    }
    let mut both = vec![a_id.clone(), b_id.clone()];
    both.sort();
    assert_eq!(
        a.invoke("Members", json!(["one"])).await["result"],
        json!(both)
    );
    assert_eq!(
        a.invoke("GroupsOf", json!([b_id])).await["result"],
        json!(["one", "two"])
    );
    let stats = hub.context().stats();
    assert_eq!((stats.groups, stats.grouped_connections), (2, 2));

    a.invoke("RemoveFromGroup", json!([b_id, "one"])).await;
    assert_eq!(
        a.invoke("Members", json!(["one"])).await["result"],
        json!([a_id])
    );

    // A connection that ends leaves its groups.
    let mut b = b;
    b.send(json!({"type": 7})).await;
    b.ended().await;
    assert_eq!(
        a.invoke("Members", json!(["two"])).await["result"],
        json!([])
    );
    assert_eq!(hub.context().stats().groups, 1);
}

#[tokio::test]
async fn unknown_connections_are_ignored_and_empty_names_refused() {
    let hub = test_hub::hub();
    let mut a = TestClient::connect(&hub).await;
    let added = a.invoke("AddToGroup", json!(["nobody", "g"])).await;
    assert_eq!(added["result"], Value::Null, "ignored, as in ASP.NET");
    assert_eq!(hub.context().stats().groups, 0);
    let empty = a
        .invoke("AddToGroup", json!([a.connection_id().to_string(), ""]))
        .await;
    assert_eq!(
        empty["error"],
        "An unexpected error occurred invoking 'AddToGroup' on the server. HubException: The group name must not be empty."
    );
}

#[tokio::test]
async fn users_are_looked_up_by_their_connections() {
    let hub = test_hub::hub();
    let mut ann = TestClient::connect_as(&hub, "ann").await;
    let ann_again = TestClient::connect_as(&hub, "ann").await;
    let mut ids = vec![
        ann.connection_id().to_string(),
        ann_again.connection_id().to_string(),
    ];
    ids.sort();
    assert_eq!(
        ann.invoke("UserConnections", json!(["ann"])).await["result"],
        json!(ids)
    );
    assert_eq!(ann.invoke("IsOnline", json!(["ann"])).await["result"], true);
    assert_eq!(
        ann.invoke("IsOnline", json!(["bob"])).await["result"],
        false
    );
    assert_eq!(
        ann.invoke("Whoami", json!([])).await["result"],
        "Some(\"ann\") Memory"
    );
    assert_eq!(hub.context().stats().users, 1);
}
