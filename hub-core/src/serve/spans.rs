//! The spans hub code runs in, as ASP.NET Core's activities (source
//! `Microsoft.AspNetCore.SignalR.Server`) make them: one per invocation,
//! named `{Hub}/{method}`, of kind server, with the OpenTelemetry RPC
//! attributes, and `error.type` when it fails; one per `on_connected` and
//! `on_disconnected`.
//!
//! They are `tracing` spans at INFO level, so they reach any subscriber and
//! cost nothing when none listens. Their `otel.*` fields are the names
//! `tracing-opentelemetry` turns into a span's name, kind and status. With
//! the `opentelemetry` feature, an invocation whose `headers` carry a W3C
//! `traceparent` continues that remote trace; any other is linked to the
//! HTTP request that started its connection.

use hub_protocol::InvocationMessage;
use tracing::Span;

use crate::error::HubError;

/// The HTTP request a connection started with: what an invocation without a
/// remote parent is linked to.
#[derive(Clone, Debug, Default)]
pub(super) struct Origin {
    #[cfg(feature = "opentelemetry")]
    context: Option<opentelemetry::trace::SpanContext>,
}

impl Origin {
    /// The origin whose span is `request_span` (none when it is disabled).
    pub(super) fn of(request_span: &Span) -> Self {
        #[cfg(feature = "opentelemetry")]
        {
            use opentelemetry::trace::TraceContextExt;
            use tracing_opentelemetry::OpenTelemetrySpanExt;

            if request_span.is_disabled() {
                return Self::default();
            }
            let context = request_span.context().span().span_context().clone();
            Self {
                context: context.is_valid().then_some(context),
            }
        }
        #[cfg(not(feature = "opentelemetry"))]
        {
            let _ = request_span;
            Self {}
        }
    }
}

/// The span of an invocation of `method` (the name the client called it
/// by, as ASP.NET names it) on `hub`; disabled when no subscriber wants it.
pub(super) fn invocation(
    hub: &'static str,
    method: &str,
    invocation: &InvocationMessage<'_>,
    origin: &Origin,
) -> Span {
    let span = tracing::info_span!(
        "invocation",
        otel.name = %format_args!("{hub}/{method}"),
        otel.kind = "server",
        rpc.system = "signalr",
        rpc.service = hub,
        rpc.method = method,
        "error.type" = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    if !span.is_disabled() {
        continue_remote_trace(&span, invocation, origin);
    }
    span
}

/// The span of the hub's `on_connected` or `on_disconnected` (`hook`: ASP.NET's
/// method name, `OnConnectedAsync` or `OnDisconnectedAsync`).
pub(super) fn hook(hub: &'static str, hook: &'static str) -> Span {
    tracing::info_span!(
        "hub_hook",
        otel.name = %format_args!("{hub}/{hook}"),
        otel.kind = "internal",
        rpc.system = "signalr",
        rpc.service = hub,
        rpc.method = hook,
        "error.type" = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    )
}

/// Marks `span` failed with `error`: `error.type` is the error's type, the
/// status an error without description, as ASP.NET records it.
pub(super) fn record_error(span: &Span, error: &HubError) {
    if span.is_disabled() {
        return;
    }
    span.record("error.type", error.error_type());
    span.record("otel.status_code", "error");
}

#[cfg(feature = "opentelemetry")]
fn continue_remote_trace(span: &Span, invocation: &InvocationMessage<'_>, origin: &Origin) {
    use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceId, TraceState};
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use crate::trace_context::TraceParent;

    let parent = invocation
        .header("traceparent")
        .and_then(TraceParent::parse);
    match parent {
        Some(parent) => {
            let state = invocation
                .header("tracestate")
                .and_then(|state| state.parse::<TraceState>().ok())
                .unwrap_or_default();
            let remote = SpanContext::new(
                TraceId::from(parent.trace_id),
                opentelemetry::trace::SpanId::from(parent.span_id),
                TraceFlags::new(parent.flags),
                true,
                state,
            );
            let context = opentelemetry::Context::new().with_remote_span_context(remote);
            // Fails only when no OpenTelemetry layer records the span.
            let _ = span.set_parent(context);
        }
        None => {
            // A root of its own, not a child of whatever span polls the
            // connection, linked to the request that opened the connection.
            let _ = span.set_parent(opentelemetry::Context::new());
            if let Some(origin) = &origin.context {
                span.add_link(origin.clone());
            }
        }
    }
}

#[cfg(not(feature = "opentelemetry"))]
fn continue_remote_trace(_span: &Span, _invocation: &InvocationMessage<'_>, _origin: &Origin) {}
