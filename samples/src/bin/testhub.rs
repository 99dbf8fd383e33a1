//! `testhub`: serves the test hub at `/hubs/test`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::cli::init_logging();
    let args = samples::cli::parse("testhub");
    let server = samples::testhub::server(samples::testhub::hub())
        .bind(args.addr)
        .await?;
    samples::cli::announce(server.local_addr());
    server.run_until_signal().await
}
