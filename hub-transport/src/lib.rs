//! SignalR transports over HTTP for `hub-core` hubs, on hyper 1.
//!
//! A [`Server`] maps hubs to paths and serves, for each, `POST {path}/negotiate`
//! and the WebSockets, Server-Sent Events and Long Polling transports at
//! `{path}`, the way ASP.NET Core's
//! `MapHub<T>(path)` does; it can also serve static files for samples.
//!
//! ```no_run
//! use hub_core::{HubCtx, HubResult, hub, hub_client};
//!
//! #[hub_client]
//! trait ChatClient {
//!     async fn receive_message(&self, user: String, message: String);
//! }
//!
//! #[hub(client = ChatClient)]
//! trait Chat {
//!     async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()>;
//! }
//!
//! struct ChatHub;
//! impl Chat for ChatHub {
//!     async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()> {
//!         ctx.clients().all().receive_message(user, message).await
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = hub_transport::Server::builder()
//!         .hub("/chatHub", ChatHub.into_hub())
//!         .bind("127.0.0.1:5000".parse().unwrap())
//!         .await?;
//!     println!("listening on http://{}", server.local_addr());
//!     server.run_until_signal().await
//! }
//! ```

mod accept_failures;
mod auth;
mod connection_metrics;
mod connections;
mod cors;
mod endpoint;
mod forward;
mod http_util;
mod long_polling;
mod negotiate;
mod options;
mod peer_answers;
mod refresh;
mod request_span;
mod server;
mod service;
mod sessions;
mod shutdown;
mod sse;
mod static_files;
mod websocket;

pub use auth::{Authenticator, Unauthorized, bearer_token};
pub use connection_metrics::CONNECTION_DURATION_BUCKETS;
pub use cors::Cors;
pub use endpoint::RequestBody;
pub use http_util::Body;
pub use options::{EndpointOptions, Transports};
pub use server::{Server, ServerBuilder, ShutdownHandle};
pub use service::{HubService, HubServiceBuilder};
pub use shutdown::shutdown_signal;

/// Crate-private helpers exposed for the fuzz targets in `fuzz/` and the corpus
/// replay test; not part of the API (no stability promise). Each function only
/// forwards to the code the server runs.
#[doc(hidden)]
pub mod __fuzz {
    use std::path::{Path, PathBuf};

    use bytes::Bytes;

    /// The first value of query parameter `name`, as negotiate and the
    /// transports read `id`, `negotiateVersion`, `useStatefulReconnect`.
    pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
        crate::http_util::query_param(query, name)
    }

    /// A payload formatted as one Server-Sent Event (`data:` lines, blank line).
    pub fn sse_event(payload: &[u8]) -> Bytes {
        crate::sse::event(payload)
    }

    /// The file a request `path` maps to under a static mount of `target` at
    /// `url_path` (a directory when `is_dir`), as the static file server resolves it.
    pub fn resolve_static(
        url_path: &str,
        target: &Path,
        is_dir: bool,
        path: &str,
    ) -> Option<PathBuf> {
        crate::static_files::StaticMount {
            url_path: url_path.to_owned(),
            target: target.to_owned(),
            is_dir,
        }
        .resolve(path)
    }
}
