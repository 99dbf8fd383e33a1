//! Every client target and groups, seen from Rust clients.

use hub_client::HubConnection;
use tests::TestServer;

use crate::support::{COMBOS, builder, connect, connect_with};

#[tokio::test]
async fn every_client_target_reaches_exactly_its_connections() {
    let server = TestServer::testhub().await;
    let url = server.testhub_url();
    for combo in COMBOS {
        let mut a = connect_with(builder(&url, combo).access_token("ann")).await;
        let mut b = connect_with(builder(&url, combo).access_token("bob")).await;
        let id_a = a.connection.connection_id().unwrap();
        let id_b = b.connection.connection_id().unwrap();
        let (hub, done) = (&a.hub, "done".to_owned());
        let marker = |inbox_hub: &samples::testhub::TestProxy<HubConnection>| {
            inbox_hub.send_to_caller(done.clone()).into_future()
        };

        hub.send_to_all("all".into()).await.unwrap();
        hub.send_to_others("others".into()).await.unwrap();
        hub.send_to_caller("caller".into()).await.unwrap();
        hub.send_to_connection(id_b.clone(), "to b".into())
            .await
            .unwrap();
        hub.send_to_user("bob".into(), "to bob".into())
            .await
            .unwrap();
        hub.send_to_connections(vec![id_a.clone(), id_b.clone()], "both".into())
            .await
            .unwrap();
        hub.send_to_all_except(vec![id_a.clone()], "all but a".into())
            .await
            .unwrap();
        hub.send_to_users(vec!["ann".into()], "to ann".into())
            .await
            .unwrap();
        marker(&a.hub).await.unwrap();
        marker(&b.hub).await.unwrap();
        assert_eq!(
            a.inbox.until("done").await,
            ["all", "caller", "both", "to ann"],
            "{combo:?}"
        );
        assert_eq!(
            b.inbox.until("done").await,
            ["all", "others", "to b", "to bob", "both", "all but a"],
            "{combo:?}"
        );
        assert_eq!(a.hub.whoami().await.unwrap().as_deref(), Some("ann"));
        a.connection.stop().await;
        b.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn groups_join_leave_and_every_group_target() {
    let server = TestServer::testhub().await;
    let url = server.testhub_url();
    for combo in COMBOS {
        let mut a = connect(&url, combo).await;
        let mut b = connect(&url, combo).await;
        let id_a = a.connection.connection_id().unwrap();
        let group = format!("room-{combo:?}");
        a.hub.join_group(group.clone()).await.unwrap();
        b.hub.join_group(group.clone()).await.unwrap();
        a.hub.join_group("other".into()).await.unwrap();
        a.hub
            .send_to_group(group.clone(), "g".into())
            .await
            .unwrap();
        a.hub
            .send_to_others_in_group(group.clone(), "others in g".into())
            .await
            .unwrap();
        a.hub
            .send_to_group_except(group.clone(), vec![id_a.clone()], "g but a".into())
            .await
            .unwrap();
        a.hub
            .send_to_groups(vec![group.clone(), "other".into()], "groups".into())
            .await
            .unwrap();
        b.hub.leave_group(group.clone()).await.unwrap();
        a.hub
            .send_to_group(group.clone(), "after leave".into())
            .await
            .unwrap();
        let members = a.hub.group_members(group.clone()).await.unwrap();
        assert_eq!(members, std::slice::from_ref(&id_a), "{combo:?}");
        for client in [&a, &b] {
            client.hub.send_to_caller("done".into()).await.unwrap();
        }
        assert_eq!(
            a.inbox.until("done").await,
            ["g", "groups", "groups", "after leave"],
            "{combo:?}: a connection in two listed groups gets two copies"
        );
        assert_eq!(
            b.inbox.until("done").await,
            ["g", "others in g", "g but a", "groups"],
            "{combo:?}"
        );
        a.connection.stop().await;
        b.connection.stop().await;
    }
    server.stop().await;
}
