//! Serving one connection: the task that owns its transport, from handshake
//! to cleanup, and everything a received message goes through on that task.
//!
//! ```text
//! lifecycle   handshake, registration, the loop, cleanup
//!  └ event_loop   reads and parses messages; writes what goes out
//!     ├ dispatch     Invocation → method: find, authorize, check, bind, filter
//!     ├ invocations  runs them: parallelism limit, queue, completion order
//!     ├ streams      streams in flight, both ways
//!     ├ spans        the tracing spans invocations and hooks run in
//!     └ wire         the transport: send timeouts, stateful reconnect replay
//! ```
//!
//! What a finished invocation sends is worded by `crate::reply`.

mod deadline;
mod dispatch;
mod event_loop;
mod handshake;
mod invocations;
mod lifecycle;
mod poll_on_wake;
mod replay;
mod spans;
mod streams;
mod wire;

pub(crate) use dispatch::Dispatcher;
pub(crate) use lifecycle::serve;
