//! The ASP.NET Core SignalR chat tutorial, as a Rust hub.

use hub_core::{Hub, HubBuilder, HubCtx, HubResult, hub, hub_client};
use hub_transport::ServerBuilder;

/// What the chat hub calls on its clients.
#[hub_client(typescript)]
pub trait ChatClient {
    /// A message from `user`.
    async fn receive_message(&self, user: String, message: String);
}

/// The chat hub's methods.
#[hub(client = ChatClient, typescript)]
pub trait Chat {
    /// Sends `message` from `user` to everyone.
    async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()>;
}

/// The chat hub.
#[derive(Debug, Default)]
pub struct ChatHub;

impl Chat for ChatHub {
    async fn send_message(&self, ctx: &HubCtx, user: String, message: String) -> HubResult<()> {
        ctx.clients().all().receive_message(user, message).await
    }
}

/// The chat hub.
pub fn hub() -> Hub {
    builder().build()
}

/// The builder of [`hub()`], to set options or a backplane first.
pub fn builder() -> HubBuilder {
    ChatHub.hub_builder()
}

/// The chat server: the hub at `/chatHub`, the page at `/`, the official
/// client at `/lib/signalr.min.js`.
pub fn server(hub: Hub) -> ServerBuilder {
    let js = crate::signalr_browser_js();
    if !js.exists() {
        tracing::warn!(
            path = %js.display(),
            "the @microsoft/signalr browser build is missing; run `npm ci` in the repository root"
        );
    }
    hub_transport::Server::builder()
        .hub("/chatHub", hub)
        .static_file("/lib/signalr.min.js", js)
        .static_dir("/", concat!(env!("CARGO_MANIFEST_DIR"), "/chat/wwwroot"))
}
