use hub_core::{hub, hub_client};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Message {
    text: String,
}

#[hub_client(typescript)]
pub trait ChatClient {
    async fn receive(&self, message: Message);
}

#[hub(client = ChatClient, typescript)]
pub trait Chat {
    async fn send(&self, message: Message) -> Vec<Message>;
}

fn main() {}
