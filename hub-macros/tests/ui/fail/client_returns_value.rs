use hub_core::hub_client;

#[hub_client]
pub trait Client {
    async fn ask(&self, question: String) -> String;
}

fn main() {}
