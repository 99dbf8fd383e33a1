use hub_core::{hub, hub_client};

#[hub_client]
pub trait ChatClient {
    async fn receive(&self, message: String);
}

#[hub(client = ChatClient, typescript)]
pub trait Chat {
    async fn send(&self, message: String);
}

fn main() {}
