//! Replays the checked-in fuzz corpora (`fuzz/corpus/<target>/`) through the
//! checks the protocol fuzz targets run, so that `cargo test` covers every
//! corpus input (including past crashes) on stable, without cargo-fuzz.

#[allow(unreachable_pub)]
#[path = "../../fuzz/src/protocol_checks.rs"]
mod checks;

#[allow(unreachable_pub)]
#[path = "../../fuzz/src/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn json_messages_corpus() {
    replay("json_messages", checks::check_json_messages);
}

#[test]
fn msgpack_messages_corpus() {
    replay("msgpack_messages", checks::check_msgpack_messages);
}

#[test]
fn handshake_corpus() {
    replay("handshake", checks::check_handshake);
}

#[test]
fn sse_lp_bodies_corpus() {
    replay("sse_lp_bodies", checks::check_sse_lp_bodies);
}

#[test]
fn round_trip_corpus() {
    replay("round_trip", checks::check_round_trip);
}
