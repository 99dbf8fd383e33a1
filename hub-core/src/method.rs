//! Hub methods as the runtime sees them: a table of wire names, each with a
//! shim that decodes arguments and starts the call.
//!
//! The `#[hub]` macro emits one [`HubBuilder::method`] row per trait method;
//! argument decoding, arity checks, result encoding, streaming and error texts
//! live here, in plain generic code.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::HubCtx;
use crate::error::HubError;
use crate::protocol::EncodedValue;
use crate::upload::{UploadEvent, UploadStream};

pub(crate) use crate::method_errors::error_text;

/// The Completion an invocation ends with, already encoded for its connection.
#[derive(Debug, Clone)]
pub struct Completion {
    pub(crate) bytes: Bytes,
    failed: bool,
}

impl Completion {
    pub(crate) fn new(bytes: Bytes) -> Self {
        Self {
            bytes,
            failed: false,
        }
    }

    pub(crate) fn failed(bytes: Bytes) -> Self {
        Self {
            bytes,
            failed: true,
        }
    }

    /// Whether the Completion reports an error (a stream that failed mid-way).
    pub fn is_error(&self) -> bool {
        self.failed
    }
}

/// What an invocation yields: its Completion (empty for non-blocking calls),
/// or the error to report ("An unexpected error occurred invoking ...").
pub type InvocationResult = Result<Completion, HubError>;

/// A started hub method call.
pub type InvocationFuture = Pin<Box<dyn Future<Output = InvocationResult> + Send>>;

/// Why an invocation's arguments could not be bound to the method's parameters.
#[derive(Debug, thiserror::Error)]
pub enum ArgumentError {
    /// Wrong number of arguments.
    #[error("Invocation provides {provided} argument(s) but target expects {expected}.")]
    Count {
        /// Arguments sent by the client.
        provided: usize,
        /// Parameters of the method.
        expected: usize,
    },
    /// An argument did not decode into its parameter's type.
    #[error(
        "Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked. Argument {index}: {reason}"
    )]
    Invalid {
        /// Zero-based position of the argument.
        index: usize,
        /// The decoder's explanation.
        reason: String,
    },
}

/// One call of a hub method, handed to the method's shim.
#[derive(Debug)]
pub struct MethodCall<'a> {
    pub(crate) ctx: &'a HubCtx,
    pub(crate) invocation_id: Option<&'a Arc<str>>,
    pub(crate) arguments: &'a [EncodedValue<'a>],
    pub(crate) stream_ids: &'a [Cow<'a, str>],
    /// Upload streams the shim created, for the connection to feed.
    pub(crate) uploads: RefCell<Vec<(Box<str>, mpsc::Sender<UploadEvent>)>>,
    /// Stops a server-to-client stream (the client's CancelInvocation);
    /// streaming invocations only.
    pub(crate) cancellation: Option<CancellationToken>,
}

impl MethodCall<'_> {
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
        let capacity = self
            .ctx
            .connection()
            .options()
            .stream_buffer_capacity
            .max(1);
        let (sender, receiver) = mpsc::channel(capacity);
        // The connection checked the stream count before calling the shim.
        if let Some(id) = self.stream_ids.get(index) {
            self.uploads.borrow_mut().push((id.as_ref().into(), sender));
        }
        UploadStream::new(receiver, self.ctx.protocol())
    }

    /// The context of the call, to move into the method's future.
    pub fn context(&self) -> HubCtx {
        self.ctx.clone()
    }

    /// Wraps a unary method's future: its result becomes the Completion.
    pub fn respond<R, F>(&self, future: F) -> InvocationFuture
    where
        R: IntoMethodResult,
        F: Future<Output = R> + Send + 'static,
    {
        let invocation_id = self.invocation_id.cloned();
        let protocol = self.ctx.protocol();
        Box::pin(async move {
            let value = future.await.into_method_result()?;
            match invocation_id {
                Some(id) => Ok(Completion::new(
                    protocol.encode_completion_result(&id, &value)?,
                )),
                None => Ok(Completion::new(Bytes::new())),
            }
        })
    }

    /// The sink a streaming method's stream is forwarded into.
    pub fn stream_sink(&self) -> StreamSink {
        StreamSink {
            connection: self.ctx.connection().clone(),
            invocation_id: self
                .invocation_id
                .map_or_else(|| "".into(), |id| (**id).into()),
            cancellation: self.cancellation.clone().unwrap_or_default(),
        }
    }
}

