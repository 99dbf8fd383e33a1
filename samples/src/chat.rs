//! The ASP.NET Core SignalR chat tutorial, as a Rust hub.

use hub_core::{Hub, HubBuilder, HubCtx, HubResult, hub, hub_client};
use hub_transport::ServerBuilder;

use crate::BrowserClient;
use crate::browser_client::{HTML, JAVASCRIPT};

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

/// The chat page and its scripts, built into the binary: `(URL path,
/// content type, body)`.
pub const PAGE: [(&str, &str, &[u8]); 3] = [
    ("/", HTML, include_bytes!("../chat/wwwroot/index.html")),
    (
        "/chat.js",
        JAVASCRIPT,
        include_bytes!("../chat/wwwroot/chat.js"),
    ),
    (
        "/chat-hub.js",
        JAVASCRIPT,
        include_bytes!("../chat/wwwroot/chat-hub.js"),
    ),
];

/// The chat server: the hub at `/chatHub`, the page (built in) at `/`, the
/// official client at `/lib/signalr.min.js`.
pub fn server(hub: Hub, client: &BrowserClient) -> ServerBuilder {
    PAGE.into_iter().fold(
        hub_transport::Server::builder()
            .hub("/chatHub", hub)
            .static_file("/lib/signalr.min.js", &client.signalr),
        |server, (path, content_type, body)| server.static_content(path, content_type, body),
    )
}
