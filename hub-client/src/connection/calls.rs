//! One call from a handle to the hub: its message queued in order, its
//! answer awaited, its uploads streamed, and a server-to-client stream that
//! cancels itself when dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, Stream, StreamExt};
use hub_core::client_api::Upload;
use hub_protocol::CallKind;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};

use super::shared::{Command, Pending, Shared};
use crate::error::Error;

/// Removes a pending call when its caller stops waiting. A call dropped
/// before its answer came is cancelled on the server: a CancelInvocation
/// (since .NET 11 it cancels a hub method's `CancellationToken`, as it does
/// on this server; older servers ignore it), queued only if the outgoing
/// queue has room (a full queue drops the cancellation, never blocks a drop).
struct PendingGuard {
    shared: Arc<Shared>,
    id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if self.shared.remove(&self.id).is_none() {
            // Answered, or failed with the connection: nothing to cancel.
            return;
        }
        if let Ok(commands) = self.shared.commands() {
            let cancel = Command::Send {
                bytes: self
                    .shared
                    .options
                    .protocol
                    .encode_cancel_invocation(&self.id),
                invocation: None,
            };
            let _ = commands.try_send(cancel);
        }
    }
}

/// A call encoded, ready to be queued.
pub(crate) struct Prepared {
    commands: mpsc::Sender<Command>,
    command: Command,
    uploads: Vec<(Upload, String)>,
}

/// Encodes a call (synchronously: the arguments need not be `Send`).
fn prepare<A: Serialize>(
    shared: &Shared,
    kind: CallKind,
    invocation_id: Option<&str>,
    target: &str,
    arguments: &A,
    uploads: Vec<Upload>,
) -> Result<Prepared, Error> {
    let commands = shared.commands()?;
    let stream_ids: Vec<String> = uploads.iter().map(|_| shared.next_id()).collect();
    let ids: Vec<&str> = stream_ids.iter().map(String::as_str).collect();
    let protocol = shared.options.protocol;
    // `()` (no arguments) is an empty sequence, not `null`.
    let bytes = if std::any::type_name::<A>() == "()" {
        protocol.encode_call(kind, invocation_id, target, &[(); 0], &ids)?
    } else {
        protocol.encode_call(kind, invocation_id, target, arguments, &ids)?
    };
    Ok(Prepared {
        commands,
        command: Command::Send {
            bytes,
            invocation: invocation_id.map(str::to_owned),
        },
        uploads: uploads.into_iter().zip(stream_ids).collect(),
    })
}

/// Queues a prepared call (registering what waits for its answer first),
/// then starts its uploads.
async fn submit(
    shared: &Arc<Shared>,
    prepared: Prepared,
    pending: Option<(String, Pending)>,
) -> Result<(), Error> {
    if let Some((id, pending)) = pending {
        shared.insert(id, pending);
    }
    let Prepared {
        commands,
        command,
        uploads,
    } = prepared;
    commands
        .send(command)
        .await
        .map_err(|_| Error::NotConnected)?;
    for (upload, stream_id) in uploads {
        tokio::spawn(send_upload(
            shared.clone(),
            commands.clone(),
            upload,
            stream_id,
        ));
    }
    Ok(())
}

/// Streams one upload's items, then its Completion.
async fn send_upload(
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    mut upload: Upload,
    stream_id: String,
) {
    let protocol = shared.options.protocol;
    while let Some(encode) = upload.0.next().await {
        let bytes = match encode(protocol, &stream_id) {
            Ok(bytes) => bytes,
            Err(error) => protocol.encode_completion_error(&stream_id, &error.to_string()),
        };
        let send = Command::Send {
            bytes,
            invocation: None,
        };
        if commands.send(send).await.is_err() {
            return;
        }
    }
    let end = Command::Send {
        bytes: protocol.encode_completion_empty(&stream_id),
        invocation: None,
    };
    let _ = commands.send(end).await;
}

/// Invokes `target` and waits for its result, still encoded.
pub(crate) fn invoke_raw<A: Serialize>(
    shared: Arc<Shared>,
    target: &str,
    arguments: A,
    uploads: Vec<Upload>,
) -> impl Future<Output = Result<Bytes, Error>> + Send + 'static {
    let id = shared.next_id();
    let prepared = prepare(
        &shared,
        CallKind::Invocation,
        Some(&id),
        target,
        &arguments,
        uploads,
    );
    async move {
        let prepared = prepared?;
        let (sender, answer) = oneshot::channel();
        let _guard = PendingGuard {
            shared: shared.clone(),
            id: id.clone(),
        };
        submit(&shared, prepared, Some((id, Pending::Invocation(sender)))).await?;
        answer
            .await
            .unwrap_or(Err(Error::ConnectionLost("the connection ended".into())))
    }
}

