//! The `testhub` sample as a binary of this crate, so that integration tests
//! can start it as real processes (`CARGO_BIN_EXE_testhub-process`).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::testhub::main().await
}
