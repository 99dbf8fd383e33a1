//! Reaching a hub's clients from anywhere ([`HubContext`]), and the cluster
//! seam transports use ([`ClusterLink`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::clients::Clients;
use crate::cluster::{BackplaneError, Cluster, ClusterStats, TransportHandler};
use crate::connection::CloseReason;
use crate::groups::{Groups, Users};
use crate::hub_state::HubState;
use crate::registry::RegistryStats;

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
    hub: Arc<HubState>,
}

impl HubContext {
    pub(crate) fn new(hub: Arc<HubState>) -> Self {
        Self { hub }
    }

    /// Every target: `all`, `client(id)`, `group(name)`, `user(id)`, ...
    pub fn clients(&self) -> Clients<'_> {
        Clients::new(&self.hub)
    }

    /// Adds connections to groups, removes them, lists members.
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(&self.hub)
    }

    /// Who is connected, by user.
    pub fn users(&self) -> Users<'_> {
        Users::new(&self.hub)
    }

    /// Closes a connection (on any node), as `HubCtx::abort` does; false if
    /// no node has it.
    pub async fn abort(
        &self,
        connection_id: &str,
        error: Option<String>,
        allow_reconnect: bool,
    ) -> bool {
        if let Some(connection) = self.hub.registry().get(connection_id) {
            connection.close(CloseReason::Aborted {
                error,
                allow_reconnect,
            });
            return true;
        }
        match self.hub.cluster() {
            Some(cluster) => cluster.abort(connection_id, error, allow_reconnect).await,
            None => false,
        }
    }

    /// Backplane traffic counters, when the hub has a backplane.
    pub fn cluster_stats(&self) -> Option<ClusterStats> {
        self.hub.cluster().map(|cluster| cluster.stats())
    }

    /// The cluster seam for transports: this node's id, requests to other
    /// nodes, and the handler answering theirs. `None` without a backplane.
    pub fn cluster(&self) -> Option<ClusterLink> {
        self.hub.cluster().cloned().map(ClusterLink)
    }

    /// How many connections, users and groups this server holds for the hub.
    pub fn stats(&self) -> RegistryStats {
        self.hub.registry().stats()
    }
}

impl std::fmt::Debug for HubContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubContext")
            .field("hub", &self.hub.name())
            .finish()
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

    /// Whether `node` is alive now, by the backplane's list of live nodes
    /// (cached briefly): requests for a node that is not are answered
    /// at once instead of waiting for a reply that cannot come.
    pub async fn is_live(&self, node: &str) -> bool {
        self.0.is_live(node).await
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
