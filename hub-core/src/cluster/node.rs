//! This node's side of the cluster: publishing, receiving, requests and replies.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesOrdered;
use tokio::sync::mpsc;

use super::backplane::{Backplane, BackplaneError};
use super::envelope::{self, Body, Envelope, GroupOp, Query, Reply, Request};
use crate::connection::{ClientAnswer, CloseReason};
use crate::message::SerializedMessage;
use crate::registry::{Registry, Target};
use hub_protocol::Protocol;

/// Messages waiting to be published, at most; past it they are lost (and counted).
const OUTGOING_CAPACITY: usize = 65_536;
/// Publishes in flight at once (in order).
const PUBLISH_WINDOW: usize = 256;
/// How long a list of the live nodes is trusted before it is asked again.
const LIVE_NODES_TTL: Duration = Duration::from_secs(1);
/// How long a list that lacks a node is trusted to say it is not alive.
const MISSING_NODE_TTL: Duration = Duration::from_millis(100);

/// A message waiting to be published: to every node (`None`) or to one.
type Outgoing = (Option<String>, Bytes);

/// Answers a transport's forwarded request (see `HubContext::cluster`).
pub type TransportHandler = Arc<dyn Fn(Bytes) -> BoxFuture<'static, Bytes> + Send + Sync>;

/// Counters of the backplane traffic of one hub on this node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClusterStats {
    /// Messages published.
    pub published: u64,
    /// Messages that could not be published (backplane down, queue full):
    /// their recipients on other nodes never got them.
    pub lost: u64,
    /// Messages received from the backplane.
    pub received: u64,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    lost: AtomicU64,
    received: AtomicU64,
}

/// This node's membership in the cluster of one hub: it publishes what the
/// hub sends beyond this node, and answers what other nodes ask of this
/// node's connections.
///
/// Made when the hub is built; it starts (spawns its publishing task and
/// subscribes) the first time it is used inside a tokio runtime, so that
/// building a hub needs no runtime.
pub(crate) struct Cluster {
    backplane: Arc<dyn Backplane>,
    node_id: String,
    registry: Arc<Registry>,
    outgoing: mpsc::Sender<Outgoing>,
    /// The receiving end of `outgoing`, until the publishing task takes it.
    queue: Mutex<Option<mpsc::Receiver<Outgoing>>>,
    started: AtomicBool,
    waiting: Mutex<HashMap<u64, mpsc::UnboundedSender<(String, Reply)>>>,
    next_request: AtomicU64,
    counters: Arc<Counters>,
    transport: OnceLock<TransportHandler>,
    hub_name: &'static str,
    /// The live nodes as last listed, and when; one listing at a time.
    live_nodes: tokio::sync::Mutex<Option<(tokio::time::Instant, Arc<[String]>)>>,
}

impl Cluster {
    /// This node's side of the cluster of the hub `hub_name`, whose local
    /// connections are `registry`. Nothing runs until [`Cluster::start`].
    pub(crate) fn new(
        backplane: Arc<dyn Backplane>,
        registry: Arc<Registry>,
        hub_name: &'static str,
    ) -> Arc<Cluster> {
        let (outgoing, queue) = mpsc::channel(OUTGOING_CAPACITY);
        Arc::new(Cluster {
            node_id: backplane.node_id().to_owned(),
            backplane,
            registry,
            outgoing,
            queue: Mutex::new(Some(queue)),
            started: AtomicBool::new(false),
            waiting: Mutex::default(),
            next_request: AtomicU64::new(0),
            counters: Arc::default(),
            transport: OnceLock::new(),
            hub_name,
            live_nodes: tokio::sync::Mutex::new(None),
        })
    }

