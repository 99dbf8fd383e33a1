use hub_core::hub;

#[hub]
pub trait Hub {
    async fn echo(&self, message: String) -> String;
    #[hub(name = "ECHO")]
    async fn other(&self, message: String) -> String;
}

fn main() {}
