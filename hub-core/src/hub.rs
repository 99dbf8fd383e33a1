//! A hub ready to serve connections, and the handle to reach its clients from
//! anywhere ([`HubContext`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;

use serde::Serialize;

use crate::clients::{Clients, Groups, Users};
use crate::cluster::{Backplane, BackplaneError, Cluster, ClusterStats, TransportHandler};
use crate::connection;
use crate::error::HubError;
use crate::filter::{Filters, HubFilter};
use crate::message::{ClientInvocation, SerializedMessage};
use crate::method::HubDispatch;
use crate::options::HubOptions;
use crate::registry::{Registry, RegistryStats, Target};
use crate::transport::{ConnectionInfo, Transport};

/// What every connection of a hub shares.
pub(crate) struct HubShared {
    dispatch: Box<dyn HubDispatch>,
    registry: Registry,
    options: RwLock<Arc<HubOptions>>,
    filters: RwLock<Filters>,
    /// Ids of the server's own invocations (client results): `s1`, `s2`, ...
    last_invocation_id: AtomicU64,
    /// The other nodes serving this hub, once joined.
    cluster: OnceLock<Arc<Cluster>>,
}

impl HubShared {
    pub(crate) fn dispatch(&self) -> &dyn HubDispatch {
        &*self.dispatch
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn options(&self) -> Arc<HubOptions> {
        self.options
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn filters(&self) -> Filters {
        self.filters
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.get()
    }

    /// A fresh id for a server-to-client invocation (`s<n>`, as ASP.NET names them).
    pub(crate) fn next_invocation_id(&self) -> String {
        let id = self.last_invocation_id.fetch_add(1, Ordering::Relaxed) + 1;
        format!("s{id}")
    }

    /// Sends `method(arguments...)` to every connection `target` names,
    /// encoding it at most once per protocol in use.
    pub(crate) fn send<A: Serialize + ?Sized>(
        &self,
        target: &Target,
        method: &str,
        arguments: &A,
    ) -> Result<(), HubError> {
        let invocation = ClientInvocation {
            target: method,
            arguments,
        };
        let message = SerializedMessage::new(&invocation);
        self.registry.deliver(target, &message)?;
        if let Some(cluster) = self.cluster()
            && let Some(remote) = self.registry.remote_part(target)
        {
            cluster.publish_send(remote, &message)?;
        }
        Ok(())
    }
}

/// A hub: a `#[hub]` trait implementation with its options and its connections.
///
/// Made by the `into_hub()` method the `#[hub]` macro adds to the trait; served
/// by `hub-transport`. Cloning is cheap and clones share everything.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<HubShared>,
}

impl Hub {
    pub(crate) fn from_dispatch(dispatch: Box<dyn HubDispatch>) -> Self {
        Self {
            shared: Arc::new(HubShared {
                dispatch,
                registry: Registry::new(),
                options: RwLock::new(Arc::new(HubOptions::default())),
                filters: RwLock::new(Filters::default()),
                last_invocation_id: AtomicU64::new(0),
                cluster: OnceLock::new(),
            }),
        }
    }

    /// Replaces the hub's options; connections made afterwards use them.
    pub fn with_options(self, options: HubOptions) -> Self {
        *self
            .shared
            .options
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(options);
        self
    }

    /// Adds a filter around every invocation, connect and disconnect of
    /// connections made afterwards. Filters added first run outermost.
    pub fn with_filter(self, filter: impl HubFilter) -> Self {
        let mut filters = self
            .shared
            .filters
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *filters = filters.with(filter);
        drop(filters);
        self
    }

    /// Joins the other server processes serving this hub through `backplane`
    /// (e.g. `hub_redis::RedisBackplane`): every client target, group,
    /// client result and membership query then spans all of them. Must be
    /// called inside a tokio runtime; a hub joins one backplane, once.
    pub fn with_backplane(self, backplane: impl Backplane) -> Self {
        let name = self.shared.dispatch.name();
        let cluster = Cluster::start(Arc::new(backplane), Arc::downgrade(&self.shared), name);
        if self.shared.cluster.set(cluster).is_err() {
            tracing::warn!("the hub already has a backplane; the new one is ignored");
        }
        self
    }

