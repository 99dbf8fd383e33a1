use hub_core::{HubCtx, hub_client};

#[hub_client]
pub trait Client {
    async fn receive(&self, ctx: &HubCtx, message: String);
}

fn main() {}
