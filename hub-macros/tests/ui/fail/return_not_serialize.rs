use hub_core::hub;

pub struct NotSerialize;

#[hub]
pub trait Hub {
    async fn echo(&self, message: String) -> NotSerialize;
}

fn main() {}
