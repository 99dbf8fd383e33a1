use hub_core::hub;

#[hub]
pub trait Hub {
    async fn into_hub(&self) -> String;
}

fn main() {}
