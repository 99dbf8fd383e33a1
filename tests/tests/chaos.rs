//! Chaos tests of the scale-out (see `tests::chaos`): three `testhub`
//! nodes, two clients on each sending steadily to all, to users and to
//! groups, while Redis is frozen, killed and restarted (with and without
//! persistence), or a node is killed and restarted; every message counted
//! on every receiver. The durable backplane (streams) must lose and
//! duplicate nothing where Redis keeps its data; pub/sub reports what it
//! loses. One run at a time (they share the machine's two cores).

use tests::chaos::{Fault, Report, run};
use tests::processes::Persistence;

const TESTHUB: &str = env!("CARGO_BIN_EXE_testhub-process");

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn chaos(mode: &str, fault: Fault) -> Report {
    let _turn = ONE_AT_A_TIME.lock().await;
    run(TESTHUB, mode, fault).await
}

/// Nothing lost, duplicated or reordered, and enough traffic to mean it.
fn assert_exact(report: &Report) {
    let tally = report.tally;
    assert!(tally.acked > 600, "too few messages to judge: {tally}");
    assert_eq!(tally.lost, 0, "{tally}");
    assert_eq!(tally.duplicated, 0, "{tally}");
    assert_eq!(tally.out_of_order, 0, "{tally}");
    assert_eq!(tally.unexpected, 0, "{tally}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_lose_nothing_while_redis_is_frozen_for_5_s() {
    let report = chaos("streams", Fault::PauseRedis).await;
    assert_exact(&report);
    assert_eq!(report.resets_logged, 0, "Redis kept its data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_lose_nothing_when_redis_restarts_with_its_aof() {
    let report = chaos("streams", Fault::RestartRedis(Persistence::AofAlways)).await;
    assert_exact(&report);
    assert_eq!(report.resets_logged, 0, "Redis kept its data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_detect_and_report_a_redis_that_restarted_empty() {
    let report = chaos("streams", Fault::RestartRedis(Persistence::None)).await;
    assert_eq!(
        report.resets_logged, 3,
        "every node says Redis lost the stream"
    );
    let tally = report.tally;
    // What each node had not read when Redis died is gone (named in the
    // logs by sequence gaps); the rest arrives once and in order.
    assert_eq!(tally.duplicated, 0, "{tally}");
    assert_eq!(tally.out_of_order, 0, "{tally}");
    assert_eq!(tally.unexpected, 0, "{tally}");
    assert!(tally.delivered * 100 >= tally.expected * 95, "{tally}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_lose_nothing_between_the_nodes_that_stay_when_one_restarts() {
    let report = chaos("streams", Fault::RestartNode).await;
    assert_exact(&report);
    assert_eq!(report.restarted_node_serves, Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_reports_what_it_loses() {
    // Frozen Redis: publishes time out (counted lost by the hub), though
    // Redis may still deliver some when it resumes.
    let paused = chaos("pubsub", Fault::PauseRedis).await;
    assert_eq!(paused.tally.duplicated, 0, "{}", paused.tally);
    // Redis down: what the nodes published meanwhile is gone.
    for persistence in [Persistence::AofAlways, Persistence::None] {
        let report = chaos("pubsub", Fault::RestartRedis(persistence)).await;
        assert!(
            report.tally.lost > 0,
            "pub/sub lost nothing? {}",
            report.tally
        );
        assert_eq!(report.tally.duplicated, 0, "{}", report.tally);
    }
    // A node restarting costs the others nothing.
    let node = chaos("pubsub", Fault::RestartNode).await;
    assert_eq!(node.tally.lost, 0, "{}", node.tally);
    assert_eq!(node.restarted_node_serves, Some(true));
}
