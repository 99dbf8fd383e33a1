//! A hub none of whose methods takes a context, with owned, compound and
//! `serde`-derived argument types, and argument patterns.

use hub_core::hub;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
pub struct Point {
    x: f64,
    y: f64,
}

#[hub]
pub trait NoCtx {
    async fn echo(&self, message: String) -> String;
    async fn no_arguments(&self);
    async fn many(&self, a: i32, b: String, c: Vec<u8>, d: Option<bool>, e: Point) -> Point;
    async fn ignored_name(&self, _: u32, (x, y): (i32, i32)) -> i32;
}

struct Impl {
    prefix: String,
}

impl NoCtx for Impl {
    async fn echo(&self, message: String) -> String {
        format!("{}{message}", self.prefix)
    }

    async fn no_arguments(&self) {}

    async fn many(&self, a: i32, b: String, c: Vec<u8>, d: Option<bool>, e: Point) -> Point {
        let _ = (a, b, c, d);
        e
    }

    async fn ignored_name(&self, _: u32, (x, y): (i32, i32)) -> i32 {
        x + y
    }
}

fn main() {
    let hub = Impl {
        prefix: String::from("> "),
    }
    .into_hub();
    drop(hub);
}
