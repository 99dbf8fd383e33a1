//! `whiteboard`: the whiteboard sample. Open `http://127.0.0.1:5000` in two tabs.
//! With `--redis redis://HOST:PORT`, several whiteboard processes share the strokes.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::cli::init_logging();
    let args = samples::cli::parse("whiteboard");
    let client = args.browser_client();
    let hub = args
        .join_backplane(samples::whiteboard::builder(), "whiteboard")
        .await
        .build();
    let server = samples::whiteboard::server(hub, &client)
        .bind(args.addr)
        .await?;
    samples::cli::announce(server.local_addr());
    server.run_until_signal().await
}
