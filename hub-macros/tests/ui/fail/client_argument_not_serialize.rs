use hub_core::hub_client;

pub struct NotSerialize;

#[hub_client]
pub trait Client {
    async fn receive(&self, message: String, other: NotSerialize);
}

fn main() {}
