//! Group membership and who is connected, by user (ASP.NET's
//! `IGroupManager` and the user lookups), across every node with a backplane.

use crate::cluster::{GroupOp, Query};
use crate::error::{HubError, HubResult};
use crate::hub_state::HubState;
use crate::id::ConnectionId;

/// Group membership (ASP.NET's `IGroupManager`). Names are case-sensitive;
/// membership lasts until removed or until the connection ends.
///
/// With a backplane, every operation spans all nodes: a connection on another
/// node is added (or removed) by that node, which acknowledges it, and the
/// queries gather every node's answer.
#[derive(Clone, Copy)]
pub struct Groups<'a> {
    hub: &'a HubState,
}

impl<'a> Groups<'a> {
    pub(crate) fn new(hub: &'a HubState) -> Self {
        Self { hub }
    }

    /// Adds a connection (any, not only the caller, on any node) to a group.
    /// Unknown connections are ignored, as in ASP.NET.
    pub async fn add(&self, connection_id: &str, group: &str) -> HubResult<()> {
        self.change(GroupOp::Add, connection_id, group).await
    }

    /// Removes a connection from a group.
    pub async fn remove(&self, connection_id: &str, group: &str) -> HubResult<()> {
        self.change(GroupOp::Remove, connection_id, group).await
    }

    async fn change(&self, op: GroupOp, connection_id: &str, group: &str) -> HubResult<()> {
        check_group_name(group)?;
        let registry = self.hub.registry();
        if registry.get(connection_id).is_some() {
            match op {
                GroupOp::Add => registry.add_to_group(connection_id, group),
                GroupOp::Remove => registry.remove_from_group(connection_id, group),
            }
        } else if let Some(cluster) = self.hub.cluster() {
            cluster.group(op, connection_id, group).await;
        }
        Ok(())
    }

    /// The connections in a group (on every node), sorted.
    pub async fn members(&self, group: &str) -> Vec<ConnectionId> {
        match self.hub.cluster() {
            Some(cluster) => ids(cluster.query(Query::GroupMembers(group.to_owned())).await),
            None => sorted(self.hub.registry().group_members(group)),
        }
    }

    /// The groups a connection (on any node) is in, sorted.
    pub async fn of_connection(&self, connection_id: &str) -> Vec<String> {
        if self.hub.registry().get(connection_id).is_some() || self.hub.cluster().is_none() {
            return sorted(self.hub.registry().groups_of(connection_id));
        }
        match self.hub.cluster() {
            Some(cluster) => {
                cluster
                    .query(Query::GroupsOf(connection_id.to_owned()))
                    .await
            }
            None => Vec::new(),
        }
    }
}

/// Who is connected, by user (on every node, with a backplane).
#[derive(Clone, Copy)]
pub struct Users<'a> {
    hub: &'a HubState,
}

impl<'a> Users<'a> {
    pub(crate) fn new(hub: &'a HubState) -> Self {
        Self { hub }
    }

    /// The connections of a user, sorted.
    pub async fn connections(&self, user_id: &str) -> Vec<ConnectionId> {
        match self.hub.cluster() {
            Some(cluster) => ids(cluster
                .query(Query::UserConnections(user_id.to_owned()))
                .await),
            None => sorted(self.hub.registry().user_connections(user_id)),
        }
    }

    /// Whether a user has at least one connection.
    pub async fn is_online(&self, user_id: &str) -> bool {
        !self.hub.registry().user_connections(user_id).is_empty()
            || !self.connections(user_id).await.is_empty()
    }
}

impl std::fmt::Debug for Users<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

fn ids(names: Vec<String>) -> Vec<ConnectionId> {
    names.into_iter().map(ConnectionId::from).collect()
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

fn check_group_name(group: &str) -> HubResult<()> {
    if group.is_empty() {
        Err(HubError::new("The group name must not be empty."))
    } else {
        Ok(())
    }
}

impl std::fmt::Debug for Groups<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Groups").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
