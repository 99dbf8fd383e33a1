use hub_core::hub_client;

#[hub_client]
pub trait Client {
    #[hub(authorize)]
    async fn receive(&self, message: String);
}

fn main() {}
