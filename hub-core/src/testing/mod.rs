//! Testing hubs without HTTP: an in-memory transport and a client speaking
//! the JSON hub protocol over it.
//!
//! [`TestClient`] connects to a [`Hub`](crate::Hub) as a real client does
//! (handshake, messages, Close), through the same connection code a socket
//! goes through; only the socket is missing. Run such tests with tokio's
//! paused clock (`#[tokio::test(start_paused = true)]`) to let keep-alives
//! and timeouts pass at once.

mod client;
mod memory;

pub use client::{TestClient, TestClientOptions};
pub use memory::{MemoryPeer, MemoryTransport, MemoryTransportOptions, memory_pair};
