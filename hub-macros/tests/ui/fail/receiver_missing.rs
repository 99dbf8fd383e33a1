use hub_core::hub;

#[hub]
pub trait Hub {
    async fn echo(message: String) -> String;
}

fn main() {}
