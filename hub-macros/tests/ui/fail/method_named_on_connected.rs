use hub_core::{HubCtx, hub};

#[hub]
pub trait Chat {
    async fn on_connected(&self, ctx: &HubCtx);
}

fn main() {}
