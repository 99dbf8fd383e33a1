//! TypeScript for `@microsoft/signalr` users, generated from a hub (feature
//! `typescript`).
//!
//! Add `typescript` to both macros and the server trait gains
//! `fn typescript() -> HubApi`, a description of its methods and client
//! callbacks that renders as one self-contained TypeScript module:
//!
//! ```
//! use hub_core::{HubCtx, HubResult, hub, hub_client};
//! use serde::{Deserialize, Serialize};
//! use ts_rs::TS;
//!
//! /// A chat message.
//! #[derive(Serialize, Deserialize, TS)]
//! pub struct Message {
//!     user: String,
//!     text: String,
//! }
//!
//! #[hub_client(typescript)]
//! pub trait ChatClient {
//!     /// Someone said something.
//!     async fn receive_message(&self, message: Message);
//! }
//!
//! #[hub(client = ChatClient, typescript)]
//! pub trait Chat {
//!     /// Says something to everyone.
//!     async fn send_message(&self, ctx: &HubCtx, message: Message) -> HubResult<()>;
//! }
//!
//! struct ChatHub;
//! impl Chat for ChatHub {
//!     async fn send_message(&self, ctx: &HubCtx, message: Message) -> HubResult<()> {
//!         ctx.clients().all().receive_message(message).await
//!     }
//! }
//!
//! let module = ChatHub::typescript().to_typescript();
//! assert!(module.contains("export type Message = { user: string, text: string, };"));
//! assert!(module.contains("sendMessage: (message: Message): Promise<void> =>"));
//! assert!(module.contains("receiveMessage: (handler: (message: Message) => void)"));
//! // ChatHub::typescript().write("web/src/chat-hub.ts")?;
//! ```
//!
//! The module exports every argument and result type (as `ts-rs` declares
//! them: derive [`TS`] on your own types, honouring their serde attributes),
//! an interface of the client callbacks, and a class wrapping a
//! `HubConnection`:
//!
//! ```ts
//! import { ChatHub } from "./chat-hub.js";
//! const chat = new ChatHub(connection);
//! chat.on.receiveMessage((message) => console.log(message.user, message.text));
//! await chat.invoke.sendMessage({ user: "ann", text: "hi" });   // waits for the method
//! await chat.send.sendMessage({ user: "ann", text: "hi" });     // fire and forget
//! chat.stream.counter(10, 100).subscribe({ next: (n) => console.log(n), ... });
//! ```
//!
//! It imports only types from `@microsoft/signalr`, so the compiled JavaScript
//! has no imports at all and loads as-is in a browser beside the UMD build.
//! 64-bit integers are `number` (JSON and the MessagePack client both produce
//! numbers; values beyond 2^53 lose precision, as they do in any JS client).

mod declarations;
mod model;
mod render;

pub use model::{HubApi, MethodApi, ParamApi, Returns, TypeRef, type_ref};
pub use ts_rs::{self, TS};

use std::io;
use std::path::Path;

use crate::clients::ClientProxy;
use crate::error::HubResult;

impl HubApi {
    /// The TypeScript module: type declarations, the client callbacks
    /// interface and the hub class.
    pub fn to_typescript(&self) -> String {
        render::module(self)
    }

    /// Writes [`to_typescript`](Self::to_typescript) to `path`, creating its
    /// directory; leaves the file untouched when it is already up to date (so
    /// watchers and incremental builds do not see a change).
    pub fn write(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let module = self.to_typescript();
        if std::fs::read_to_string(path).is_ok_and(|existing| existing == module) {
            return Ok(());
        }
        if let Some(directory) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(directory)?;
        }
        std::fs::write(path, module)
    }
}

/// A client target that never exists: generated code names the client
/// callbacks trait through it (`<Probe as ChatClient>::...`).
#[doc(hidden)]
#[derive(Debug)]
pub enum Probe {}

impl ClientProxy for Probe {
    async fn send<A>(&self, _method: &str, _arguments: A) -> HubResult<()>
    where
        A: serde::Serialize + Send + Sync,
    {
        match *self {}
    }
}
