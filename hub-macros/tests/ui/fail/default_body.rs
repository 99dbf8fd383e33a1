use hub_core::hub;

#[hub]
pub trait Hub {
    async fn echo(&self, message: String) -> String {
        message
    }
}

fn main() {}