/// Invokes `target` and decodes its result.
pub(crate) fn invoke<A: Serialize, R: DeserializeOwned>(
    shared: Arc<Shared>,
    target: &str,
    arguments: A,
    uploads: Vec<Upload>,
) -> impl Future<Output = Result<R, Error>> + Send + 'static {
    let protocol = shared.options.protocol;
    let result = invoke_raw(shared, target, arguments, uploads);
    async move { Ok(protocol.decode(&result.await?)?) }
}

/// Sends `target` without an invocation id.
pub(crate) fn send<A: Serialize>(
    shared: Arc<Shared>,
    target: &str,
    arguments: A,
    uploads: Vec<Upload>,
) -> impl Future<Output = Result<(), Error>> + Send + 'static {
    let prepared = prepare(
        &shared,
        CallKind::Invocation,
        None,
        target,
        &arguments,
        uploads,
    );
    async move { submit(&shared, prepared?, None).await }
}

/// A server-to-client stream. Items arrive as `Ok`; a failure (the hub's,
/// the connection's, a full buffer, an item that does not decode) arrives
/// as one `Err`, then the stream ends. Dropping it before its end sends a
/// CancelInvocation.
#[must_use = "streams do nothing unless polled"]
pub struct HubStream<T> {
    shared: Arc<Shared>,
    id: String,
    start: Option<BoxFuture<'static, Result<(), Error>>>,
    items: mpsc::Receiver<Result<Bytes, Error>>,
    done: bool,
    item: std::marker::PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for HubStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubStream")
            .field("id", &self.id)
            .field("done", &self.done)
            .finish()
    }
}

impl<T> HubStream<T> {
    pub(crate) fn new<A: Serialize>(
        shared: Arc<Shared>,
        target: String,
        arguments: A,
        uploads: Vec<Upload>,
    ) -> Self {
        let id = shared.next_id();
        // One slot beyond the capacity: room for the error that ends a full stream.
        let (sender, items) = mpsc::channel(shared.options.stream_buffer_capacity + 1);
        let prepared = prepare(
            &shared,
            CallKind::StreamInvocation,
            Some(&id),
            &target,
            &arguments,
            uploads,
        );
        let start = {
            let (shared, id) = (shared.clone(), id.clone());
            async move { submit(&shared, prepared?, Some((id, Pending::Stream(sender)))).await }
                .boxed()
        };
        Self {
            shared,
            id,
            start: Some(start),
            items,
            done: false,
            item: std::marker::PhantomData,
        }
    }
}

impl<T> Unpin for HubStream<T> {}

impl<T: DeserializeOwned> Stream for HubStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(start) = self.start.as_mut() {
            let started = std::task::ready!(start.poll_unpin(cx));
            self.start = None;
            if let Err(error) = started {
                self.done = true;
                self.shared.remove(&self.id);
                return Poll::Ready(Some(Err(error)));
            }
        }
        let item = std::task::ready!(self.items.poll_recv(cx));
        let protocol = self.shared.options.protocol;
        Poll::Ready(match item {
            Some(Ok(bytes)) => match protocol.decode::<T>(&bytes) {
                Ok(item) => Some(Ok(item)),
                Err(error) => {
                    self.done = true;
                    self.cancel();
                    Some(Err(error.into()))
                }
            },
            Some(Err(error)) => {
                self.done = true;
                Some(Err(error))
            }
            None => {
                self.done = true;
                None
            }
        })
    }
}

impl<T> HubStream<T> {
    /// Stops the stream on the server, unless it has ended.
    fn cancel(&mut self) {
        if self.shared.remove(&self.id).is_none() {
            return;
        }
        let Ok(commands) = self.shared.commands() else {
            return;
        };
        let cancel = Command::Send {
            bytes: self
                .shared
                .options
                .protocol
                .encode_cancel_invocation(&self.id),
            invocation: None,
        };
        if let Err(mpsc::error::TrySendError::Full(cancel)) = commands.try_send(cancel)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = commands.send(cancel).await;
            });
        }
    }
}

impl<T> Drop for HubStream<T> {
    fn drop(&mut self) {
        if self.start.is_none() && !self.done {
            self.cancel();
        }
    }
}
