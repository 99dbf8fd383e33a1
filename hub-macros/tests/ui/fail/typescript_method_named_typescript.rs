use hub_core::hub;

#[hub(typescript)]
pub trait Chat {
    async fn typescript(&self) -> String;
}

fn main() {}
