//! The chat sample's terminal client (`samples::chat_client`, the
//! `chat-client` binary of the samples) as a binary of the tests crate,
//! built with the tests.

#[tokio::main]
async fn main() {
    samples::chat_client::main().await;
}
