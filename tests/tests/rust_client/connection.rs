//! A connection's life: clean stop, automatic and stateful reconnect,
//! timeouts, and the negotiate options (skip, tokens, redirects, the
//! transport option and fallback).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hub_client::{
    ConnectionState, Error, HubConnection, Protocol, RetryDelays, TransportKind, Transports,
};
use hub_core::HubOptions;
use samples::testhub::LIFECYCLE_GROUP;
use tests::{CutProxy, TestServer};
use tokio::sync::mpsc;

use crate::support::{COMBOS, WAIT, builder, connect, connect_with};

/// The connection's events, in order.
fn events(connection: &HubConnection) -> mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let closed = sender.clone();
    connection.on_closed(move |error| {
        let _ = closed.send(format!("closed {error:?}"));
    });
    let reconnecting = sender.clone();
    connection.on_reconnecting(move |error| {
        let _ = reconnecting.send(format!("reconnecting {error:?}"));
    });
    connection.on_reconnected(move |id| {
        let _ = sender.send(format!("reconnected {}", id.is_some()));
    });
    receiver
}

async fn next(events: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("an event within the wait")
        .expect("events open")
}

#[tokio::test]
async fn stop_is_clean_and_fails_what_still_waits() {
    let server = TestServer::testhub().await;
    for combo in COMBOS {
        let mut observer = connect(&server.testhub_url(), combo).await;
        observer
            .hub
            .join_group(LIFECYCLE_GROUP.into())
            .await
            .unwrap();
        let client = connect(&server.testhub_url(), combo).await;
        let id = client.connection.connection_id().unwrap();
        assert_eq!(observer.inbox.next().await, format!("connected:{id}"));
        let mut events = events(&client.connection);
        let waiting = tokio::spawn(client.hub.delay(3_000).into_future());
        // The Delay is on its way before the stop (the calls of one
        // connection are written in order).
        client.hub.echo("queued".into()).await.unwrap();
        client.connection.stop().await;
        assert_eq!(client.connection.state(), ConnectionState::Disconnected);
        assert_eq!(next(&mut events).await, "closed None", "{combo:?}");
        assert_eq!(waiting.await.unwrap(), Err(Error::Stopped), "{combo:?}");
        assert_eq!(
            observer.inbox.next().await,
            format!("disconnected:{id}"),
            "{combo:?}: the server saw a clean disconnect"
        );
        assert_eq!(client.hub.echo("x".into()).await, Err(Error::NotConnected));
        // A stopped connection starts again, as a new connection.
        client.connection.start().await.unwrap();
        assert_ne!(client.connection.connection_id(), Some(id));
        client.connection.stop().await;
        observer.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_close_without_reconnect_ends_the_connection_with_the_server_error() {
    let server = TestServer::testhub().await;
    for combo in COMBOS {
        let client =
            connect_with(builder(&server.testhub_url(), combo).with_automatic_reconnect()).await;
        let mut events = events(&client.connection);
        client
            .hub
            .abort_me("go away".into(), false)
            .send()
            .await
            .unwrap();
        assert_eq!(
            next(&mut events).await,
            format!("closed {:?}", Some(Error::ServerClosed("go away".into()))),
            "{combo:?}"
        );
        assert_eq!(client.connection.state(), ConnectionState::Disconnected);
    }
    server.stop().await;
}

#[tokio::test]
async fn automatic_reconnect_after_a_reconnectable_close_and_a_cut_network() {
    let server = TestServer::testhub().await;
    let proxy = CutProxy::start(server.addr).await;
    let url = format!("http://{}{}", proxy.addr, samples::testhub::PATH);
    for combo in COMBOS {
        let policy = RetryDelays(vec![
            Duration::ZERO,
            Duration::from_millis(100),
            Duration::from_millis(500),
        ]);
        let client = connect_with(builder(&url, combo).with_retry_policy(policy)).await;
        let mut events = events(&client.connection);
        let first = client.connection.connection_id().unwrap();

        client
            .hub
            .abort_me("restarting".into(), true)
            .send()
            .await
            .unwrap();
        assert_eq!(
            next(&mut events).await,
            format!(
                "reconnecting {:?}",
                Some(Error::ServerClosed("restarting".into()))
            ),
            "{combo:?}"
        );
        assert_eq!(next(&mut events).await, "reconnected true", "{combo:?}");
        let second = client.connection.connection_id().unwrap();
        assert_ne!(first, second, "{combo:?}: a new connection");
        assert_eq!(client.hub.get_connection_id().await.unwrap(), second);

        // A call waiting when the network goes fails; the Echo after it was
        // written after it, so the Delay reached the server before the cut.
        let waiting = tokio::spawn(client.hub.delay(3_000).into_future());
        client.hub.echo("queued".into()).await.unwrap();
        proxy.cut();
        assert!(
            next(&mut events).await.starts_with("reconnecting"),
            "{combo:?}"
        );
        let waited = waiting.await.unwrap();
        assert!(
            matches!(waited, Err(Error::ConnectionLost(_))),
            "{combo:?}: {waited:?}"
        );
        assert_eq!(next(&mut events).await, "reconnected true", "{combo:?}");
        assert_eq!(
            client.hub.echo("back".into()).await.unwrap(),
            "back",
            "{combo:?}"
        );
        assert_eq!(client.connection.transport(), Some(combo.0));
        client.connection.stop().await;
        assert_eq!(next(&mut events).await, "closed None");
    }
    server.stop().await;
}

#[tokio::test]
async fn reconnect_gives_up_when_the_policy_says_so() {
    let server = TestServer::testhub().await;
    let proxy = CutProxy::start(server.addr).await;
    let url = format!("http://{}{}", proxy.addr, samples::testhub::PATH);
    let client = connect_with(
        builder(&url, COMBOS[0]).with_retry_policy(RetryDelays(vec![Duration::from_millis(10)])),
    )
    .await;
    let mut events = events(&client.connection);
    drop(proxy); // gone for good: every attempt fails
    assert!(next(&mut events).await.starts_with("reconnecting"));
    let closed = next(&mut events).await;
    assert!(closed.starts_with("closed Some(ConnectionLost"), "{closed}");
    assert_eq!(client.connection.state(), ConnectionState::Disconnected);
    server.stop().await;
}

#[tokio::test]
async fn stateful_reconnect_brings_every_message_back_once_in_order() {
    let server = TestServer::testhub().await;
    let proxy = CutProxy::start(server.addr).await;
    let url = format!("http://{}{}", proxy.addr, samples::testhub::PATH);
    for protocol in [Protocol::Json, Protocol::MessagePack] {
        let combo = (TransportKind::WebSockets, protocol);
        let mut receiver = connect_with(builder(&url, combo).with_stateful_reconnect()).await;
        let mut events = events(&receiver.connection);
        let sender = connect(&server.testhub_url(), combo).await;
        let id = receiver.connection.connection_id().unwrap();
        for n in 0..20 {
            sender.hub.send_to_all(format!("m{n}")).await.unwrap();
        }
        let _ = receiver.inbox.take(20).await;
        proxy.cut();
        for n in 20..40 {
            sender.hub.send_to_all(format!("m{n}")).await.unwrap();
        }
        assert_eq!(receiver.hub.echo("back".into()).await.unwrap(), "back");
        assert_eq!(
            receiver.hub.get_connection_id().await.unwrap(),
            id,
            "the same connection"
        );
        for n in 40..60 {
            sender.hub.send_to_all(format!("m{n}")).await.unwrap();
        }
        receiver.hub.send_to_caller("marker".into()).await.unwrap();
        let expected: Vec<String> = (20..60).map(|n| format!("m{n}")).collect();
        assert_eq!(
            receiver.inbox.until("marker").await,
            expected,
            "{protocol:?}"
        );
        assert!(
            events.try_recv().is_err(),
            "stateful reconnect is invisible"
        );
        receiver.connection.stop().await;
        sender.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_silent_server_trips_the_server_timeout_and_pings_keep_the_server_happy() {
    let quiet = HubOptions {
        keep_alive_interval: Duration::from_secs(3600),
        client_timeout_interval: Duration::from_millis(800),
        ..HubOptions::default()
    };
    let server = TestServer::testhub_with(samples::testhub::builder().options(quiet).build()).await;
    for combo in COMBOS
        .into_iter()
        .filter(|(transport, _)| *transport != TransportKind::LongPolling)
    {
        // Pings every 100 ms keep the server (client timeout 800 ms) from closing us.
        let client = connect_with(
            builder(&server.testhub_url(), combo)
                .keep_alive_interval(Duration::from_millis(100))
                .server_timeout(Duration::from_millis(1500)),
        )
        .await;
        let mut events = events(&client.connection);
        // Nothing arrives from a server that sends no Pings: the client gives up.
        let closed = next(&mut events).await;
        assert_eq!(
            closed,
            format!("closed {:?}", Some(Error::ServerTimeout)),
            "{combo:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn negotiate_options_tokens_and_skipping() {
    let server = TestServer::testhub().await;
    let url = server.testhub_url();
    for protocol in [Protocol::Json, Protocol::MessagePack] {
        let combo = (TransportKind::WebSockets, protocol);
        let client = connect_with(builder(&url, combo).skip_negotiation(true)).await;
        assert_eq!(client.connection.connection_id(), None);
        assert_eq!(client.hub.echo("direct".into()).await.unwrap(), "direct");
        client.connection.stop().await;
    }
    let refused = HubConnection::builder(&url)
        .transports(Transports::ALL)
        .skip_negotiation(true)
        .build()
        .unwrap()
        .start()
        .await;
    assert!(matches!(refused, Err(Error::NoTransport(_))), "{refused:?}");

    // The factory is asked for every negotiate (each start).
    let calls = Arc::new(AtomicUsize::new(0));
    for combo in COMBOS {
        let counted = calls.clone();
        let client = connect_with(builder(&url, combo).access_token_factory(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move { Ok(format!("user{n}")) }
        }))
        .await;
        let user = client.hub.whoami().await.unwrap().unwrap();
        assert!(user.starts_with("user"), "{combo:?}: {user}");
        client.connection.stop().await;
    }
    assert_eq!(calls.load(Ordering::SeqCst), COMBOS.len());
    server.stop().await;
}

#[tokio::test]
async fn redirects_carry_the_new_url_and_token() {
    let server = TestServer::testhub().await;
    let target = server.testhub_url();
    let document = format!(r#"{{"url":"{target}","accessToken":"redirected"}}"#);
    let app = axum::Router::new().route(
        "/hub/negotiate",
        axum::routing::post(move || std::future::ready(document.clone())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = format!("http://{}/hub", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    for combo in COMBOS {
        let client = connect(&front, combo).await;
        assert_eq!(
            client.hub.whoami().await.unwrap().as_deref(),
            Some("redirected"),
            "{combo:?}"
        );
        client.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn the_client_falls_back_to_what_the_server_offers() {
    let options = hub_transport::EndpointOptions {
        transports: hub_transport::Transports {
            web_sockets: false,
            ..Default::default()
        },
        ..samples::testhub::endpoint_options()
    };
    let server = TestServer::start(
        samples::testhub::server_with(samples::testhub::hub(), options),
        samples::testhub::hub().context(),
    )
    .await;
    let url = server.testhub_url();
    for (protocol, expected) in [
        (Protocol::Json, TransportKind::ServerSentEvents),
        (Protocol::MessagePack, TransportKind::LongPolling),
    ] {
        let connection = HubConnection::builder(&url)
            .protocol(protocol)
            .build()
            .unwrap();
        connection.start().await.unwrap();
        assert_eq!(connection.transport(), Some(expected), "{protocol:?}");
        connection.stop().await;
    }
    let only_ws = HubConnection::builder(&url)
        .transports(TransportKind::WebSockets)
        .build()
        .unwrap()
        .start()
        .await;
    assert_eq!(
        only_ws,
        Err(Error::NoTransport(
            "None of the transports supported by the client are supported by the server.".into()
        ))
    );
    server.stop().await;
}

#[tokio::test]
async fn a_version_0_negotiation_uses_the_connection_id() {
    let server = TestServer::testhub().await;
    // The client keeps a `negotiateVersion` the URL already has; the server
    // then answers version 0 (no connection token).
    let url = format!("{}?negotiateVersion=0", server.testhub_url());
    for combo in COMBOS {
        let client = connect(&url, combo).await;
        let id = client.connection.connection_id().expect("an id");
        assert_eq!(
            client.hub.get_connection_id().await.unwrap(),
            id,
            "{combo:?}"
        );
        client.connection.stop().await;
    }
    server.stop().await;
}
