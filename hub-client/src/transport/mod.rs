//! The transports: WebSockets, Server-Sent Events and Long Polling, each a
//! leaf, behind one interface (`any`) the connection drives.

mod any;
mod common;
mod long_polling;
mod post;
mod sse;
mod websocket;

pub(crate) use any::Transport;
pub(crate) use common::{Endpoint, Frame, Received};
