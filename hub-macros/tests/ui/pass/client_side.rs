//! The client side the macros generate (`{Trait}Proxy`, `{Trait}Handler`)
//! compiles for hubs whose types travel one way only: a result that is only
//! `Serialize`, an argument that is only `Deserialize`, a client argument
//! that is only `Serialize` (and borrowed). Their serde bounds are checked
//! where a call is awaited or a handler registered, not here.

use futures_util::Stream;
use hub_core::{HubResult, UploadStream, hub, hub_client};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct Report {
    pub total: u32,
}

#[derive(Deserialize)]
pub struct Query {
    pub text: String,
}

#[derive(Serialize)]
pub struct Stroke {
    pub x: u32,
}

#[hub_client]
pub trait BoardClient {
    async fn draw(&self, strokes: &[Stroke], by: &str);
    async fn confirm(&self, question: String) -> HubResult<bool>;
}

#[hub(client = BoardClient)]
pub trait Board {
    async fn report(&self, query: Query) -> Report;
    async fn numbers(&self, count: u32) -> impl Stream<Item = HubResult<u32>>;
    async fn total(&self, label: String, values: UploadStream<u32>) -> HubResult<u32>;
}

struct Viewer;

impl BoardClientHandler for Viewer {
    async fn draw(&self, strokes: Vec<Stroke>, by: String) {
        let _ = (strokes.len(), by);
    }

    async fn confirm(&self, question: String) -> HubResult<bool> {
        Ok(!question.is_empty())
    }
}

fn main() {
    // The proxy exists for any caller type; its methods build lazy calls.
    fn _proxy<C: hub_core::client_api::HubCaller>(proxy: BoardProxy<C>) {
        let _call = proxy.total("sum".into(), futures_util::stream::iter([1u32, 2]));
        let _stream = proxy.numbers(3);
    }
    let _ = Viewer;
}
