use hub_core::hub;

#[hub]
pub trait Hub {
    async fn echo<T: serde::de::DeserializeOwned>(&self, message: T) -> String;
}

fn main() {}
