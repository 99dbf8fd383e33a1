//! The `weatherhub` sample as a binary of this crate, built with the tests
//! (`CARGO_BIN_EXE_weatherhub-process`), for pysignalr's integration tests
//! to start (tests/pysignalr_suite.rs).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::weatherhub::main().await
}
