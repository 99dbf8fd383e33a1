use hub_core::hub;

#[hub]
pub trait Hub {
    #[hub(name = "")]
    async fn echo(&self, message: String) -> String;
}

fn main() {}
