use hub_core::hub;

#[hub]
pub trait Hub {
    fn echo(&self, message: String) -> String;
}

fn main() {}
