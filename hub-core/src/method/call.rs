//! One call of a hub method, as its generated shim sees it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::stream_sink::StreamSink;
use crate::connection::Connection;
use crate::context::HubCtx;
use crate::error::{ArgumentError, HubError};
use crate::outcome::{InvocationFuture, MethodValue};
use crate::reply;
use crate::upload::{UploadEvent, UploadStream};
use hub_protocol::{EncodedValue, Protocol};

/// One call of a hub method, handed to the method's shim.
#[derive(Debug)]
pub struct MethodCall<'a> {
    pub(crate) ctx: &'a HubCtx,
    pub(crate) connection: &'a Arc<Connection>,
    pub(crate) invocation_id: Option<&'a Arc<str>>,
    pub(crate) arguments: &'a [EncodedValue<'a>],
    pub(crate) stream_ids: &'a [Cow<'a, str>],
    /// Items buffered per upload stream (`HubOptions::stream_buffer_capacity`).
    pub(crate) upload_capacity: usize,
    /// Upload streams the shim created, for the connection to feed.
    pub(crate) uploads: RefCell<Vec<(Box<str>, mpsc::Sender<UploadEvent>)>>,
    /// Cancelled by the client's CancelInvocation for the call, or when the
    /// connection ends; for streaming invocations and methods that take a
    /// `CancellationToken`.
    pub(crate) cancellation: Option<CancellationToken>,
    /// Whether filters will see the result: it then stays a typed value
    /// instead of being encoded as the method returns.
    pub(crate) typed_result: bool,
}

impl MethodCall<'_> {
    fn protocol(&self) -> Protocol {
        self.connection.protocol()
    }

    /// Decodes argument `index` into the parameter type `T`.
    pub fn argument<T: DeserializeOwned>(&self, index: usize) -> Result<T, ArgumentError> {
        let value = self.arguments.get(index).ok_or(ArgumentError::Count {
            provided: self.arguments.len(),
            expected: index + 1,
        })?;
        value.decode().map_err(|error| ArgumentError::Invalid {
            index,
            reason: error.to_string(),
        })
    }

    /// The upload stream bound to the method's stream parameter `index`.
    pub fn upload_stream<T: DeserializeOwned>(&self, index: usize) -> UploadStream<T> {
        let (sender, receiver) = mpsc::channel(self.upload_capacity.max(1));
        // The connection checked the stream count before calling the shim.
        if let Some(id) = self.stream_ids.get(index) {
            self.uploads.borrow_mut().push((id.as_ref().into(), sender));
        }
        UploadStream::new(receiver, self.protocol())
    }

    /// The token a method's `CancellationToken` parameter is bound to:
    /// cancelled when the client cancels the call or the connection ends.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.cancellation.clone().unwrap_or_default()
    }

    /// The context of the call, to move into the method's future.
    pub fn context(&self) -> HubCtx {
        self.ctx.clone()
    }

    /// Wraps a unary method's future: its result answers the call. Without
    /// filters the Completion is encoded as the method returns; with them
    /// the value stays typed for them to see.
    pub fn respond<R, F>(&self, future: F) -> InvocationFuture
    where
        R: IntoMethodResult,
        F: Future<Output = R> + Send + 'static,
    {
        let invocation_id = self.invocation_id.cloned();
        let protocol = self.protocol();
        let typed = self.typed_result;
        Box::pin(async move {
            let value = future.await.into_method_result()?;
            if typed {
                return Ok(MethodValue::new(value));
            }
            Ok(MethodValue::encoded(match invocation_id {
                Some(id) => reply::completion_with(protocol, &id, &value)?,
                None => Bytes::new(),
            }))
        })
    }

    /// The sink a streaming method's stream is forwarded into.
    pub fn stream_sink(&self) -> StreamSink {
        StreamSink::new(
            self.connection.clone(),
            self.invocation_id
                .map_or_else(|| "".into(), |id| (**id).into()),
            self.cancellation.clone().unwrap_or_default(),
        )
    }
}

/// Boxes a streaming method's future (a compile-time check of its output, too).
pub fn boxed<F>(future: F) -> InvocationFuture
where
    F: Future<Output = Result<MethodValue, HubError>> + Send + 'static,
{
    Box::pin(future)
}

/// A hub method's return value: `()` or `Result<T, E>` with `E: Into<HubError>`.
///
/// Methods returning a plain serializable value are wrapped in `Ok` by the macro.
pub trait IntoMethodResult: Send {
    /// The value sent to the caller.
    type Value: Serialize + Send + 'static;
    /// Splits into the value or the error to report.
    fn into_method_result(self) -> Result<Self::Value, HubError>;
}

impl IntoMethodResult for () {
    type Value = ();
    fn into_method_result(self) -> Result<(), HubError> {
        Ok(())
    }
}

impl<T: Serialize + Send + 'static, E: Into<HubError> + Send> IntoMethodResult for Result<T, E> {
    type Value = T;
    fn into_method_result(self) -> Result<T, HubError> {
        self.map_err(Into::into)
    }
}
