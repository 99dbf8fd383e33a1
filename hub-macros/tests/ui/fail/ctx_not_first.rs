use hub_core::{HubCtx, hub};

#[hub]
pub trait Hub {
    async fn echo(&self, message: String, ctx: &HubCtx) -> String;
}

fn main() {}
