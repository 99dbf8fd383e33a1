//! The test hub: the contract of `shared/docs/test-hub.md`, plus extra methods
//! that reach every client target. Never rename or change the contract's methods.

use std::time::Duration;

use futures_util::Stream;
use hub_core::{
    Hub, HubBuilder, HubCtx, HubError, HubFilter, HubResult, Invocation, InvocationResult, Next,
    RegistryStats, UploadStream, hub, hub_client,
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
    live_producers: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts itself in `live` while alive (an `Endless` producer).
struct LiveProducer(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl LiveProducer {
    fn new(live: &std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Self {
        live.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self(live.clone())
    }
}

impl Drop for LiveProducer {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn sum_stream(mut numbers: UploadStream<i64>) -> HubResult<i64> {
    let mut total: i64 = 0;
    while let Some(number) = numbers.next().await {
        total = total
            .checked_add(number?)
            .ok_or_else(|| HubError::new("Sum overflowed."))?;
    }
    Ok(total)
}

impl Test for TestHub {
    async fn on_connected(&self, ctx: &HubCtx) -> HubResult<()> {
        let message = format!("connected:{}", ctx.connection_id());
        ctx.clients().group(LIFECYCLE_GROUP).receive(message).await
    }

    async fn on_disconnected(&self, ctx: &HubCtx, error: Option<HubError>) {
        let suffix = if error.is_some() { ":error" } else { "" };
        let message = format!("disconnected:{}{suffix}", ctx.connection_id());
        let _ = ctx.clients().group(LIFECYCLE_GROUP).receive(message).await;
    }

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

    async fn counter(&self, count: i32, delay_ms: u64) -> impl Stream<Item = i32> {
        futures_util::stream::unfold(0, move |next| async move {
            if next >= count {
                return None;
            }
            if next > 0 {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            Some((next, next + 1))
        })
    }

    async fn sum(&self, numbers: UploadStream<i64>) -> HubResult<i64> {
        sum_stream(numbers).await
    }

    async fn ask_client(&self, ctx: &HubCtx, question: String) -> HubResult<String> {
        ctx.clients().caller().answer(question).await
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

    async fn failing_counter(
        &self,
        fail_after: i32,
        message: String,
    ) -> impl Stream<Item = HubResult<i32>> {
        futures_util::stream::iter((0..=fail_after).map(move |next| {
            if next < fail_after {
                Ok(next)
            } else {
                Err(HubError::new(message.clone()))
            }
        }))
    }

    async fn endless(&self, delay_ms: u64) -> impl Stream<Item = u64> {
        let producer = LiveProducer::new(&self.live_producers);
        futures_util::stream::unfold((0u64, producer), move |(next, producer)| async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            Some((next, (next + 1, producer)))
        })
    }

    async fn live_producers(&self) -> usize {
        self.live_producers
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn sum_both(
        &self,
        first: UploadStream<i64>,
        label: String,
        second: UploadStream<i64>,
    ) -> HubResult<String> {
        let (first, second) = tokio::join!(sum_stream(first), sum_stream(second));
        Ok(format!("{label}: {}, {}", first?, second?))
    }

    async fn start_ticker(&self, ctx: &HubCtx, count: u32) -> HubResult<()> {
        let context = ctx.hub_context();
        let caller = ctx.connection_id().clone();
        tokio::spawn(async move {
            for tick in 0..count {
                let _ = context
                    .clients()
                    .client(&caller)
                    .receive(format!("tick {tick}"))
                    .await;
            }
            let _ = context
                .clients()
                .client(&caller)
                .receive("ticks done".into())
                .await;
        });
        Ok(())
    }

    async fn admin_only(&self) -> String {
        "secret".into()
    }

    async fn abort_me(&self, ctx: &HubCtx, error: String, allow_reconnect: bool) {
        ctx.abort(Some(error), allow_reconnect);
    }

    async fn secret_for_users(&self, ctx: &HubCtx) -> String {
        format!("secret for {}", ctx.user_id().unwrap_or_default())
    }

    async fn admin_by_role(&self) -> String {
        "admin secret".into()
    }

    async fn get_claims(&self, ctx: &HubCtx) -> Vec<(String, String)> {
        ctx.claims().to_vec()
    }

    async fn ask_connection(
        &self,
        ctx: &HubCtx,
        connection_id: String,
        question: String,
    ) -> HubResult<String> {
        ctx.clients().client(connection_id).answer(question).await
    }

    async fn group_members(&self, ctx: &HubCtx, group: String) -> Vec<String> {
        ctx.groups()
            .members(&group)
            .await
            .into_iter()
            .map(|id| id.to_string())
            .collect()
    }

    async fn groups_of(&self, ctx: &HubCtx, connection_id: String) -> Vec<String> {
        ctx.groups().of_connection(&connection_id).await
    }

    async fn user_connections(&self, ctx: &HubCtx, user_id: String) -> Vec<String> {
        ctx.users()
            .connections(&user_id)
            .await
            .into_iter()
            .map(|id| id.to_string())
            .collect()
    }

    async fn is_user_online(&self, ctx: &HubCtx, user_id: String) -> bool {
        ctx.users().is_online(&user_id).await
    }

    async fn node_id(&self, ctx: &HubCtx) -> Option<String> {
        ctx.hub_context()
            .cluster()
            .map(|link| link.node_id().to_owned())
    }

    async fn get_cluster_stats(&self, ctx: &HubCtx) -> Option<ClusterCounters> {
        ctx.hub_context()
            .cluster_stats()
            .map(|stats| ClusterCounters {
                published: stats.published,
                lost: stats.lost,
                received: stats.received,
            })
    }
}

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
        std::future::ready(Ok(hub_core::Identity { user_id, claims }))
    })
}

/// The `testhub` binary: `--addr HOST:PORT`, `--redis redis://HOST:PORT`;
/// prints `listening on http://HOST:PORT` once it accepts connections.
pub async fn main() -> std::io::Result<()> {
    start().await?.run_until_signal().await
}

/// What the `testhub` binary does before serving: reads its arguments, joins
/// the backplane, binds, and prints `listening on http://HOST:PORT`. Returns
/// the server, for the caller to run until what should stop it.
pub async fn start() -> std::io::Result<hub_transport::Server> {
    crate::cli::init_logging();
    let args = crate::cli::parse("testhub");
    let hub = args.join_backplane(builder(), "test").await.build();
    let server = server(hub).bind(args.addr).await?;
    crate::cli::announce(server.local_addr());
    Ok(server)
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
