//! A hub connection: its handle, the task that drives it, and the pieces
//! they share.

mod builder;
mod callbacks;
mod calls;
mod driver;
mod handle;
mod shared;
mod start;
mod stateful;

pub use builder::HubConnectionBuilder;
pub use calls::HubStream;
pub use handle::HubConnection;
pub use shared::ConnectionState;
