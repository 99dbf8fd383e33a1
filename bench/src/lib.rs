//! Benchmark harness for the SignalR server.
//!
//! Two binaries share this library:
//! * `loadgen` speaks SignalR over WebSockets (JSON or MessagePack), or
//!   Socket.IO (the [`wire`] it speaks), with pre-encoded frames and runs the
//!   `echo`, `broadcast` and `idle` scenarios (the [`loadgen`] module; the
//!   binary only parses and dispatches);
//! * `baseline` is a bare tokio-tungstenite server doing the same socket work
//!   with no SignalR logic: the ceiling for the same traffic.
//!
//! `bench/run.sh` runs a scenario against both, and against the socketioxide
//! peer (`bench/socketio-peer`, a workspace member of its own), and prints the
//! ratios; see `docs/BENCHMARKS.md`.

pub mod args;
pub mod hist;
pub mod loadgen;
pub mod procfs;
pub mod protocol;
pub mod socketio;
pub mod wire;
pub mod ws;
