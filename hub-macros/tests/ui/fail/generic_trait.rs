use hub_core::hub;

#[hub]
pub trait Hub<T> {
    async fn echo(&self, message: String) -> String;
}

fn main() {}
