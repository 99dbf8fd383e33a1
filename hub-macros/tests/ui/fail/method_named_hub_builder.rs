use hub_core::hub;

#[hub]
pub trait Hub {
    async fn hub_builder(&self) -> String;
}

fn main() {}
