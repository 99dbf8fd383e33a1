//! The Rust client (`hub-client`) against this project's server, over every
//! transport × protocol pair (WebSockets, Server-Sent Events, Long Polling ×
//! JSON, MessagePack; SSE carries JSON only): what `tests/js` covers with
//! the official client — methods, every client target, groups, streams both
//! ways and their cancellation, client results, errors, automatic and
//! stateful reconnect, timeouts — plus negotiate options and servers that
//! misbehave.

mod bad_servers;
mod calls;
mod connection;
mod support;
mod targets;
