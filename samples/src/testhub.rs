//! The test hub: the contract of `shared/docs/test-hub.md`, plus extra methods
//! that reach every client target. Never rename or change the contract's methods.

use std::time::Duration;

use hub_core::{Hub, HubCtx, HubError, HubResult, RegistryStats, hub, hub_client};
use hub_transport::{Authenticator, ServerBuilder, bearer_token};
use serde::Serialize;

/// The path the test hub is served at.
pub const PATH: &str = "/hubs/test";

/// What the test hub calls on its clients.
#[hub_client]
pub trait TestClient {
    /// Every `SendTo*` method delivers `Receive(message)`.
    async fn receive(&self, message: String);
}

/// Counts of the hub's registry, for leak checks.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    connections: usize,
    users: usize,
    groups: usize,
    grouped_connections: usize,
}

impl From<RegistryStats> for Stats {
    fn from(stats: RegistryStats) -> Self {
        Self {
            connections: stats.connections,
            users: stats.users,
            groups: stats.groups,
            grouped_connections: stats.grouped_connections,
        }
    }
}

/// The test hub's methods.
#[hub(client = TestClient)]
pub trait Test {
    /// Returns `message`.
    async fn echo(&self, message: String) -> String;
    /// Returns `a + b`.
    async fn add(&self, a: i64, b: i64) -> HubResult<i64>;
    /// The caller's connection id.
    async fn get_connection_id(&self, ctx: &HubCtx) -> String;
    /// The caller's user id, or null.
    async fn whoami(&self, ctx: &HubCtx) -> Option<String>;
    /// `Receive(message)` to everyone.
    async fn send_to_all(&self, ctx: &HubCtx, message: String) -> HubResult<()>;
    /// `Receive(message)` to everyone but the caller.
    async fn send_to_others(&self, ctx: &HubCtx, message: String) -> HubResult<()>;
    /// `Receive(message)` to the caller.
    async fn send_to_caller(&self, ctx: &HubCtx, message: String) -> HubResult<()>;
    /// `Receive(message)` to one connection.
    async fn send_to_connection(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        message: String,
    ) -> HubResult<()>;
    /// `Receive(message)` to every connection of a user.
    async fn send_to_user(&self, ctx: &HubCtx, user_id: String, message: String) -> HubResult<()>;
    /// Adds the caller to a group.
    async fn join_group(&self, ctx: &HubCtx, group: String) -> HubResult<()>;
    /// Removes the caller from a group.
    async fn leave_group(&self, ctx: &HubCtx, group: String) -> HubResult<()>;
    /// `Receive(message)` to a group.
    async fn send_to_group(&self, ctx: &HubCtx, group: String, message: String) -> HubResult<()>;
    /// Fails with `message`.
    async fn throw(&self, message: String) -> HubResult<()>;
    /// Returns `ms` after waiting `ms` milliseconds.
    async fn delay(&self, ms: u64) -> u64;

    // Beyond the contract: the remaining targets and group management.

    /// `Receive(message)` to everyone but the listed connections.
    async fn send_to_all_except(
        &self,
        ctx: &HubCtx,
        excluded: Vec<String>,
        message: String,
    ) -> HubResult<()>;
    /// `Receive(message)` to the listed connections.
    async fn send_to_connections(
        &self,
        ctx: &HubCtx,
        connection_ids: Vec<String>,
        message: String,
    ) -> HubResult<()>;
    /// `Receive(message)` to the members of several groups.
    async fn send_to_groups(
        &self,
        ctx: &HubCtx,
        groups: Vec<String>,
        message: String,
    ) -> HubResult<()>;
    /// `Receive(message)` to a group but the listed connections.
    async fn send_to_group_except(
        &self,
        ctx: &HubCtx,
        group: String,
        excluded: Vec<String>,
        message: String,
    ) -> HubResult<()>;
    /// `Receive(message)` to a group but the caller.
    async fn send_to_others_in_group(
        &self,
        ctx: &HubCtx,
        group: String,
        message: String,
    ) -> HubResult<()>;
    /// `Receive(message)` to every connection of the listed users.
    async fn send_to_users(
        &self,
        ctx: &HubCtx,
        user_ids: Vec<String>,
        message: String,
    ) -> HubResult<()>;
    /// Adds any connection to a group.
    async fn add_to_group(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        group: String,
    ) -> HubResult<()>;
    /// Removes any connection from a group.
    async fn remove_from_group(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        group: String,
    ) -> HubResult<()>;
    /// Panics with `message` (the caller gets an error; the connection survives).
    async fn panic(&self, message: String) -> HubResult<()>;
    /// Fails with an unexpected (non-hub) error whose text stays on the server.
    async fn fail_unexpectedly(&self, message: String) -> HubResult<()>;
    /// Counts of this hub's connections, users and groups on this server.
    async fn get_stats(&self, ctx: &HubCtx) -> Stats;
}

