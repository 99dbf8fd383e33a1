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
mod render;

pub use ts_rs::{self, TS};

use std::io;
use std::path::Path;

use crate::clients::ClientProxy;
use crate::error::HubResult;
use declarations::Declarations;

/// A hub's methods and client callbacks, described for TypeScript.
///
/// Built by `fn typescript()`, which `#[hub(typescript)]` adds to the hub
/// trait; render it with [`to_typescript`](Self::to_typescript) or
/// [`write`](Self::write).
#[derive(Debug, Clone)]
pub struct HubApi {
    name: &'static str,
    docs: &'static [&'static str],
    methods: Vec<MethodApi>,
    client: Option<ClientApi>,
}

/// The client callbacks of a hub.
#[derive(Debug, Clone)]
struct ClientApi {
    name: &'static str,
    docs: &'static [&'static str],
    callbacks: Vec<MethodApi>,
}

impl HubApi {
    /// Starts the description of the hub trait `name` (generated code).
    #[doc(hidden)]
    pub fn new(name: &'static str, docs: &'static [&'static str]) -> Self {
        Self {
            name,
            docs,
            methods: Vec::new(),
            client: None,
        }
    }

    /// Adds a hub method (generated code).
    #[doc(hidden)]
    pub fn method(&mut self, method: MethodApi) {
        self.methods.push(method);
    }

    /// Names the client callbacks trait (generated code).
    #[doc(hidden)]
    pub fn client(&mut self, name: &'static str, docs: &'static [&'static str]) {
        self.client = Some(ClientApi {
            name,
            docs,
            callbacks: Vec::new(),
        });
    }

    /// Adds a client callback (generated code).
    #[doc(hidden)]
    pub fn callback(&mut self, callback: MethodApi) {
        if let Some(client) = &mut self.client {
            client.callbacks.push(callback);
        }
    }

    /// The Rust name of the hub trait.
    pub fn name(&self) -> &str {
        self.name
    }

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

/// One hub method or client callback (generated code).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct MethodApi {
    /// The wire name (`SendMessage`); the TypeScript name is its camelCase
    /// (`sendMessage`).
    pub wire_name: &'static str,
    /// The doc comment, one entry per line.
    pub docs: &'static [&'static str],
    /// The parameters, in order (upload streams among them).
    pub params: Vec<ParamApi>,
    /// What it returns.
    pub returns: Returns,
}

/// A parameter (generated code).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ParamApi {
    /// The Rust name.
    pub rust_name: &'static str,
    /// Its type; for an upload stream, the item type.
    pub ty: TypeRef,
    /// Whether it is an upload stream (`UploadStream<T>`).
    pub upload: bool,
}

/// What a method returns (generated code).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub enum Returns {
    /// No value (`()`, `HubResult<()>`).
    Nothing,
    /// A value.
    Value(TypeRef),
    /// A stream of items (server methods only).
    Stream(TypeRef),
}

/// A Rust type's TypeScript name and declarations (generated code).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct TypeRef {
    name: fn(&ts_rs::Config) -> String,
    declare: fn(&mut Declarations),
}

impl std::fmt::Debug for TypeRef {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("TypeRef")
    }
}

/// The [`TypeRef`] of `T` (generated code).
#[doc(hidden)]
pub fn type_ref<T: TS + 'static + ?Sized>() -> TypeRef {
    TypeRef {
        name: <T as TS>::name,
        declare: declarations::declare::<T>,
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
