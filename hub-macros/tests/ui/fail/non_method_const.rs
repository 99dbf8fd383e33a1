use hub_core::hub;

#[hub]
pub trait Hub {
    const NAME: &'static str;
    async fn echo(&self, message: String) -> String;
}

fn main() {}
