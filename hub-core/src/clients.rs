//! Client targets (`all`, `caller`, `group(..)`, ...) and group management.
//!
//! A target is a value implementing [`ClientProxy`]; `#[hub_client]` traits are
//! implemented for every such value, so `ctx.clients().all().receive(..)` is a
//! typed call that ends in [`ClientProxy::send`].

use std::future::Future;
use std::ops::Deref;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::connection::Connection;
use crate::error::HubResult;
use crate::hub_state::HubState;
use crate::id::ConnectionId;
use crate::registry::Target;

/// Something client methods can be called on: one connection or many.
///
/// Implemented by [`Recipients`] and [`Recipient`]; `#[hub_client]` traits are
/// implemented for every `ClientProxy`.
pub trait ClientProxy: Sync {
    /// Sends `method(arguments...)` (a non-blocking Invocation) to every
    /// connection of the target. `arguments` is a tuple of the arguments.
    ///
    /// Resolves once the message is queued for every recipient; it never waits
    /// for a slow recipient (see `HubOptions::outbound_queue_capacity`).
    fn send<A>(&self, method: &str, arguments: A) -> impl Future<Output = HubResult<()>> + Send
    where
        A: Serialize + Send + Sync;
}

/// Exactly one connection: client methods with a return value (client results)
/// can be called on it.
pub trait SingleClientProxy: ClientProxy {
    /// Invokes `method(arguments...)` on the connection and waits for the value
    /// its handler returns (`connection.on("method", ...)` returning a value or
    /// a promise in the JS client).
    ///
    /// Fails with the client's error (e.g. "Client didn't provide a result."
    /// when it has no handler), with `Connection '<id>' does not exist.` or
    /// "... disconnected.", or after `HubOptions::client_result_timeout`.
    fn invoke<R, A>(&self, method: &str, arguments: A) -> impl Future<Output = HubResult<R>> + Send
    where
        R: DeserializeOwned + Send,
        A: Serialize + Send + Sync;
}

/// Every target of a hub (ASP.NET's `IHubClients`).
#[derive(Clone, Copy)]
pub struct Clients<'a> {
    hub: &'a HubState,
    /// The calling connection inside a hub method: sends wait for room in its
    /// own outbox, pacing a method that floods its caller.
    caller: Option<&'a Connection>,
}

impl<'a> Clients<'a> {
    pub(crate) fn new(hub: &'a HubState) -> Self {
        Self { hub, caller: None }
    }

    fn to(&self, target: Target) -> Recipients<'a> {
        Recipients {
            hub: self.hub,
            caller: self.caller,
            target,
        }
    }

    /// Every connection of the hub.
    pub fn all(&self) -> Recipients<'a> {
        self.to(Target::All)
    }

    /// Every connection but the listed ones.
    pub fn all_except<I>(&self, excluded: I) -> Recipients<'a>
    where
        I: IntoIterator,
        I::Item: Into<ConnectionId>,
    {
        self.to(Target::AllExcept(ids(excluded)))
    }

    /// One connection; unknown ids are skipped silently, as in ASP.NET.
    pub fn client(&self, connection_id: impl Into<ConnectionId>) -> Recipient<'a> {
        Recipient {
            hub: self.hub,
            caller: self.caller,
            connection_id: connection_id.into(),
        }
    }

    /// The listed connections.
    pub fn clients<I>(&self, connection_ids: I) -> Recipients<'a>
    where
        I: IntoIterator,
        I::Item: Into<ConnectionId>,
    {
        self.to(Target::Connections(ids(connection_ids)))
    }

    /// The members of a group.
    pub fn group(&self, name: impl Into<String>) -> Recipients<'a> {
        self.to(Target::Group(name.into()))
    }

    /// The members of several groups; a connection in two of them gets two copies, as in ASP.NET.
    pub fn groups<I>(&self, names: I) -> Recipients<'a>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.to(Target::Groups(names.into_iter().map(Into::into).collect()))
    }

    /// The members of a group but the listed connections.
    pub fn group_except<I>(&self, name: impl Into<String>, excluded: I) -> Recipients<'a>
    where
        I: IntoIterator,
        I::Item: Into<ConnectionId>,
    {
        self.to(Target::GroupExcept(name.into(), ids(excluded)))
    }

    /// Every connection of a user (user ids compare case-sensitively).
    pub fn user(&self, user_id: impl Into<String>) -> Recipients<'a> {
        self.to(Target::User(user_id.into()))
    }

    /// Every connection of the listed users.
    pub fn users<I>(&self, user_ids: I) -> Recipients<'a>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.to(Target::Users(
            user_ids.into_iter().map(Into::into).collect(),
        ))
    }
}

