use hub_core::hub;

pub struct NotAnError;

#[hub]
pub trait Hub {
    async fn echo(&self, message: String) -> Result<String, NotAnError>;
}

fn main() {}
