//! `chat`: the chat sample. Open `http://127.0.0.1:5000` in two tabs.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    samples::cli::init_logging();
    let args = samples::cli::parse("chat");
    let server = samples::chat::server(samples::chat::hub())
        .bind(args.addr)
        .await?;
    samples::cli::announce(server.local_addr());
    server.run_until_signal().await
}
