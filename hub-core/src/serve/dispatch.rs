//! From an Invocation to a running method: find the method, authorize the
//! caller, check the call's shape, bind its arguments and streams, and wrap
//! the call in the hub's filters.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::invocations::{InvocationMeta, RegisteredKind};
use super::spans::{self, Origin};
use super::streams::Streams;
use crate::connection::Connection;
use crate::context::HubCtx;
use crate::error::{ArgumentError, HubError, HubResult};
use crate::filter::{Filters, Invocation};
use crate::method::{HubMethods, MethodCall, MethodSpec};
use crate::options::HubOptions;
use crate::outcome::InvocationFuture;
use crate::reply::Rejection;
use hub_protocol::InvocationMessage;

/// A hub's methods and hooks, with its filters around them.
pub(crate) struct Dispatcher {
    methods: Box<dyn HubMethods>,
    filters: Filters,
}

/// What the connection a call comes from contributes to it.
pub(super) struct Caller<'a> {
    pub(super) ctx: &'a HubCtx,
    pub(super) connection: &'a Arc<Connection>,
    pub(super) options: &'a HubOptions,
    pub(super) streams: &'a mut Streams,
    /// The request the connection started with (invocation spans link to it).
    pub(super) origin: &'a Origin,
}

impl Dispatcher {
    pub(crate) fn new(methods: Box<dyn HubMethods>, filters: Filters) -> Self {
        Self { methods, filters }
    }

    /// Binds an Invocation (`streaming`: a StreamInvocation) to its method
    /// and starts it, registering the streams it opens; or says why it is
    /// refused. Nothing of the method runs until the future is polled.
    pub(super) fn start(
        &self,
        caller: Caller<'_>,
        invocation: &InvocationMessage<'_>,
        streaming: bool,
    ) -> (InvocationMeta, Result<InvocationFuture, Rejection>) {
        let mut meta = InvocationMeta {
            invocation_id: invocation.invocation_id.as_deref().map(Into::into),
            // Set once the method is found (only its errors quote it).
            target: Cow::Borrowed(""),
            upload_ids: Vec::new(),
            uses_slot: !streaming && invocation.stream_ids.is_empty(),
            streaming,
            registered: None,
            span: tracing::Span::none(),
        };
        let started = self.bind(caller, invocation, streaming, &mut meta);
        (meta, started)
    }

    fn bind(
        &self,
        caller: Caller<'_>,
        invocation: &InvocationMessage<'_>,
        streaming: bool,
        meta: &mut InvocationMeta,
    ) -> Result<InvocationFuture, Rejection> {
        let target = &*invocation.target;
        let Some((index, spec)) = self.methods.find(target) else {
            meta.target = Cow::Owned(target.to_owned());
            return Err(Rejection::MethodNotFound);
        };
        meta.target = if spec.name == target {
            Cow::Borrowed(spec.name)
        } else {
            Cow::Owned(target.to_owned())
        };
        if spec
            .authorize
            .is_some_and(|authorize| !authorize.permits(&caller.connection.identity()))
        {
            return Err(Rejection::Unauthorized);
        }
        check_shape(&spec, invocation, streaming)?;
        let streams = caller.streams;
        let id = invocation.invocation_id.as_deref();
        if id.is_some_and(|id| streaming && streams.is_streaming(id)) {
            return Err(Rejection::IdInUse);
        }
        let new_streams = usize::from(streaming) + invocation.stream_ids.len();
        let limit = caller.options.maximum_streams_per_client;
        if new_streams > 0 && streams.open() + new_streams > limit {
            return Err(Rejection::TooManyStreams { limit });
        }

        let call = MethodCall {
            ctx: caller.ctx,
            connection: caller.connection,
            invocation_id: meta.invocation_id.as_ref(),
            arguments: &invocation.arguments,
            stream_ids: &invocation.stream_ids,
            upload_capacity: caller.options.stream_buffer_capacity,
            uploads: RefCell::new(Vec::new()),
            cancellation: if streaming {
                Some(CancellationToken::new())
            } else if spec.cancellable {
                Some(streams.call_cancellation())
            } else {
                None
            },
            typed_result: !self.filters.is_empty(),
        };
        let future = self
            .methods
            .invoke(index, &call)
            .map_err(Rejection::Binding)?;
        let uploads = call.uploads.into_inner();
        if !uploads.is_empty() {
            meta.upload_ids = uploads.iter().map(|(id, _)| id.clone()).collect();
            streams.add_uploads(uploads);
        }
        if let (Some(cancellation), Some(id)) = (call.cancellation, id) {
            if streaming {
                streams.start_outgoing(id, cancellation);
                meta.registered = Some(RegisteredKind::Stream);
            } else if streams.watch_call(id, cancellation) {
                meta.registered = Some(RegisteredKind::Call);
            }
        }
        caller.connection.metrics().invocations.increment(1);
        let wrapped = self.filters.wrap_invocation(
            Invocation {
                ctx: caller.ctx.clone(),
                method: spec.name,
                invocation_id: meta.invocation_id.clone(),
                streaming,
            },
            future,
        );
        let span = spans::invocation(self.methods.name(), &meta.target, invocation, caller.origin);
        if span.is_disabled() {
            return Ok(wrapped);
        }
        meta.span = span.clone();
        Ok(Box::pin(tracing::Instrument::instrument(wrapped, span)))
    }

    /// The hub's `on_connected`, through the filters, in its span.
    pub(super) fn connected(&self, ctx: &HubCtx) -> BoxFuture<'static, HubResult<()>> {
        let hook = self.methods.on_connected(ctx.clone());
        let future = self.filters.wrap_connected(ctx, hook);
        let span = spans::hook(self.methods.name(), "OnConnectedAsync");
        if span.is_disabled() {
            return future;
        }
        Box::pin(async move {
            let result = tracing::Instrument::instrument(future, span.clone()).await;
            if let Err(error) = &result {
                spans::record_error(&span, error);
            }
            result
        })
    }

    /// The hub's `on_disconnected`, through the filters, in its span.
    pub(super) fn disconnected(
        &self,
        ctx: &HubCtx,
        error: Option<HubError>,
    ) -> BoxFuture<'static, ()> {
        let hook = self.methods.on_disconnected(ctx.clone(), error.clone());
        let future = self.filters.wrap_disconnected(ctx, error, hook);
        let span = spans::hook(self.methods.name(), "OnDisconnectedAsync");
        if span.is_disabled() {
            return future;
        }
        Box::pin(tracing::Instrument::instrument(future, span))
    }
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("hub", &self.methods.name())
            .field("filters", &self.filters)
            .finish()
    }
}

/// Checks that an invocation fits its method: kind, argument and stream counts.
fn check_shape(
    spec: &MethodSpec,
    invocation: &InvocationMessage<'_>,
    streaming: bool,
) -> Result<(), Rejection> {
    if spec.streaming != streaming {
        return Err(Rejection::StreamingMismatch(spec.streaming));
    }
    if spec.arguments != invocation.arguments.len() {
        return Err(Rejection::Binding(ArgumentError::Count {
            provided: invocation.arguments.len(),
            expected: spec.arguments,
        }));
    }
    if spec.upload_streams != invocation.stream_ids.len() {
        return Err(Rejection::StreamCount {
            sent: invocation.stream_ids.len(),
            expected: spec.upload_streams,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
