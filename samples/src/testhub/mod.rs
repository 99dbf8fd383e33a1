//! The test hub: the contract of `shared/docs/test-hub.md`, plus extra methods
//! that reach every client target. Never rename or change the contract's methods.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};

use futures_util::Stream;
use hub_core::{
    CancellationToken, Hub, HubBuilder, HubCtx, HubError, HubFilter, HubResult, Invocation,
    InvocationResult, Next, RegistryStats, UploadStream, hub, hub_client,
};
use hub_transport::{Authenticator, ServerBuilder, bearer_token};
use serde::Serialize;
use ts_rs::TS;

/// The path the test hub is served at.
pub const PATH: &str = "/hubs/test";

/// The group told about every connect and disconnect (`Receive("connected:<id>")`,
/// `Receive("disconnected:<id>")` or `Receive("disconnected:<id>:error")`).
pub const LIFECYCLE_GROUP: &str = "__lifecycle";

/// What the test hub calls on its clients.
#[hub_client(typescript)]
pub trait TestClient {
    /// Every `SendTo*` method delivers `Receive(message)`.
    async fn receive(&self, message: String);
    /// A client result: the client's answer to `question`.
    async fn answer(&self, question: String) -> String;
}

/// Counts of the hub's registry, for leak checks.
#[derive(Debug, Serialize, TS)]
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
#[hub(client = TestClient, typescript)]
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
    /// Streams 0, 1, ..., count-1, one every `delay_ms`; stops when the client cancels.
    async fn counter(&self, count: i32, delay_ms: u64) -> impl Stream<Item = i32>;
    /// The sum of a client-to-server stream of numbers.
    async fn sum(&self, numbers: UploadStream<i64>) -> HubResult<i64>;
    /// Asks the caller `Answer(question)` (a client result) and returns the reply.
    async fn ask_client(&self, ctx: &HubCtx, question: String) -> HubResult<String>;

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
    /// Streams 0, 1, ... and fails with `message` after `fail_after` items.
    async fn failing_counter(
        &self,
        fail_after: i32,
        message: String,
    ) -> impl Stream<Item = HubResult<i32>>;
    /// Streams forever (every `delay_ms`) until cancelled; counts live producers.
    async fn endless(&self, delay_ms: u64) -> impl Stream<Item = u64>;
    /// How many `Endless` producers are alive (dropped producers are not).
    async fn live_producers(&self) -> usize;
    /// Sums two upload streams around a plain argument: `"<label>: <sum1>, <sum2>"`.
    /// (The JS client cannot pass two stream arguments in a row: its
    /// `_replaceStreamingParams` skips the one after a stream.)
    async fn sum_both(
        &self,
        first: UploadStream<i64>,
        label: String,
        second: UploadStream<i64>,
    ) -> HubResult<String>;
    /// Sends `Receive("tick <n>")` to the caller `count` times from a spawned
    /// task, through the hub context, then `Receive("ticks done")`.
    async fn start_ticker(&self, ctx: &HubCtx, count: u32) -> HubResult<()>;
    /// Only the user `admin` may call this (enforced by [`AdminFilter`]).
    async fn admin_only(&self) -> String;
    /// Closes the caller's connection from the server, with an error and
    /// whether the client may reconnect.
    async fn abort_me(&self, ctx: &HubCtx, error: String, allow_reconnect: bool);
    /// Only authenticated users may call this (`#[hub(authorize)]`).
    #[hub(authorize)]
    async fn secret_for_users(&self, ctx: &HubCtx) -> String;
    /// Only users with the role `admin` may call this (`#[hub(authorize = "admin")]`;
    /// the test authentication gives the user `admin` that role).
    #[hub(authorize = "admin")]
    async fn admin_by_role(&self) -> String;
    /// The caller's claims, as name/value pairs.
    async fn get_claims(&self, ctx: &HubCtx) -> Vec<(String, String)>;
    /// Asks any connection (on any node) `Answer(question)` and returns its reply.
    async fn ask_connection(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        question: String,
    ) -> HubResult<String>;
    /// The connections in a group, on every node, sorted.
    async fn group_members(&self, ctx: &HubCtx, group: String) -> Vec<String>;
    /// The groups of a connection (on any node), sorted.
    async fn groups_of(&self, ctx: &HubCtx, connection_id: String) -> Vec<String>;
    /// The connections of a user, on every node, sorted.
    async fn user_connections(&self, ctx: &HubCtx, user_id: String) -> Vec<String>;
    /// Whether a user is connected to any node.
    async fn is_user_online(&self, ctx: &HubCtx, user_id: String) -> bool;
    /// This node's id in a cluster, or null.
    async fn node_id(&self, ctx: &HubCtx) -> Option<String>;
    /// This node's backplane counters (`{published, lost, received}`), or null.
    async fn get_cluster_stats(&self, ctx: &HubCtx) -> Option<ClusterCounters>;

    // Tracing and cancellation.

    /// The W3C trace id (32 lowercase hex digits) of the span this
    /// invocation runs in: the `traceparent` header's trace id when the
    /// Invocation carries one.
    async fn current_trace_id(&self) -> String;
    /// Returns `ms` after waiting `ms` milliseconds; a CancelInvocation for
    /// it ends the wait early, with an error (counted by `CancelledCount`).
    async fn cancellable_delay(&self, ms: u64, cancellation: CancellationToken) -> HubResult<u64>;
    /// How many `CancellableDelay` calls a CancelInvocation ended on this server.
    async fn cancelled_count(&self) -> u64;
}

