//! The connections of one hub on this server, indexed by id, user and group,
//! and the local fan-out of messages to them.
//!
//! Locks are `std` locks held only in synchronous code (never across `.await`):
//! delivery takes a read lock, clones the shared `Bytes` into each recipient's
//! bounded outbox with `try_send`, and releases it. Lock order: groups, then users,
//! then connection shards; no path takes them in another order.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, PoisonError, RwLock};

use crate::connection::Connection;
use crate::id::ConnectionId;
use crate::message::SerializedMessage;
use hub_protocol::EncodeError;

/// Who a message goes to (ASP.NET's `Clients.*` targets, with caller-relative
/// ones already resolved to connection ids).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum Target {
    All,
    AllExcept(Vec<ConnectionId>),
    Connection(ConnectionId),
    Connections(Vec<ConnectionId>),
    Group(String),
    Groups(Vec<String>),
    GroupExcept(String, Vec<ConnectionId>),
    User(String),
    Users(Vec<String>),
}

type ConnectionMap = HashMap<ConnectionId, Arc<Connection>>;

const SHARDS: usize = 16;

#[derive(Default)]
struct GroupIndex {
    members: HashMap<Arc<str>, ConnectionMap>,
    memberships: HashMap<ConnectionId, HashSet<Arc<str>>>,
}

/// Every live connection of a hub on this server.
pub(crate) struct Registry {
    hasher: RandomState,
    shards: [RwLock<ConnectionMap>; SHARDS],
    users: RwLock<HashMap<Arc<str>, ConnectionMap>>,
    groups: RwLock<GroupIndex>,
}

