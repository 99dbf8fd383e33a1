//! The hub's metrics reach a recorder installed by the application.

use metrics_exporter_prometheus::PrometheusBuilder;
use tests::{TestServer, node_test};

/// The value of the first sample of `name` whose labels contain `labels`.
fn sample(rendered: &str, name: &str, labels: &[&str]) -> Option<f64> {
    rendered
        .lines()
        .filter(|line| line.starts_with(name) && line[name.len()..].starts_with('{'))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_messages_invocations_and_errors_are_counted() {
    let metrics = PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this test binary");
    let server = TestServer::testhub().await;
    // Two clients: Echo, Add, Whoami calls; errors.test.mjs adds failing calls.
    node_test("basics.test.mjs", &[("HUB_URL", &server.testhub_url())]).await;
    node_test("errors.test.mjs", &[("HUB_URL", &server.testhub_url())]).await;
    server.stop().await;

    let rendered = metrics.render();
    let hub = r#"hub="Test""#;
    let ws = r#"transport="WebSockets""#;
    let opened = sample(&rendered, "signalr_connections_total", &[hub, ws]).expect(&rendered);
    assert!(opened >= 3.0, "{rendered}");
    assert_eq!(
        sample(&rendered, "signalr_connections", &[hub, ws]),
        Some(0.0),
        "every connection closed again"
    );
    let invocations = sample(&rendered, "signalr_invocations_total", &[hub]).expect(&rendered);
    let errors = sample(&rendered, "signalr_invocation_errors_total", &[hub]).expect(&rendered);
    assert!(invocations > errors && errors >= 5.0, "{rendered}");
    let received =
        sample(&rendered, "signalr_messages_received_total", &[hub, ws]).expect(&rendered);
    let sent = sample(&rendered, "signalr_messages_sent_total", &[hub, ws]).expect(&rendered);
    assert!(received >= invocations && sent >= invocations, "{rendered}");
    assert!(
        sample(
            &rendered,
            "signalr_disconnects_total",
            &[hub, r#"reason="client_closed""#]
        )
        .is_some(),
        "{rendered}"
    );
}