/// Backplane counters of one node.
#[derive(Debug, Serialize, TS)]
pub struct ClusterCounters {
    published: u64,
    lost: u64,
    received: u64,
}

/// The test hub implementation.
#[derive(Debug, Default)]
pub struct TestHub {
    live_producers: Arc<AtomicUsize>,
    /// `CancellableDelay` calls a CancelInvocation ended.
    cancelled: AtomicU64,
}

mod methods;

/// Rejects `AdminOnly` for everyone but the user `admin`: the hub filter the
/// tests exercise.
#[derive(Debug, Default)]
pub struct AdminFilter;

impl HubFilter for AdminFilter {
    async fn invoke(
        &self,
        invocation: &Invocation,
        next: Next<InvocationResult>,
    ) -> InvocationResult {
        if invocation.method() == "AdminOnly" && invocation.ctx().user_id() != Some("admin") {
            return Err(HubError::new("Only admin may call AdminOnly."));
        }
        next.run().await
    }
}

/// The test hub with default options and its filter.
pub fn hub() -> Hub {
    builder().build()
}

/// The builder of [`hub()`] (with its filter), to set options or a backplane first.
pub fn builder() -> HubBuilder {
    TestHub::default().hub_builder().filter(AdminFilter)
}

/// Test-only authentication: the bearer token (header or `access_token` query
/// parameter) is the user id; no token means anonymous. The user `admin` has
/// the role `admin`.
pub fn token_is_user_id() -> Authenticator {
    Authenticator::new(|request| {
        let user_id = bearer_token(request);
        let claims = match user_id.as_deref() {
            Some("admin") => vec![("role".to_owned(), "admin".to_owned())],
            _ => Vec::new(),
        };
        std::future::ready(Ok(hub_core::Identity {
            user_id,
            claims,
            expires_at: None,
        }))
    })
}

/// The `testhub` binary: `--addr HOST:PORT`, `--redis redis://HOST:PORT`;
/// prints `listening on http://HOST:PORT` once it accepts connections.
pub async fn main() -> std::io::Result<()> {
    let (server, _telemetry) = start().await?;
    server.run_until_signal().await
}

/// What the `testhub` binary does before serving: installs logging and
/// telemetry, reads its arguments, joins the backplane, binds, and prints
/// `listening on http://HOST:PORT`. Returns the server, for the caller to run
/// until what should stop it, and the telemetry to keep until then.
pub async fn start() -> std::io::Result<(hub_transport::Server, crate::telemetry::Telemetry)> {
    let telemetry = crate::telemetry::init("testhub");
    let args = crate::cli::parse("testhub");
    let hub = args.join_backplane(builder(), "test").await.build();
    let server = server(hub).bind(args.addr).await?;
    crate::cli::announce(server.local_addr());
    Ok((server, telemetry))
}

/// The endpoint options of the test hub: every transport on, stateful
/// reconnect allowed.
pub fn endpoint_options() -> hub_transport::EndpointOptions {
    hub_transport::EndpointOptions {
        allow_stateful_reconnects: true,
        ..Default::default()
    }
}

/// A server builder with the test hub mapped at [`PATH`] with
/// [`endpoint_options`] and test authentication.
pub fn server(hub: Hub) -> ServerBuilder {
    server_with(hub, endpoint_options())
}

/// Like [`server`], with other endpoint options.
pub fn server_with(hub: Hub, options: hub_transport::EndpointOptions) -> ServerBuilder {
    hub_transport::Server::builder()
        .hub_with_options(PATH, hub, options)
        .authenticate(token_is_user_id())
}
