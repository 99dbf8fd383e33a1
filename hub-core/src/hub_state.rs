//! What every connection of a hub shares: its options, its connections on
//! this node, and the other nodes serving it.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cluster::Cluster;
use crate::connection::ClientAnswer;
use crate::error::{HubError, HubResult};
use crate::id::ConnectionId;
use crate::message::{ClientInvocation, SerializedMessage};
use crate::options::HubOptions;
use crate::registry::{Registry, Target};
use hub_protocol::Protocol;

/// The shared state of one hub; immutable but for its registry.
#[derive(Debug)]
pub(crate) struct HubState {
    /// The hub trait's name, for logs and metrics.
    name: &'static str,
    options: HubOptions,
    registry: Arc<Registry>,
    /// The other nodes serving this hub, with a backplane.
    cluster: Option<Arc<Cluster>>,
}

impl HubState {
    /// The state of hub `name`, joined to the cluster made by `cluster` from
    /// the registry when the hub has a backplane.
    pub(crate) fn new(
        name: &'static str,
        options: HubOptions,
        cluster: impl FnOnce(Arc<Registry>) -> Option<Arc<Cluster>>,
    ) -> Self {
        let registry = Arc::new(Registry::new());
        Self {
            name,
            options,
            cluster: cluster(registry.clone()),
            registry,
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn options(&self) -> &HubOptions {
        &self.options
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The cluster, started if it was not yet; `None` without a backplane.
    pub(crate) fn cluster(&self) -> Option<&Arc<Cluster>> {
        let cluster = self.cluster.as_ref()?;
        cluster.start();
        Some(cluster)
    }

    /// Sends `method(arguments...)` to every connection `target` names,
    /// encoding it at most once per protocol in use.
    pub(crate) fn send<A: Serialize + ?Sized>(
        &self,
        target: &Target,
        method: &str,
        arguments: &A,
    ) -> HubResult<()> {
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

    /// Invokes `method(arguments...)` on one connection (on this node or,
    /// with a backplane, on another) and waits for its result.
    pub(crate) async fn invoke_client<R, A>(
        &self,
        connection_id: &ConnectionId,
        method: &str,
        arguments: &A,
    ) -> HubResult<R>
    where
        R: DeserializeOwned,
        A: Serialize + ?Sized,
    {
        let missing = || HubError::new(format!("Connection '{connection_id}' does not exist."));
        if let Some(connection) = self.registry.get(connection_id) {
            let protocol = connection.protocol();
            let raw = protocol.encode_value(arguments)?;
            let answer = connection.invoke_client(method, &raw).await?;
            return answer_value(protocol, answer);
        }
        let Some(cluster) = self.cluster() else {
            return Err(missing());
        };
        let arguments = Protocol::ALL
            .into_iter()
            .map(|protocol| protocol.encode_value(arguments))
            .collect::<Result<Vec<_>, _>>()?;
        // The other node applies the client result timeout; this one waits a little longer.
        let timeout = self
            .options
            .client_result_timeout
            .map_or(Duration::from_secs(24 * 3600), |limit| {
                limit + Duration::from_secs(5)
            });
        match cluster
            .invoke_client(connection_id, method, arguments, timeout)
            .await
        {
            None => Err(missing()),
            Some(Err(error)) => Err(HubError::new(error)),
            Some(Ok((protocol, answer))) => answer_value(protocol, answer),
        }
    }
}

/// The value of a client's answer, decoded from `protocol`.
fn answer_value<R: DeserializeOwned>(protocol: Protocol, answer: ClientAnswer) -> HubResult<R> {
    let decode = |bytes: &[u8]| {
        protocol.decode(bytes).map_err(|error| {
            HubError::new(format!("The client's result has the wrong type: {error}"))
        })
    };
    match answer {
        ClientAnswer::Error(error) => Err(HubError::new(error)),
        ClientAnswer::Value(bytes) => decode(&bytes),
        ClientAnswer::Empty => decode(&protocol.encoded_null()),
    }
}

#[cfg(test)]
mod tests;
