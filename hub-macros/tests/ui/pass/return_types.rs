//! Every accepted return type: nothing, `()`, plain `Serialize` values,
//! `Result<T, E>` with `E: Into<HubError>`, and `HubResult<T>`.

use hub_core::{HubError, HubResult, hub};
use serde::Serialize;

#[derive(Serialize)]
pub struct Reply {
    text: String,
}

#[hub]
pub trait Returns {
    async fn nothing(&self);
    async fn unit(&self) -> ();
    async fn string(&self) -> String;
    async fn number(&self) -> i64;
    async fn optional(&self) -> Option<String>;
    async fn list(&self) -> Vec<Reply>;
    async fn custom(&self) -> Reply;
    async fn result_hub_error(&self) -> Result<String, HubError>;
    async fn result_std_error(&self, text: String) -> Result<i32, std::num::ParseIntError>;
    async fn result_unit(&self) -> Result<(), HubError>;
    async fn std_result_path(&self) -> std::result::Result<u8, HubError>;
    async fn hub_result(&self) -> HubResult<Reply>;
    async fn hub_result_unit(&self) -> HubResult<()>;
    async fn hub_result_path(&self) -> hub_core::HubResult<bool>;
}

struct Impl;

impl Returns for Impl {
    async fn nothing(&self) {}

    async fn unit(&self) -> () {}

    async fn string(&self) -> String {
        String::from("s")
    }

    async fn number(&self) -> i64 {
        42
    }

    async fn optional(&self) -> Option<String> {
        None
    }

    async fn list(&self) -> Vec<Reply> {
        Vec::new()
    }

    async fn custom(&self) -> Reply {
        Reply {
            text: String::from("t"),
        }
    }

    async fn result_hub_error(&self) -> Result<String, HubError> {
        Err(HubError::new("nope"))
    }

    async fn result_std_error(&self, text: String) -> Result<i32, std::num::ParseIntError> {
        text.parse()
    }

    async fn result_unit(&self) -> Result<(), HubError> {
        Ok(())
    }

    async fn std_result_path(&self) -> std::result::Result<u8, HubError> {
        Ok(1)
    }

    async fn hub_result(&self) -> HubResult<Reply> {
        Ok(Reply {
            text: String::new(),
        })
    }

    async fn hub_result_unit(&self) -> HubResult<()> {
        Ok(())
    }

    async fn hub_result_path(&self) -> hub_core::HubResult<bool> {
        Ok(true)
    }
}

fn main() {
    let hub = Impl.into_hub();
    drop(hub);
}
