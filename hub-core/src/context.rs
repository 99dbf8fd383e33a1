//! The context a hub method runs in: who called, and how to reach everyone else.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::clients::CallerClients;
use crate::connection::{CloseReason, Connection};
use crate::groups::{Groups, Users};
use crate::hub_context::HubContext;
use crate::hub_state::HubState;
use crate::id::ConnectionId;
use crate::items::Items;
use crate::transport::Identity;
use hub_protocol::Protocol;

/// The context of a hub method call: the calling connection, its user, its
/// items, and every client target (ASP.NET's `Hub.Context`, `Hub.Clients` and
/// `Hub.Groups` in one value). Cheap to clone.
///
/// It is where a connection and its hub meet: the connection's task makes
/// one for the connection's life, to call the hub's code with.
#[derive(Clone)]
pub struct HubCtx(Arc<Caller>);

struct Caller {
    hub: Arc<HubState>,
    connection: Arc<Connection>,
}

impl HubCtx {
    pub(crate) fn new(hub: Arc<HubState>, connection: Arc<Connection>) -> Self {
        Self(Arc::new(Caller { hub, connection }))
    }

    fn connection(&self) -> &Connection {
        &self.0.connection
    }

    /// The caller's connection id.
    pub fn connection_id(&self) -> &ConnectionId {
        self.connection().id()
    }

    /// The caller's user id, or `None` when anonymous.
    pub fn user_id(&self) -> Option<&str> {
        self.connection().user_id()
    }

    /// The caller's identity as last authenticated: its claims and their
    /// expiry change when the client refreshes its token
    /// (`POST {hub}/refresh`), its user id never does.
    pub fn identity(&self) -> Arc<Identity> {
        self.connection().identity()
    }

    /// The claims of the caller's user, as last authenticated.
    pub fn claims(&self) -> Vec<(String, String)> {
        self.connection().identity().claims.clone()
    }

    /// Values attached to the connection for its lifetime (ASP.NET's `Context.Items`).
    pub fn items(&self) -> &Items {
        self.connection().items()
    }

    /// The hub protocol the caller speaks.
    pub fn protocol(&self) -> Protocol {
        self.connection().protocol()
    }

    /// The caller's transport (`WebSockets`, `ServerSentEvents`, `LongPolling`).
    pub fn transport(&self) -> &'static str {
        self.connection().transport()
    }

    /// The caller's network address, when known.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.connection().remote_addr()
    }

    /// Every client target, including the caller-relative ones.
    pub fn clients(&self) -> CallerClients<'_> {
        CallerClients::new(&self.0.hub, &self.0.connection)
    }

    /// Adds connections (any, not only the caller) to groups and removes them.
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(&self.0.hub)
    }

    /// Who is connected, by user.
    pub fn users(&self) -> Users<'_> {
        Users::new(&self.0.hub)
    }

    /// A handle to the hub that outlives this call (for spawned tasks).
    pub fn hub_context(&self) -> HubContext {
        HubContext::new(self.0.hub.clone())
    }

    /// Closes the caller's connection. The client gets a Close message with
    /// `error` and `allow_reconnect` (the JS client reconnects automatically
    /// only when `allow_reconnect` is true and it was built with
    /// `withAutomaticReconnect()`).
    pub fn abort(&self, error: Option<String>, allow_reconnect: bool) {
        self.connection().close(CloseReason::Aborted {
            error,
            allow_reconnect,
        });
    }
}

impl std::fmt::Debug for HubCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubCtx")
            .field("connection", &self.0.connection)
            .finish()
    }
}
