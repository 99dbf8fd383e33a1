use hub_core::{CancellationToken, HubResult, hub};

#[hub]
pub trait Chat {
    async fn wait(&self, first: CancellationToken, second: CancellationToken) -> HubResult<()>;
}

fn main() {}