/// Sends a server-to-client stream: a StreamItem per item, then the Completion.
///
/// Generated code awaits the hub method and forwards its stream in the same
/// future, so a stream may borrow the hub (`&self`) and its arguments.
pub struct StreamSink {
    connection: Arc<crate::connection::Connection>,
    invocation_id: Box<str>,
    cancellation: CancellationToken,
}

impl StreamSink {
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
                    let bytes = protocol.encode_stream_item(id, &item)?;
                    if connection.send_reply(bytes).await.is_err() {
                        break;
                    }
                }
                Some(Err(error)) => {
                    let detailed = connection.options().enable_detailed_errors;
                    let text = error_text::streaming_failed(&error.into(), detailed);
                    return Ok(Completion::failed(
                        protocol.encode_completion_error(id, &text),
                    ));
                }
            }
        }
        Ok(Completion::new(protocol.encode_completion_empty(id)))
    }
}

impl std::fmt::Debug for StreamSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSink")
            .field("invocation_id", &self.invocation_id)
            .finish_non_exhaustive()
    }
}

/// Boxes a streaming method's future (a compile-time check of its output, too).
pub fn boxed<F>(future: F) -> InvocationFuture
where
    F: Future<Output = InvocationResult> + Send + 'static,
{
    Box::pin(future)
}

/// A hub method's return value: `()` or `Result<T, E>` with `E: Into<HubError>`.
///
/// Methods returning a plain serializable value are wrapped in `Ok` by the macro.
pub trait IntoMethodResult: Send {
    /// The value sent to the caller.
    type Value: Serialize + Send;
    /// Splits into the value or the error to report.
    fn into_method_result(self) -> Result<Self::Value, HubError>;
}

impl IntoMethodResult for () {
    type Value = ();
    fn into_method_result(self) -> Result<(), HubError> {
        Ok(())
    }
}

impl<T: Serialize + Send, E: Into<HubError> + Send> IntoMethodResult for Result<T, E> {
    type Value = T;
    fn into_method_result(self) -> Result<T, HubError> {
        self.map_err(Into::into)
    }
}

/// Starts a call of one method: decodes the arguments, returns the call's future.
pub type InvokeFn<H> =
    for<'a> fn(&Arc<H>, &MethodCall<'a>) -> Result<InvocationFuture, ArgumentError>;

/// The `on_connected` hook of a hub.
pub type ConnectedFn<H> = fn(&Arc<H>, HubCtx) -> BoxFuture<'static, Result<(), HubError>>;

/// The `on_disconnected` hook of a hub.
pub type DisconnectedFn<H> = fn(&Arc<H>, HubCtx, Option<HubError>) -> BoxFuture<'static, ()>;

/// Who may invoke a hub method (`#[hub(authorize)]`, `#[hub(authorize = "role")]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorize {
    /// Any authenticated user (a connection with a user id).
    Authenticated,
    /// Users with this role: a claim `role` (or `roles`) with this value.
    Role(&'static str),
}

impl Authorize {
    /// Whether `identity` may invoke the method.
    pub fn permits(self, identity: &crate::transport::Identity) -> bool {
        match self {
            Authorize::Authenticated => identity.user_id.is_some(),
            Authorize::Role(role) => {
                identity.user_id.is_some()
                    && identity
                        .claims
                        .iter()
                        .any(|(name, value)| (name == "role" || name == "roles") && value == role)
            }
        }
    }
}