    /// The hub's current options.
    pub fn options(&self) -> Arc<HubOptions> {
        self.shared.options()
    }

    /// A handle to send to this hub's clients and manage its groups from
    /// outside hub methods (background tasks, HTTP handlers).
    pub fn context(&self) -> HubContext {
        HubContext {
            shared: self.shared.clone(),
        }
    }

    /// Runs one connection over `transport` until it ends: handshake, messages,
    /// cleanup. Transports call this once per connection.
    pub fn serve_connection<T: Transport>(
        &self,
        transport: T,
        info: ConnectionInfo,
    ) -> impl Future<Output = ()> + Send + 'static + use<T> {
        connection::serve(self.shared.clone(), transport, info)
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("name", &self.shared.dispatch.name())
            .field("registry", &self.shared.registry)
            .finish()
    }
}

/// Reaches a hub's clients and groups from anywhere (ASP.NET's `IHubContext`).
///
/// ```no_run
/// # use hub_core::{HubContext, hub_client, HubResult};
/// #[hub_client]
/// trait ClockClient {
///     async fn show_time(&self, time: String);
/// }
///
/// async fn tick(context: HubContext) -> HubResult<()> {
///     context.clients().all().show_time("12:00".into()).await
/// }
/// ```
#[derive(Clone)]
pub struct HubContext {
    shared: Arc<HubShared>,
}

impl HubContext {
    pub(crate) fn from_shared(shared: Arc<HubShared>) -> Self {
        Self { shared }
    }

    /// Every target: `all`, `client(id)`, `group(name)`, `user(id)`, ...
    pub fn clients(&self) -> Clients<'_> {
        Clients::new(&self.shared)
    }

    /// Adds connections to groups, removes them, lists members.
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(&self.shared)
    }

    /// Who is connected, by user.
    pub fn users(&self) -> Users<'_> {
        Users::new(&self.shared)
    }

    /// Closes a connection (on any node), as `HubCtx::abort` does; false if
    /// no node has it.
    pub async fn abort(
        &self,
        connection_id: &str,
        error: Option<String>,
        allow_reconnect: bool,
    ) -> bool {
        if let Some(connection) = self.shared.registry.get(connection_id) {
            connection.close(crate::connection::CloseReason::Aborted {
                error,
                allow_reconnect,
            });
            return true;
        }
        match self.shared.cluster() {
            Some(cluster) => cluster.abort(connection_id, error, allow_reconnect).await,
            None => false,
        }
    }

    /// Backplane traffic counters, when the hub has a backplane.
    pub fn cluster_stats(&self) -> Option<ClusterStats> {
        self.shared.cluster().map(|cluster| cluster.stats())
    }

    /// The cluster seam for transports: this node's id, requests to other
    /// nodes, and the handler answering theirs. `None` without a backplane.
    pub fn cluster(&self) -> Option<ClusterLink> {
        self.shared.cluster().cloned().map(ClusterLink)
    }

    /// How many connections, users and groups this server holds for the hub.
    pub fn stats(&self) -> RegistryStats {
        self.shared.registry.stats()
    }
}

/// What a transport layer needs from the cluster (see [`HubContext::cluster`]):
/// its requests travel over the backplane between the nodes of one hub.
#[derive(Clone)]
pub struct ClusterLink(Arc<Cluster>);

impl ClusterLink {
    /// This node's id.
    pub fn node_id(&self) -> &str {
        self.0.node_id()
    }

    /// Sends an opaque request to `node`'s transport handler and waits (up to
    /// `timeout`) for its answer.
    pub async fn request(
        &self,
        node: &str,
        request: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BackplaneError> {
        self.0.transport_request(node, request, timeout).await
    }

    /// Sets the handler answering other nodes' transport requests.
    pub fn set_handler(&self, handler: TransportHandler) {
        self.0.set_transport_handler(handler);
    }
}

impl std::fmt::Debug for ClusterLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ClusterLink")
            .field(&self.0.node_id())
            .finish()
    }
}

impl std::fmt::Debug for HubContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubContext")
            .field("hub", &self.shared.dispatch.name())
            .finish()
    }
}
