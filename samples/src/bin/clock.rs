//! `clock`: the clock sample. Open `http://127.0.0.1:5000`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::cli::init_logging();
    let args = samples::cli::parse("clock");
    let client = args.browser_client();
    let hub = samples::clock::hub();
    let ticker = samples::clock::spawn_ticker(hub.context());
    let server = samples::clock::server(hub, &client).bind(args.addr).await?;
    samples::cli::announce(server.local_addr());
    let result = server.run_until_signal().await;
    ticker.abort();
    result
}
