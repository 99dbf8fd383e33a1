use hub_core::{CancellationToken, hub_client};

#[hub_client]
pub trait Client {
    async fn notify(&self, text: String, cancellation: CancellationToken);
}

fn main() {}
