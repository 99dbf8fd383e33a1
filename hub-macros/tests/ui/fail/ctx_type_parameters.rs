use hub_core::{HubCtx, hub};

#[hub]
pub trait Hub {
    async fn echo(&self, ctx: &HubCtx<Self>, message: String) -> String;
}

fn main() {}
