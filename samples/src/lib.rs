//! Sample hubs, as libraries (so tests can start them in-process) with thin binaries:
//!
//! * [`chat`]: the ASP.NET Core SignalR chat tutorial, with its page;
//!   [`axum_chat`]: the same hub inside an axum application.
//! * [`clock`]: a background task pushing the time to every client.
//! * [`whiteboard`]: a canvas every page paints on together.
//! * [`testhub`]: the fixed hub contract every client test relies on
//!   (`shared/docs/test-hub.md`).
//! * [`typescript`]: the TypeScript modules generated from the chat and test hubs.
//! * [`weatherhub`]: the server the `pysignalr` Python client's own
//!   integration tests expect (a hub and a JWT login).

pub mod axum_chat;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod jwt;
pub mod testhub;
pub mod typescript;
pub mod weatherhub;
pub mod whiteboard;

use std::path::PathBuf;

/// The repository root (where `node_modules` is installed by `npm ci`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The official `@microsoft/signalr` browser build, from `node_modules`.
pub fn signalr_browser_js() -> PathBuf {
    repo_root().join("node_modules/@microsoft/signalr/dist/browser/signalr.min.js")
}

/// The browser build of the official MessagePack hub protocol
/// (`@microsoft/signalr-protocol-msgpack`), from `node_modules`.
pub fn signalr_msgpack_browser_js() -> PathBuf {
    repo_root().join(
        "node_modules/@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js",
    )
}
