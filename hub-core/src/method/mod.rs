//! Hub methods as the runtime sees them: a table of wire names, each with a
//! shim that binds a call's arguments and starts it.
//!
//! The `#[hub]` macro emits one [`MethodTable::method`] row per trait method;
//! argument decoding, results, streams and uploads live here, in plain generic
//! code the shims call.

mod call;
mod stream_sink;
mod table;

pub use call::{IntoMethodResult, MethodCall, boxed};
pub use stream_sink::StreamSink;
pub(crate) use table::HubMethods;
pub use table::{Authorize, ConnectedFn, DisconnectedFn, InvokeFn, MethodSpec, MethodTable};
