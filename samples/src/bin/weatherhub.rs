//! `weatherhub`: the server pysignalr's integration tests expect (the
//! `WeatherHub` at `/weatherHub`, a JWT login at `/api/auth/login`; see
//! `samples::weatherhub`).
//!
//! `cargo run -p samples --bin weatherhub -- --addr 127.0.0.1:5000`

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::weatherhub::main().await
}
