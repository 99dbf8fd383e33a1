use hub_core::hub;

pub struct NotDeserialize;

#[hub]
pub trait Hub {
    async fn echo(&self, message: String, other: NotDeserialize) -> String;
}

fn main() {}