/// The test hub implementation.
#[derive(Debug, Default)]
pub struct TestHub;

impl Test for TestHub {
    async fn echo(&self, message: String) -> String {
        message
    }

    async fn add(&self, a: i64, b: i64) -> HubResult<i64> {
        a.checked_add(b)
            .ok_or_else(|| HubError::new("Add overflowed."))
    }

    async fn get_connection_id(&self, ctx: &HubCtx) -> String {
        ctx.connection_id().to_string()
    }

    async fn whoami(&self, ctx: &HubCtx) -> Option<String> {
        ctx.user_id().map(str::to_owned)
    }

    async fn send_to_all(&self, ctx: &HubCtx, message: String) -> HubResult<()> {
        ctx.clients().all().receive(message).await
    }

    async fn send_to_others(&self, ctx: &HubCtx, message: String) -> HubResult<()> {
        ctx.clients().others().receive(message).await
    }

    async fn send_to_caller(&self, ctx: &HubCtx, message: String) -> HubResult<()> {
        ctx.clients().caller().receive(message).await
    }

    async fn send_to_connection(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().client(connection_id).receive(message).await
    }

    async fn send_to_user(&self, ctx: &HubCtx, user_id: String, message: String) -> HubResult<()> {
        ctx.clients().user(user_id).receive(message).await
    }

    async fn join_group(&self, ctx: &HubCtx, group: String) -> HubResult<()> {
        ctx.groups().add(ctx.connection_id(), &group).await
    }

    async fn leave_group(&self, ctx: &HubCtx, group: String) -> HubResult<()> {
        ctx.groups().remove(ctx.connection_id(), &group).await
    }

    async fn send_to_group(&self, ctx: &HubCtx, group: String, message: String) -> HubResult<()> {
        ctx.clients().group(group).receive(message).await
    }

    async fn throw(&self, message: String) -> HubResult<()> {
        Err(HubError::new(message))
    }

    async fn delay(&self, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }

    async fn send_to_all_except(
        &self,
        ctx: &HubCtx,
        excluded: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().all_except(excluded).receive(message).await
    }

    async fn send_to_connections(
        &self,
        ctx: &HubCtx,
        connection_ids: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().clients(connection_ids).receive(message).await
    }

    async fn send_to_groups(
        &self,
        ctx: &HubCtx,
        groups: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().groups(groups).receive(message).await
    }

    async fn send_to_group_except(
        &self,
        ctx: &HubCtx,
        group: String,
        excluded: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients()
            .group_except(group, excluded)
            .receive(message)
            .await
    }

    async fn send_to_others_in_group(
        &self,
        ctx: &HubCtx,
        group: String,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().others_in_group(group).receive(message).await
    }

    async fn send_to_users(
        &self,
        ctx: &HubCtx,
        user_ids: Vec<String>,
        message: String,
    ) -> HubResult<()> {
        ctx.clients().users(user_ids).receive(message).await
    }

    async fn add_to_group(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        group: String,
    ) -> HubResult<()> {
        ctx.groups().add(&connection_id, &group).await
    }

    async fn remove_from_group(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        group: String,
    ) -> HubResult<()> {
        ctx.groups().remove(&connection_id, &group).await
    }

    async fn panic(&self, message: String) -> HubResult<()> {
        panic!("{message}");
    }

    async fn fail_unexpectedly(&self, message: String) -> HubResult<()> {
        Err(HubError::unexpected(message))
    }

    async fn get_stats(&self, ctx: &HubCtx) -> Stats {
        ctx.hub_context().stats().into()
    }
}

/// The test hub with default options.
pub fn hub() -> Hub {
    TestHub.into_hub()
}

/// Test-only authentication: the bearer token (header or `access_token` query
/// parameter) is the user id; no token means anonymous.
pub fn token_is_user_id() -> Authenticator {
    Authenticator::new(|request| {
        let user_id = bearer_token(request);
        async move {
            Ok(hub_core::Identity {
                user_id,
                claims: Vec::new(),
            })
        }
    })
}

/// A server builder with the test hub mapped at [`PATH`].
pub fn server(hub: Hub) -> ServerBuilder {
    hub_transport::Server::builder()
        .hub(PATH, hub)
        .authenticate(token_is_user_id())
}
