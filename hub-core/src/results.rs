//! Client results: the server invokes a client method and awaits its return value.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use std::time::Duration;

use crate::connection::Connection;
use crate::error::{HubError, HubResult};
use crate::hub::HubShared;
use crate::id::ConnectionId;
use crate::protocol::Protocol;

/// A client's answer to a server invocation.
#[derive(Debug)]
pub(crate) enum ClientResult {
    /// A value, still encoded in the connection's protocol.
    Value(Bytes),
    /// A Completion without result (a void handler).
    Empty,
    /// The client reported an error (e.g. "Client didn't provide a result.").
    Error(String),
}

/// The client results a connection's clients are waiting for. Closed (and every
/// waiter told) when the connection ends.
#[derive(Debug, Default)]
pub(crate) struct PendingResults {
    /// `None` once the connection has ended.
    waiting: Mutex<Option<HashMap<Box<str>, oneshot::Sender<ClientResult>>>>,
}

impl PendingResults {
    pub(crate) fn open() -> Self {
        Self {
            waiting: Mutex::new(Some(HashMap::new())),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<HashMap<Box<str>, oneshot::Sender<ClientResult>>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a wait for `id`; `None` if the connection already ended.
    fn register(&self, id: &str) -> Option<oneshot::Receiver<ClientResult>> {
        let (sender, receiver) = oneshot::channel();
        self.lock().as_mut()?.insert(id.into(), sender);
        Some(receiver)
    }

    fn forget(&self, id: &str) {
        if let Some(waiting) = self.lock().as_mut() {
            waiting.remove(id);
        }
    }

    /// Resolves the wait for `id`; false if nobody waits for it.
    pub(crate) fn complete(&self, id: &str, result: ClientResult) -> bool {
        let sender = self.lock().as_mut().and_then(|waiting| waiting.remove(id));
        match sender {
            Some(sender) => {
                let _ = sender.send(result);
                true
            }
            None => false,
        }
    }

    /// Ends every wait with "disconnected" and refuses new ones.
    pub(crate) fn close(&self) {
        self.lock().take();
    }
}

/// Removes a registered wait if the caller stops waiting (timeout, drop).
struct Registration<'a> {
    pending: &'a PendingResults,
    id: &'a str,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.pending.forget(self.id);
    }
}

/// Invokes `method(arguments)` on one connection (on this node or, with a
/// backplane, on another) and waits for its result.
pub(crate) async fn invoke<R, A>(
    hub: &HubShared,
    connection_id: &ConnectionId,
    method: &str,
    arguments: &A,
) -> HubResult<R>
where
    R: DeserializeOwned,
    A: Serialize + ?Sized,
{
    let missing = || HubError::new(format!("Connection '{connection_id}' does not exist."));
    if let Some(connection) = hub.registry().get(connection_id) {
        let protocol = connection.protocol();
        let raw = protocol.encode_value(arguments)?;
        let result = invoke_raw(&connection, method, &raw).await?;
        return into_value(protocol, result);
    }
    let Some(cluster) = hub.cluster() else {
        return Err(missing());
    };
    let arguments = Protocol::ALL
        .into_iter()
        .map(|protocol| protocol.encode_value(arguments))
        .collect::<Result<Vec<_>, _>>()?;
    // The other node applies the client result timeout; this one waits a little longer.
    let timeout = hub
        .options()
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
        Some(Ok((protocol, result))) => into_value(protocol, result),
    }
}

/// Invokes a client method on a local connection with arguments already
/// encoded in its protocol, and waits for its answer.
pub(crate) async fn invoke_raw(
    connection: &Connection,
    method: &str,
    arguments: &[u8],
) -> HubResult<ClientResult> {
    let connection_id = connection.id();
    let disconnected = || HubError::new(format!("Connection '{connection_id}' disconnected."));
    let id = connection.hub().next_invocation_id();
    let bytes = connection
        .protocol()
        .encode_invocation_raw(Some(&id), method, arguments);
    let pending = connection.pending_results();
    let receiver = pending.register(&id).ok_or_else(disconnected)?;
    let _registration = Registration { pending, id: &id };
    connection.push(bytes);

    let result = match connection.options().client_result_timeout {
        Some(limit) => tokio::time::timeout(limit, receiver).await.map_err(|_| {
            HubError::new(format!(
                "Timed out after {limit:?} waiting for the result of '{method}' from connection '{connection_id}'."
            ))
        })?,
        None => receiver.await,
    };
    result.map_err(|_| disconnected())
}

/// The value of a client's answer.
fn into_value<R: DeserializeOwned>(protocol: Protocol, result: ClientResult) -> HubResult<R> {
    match result {
        ClientResult::Error(error) => Err(HubError::new(error)),
        ClientResult::Value(bytes) => decode(protocol, &bytes),
        ClientResult::Empty => decode(protocol, &protocol.encoded_null()),
    }
}

fn decode<R: DeserializeOwned>(protocol: Protocol, bytes: &[u8]) -> HubResult<R> {
    protocol
        .decode(bytes)
        .map_err(|error| HubError::new(format!("The client's result has the wrong type: {error}")))
}
