use hub_core::hub;

#[hub]
pub trait Hub {
    type Message;
    async fn echo(&self, message: String) -> String;
}

fn main() {}
