//! `chat`: the chat sample. Open `http://127.0.0.1:5000` in two tabs.
//! With `--redis redis://HOST:PORT`, several chat processes share the room.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::cli::init_logging();
    let args = samples::cli::parse("chat");
    let client = args.browser_client();
    let hub = args
        .join_backplane(samples::chat::builder(), "chat")
        .await
        .build();
    let server = samples::chat::server(hub, &client).bind(args.addr).await?;
    samples::cli::announce(server.local_addr());
    server.run_until_signal().await
}
