//! Transport selection, fallback, Long Polling cleanup and stateful reconnect,
//! with the official client.

use std::time::Duration;

use hub_core::RegistryStats;
use hub_transport::{Authenticator, EndpointOptions, Transports, Unauthorized, bearer_token};
use samples::testhub;
use tests::{CutProxy, TestServer, node_test};

async fn fallback(options: EndpointOptions, expected: &str) {
    let hub = testhub::hub();
    let context = hub.context();
    let server = TestServer::start(testhub::server_with(hub, options), context).await;
    node_test(
        "fallback.test.mjs",
        &[
            ("HUB_URL", &server.testhub_url()),
            ("EXPECTED_TRANSPORT", expected),
        ],
    )
    .await;
    server.stop().await;
}

fn transports(web_sockets: bool, server_sent_events: bool) -> EndpointOptions {
    EndpointOptions {
        transports: Transports {
            web_sockets,
            server_sent_events,
            long_polling: true,
        },
        ..testhub::endpoint_options()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_to_server_sent_events_without_websockets() {
    fallback(transports(false, true), "ServerSentEventsTransport").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_to_long_polling_without_websockets_and_sse() {
    fallback(transports(false, false), "LongPollingTransport").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_when_the_websocket_upgrade_is_refused() {
    // Something in front of the hub (here its authentication) refuses every
    // WebSocket upgrade, although negotiate offers WebSockets.
    let refuse_upgrades = Authenticator::new(|request| {
        let upgrade = request.headers.contains_key(http::header::UPGRADE);
        let user_id = bearer_token(request);
        async move {
            if upgrade {
                return Err(Unauthorized {
                    reason: "no WebSockets here".into(),
                });
            }
            Ok(hub_core::Identity::user(user_id))
        }
    });
    let hub = testhub::hub();
    let context = hub.context();
    let builder = hub_transport::Server::builder()
        .hub_with_options(testhub::PATH, hub, testhub::endpoint_options())
        .authenticate(refuse_upgrades);
    let server = TestServer::start(builder, context).await;
    node_test(
        "fallback.test.mjs",
        &[
            ("HUB_URL", &server.testhub_url()),
            ("EXPECTED_TRANSPORT", "ServerSentEventsTransport"),
        ],
    )
    .await;
    server.stop().await;
}

/// Waits (bounded) until the registry's connection count is `expected`.
async fn wait_for_connections(
    server: &TestServer,
    expected: usize,
    within: Duration,
) -> RegistryStats {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let stats = server.context.stats();
        if stats.connections == expected || tokio::time::Instant::now() >= deadline {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_long_polling_connections_are_cleaned_up() {
    const COUNT: usize = 1000;
    let options = EndpointOptions {
        disconnect_timeout: Duration::from_secs(1),
        ..testhub::endpoint_options()
    };
    let hub = testhub::hub();
    let context = hub.context();
    let server = TestServer::start(testhub::server_with(hub, options), context).await;
    node_test(
        "lp-abandon.test.mjs",
        &[
            ("HUB_URL", &server.testhub_url()),
            ("COUNT", &COUNT.to_string()),
        ],
    )
    .await;
    // Every handshake was accepted, so the registry held them all at some
    // point; by now the first ones may already have expired.
    let gone = wait_for_connections(&server, 0, Duration::from_secs(15)).await;
    assert_eq!(
        gone,
        RegistryStats::default(),
        "every abandoned connection is gone, with its user and group entries"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateful_reconnect_delivers_every_message_exactly_once() {
    let server = TestServer::testhub().await;
    let proxy = CutProxy::start(server.addr).await;
    let proxied = format!("http://{}{}", proxy.addr, testhub::PATH);
    let cut = format!("http://{}/", proxy.control_addr);
    node_test(
        "stateful.test.mjs",
        &[
            ("HUB_URL", &server.testhub_url()),
            ("PROXY_HUB_URL", &proxied),
            ("PROXY_CUT_URL", &cut),
        ],
    )
    .await;
    drop(proxy);
    server.stop().await;
}
