//! `chat-client`: chat with the chat sample's room from a terminal.
//! `cargo run -p samples --bin chat-client -- --url http://127.0.0.1:5000/chatHub --name ann`

#[tokio::main]
async fn main() {
    samples::chat_client::main().await;
}