fn ids<I>(ids: I) -> Vec<ConnectionId>
where
    I: IntoIterator,
    I::Item: Into<ConnectionId>,
{
    ids.into_iter().map(Into::into).collect()
}

impl std::fmt::Debug for Clients<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("caller", &self.caller.map(Connection::id))
            .finish()
    }
}

/// The targets of a hub method: every [`Clients`] target plus the
/// caller-relative ones (ASP.NET's `IHubCallerClients`).
#[derive(Debug, Clone, Copy)]
pub struct CallerClients<'a> {
    clients: Clients<'a>,
    caller: &'a Connection,
}

impl<'a> CallerClients<'a> {
    pub(crate) fn new(hub: &'a HubState, caller: &'a Connection) -> Self {
        Self {
            clients: Clients {
                hub,
                caller: Some(caller),
            },
            caller,
        }
    }

    /// The calling connection.
    pub fn caller(&self) -> Recipient<'a> {
        self.clients.client(self.caller.id())
    }

    /// Every connection but the caller.
    pub fn others(&self) -> Recipients<'a> {
        self.clients.all_except([self.caller.id()])
    }

    /// The members of a group but the caller.
    pub fn others_in_group(&self, name: impl Into<String>) -> Recipients<'a> {
        self.clients.group_except(name, [self.caller.id()])
    }
}

impl<'a> Deref for CallerClients<'a> {
    type Target = Clients<'a>;
    fn deref(&self) -> &Clients<'a> {
        &self.clients
    }
}

/// A target that may name many connections.
pub struct Recipients<'a> {
    hub: &'a HubState,
    caller: Option<&'a Connection>,
    target: Target,
}

impl ClientProxy for Recipients<'_> {
    async fn send<A>(&self, method: &str, arguments: A) -> HubResult<()>
    where
        A: Serialize + Send + Sync,
    {
        self.hub.send(&self.target, method, &arguments)?;
        pace(self.caller).await;
        Ok(())
    }
}

impl std::fmt::Debug for Recipients<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recipients")
            .field("target", &self.target)
            .finish()
    }
}

/// Exactly one connection (`caller()`, `client(id)`).
pub struct Recipient<'a> {
    hub: &'a HubState,
    caller: Option<&'a Connection>,
    connection_id: ConnectionId,
}

impl Recipient<'_> {
    /// The connection this target names.
    pub fn connection_id(&self) -> &ConnectionId {
        &self.connection_id
    }
}

impl ClientProxy for Recipient<'_> {
    async fn send<A>(&self, method: &str, arguments: A) -> HubResult<()>
    where
        A: Serialize + Send + Sync,
    {
        let target = Target::Connection(self.connection_id.clone());
        self.hub.send(&target, method, &arguments)?;
        pace(self.caller).await;
        Ok(())
    }
}

impl SingleClientProxy for Recipient<'_> {
    async fn invoke<R, A>(&self, method: &str, arguments: A) -> HubResult<R>
    where
        R: DeserializeOwned + Send,
        A: Serialize + Send + Sync,
    {
        self.hub
            .invoke_client(&self.connection_id, method, &arguments)
            .await
    }
}

impl std::fmt::Debug for Recipient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recipient")
            .field("connection_id", &self.connection_id)
            .finish()
    }
}

async fn pace(caller: Option<&Connection>) {
    if let Some(caller) = caller {
        caller.wait_for_outbox_room().await;
    }
}

#[cfg(test)]
mod tests;
