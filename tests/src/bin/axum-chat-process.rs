//! The `axum-chat` sample as a binary of this crate
//! (`CARGO_BIN_EXE_axum-chat-process`), for tests that start it as a real
//! process (tests/otlp_export.rs). It stops when its standard input closes,
//! so it never outlives the test that started it.

use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::axum_chat::main(async {
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 64];
        while matches!(stdin.read(&mut buffer).await, Ok(read) if read > 0) {}
    })
    .await
}
