use hub_core::hub;

#[hub]
pub trait Hub {
    async fn echo(&mut self, message: String) -> String;
}

fn main() {}
