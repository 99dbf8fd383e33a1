//! Forwarding a streaming method's stream to its caller.

use std::pin::pin;
use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::connection::Connection;
use crate::error::HubError;
use crate::outcome::{InvocationResult, MethodValue};
use crate::reply;

/// Sends a server-to-client stream: a StreamItem per item; the invocation's
/// end (its Completion) is the connection's to write.
///
/// Generated code awaits the hub method and forwards its stream in the same
/// future, so a stream may borrow the hub (`&self`) and its arguments.
pub struct StreamSink {
    connection: Arc<Connection>,
    invocation_id: Box<str>,
    cancellation: CancellationToken,
}

impl StreamSink {
    pub(crate) fn new(
        connection: Arc<Connection>,
        invocation_id: Box<str>,
        cancellation: CancellationToken,
    ) -> Self {
        Self {
            connection,
            invocation_id,
            cancellation,
        }
    }

    /// Forwards a stream of plain items.
    pub async fn forward<S>(self, stream: S) -> InvocationResult
    where
        S: Stream,
        S::Item: Serialize,
    {
        self.forward_fallible(stream.map(Ok::<_, HubError>)).await
    }

    /// Forwards a stream of `Result` items; an `Err` ends the stream with an
    /// error Completion ("An error occurred on the server while streaming results.").
    /// The client's CancelInvocation stops it: the stream is dropped and a
    /// plain Completion sent.
    pub async fn forward_fallible<S, T, E>(self, stream: S) -> InvocationResult
    where
        S: Stream<Item = Result<T, E>>,
        T: Serialize,
        E: Into<HubError>,
    {
        let connection = &self.connection;
        let protocol = connection.protocol();
        let id = &*self.invocation_id;
        let mut stream = pin!(stream);
        loop {
            let next = tokio::select! {
                biased;
                () = self.cancellation.cancelled() => break,
                next = stream.next() => next,
            };
            match next {
                None => break,
                Some(Ok(item)) => {
                    let bytes = reply::stream_item(protocol, id, &item)?;
                    if connection.send_reply(bytes).await.is_err() {
                        break;
                    }
                }
                Some(Err(error)) => return Err(error.into().mid_stream()),
            }
        }
        Ok(MethodValue::unit())
    }
}

impl std::fmt::Debug for StreamSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSink")
            .field("invocation_id", &self.invocation_id)
            .finish_non_exhaustive()
    }
}
