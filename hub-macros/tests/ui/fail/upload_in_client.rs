use hub_core::{UploadStream, hub_client};

#[hub_client]
pub trait Client {
    async fn send_numbers(&self, numbers: UploadStream<i64>);
}

fn main() {}