/// Counts of what a registry holds, for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegistryStats {
    /// Live connections.
    pub connections: usize,
    /// Users with at least one live connection.
    pub users: usize,
    /// Groups with at least one member.
    pub groups: usize,
    /// Connections that belong to at least one group.
    pub grouped_connections: usize,
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // Critical sections never panic half-way through an update, so a poisoned
    // lock still guards consistent data.
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    pub(crate) fn new() -> Self {
        Self {
            hasher: RandomState::new(),
            shards: Default::default(),
            users: RwLock::default(),
            groups: RwLock::default(),
        }
    }

    fn shard(&self, id: &str) -> &RwLock<ConnectionMap> {
        let index = self.hasher.hash_one(id) as usize % SHARDS;
        &self.shards[index]
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Connection>> {
        read(self.shard(id)).get(id).cloned()
    }

    pub(crate) fn register(&self, connection: &Arc<Connection>) {
        if let Some(user) = connection.user_id() {
            write(&self.users)
                .entry(Arc::from(user))
                .or_default()
                .insert(connection.id().clone(), connection.clone());
        }
        write(self.shard(connection.id())).insert(connection.id().clone(), connection.clone());
    }

    /// Removes a connection from every index.
    pub(crate) fn unregister(&self, connection: &Connection) {
        let id = connection.id();
        write(self.shard(id)).remove(id);
        if let Some(user) = connection.user_id() {
            let mut users = write(&self.users);
            if let Some(connections) = users.get_mut(user) {
                connections.remove(id);
                if connections.is_empty() {
                    users.remove(user);
                }
            }
        }
        let mut groups = write(&self.groups);
        if let Some(names) = groups.memberships.remove(id) {
            for name in names {
                remove_member(&mut groups.members, &name, id);
            }
        }
    }

    /// Adds a live connection to a group; unknown connections are ignored, as in ASP.NET.
    pub(crate) fn add_to_group(&self, id: &str, group: &str) {
        let mut groups = write(&self.groups);
        // Checked under the group lock: `unregister` removes the connection from
        // its shard before taking this lock, so no membership outlives it.
        let Some(connection) = self.get(id) else {
            return;
        };
        let name: Arc<str> = match groups.members.get_key_value(group) {
            Some((name, _)) => name.clone(),
            None => Arc::from(group),
        };
        groups
            .members
            .entry(name.clone())
            .or_default()
            .insert(connection.id().clone(), connection.clone());
        groups
            .memberships
            .entry(connection.id().clone())
            .or_default()
            .insert(name);
    }

    pub(crate) fn remove_from_group(&self, id: &str, group: &str) {
        let mut groups = write(&self.groups);
        let Some(names) = groups.memberships.get_mut(id) else {
            return;
        };
        names.remove(group);
        if names.is_empty() {
            groups.memberships.remove(id);
        }
        remove_member(&mut groups.members, group, id);
    }

    /// The part of `target` that may name connections on other nodes, if any.
    pub(crate) fn remote_part(&self, target: &Target) -> Option<Target> {
        match target {
            Target::Connection(id) => self.get(id).is_none().then(|| target.clone()),
            Target::Connections(ids) => {
                let missing: Vec<ConnectionId> = ids
                    .iter()
                    .filter(|id| self.get(id).is_none())
                    .cloned()
                    .collect();
                (!missing.is_empty()).then_some(Target::Connections(missing))
            }
            _ => Some(target.clone()),
        }
    }

    /// The local members of a group.
    pub(crate) fn group_members(&self, group: &str) -> Vec<ConnectionId> {
        read(&self.groups)
            .members
            .get(group)
            .map(|members| members.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The groups of a local connection.
    pub(crate) fn groups_of(&self, id: &str) -> Vec<String> {
        read(&self.groups)
            .memberships
            .get(id)
            .map(|names| names.iter().map(|name| name.to_string()).collect())
            .unwrap_or_default()
    }

    /// The local connections of a user.
    pub(crate) fn user_connections(&self, user: &str) -> Vec<ConnectionId> {
        read(&self.users)
            .get(user)
            .map(|connections| connections.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn stats(&self) -> RegistryStats {
        let groups = read(&self.groups);
        RegistryStats {
            connections: self.shards.iter().map(|shard| read(shard).len()).sum(),
            users: read(&self.users).len(),
            groups: groups.members.len(),
            grouped_connections: groups.memberships.len(),
        }
    }

    /// Queues `message` for every local connection `target` names.
    pub(crate) fn deliver(
        &self,
        target: &Target,
        message: &SerializedMessage<'_>,
    ) -> Result<(), EncodeError> {
        match target {
            Target::All => self.deliver_to_all(message, &[]),
            Target::AllExcept(excluded) => self.deliver_to_all(message, excluded),
            Target::Connection(id) => deliver_to_each(self.get(id).iter(), message, &[]),
            Target::Connections(ids) => {
                // A connection listed twice still gets one copy, as in ASP.NET.
                for id in unique(ids) {
                    if let Some(connection) = self.get(id) {
                        connection.deliver(message)?;
                    }
                }
                Ok(())
            }
            Target::Group(name) => self.deliver_to_group(name, &[], message),
            Target::Groups(names) => {
                // A connection in several of the groups gets one copy per group, as in ASP.NET.
                for name in names {
                    self.deliver_to_group(name, &[], message)?;
                }
                Ok(())
            }
            Target::GroupExcept(name, excluded) => self.deliver_to_group(name, excluded, message),
            Target::User(user) => self.deliver_to_user(user, message),
            Target::Users(users) => {
                for user in unique(users) {
                    self.deliver_to_user(user, message)?;
                }
                Ok(())
            }
        }
    }

    fn deliver_to_all(
        &self,
        message: &SerializedMessage<'_>,
        excluded: &[ConnectionId],
    ) -> Result<(), EncodeError> {
        for shard in &self.shards {
            deliver_to_each(read(shard).values(), message, excluded)?;
        }
        Ok(())
    }

    fn deliver_to_group(
        &self,
        name: &str,
        excluded: &[ConnectionId],
        message: &SerializedMessage<'_>,
    ) -> Result<(), EncodeError> {
        match read(&self.groups).members.get(name) {
            Some(members) => deliver_to_each(members.values(), message, excluded),
            None => Ok(()),
        }
    }

    fn deliver_to_user(
        &self,
        user: &str,
        message: &SerializedMessage<'_>,
    ) -> Result<(), EncodeError> {
        match read(&self.users).get(user) {
            Some(connections) => deliver_to_each(connections.values(), message, &[]),
            None => Ok(()),
        }
    }
}

fn deliver_to_each<'c>(
    connections: impl Iterator<Item = &'c Arc<Connection>>,
    message: &SerializedMessage<'_>,
    excluded: &[ConnectionId],
) -> Result<(), EncodeError> {
    for connection in connections {
        if !excluded.contains(connection.id()) {
            connection.deliver(message)?;
        }
    }
    Ok(())
}

/// The distinct items of a list, in order.
fn unique<T: AsRef<str>>(items: &[T]) -> impl Iterator<Item = &str> {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .map(AsRef::as_ref)
        .filter(move |item| seen.insert(*item))
}

fn remove_member(members: &mut HashMap<Arc<str>, ConnectionMap>, group: &str, id: &str) {
    if let Some(connections) = members.get_mut(group) {
        connections.remove(id);
        if connections.is_empty() {
            members.remove(group);
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("stats", &self.stats())
            .finish()
    }
}