/// What the runtime knows about a hub method.
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec {
    /// The wire name (PascalCase, or as renamed).
    pub name: &'static str,
    /// Number of (non-stream) arguments.
    pub arguments: usize,
    /// Number of upload stream parameters.
    pub upload_streams: usize,
    /// Whether the method returns a stream (invoked with StreamInvocation).
    pub streaming: bool,
    /// Who may invoke it; `None`: everyone connected.
    pub authorize: Option<Authorize>,
}

struct MethodEntry<H> {
    spec: MethodSpec,
    invoke: InvokeFn<H>,
}

/// The type-erased method table and hooks of a hub.
pub(crate) trait HubDispatch: Send + Sync + 'static {
    /// The trait's name, for logs.
    fn name(&self) -> &'static str;
    /// Finds a method by wire name, ignoring ASCII case (as ASP.NET does).
    fn find(&self, target: &str) -> Option<(usize, MethodSpec)>;
    /// Starts a call of method `index`.
    fn invoke(
        &self,
        index: usize,
        call: &MethodCall<'_>,
    ) -> Result<InvocationFuture, ArgumentError>;
    /// Runs the hub's `on_connected`.
    fn on_connected(&self, ctx: HubCtx) -> BoxFuture<'static, Result<(), HubError>>;
    /// Runs the hub's `on_disconnected`.
    fn on_disconnected(&self, ctx: HubCtx, error: Option<HubError>) -> BoxFuture<'static, ()>;
}

/// Collects the methods of a hub implementation; used by `#[hub]`-generated code.
pub struct HubBuilder<H> {
    name: &'static str,
    hub: Arc<H>,
    methods: Vec<MethodEntry<H>>,
    connected: Option<ConnectedFn<H>>,
    disconnected: Option<DisconnectedFn<H>>,
}

impl<H: Send + Sync + 'static> HubBuilder<H> {
    /// Starts a table for the hub implementation `hub` of the trait `name`.
    pub fn new(hub: H, name: &'static str) -> Self {
        Self {
            name,
            hub: Arc::new(hub),
            methods: Vec::new(),
            connected: None,
            disconnected: None,
        }
    }

    /// Adds a method.
    pub fn method(&mut self, spec: MethodSpec, invoke: InvokeFn<H>) -> &mut Self {
        self.methods.push(MethodEntry { spec, invoke });
        self
    }

    /// Sets the lifecycle hooks.
    pub fn lifecycle(
        &mut self,
        connected: ConnectedFn<H>,
        disconnected: DisconnectedFn<H>,
    ) -> &mut Self {
        self.connected = Some(connected);
        self.disconnected = Some(disconnected);
        self
    }

    /// Finishes the hub.
    pub fn build(self) -> crate::Hub {
        crate::Hub::from_dispatch(Box::new(self))
    }
}

impl<H> std::fmt::Debug for HubBuilder<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.methods.iter().map(|m| m.spec.name).collect();
        f.debug_struct("HubBuilder")
            .field("name", &self.name)
            .field("methods", &names)
            .finish()
    }
}

impl<H: Send + Sync + 'static> HubDispatch for HubBuilder<H> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn find(&self, target: &str) -> Option<(usize, MethodSpec)> {
        self.methods
            .iter()
            .position(|method| method.spec.name.eq_ignore_ascii_case(target))
            .map(|index| (index, self.methods[index].spec))
    }

    fn invoke(
        &self,
        index: usize,
        call: &MethodCall<'_>,
    ) -> Result<InvocationFuture, ArgumentError> {
        (self.methods[index].invoke)(&self.hub, call)
    }

    fn on_connected(&self, ctx: HubCtx) -> BoxFuture<'static, Result<(), HubError>> {
        match self.connected {
            Some(connected) => connected(&self.hub, ctx),
            None => Box::pin(async { Ok(()) }),
        }
    }

    fn on_disconnected(&self, ctx: HubCtx, error: Option<HubError>) -> BoxFuture<'static, ()> {
        match self.disconnected {
            Some(disconnected) => disconnected(&self.hub, ctx, error),
            None => Box::pin(async {}),
        }
    }
}
