//! `testhub`: serves the test hub at `/hubs/test` (see `samples::testhub::main`).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::testhub::main().await
}