    /// Joins the cluster, once: starts publishing and receiving. Outside a
    /// tokio runtime it does nothing (a later call inside one starts it);
    /// messages sent meanwhile wait in the bounded outgoing queue.
    pub(crate) fn start(self: &Arc<Self>) {
        if self.started.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(queue) = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return; // Another thread is starting it.
        };
        self.started.store(true, Ordering::Release);
        runtime.spawn(publish_loop(
            self.backplane.clone(),
            queue,
            self.counters.clone(),
            self.hub_name,
        ));
        let receiver = Arc::downgrade(self);
        let subscribe = self.backplane.subscribe(Box::new(move |bytes| {
            if let Some(cluster) = receiver.upgrade() {
                cluster.receive(&bytes);
            }
        }));
        runtime.spawn(async move {
            if let Err(error) = subscribe.await {
                tracing::error!(%error, "could not subscribe to the backplane");
            }
        });
    }

    pub(crate) fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Whether `node` is alive now (this node is), by the backplane's list
    /// of live nodes, asked one caller at a time and at most ten times a
    /// second. When the list cannot be had, the last one answers (none: no).
    pub(crate) async fn is_live(&self, node: &str) -> bool {
        if node == self.node_id {
            return true;
        }
        let mut live = self.live_nodes.lock().await;
        // A node found in the list is trusted for a second; one missing is
        // looked for again unless the list is new (a node that just started
        // is alive at once, a flood of unknown names costs ten listings a
        // second at most).
        let fresh = live
            .as_ref()
            .filter(|(listed, nodes)| {
                let found = nodes.iter().any(|live| live == node);
                listed.elapsed()
                    < if found {
                        LIVE_NODES_TTL
                    } else {
                        MISSING_NODE_TTL
                    }
            })
            .map(|(_, nodes)| nodes.clone());
        let nodes = match fresh {
            Some(nodes) => nodes,
            None => match self.backplane.nodes().await {
                Ok(nodes) => {
                    let nodes: Arc<[String]> = nodes.into();
                    *live = Some((tokio::time::Instant::now(), nodes.clone()));
                    nodes
                }
                Err(error) => {
                    tracing::warn!(%error, "could not list the live nodes");
                    match live.as_ref() {
                        Some((_, nodes)) => nodes.clone(),
                        None => return false,
                    }
                }
            },
        };
        nodes.iter().any(|live| live == node)
    }

    pub(crate) fn stats(&self) -> ClusterStats {
        ClusterStats {
            published: self.counters.published.load(Ordering::Relaxed),
            lost: self.counters.lost.load(Ordering::Relaxed),
            received: self.counters.received.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn set_transport_handler(&self, handler: TransportHandler) {
        if self.transport.set(handler).is_err() {
            tracing::warn!("a transport handler was already set for this hub's cluster");
        }
    }

    fn enqueue(&self, to: Option<&str>, body: Body) {
        let envelope = Envelope {
            from: self.node_id.clone(),
            body,
        };
        let bytes = envelope::encode(&envelope);
        if self
            .outgoing
            .try_send((to.map(str::to_owned), bytes))
            .is_err()
        {
            crate::metrics::backplane_lost(self.hub_name);
            let lost = self.counters.lost.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(lost, "backplane queue full: message lost for other nodes");
        }
    }

    /// Sends a message to the connections of `target` on the other nodes.
    pub(crate) fn publish_send(
        &self,
        target: Target,
        message: &SerializedMessage<'_>,
    ) -> Result<(), hub_protocol::EncodeError> {
        let frames = message.frames()?;
        self.enqueue(None, Body::Send { target, frames });
        Ok(())
    }

    /// Asks every node; gathers replies until `enough` says so, every live
    /// node answered, or `timeout`.
    async fn ask_all(
        &self,
        request: Request,
        timeout: Duration,
        mut enough: impl FnMut(&Reply) -> bool,
    ) -> Vec<Reply> {
        let expected = match self.backplane.nodes().await {
            Ok(nodes) => nodes.len(),
            Err(error) => {
                tracing::warn!(%error, "could not list the nodes; waiting for the timeout");
                usize::MAX
            }
        };
        let (id, mut replies) = self.register();
        self.enqueue(None, Body::Request { id, request });
        let mut gathered = Vec::new();
        let _ = tokio::time::timeout(timeout, async {
            while let Some((_, reply)) = replies.recv().await {
                let stop = enough(&reply);
                gathered.push(reply);
                if stop || gathered.len() >= expected {
                    break;
                }
            }
        })
        .await;
        self.unregister(id);
        gathered
    }

    /// Asks one node; its reply, or `None` after `timeout`.
    async fn ask_node(&self, node: &str, request: Request, timeout: Duration) -> Option<Reply> {
        let (id, mut replies) = self.register();
        self.enqueue(Some(node), Body::Request { id, request });
        let reply = tokio::time::timeout(timeout, replies.recv())
            .await
            .ok()
            .flatten();
        self.unregister(id);
        reply.map(|(_, reply)| reply)
    }

    fn register(&self) -> (u64, mpsc::UnboundedReceiver<(String, Reply)>) {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::unbounded_channel();
        self.lock_waiting().insert(id, sender);
        (id, receiver)
    }

    fn unregister(&self, id: u64) {
        self.lock_waiting().remove(&id);
    }

    fn lock_waiting(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::UnboundedSender<(String, Reply)>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or removes a connection that is not on this node; false if no
    /// node has it.
    pub(crate) async fn group(&self, op: GroupOp, connection_id: &str, group: &str) -> bool {
        let request = Request::Group {
            op,
            connection_id: connection_id.to_owned(),
            group: group.to_owned(),
        };
        let replies = self
            .ask_all(request, Duration::from_secs(5), |reply| {
                matches!(reply, Reply::Done)
            })
            .await;
        replies.iter().any(|reply| matches!(reply, Reply::Done))
    }

    /// Invokes a client method on a connection of another node.
    pub(crate) async fn invoke_client(
        &self,
        connection_id: &str,
        method: &str,
        arguments: Vec<Bytes>,
        timeout: Duration,
    ) -> Option<Result<(Protocol, ClientAnswer), String>> {
        let request = Request::InvokeClient {
            connection_id: connection_id.to_owned(),
            method: method.to_owned(),
            arguments,
        };
        let replies = self
            .ask_all(request, timeout, |reply| !matches!(reply, Reply::NotHere))
            .await;
        replies.into_iter().find_map(|reply| match reply {
            Reply::ClientResult(Ok(Some((index, value)))) => {
                let protocol = *Protocol::ALL.get(index)?;
                Some(Ok((protocol, ClientAnswer::Value(value))))
            }
            Reply::ClientResult(Ok(None)) => Some(Ok((Protocol::Json, ClientAnswer::Empty))),
            Reply::ClientResult(Err(error)) => Some(Err(error)),
            _ => None,
        })
    }

    /// Closes a connection of another node; false if no node has it.
    pub(crate) async fn abort(
        &self,
        connection_id: &str,
        error: Option<String>,
        allow_reconnect: bool,
    ) -> bool {
        let request = Request::Abort {
            connection_id: connection_id.to_owned(),
            error,
            allow_reconnect,
        };
        let replies = self
            .ask_all(request, Duration::from_secs(5), |reply| {
                matches!(reply, Reply::Done)
            })
            .await;
        replies.iter().any(|reply| matches!(reply, Reply::Done))
    }

    /// The union of every node's answer to `query`.
    pub(crate) async fn query(&self, query: Query) -> Vec<String> {
        let replies = self
            .ask_all(Request::Query(query), Duration::from_secs(5), |_| false)
            .await;
        let mut names: Vec<String> = replies
            .into_iter()
            .flat_map(|reply| match reply {
                Reply::Names(names) => names,
                _ => Vec::new(),
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Sends a transport's request to `node` and waits for its answer.
    pub(crate) async fn transport_request(
        &self,
        node: &str,
        request: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BackplaneError> {
        match self
            .ask_node(node, Request::Transport(request), timeout)
            .await
        {
            Some(Reply::Transport(reply)) => Ok(reply),
            Some(_) => Err(BackplaneError(format!(
                "node {node} does not serve this hub's transports"
            ))),
            None => Err(BackplaneError(format!(
                "node {node} did not answer in {timeout:?}"
            ))),
        }
    }

    fn receive(self: &Arc<Self>, bytes: &[u8]) {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        let envelope = match envelope::decode(bytes) {
            Ok(envelope) => envelope,
            Err(error) => {
                tracing::warn!(%error, "undecodable backplane message ignored");
                return;
            }
        };
        match envelope.body {
            Body::Send { target, frames } => {
                if envelope.from == self.node_id {
                    return; // Delivered locally when sent.
                }
                let message = SerializedMessage::new(&frames);
                if let Err(error) = self.registry.deliver(&target, &message) {
                    tracing::warn!(%error, "a message from another node could not be delivered");
                }
            }
            Body::Request { id, request } => self.answer(envelope.from, id, request),
            Body::Reply { id, reply } => {
                if let Some(waiter) = self.lock_waiting().get(&id) {
                    let _ = waiter.send((envelope.from, reply));
                }
            }
        }
    }

    fn reply(&self, to: &str, id: u64, reply: Reply) {
        self.enqueue(Some(to), Body::Reply { id, reply });
    }

    fn answer(self: &Arc<Self>, from: String, id: u64, request: Request) {
        let registry = &self.registry;
        match request {
            Request::Group {
                op,
                connection_id,
                group,
            } => {
                let reply = if registry.get(&connection_id).is_some() {
                    match op {
                        GroupOp::Add => registry.add_to_group(&connection_id, &group),
                        GroupOp::Remove => registry.remove_from_group(&connection_id, &group),
                    }
                    Reply::Done
                } else {
                    Reply::NotHere
                };
                self.reply(&from, id, reply);
            }
            Request::Abort {
                connection_id,
                error,
                allow_reconnect,
            } => {
                let reply = match registry.get(&connection_id) {
                    Some(connection) => {
                        connection.close(CloseReason::Aborted {
                            error,
                            allow_reconnect,
                        });
                        Reply::Done
                    }
                    None => Reply::NotHere,
                };
                self.reply(&from, id, reply);
            }
            Request::Query(query) => {
                let names = match query {
                    Query::GroupMembers(group) => ids(registry.group_members(&group)),
                    Query::GroupsOf(connection_id) => registry.groups_of(&connection_id),
                    Query::UserConnections(user) => ids(registry.user_connections(&user)),
                };
                self.reply(&from, id, Reply::Names(names));
            }
            Request::InvokeClient {
                connection_id,
                method,
                arguments,
            } => {
                let Some(connection) = registry.get(&connection_id) else {
                    self.reply(&from, id, Reply::NotHere);
                    return;
                };
                let cluster = self.clone();
                tokio::spawn(async move {
                    let protocol = connection.protocol();
                    let raw = arguments.get(protocol.index()).cloned().unwrap_or_default();
                    let result = connection.invoke_client(&method, &raw).await;
                    let reply = Reply::ClientResult(match result {
                        Ok(ClientAnswer::Value(value)) => Ok(Some((protocol.index(), value))),
                        Ok(ClientAnswer::Empty) => Ok(None),
                        Ok(ClientAnswer::Error(error)) => Err(error),
                        Err(error) => Err(error.message().to_owned()),
                    });
                    cluster.reply(&from, id, reply);
                });
            }
            Request::Transport(request) => {
                let Some(handler) = self.transport.get().cloned() else {
                    self.reply(&from, id, Reply::NotHere);
                    return;
                };
                let cluster = self.clone();
                tokio::spawn(async move {
                    let reply = handler(request).await;
                    cluster.reply(&from, id, Reply::Transport(reply));
                });
            }
        }
    }
}

fn ids(connections: Vec<crate::id::ConnectionId>) -> Vec<String> {
    connections.into_iter().map(|id| id.to_string()).collect()
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node_id", &self.node_id)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Publishes queued messages in order, a window of them in flight at once.
/// A message the backplane refuses is counted as lost and logged.
async fn publish_loop(
    backplane: Arc<dyn Backplane>,
    mut queue: mpsc::Receiver<Outgoing>,
    counters: Arc<Counters>,
    hub_name: &'static str,
) {
    let mut in_flight = FuturesOrdered::new();
    let mut lost_since_log = 0u64;
    loop {
        tokio::select! {
            biased;
            Some(result) = in_flight.next(), if !in_flight.is_empty() => {
                match result {
                    Ok(()) => {
                        counters.published.fetch_add(1, Ordering::Relaxed);
                        if lost_since_log > 0 {
                            tracing::warn!(lost = lost_since_log, "backplane is back; messages were lost meanwhile");
                            lost_since_log = 0;
                        }
                    }
                    Err(error) => {
                        counters.lost.fetch_add(1, Ordering::Relaxed);
                        crate::metrics::backplane_lost(hub_name);
                        if lost_since_log == 0 {
                            tracing::warn!(%error, "backplane publish failed: message lost for other nodes");
                        }
                        lost_since_log += 1;
                    }
                }
            }
            next = queue.recv(), if in_flight.len() < PUBLISH_WINDOW => match next {
                Some((to, bytes)) => in_flight.push_back(backplane.publish(to.as_deref(), bytes)),
                None if in_flight.is_empty() => return,
                None => {}
            },
        }
    }
}
