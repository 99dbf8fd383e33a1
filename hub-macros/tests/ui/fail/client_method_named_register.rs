use hub_core::hub_client;

#[hub_client]
pub trait Client {
    async fn register(&self, name: String);
}

fn main() {}
