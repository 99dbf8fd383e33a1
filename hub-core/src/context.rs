//! The context a hub method runs in: who called, and how to reach everyone else.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::clients::{CallerClients, Groups, Users};
use crate::connection::{CloseReason, Connection};
use crate::hub::HubContext;
use crate::id::ConnectionId;
use crate::protocol::Protocol;

/// The context of a hub method call: the calling connection, its user, its
/// items, and every client target (ASP.NET's `Hub.Context`, `Hub.Clients` and
/// `Hub.Groups` in one value). Cheap to clone.
#[derive(Clone)]
pub struct HubCtx {
    connection: Arc<Connection>,
}

impl HubCtx {
    pub(crate) fn new(connection: Arc<Connection>) -> Self {
        Self { connection }
    }

    pub(crate) fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }

    /// The caller's connection id.
    pub fn connection_id(&self) -> &ConnectionId {
        self.connection.id()
    }

    /// The caller's user id, or `None` when anonymous.
    pub fn user_id(&self) -> Option<&str> {
        self.connection.user_id()
    }

    /// The claims of the caller's user.
    pub fn claims(&self) -> &[(String, String)] {
        &self.connection.identity().claims
    }

    /// Values attached to the connection for its lifetime (ASP.NET's `Context.Items`).
    pub fn items(&self) -> &Items {
        self.connection.items()
    }

    /// The hub protocol the caller speaks.
    pub fn protocol(&self) -> Protocol {
        self.connection.protocol()
    }

    /// The caller's transport (`WebSockets`, `ServerSentEvents`, `LongPolling`).
    pub fn transport(&self) -> &'static str {
        self.connection.transport()
    }

    /// The caller's network address, when known.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.connection.remote_addr()
    }

    /// Every client target, including the caller-relative ones.
    pub fn clients(&self) -> CallerClients<'_> {
        CallerClients::new(&self.connection)
    }

    /// Adds connections (any, not only the caller) to groups and removes them.
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(self.connection.hub())
    }

    /// Who is connected, by user.
    pub fn users(&self) -> Users<'_> {
        Users::new(self.connection.hub())
    }

    /// A handle to the hub that outlives this call (for spawned tasks).
    pub fn hub_context(&self) -> HubContext {
        HubContext::from_shared(self.connection.hub().clone())
    }

    /// Closes the caller's connection. The client gets a Close message with
    /// `error` and `allow_reconnect` (the JS client reconnects automatically
    /// only when `allow_reconnect` is true and it was built with
    /// `withAutomaticReconnect()`).
    pub fn abort(&self, error: Option<String>, allow_reconnect: bool) {
        self.connection.close(CloseReason::Aborted {
            error,
            allow_reconnect,
        });
    }
}

impl std::fmt::Debug for HubCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubCtx")
            .field("connection", &self.connection)
            .finish()
    }
}

/// Per-connection values, one per type (like `http::Extensions`).
#[derive(Default)]
pub struct Items {
    values: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl Items {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TypeId, Box<dyn Any + Send + Sync>>> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `value`, returning the previous value of that type.
    pub fn insert<T: Any + Send + Sync>(&self, value: T) -> Option<T> {
        self.lock()
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|old| old.downcast().ok().map(|old| *old))
    }

    /// A clone of the value of type `T`.
    pub fn get<T: Any + Send + Sync + Clone>(&self) -> Option<T> {
        self.lock()
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
            .cloned()
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Any + Send + Sync>(&self) -> Option<T> {
        self.lock()
            .remove(&TypeId::of::<T>())
            .and_then(|old| old.downcast().ok().map(|old| *old))
    }

    /// Runs `f` on the value of type `T` (inserting `T::default()` first if absent).
    /// `f` runs under the items lock: keep it short and never await in it.
    pub fn update<T: Any + Send + Sync + Default, R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut values = self.lock();
        let value = values
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        f(value
            .downcast_mut::<T>()
            .expect("items are keyed by their type"))
    }
}

impl std::fmt::Debug for Items {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items")
            .field("len", &self.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_keyed_by_type() {
        let items = Items::default();
        assert_eq!(items.insert(5u32), None);
        assert_eq!(items.insert(6u32), Some(5));
        items.insert(String::from("x"));
        assert_eq!(items.get::<u32>(), Some(6));
        assert_eq!(
            items.update(|n: &mut u32| {
                *n += 1;
                *n
            }),
            7
        );
        assert_eq!(items.remove::<String>().as_deref(), Some("x"));
        assert_eq!(items.get::<String>(), None);
    }
}
