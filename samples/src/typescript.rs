//! The TypeScript modules the samples ship, generated from their hubs
//! (`#[hub(typescript)]`) into `samples/typescript/` by the `gen-typescript`
//! binary (`scripts/typescript.sh` also compiles the chat page's copy).

use std::path::PathBuf;

use hub_core::typescript::HubApi;

use crate::chat::{Chat, ChatHub};
use crate::testhub::{Test, TestHub};

/// Where the generated modules live.
pub fn directory() -> PathBuf {
    crate::repo_root().join("samples/typescript")
}

/// Every generated module: its file name under [`directory`] and its hub.
pub fn modules() -> Vec<(&'static str, HubApi)> {
    vec![
        ("chat-hub.ts", ChatHub::typescript()),
        ("test-hub.ts", TestHub::typescript()),
    ]
}
