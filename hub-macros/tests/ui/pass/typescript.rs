use futures_util::Stream;
use hub_core::{HubCtx, HubResult, UploadStream, hub, hub_client};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A page of items.
#[derive(Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

#[derive(Serialize, Deserialize, TS)]
pub struct Item {
    id: u64,
}

#[hub_client(typescript)]
pub trait Callbacks {
    /// Pushed to clients.
    async fn pushed(&self, item: Item, note: Option<String>);
    async fn confirm(&self, question: String) -> bool;
}

/// The inventory.
#[hub(client = Callbacks, typescript)]
pub trait Inventory {
    /// Lists a page.
    async fn list(&self, ctx: &HubCtx, cursor: Option<String>) -> HubResult<Page<Item>>;
    #[hub(name = "remove-item")]
    async fn remove(&self, id: u64) -> HubResult<()>;
    async fn watch(&self, r#type: String) -> HubResult<impl Stream<Item = HubResult<Item>>>;
    async fn import(&self, items: UploadStream<Item>, label: String) -> usize;
}

struct Shop;

impl Inventory for Shop {
    async fn list(&self, _ctx: &HubCtx, _cursor: Option<String>) -> HubResult<Page<Item>> {
        Ok(Page { items: vec![Item { id: 1 }], next_cursor: None })
    }

    async fn remove(&self, _id: u64) -> HubResult<()> {
        Ok(())
    }

    async fn watch(&self, _type: String) -> HubResult<impl Stream<Item = HubResult<Item>>> {
        Ok(futures_util::stream::empty())
    }

    async fn import(&self, _items: UploadStream<Item>, _label: String) -> usize {
        0
    }
}

fn main() {
    let module = Shop::typescript().to_typescript();
    for expected in [
        "import type { HubConnection, IStreamResult } from \"@microsoft/signalr\";",
        "/**\n * A page of items.\n */\nexport type Page<T> = { items: Array<T>, nextCursor: string | null, };",
        "export type Item = { id: number, };",
        "export interface Callbacks {",
        "  /** Pushed to clients. */\n  pushed(item: Item, note: string | null): void;",
        "  confirm(question: string): boolean | Promise<boolean>;",
        "/** The inventory. */\nexport class InventoryHub {",
        "    /** Lists a page. */\n    list: (cursor: string | null): Promise<Page<Item>> =>\n      this.connection.invoke<Page<Item>>(\"List\", cursor),",
        "    \"remove-item\": (id: number): Promise<void> =>\n      this.connection.invoke<void>(\"remove-item\", id),",
        "    watch: (type: string): IStreamResult<Item> =>\n      this.connection.stream<Item>(\"Watch\", type),",
        "    import: (items: IStreamResult<Item>, label: string): Promise<number> =>",
        "      this.on[\"pushed\"]",
    ] {
        if expected.starts_with("      this.on[") {
            assert!(!module.contains(expected), "identifiers are not quoted:\n{module}");
            continue;
        }
        assert!(module.contains(expected), "missing {expected:?} in:\n{module}");
    }
    assert!(module.contains("this.on.pushed((...args) => client.pushed(...args)),"), "{module}");
}
