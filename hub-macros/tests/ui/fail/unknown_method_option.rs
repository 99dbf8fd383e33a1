use hub_core::hub;

#[hub]
pub trait Hub {
    #[hub(rename = "Other")]
    async fn echo(&self, message: String) -> String;
}

fn main() {}
