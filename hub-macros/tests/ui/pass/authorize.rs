use hub_core::hub;

#[hub(authorize)]
pub trait Admin {
    async fn everyone_signed_in(&self) -> String;
    #[hub(authorize = "admin")]
    async fn admins_only(&self) -> String;
}

#[hub]
pub trait Mixed {
    async fn open(&self) -> String;
    #[hub(authorize, name = "Secret")]
    async fn signed_in(&self) -> String;
}

struct AdminHub;

impl Admin for AdminHub {
    async fn everyone_signed_in(&self) -> String {
        "hello".into()
    }

    async fn admins_only(&self) -> String {
        "secret".into()
    }
}

struct MixedHub;

impl Mixed for MixedHub {
    async fn open(&self) -> String {
        "open".into()
    }

    async fn signed_in(&self) -> String {
        "signed in".into()
    }
}

fn main() {
    let _ = AdminHub.into_hub();
    let _ = MixedHub.into_hub();
}
