//! The `testhub` sample as a binary of this crate, so that integration tests
//! can start it as real processes (`CARGO_BIN_EXE_testhub-process`).
//!
//! Unlike the sample's own binary, it stops when its standard input closes
//! (not on Ctrl-C): the test that started it holds the other end, so a node never
//! outlives its test, even a test process that was killed or aborted (an
//! orphaned node would keep the test run's output pipe open).

use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (server, _telemetry) = samples::testhub::start().await?;
    server.run_until(stdin_closed()).await
}

/// Resolves once standard input reaches its end (or fails).
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 64];
    while matches!(stdin.read(&mut buffer).await, Ok(read) if read > 0) {}
}
