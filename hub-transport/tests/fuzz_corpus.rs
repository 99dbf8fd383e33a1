//! Replays the checked-in `negotiate_query` fuzz corpus through the checks its
//! fuzz target runs, so that `cargo test` covers every corpus input on stable.

#[allow(unreachable_pub)]
#[path = "../../fuzz/src/transport_checks.rs"]
mod checks;

#[allow(unreachable_pub)]
#[path = "../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn negotiate_query_corpus() {
    replay::replay("negotiate_query", checks::check_negotiate_query);
}
