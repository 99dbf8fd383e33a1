//! Sample hubs, as libraries (so tests can start them in-process) with thin binaries:
//!
//! * [`chat`]: the ASP.NET Core SignalR chat tutorial, with its page;
//!   [`axum_chat`]: the same hub inside an axum application;
//!   [`chat_client`]: a terminal client of the room, on the Rust client.
//! * [`clock`]: a background task pushing the time to every client.
//! * [`whiteboard`]: a canvas every page paints on together.
//! * [`testhub`]: the fixed hub contract every client test relies on
//!   (`shared/docs/test-hub.md`).
//! * [`typescript`]: the TypeScript modules generated from the chat and test hubs.
//! * [`weatherhub`]: the server the `pysignalr` Python client's own
//!   integration tests expect (a hub and a JWT login).

pub mod axum_chat;
pub mod browser_client;
pub mod chat;
pub mod chat_client;
pub mod cli;
pub mod clock;
pub mod jwt;
pub mod telemetry;
pub mod testhub;
pub mod typescript;
pub mod weatherhub;
pub mod whiteboard;

use std::path::PathBuf;

pub use browser_client::BrowserClient;

/// The repository root at build time (where `npm ci` installs `node_modules`;
/// the samples look there last, and only for the browser client).
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
