//! The event loop of an established connection.
//!
//! One task owns the transport and multiplexes, in priority order: close
//! requests, messages queued in the outbox, invocations finishing, a stalled
//! upload item finding room, the `on_connected` hook, payloads from the
//! client, and the keep-alive timer. Invocations run inside this task (no task
//! per call); a hub method awaiting room in its own caller's outbox yields back
//! here, where the outbox is drained.

use std::borrow::Cow;
use std::cell::RefCell;
use std::pin::Pin;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::time::{Instant, Sleep, sleep_until, timeout};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::CloseReason;
use super::deadline::within;
use super::invocations::{Finished, InvocationMeta, Invocations};
use super::outbox::Outbox;
use super::poll_on_wake::PollOnWake;
use super::replay::Replay;
use super::streams::Streams;
use crate::context::HubCtx;
use crate::error::{HubError, HubResult};
use crate::filter::Invocation;
use crate::method::{ArgumentError, InvocationFuture, MethodCall, MethodSpec, error_text};
use crate::protocol::{
    CompletionMessage, CompletionOutcome, HubMessage, InvocationMessage, MessageReader, Protocol,
    TransferFormat,
};
use crate::results::ClientResult;
use crate::transport::{Transport, TransportError, TransportEvent};

/// Messages written before one flush, at most.
const MAX_BATCH: usize = 64;

/// How often received messages are acknowledged with stateful reconnect.
const ACK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

type Step = Result<(), CloseReason>;

pub(super) struct EventLoop<T> {
    ctx: HubCtx,
    protocol: Protocol,
    transport: T,
    reader: MessageReader,
    outbox: Arc<Outbox>,
    invocations: Invocations,
    streams: Streams,
    /// The hub's `on_connected`, run before any message is read.
    connected: Option<BoxFuture<'static, HubResult<()>>>,
    /// Stateful reconnect state, when the client negotiated it.
    replay: Option<Replay>,
    closing: PollOnWake<WaitForCancellationFutureOwned>,
    timer: Option<Pin<Box<Sleep>>>,
    last_read: Instant,
    last_write: Instant,
}

impl<T: Transport> EventLoop<T> {
    pub(super) fn new(
        ctx: HubCtx,
        transport: T,
        reader: MessageReader,
        outbox: Arc<Outbox>,
        connected: BoxFuture<'static, HubResult<()>>,
        stateful: bool,
    ) -> Self {
        let connection = ctx.connection();
        let options = connection.options();
        let now = Instant::now();
        let timer = (!transport.has_inherent_keep_alive()).then(|| {
            let first = options
                .keep_alive_interval
                .min(options.client_timeout_interval);
            Box::pin(sleep_until(now + first))
        });
        Self {
            protocol: connection.protocol(),
            invocations: Invocations::new(
                options.maximum_parallel_invocations_per_client,
                options.maximum_queued_invocations_per_client,
            ),
            streams: Streams::default(),
            connected: Some(connected),
            replay: stateful.then(|| Replay::new(options.stateful_reconnect_buffer_size)),
            closing: PollOnWake::new(connection.closing.clone().cancelled_owned()),
            timer,
            last_read: now,
            last_write: now,
            ctx,
            transport,
            reader,
            outbox,
        }
    }

    /// Whether received messages may be processed now.
    fn accepting(&self) -> bool {
        self.connected.is_none() && !self.streams.is_stalled() && self.invocations.accepting()
    }

    /// Runs until the connection must end; returns why.
    pub(super) async fn run(&mut self) -> CloseReason {
        loop {
            let accepting = self.accepting();
            // With stateful reconnect, sending pauses while too much is unacknowledged.
            let sending = self.replay.as_ref().is_none_or(|replay| !replay.is_full());
            let step = tokio::select! {
                biased;
                () = &mut self.closing => Err(self.ctx.connection().take_close_reason()),
                batch = self.outbox.recv_batch(MAX_BATCH), if sending => self.write_batch(batch).await,
                finished = self.invocations.next_finished() => self.complete(finished).await,
                () = self.streams.unstall() => self.process_buffered(),
                result = run_hook(&mut self.connected) => self.connected_hook_done(result),
                inbound = self.transport.recv(), if accepting => self.receive(inbound).await,
                () = wait_for(&mut self.timer) => self.tick().await,
            };
            if let Err(reason) = step {
                return reason;
            }
        }
    }

    /// Ends the connection: lets running invocations finish (bounded), tells the
    /// client why it is closed, and closes the transport.
    pub(super) async fn finish(&mut self, reason: &CloseReason) {
        self.invocations.drop_queued();
        self.streams.end_all();
        let mut usable = reason.transport_usable();
        let drain_timeout = self.ctx.connection().options().invocation_drain_timeout;
        let drained = timeout(drain_timeout, async {
            while !self.invocations.is_idle() {
                let step = tokio::select! {
                    batch = self.outbox.recv_batch(MAX_BATCH) => {
                        if usable { self.write_batch(batch).await } else { Ok(()) }
                    }
                    finished = self.invocations.next_finished() => {
                        // A stream cut short by the end of the connection sends
                        // no Completion: the client fails it with the Close.
                        if usable && !finished.meta.streaming {
                            self.complete(finished).await
                        } else {
                            Ok(())
                        }
                    }
                };
                if step.is_err() {
                    usable = false;
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!("invocations still running after the drain timeout were dropped");
        }
        if !usable {
            return;
        }
        // Whatever was queued before the close goes out before the Close message.
        let _ = self.drain_outbox().await;
        if let Some(close) = reason.close_message(self.protocol) {
            let _ = self.feed(close).await;
        }
        let _ = self.flush().await;
        let send_timeout = self.ctx.connection().options().send_timeout;
        let _ = timeout(send_timeout, self.transport.close()).await;
    }

    fn connected_hook_done(&mut self, result: HubResult<()>) -> Step {
        self.connected = None;
        match result {
            Ok(()) => self.process_buffered(),
            Err(error) => {
                tracing::warn!(%error, "on_connected failed; closing the connection");
                let detailed = self.ctx.connection().options().enable_detailed_errors;
                let mut text = String::from("Connection closed with an error.");
                if detailed || error.is_visible() {
                    text = format!("{text} {}", error.detail());
                }
                Err(CloseReason::Aborted {
                    error: Some(text),
                    allow_reconnect: false,
                })
            }
        }
    }

    async fn feed(&mut self, payload: Bytes) -> Step {
        self.ctx.connection().metrics().sent.increment(1);
        let format = self.protocol.transfer_format();
        let send_timeout = self.ctx.connection().options().send_timeout;
        match within(send_timeout, self.transport.feed(payload, format)).await {
            Some(result) => result.map_err(transport_failed),
            None => Err(CloseReason::SendTimeout),
        }
    }

    /// Feeds a trackable message (not Ping/Close/Ack/Sequence), keeping it for
    /// replay until acknowledged when stateful reconnect is on.
    async fn feed_tracked(&mut self, payload: Bytes) -> Step {
        if let Some(replay) = &mut self.replay {
            replay.sent(&payload);
        }
        self.feed(payload).await
    }

    async fn flush(&mut self) -> Step {
        let send_timeout = self.ctx.connection().options().send_timeout;
        match within(send_timeout, self.transport.flush()).await {
            Some(result) => result.map_err(transport_failed)?,
            None => return Err(CloseReason::SendTimeout),
        }
        self.last_write = Instant::now();
        Ok(())
    }

    /// Feeds everything queued in the outbox right now (bounded by its capacity).
    async fn drain_outbox(&mut self) -> Step {
        let batch = self.outbox.try_recv_batch(self.outbox.capacity());
        for message in batch {
            self.feed_tracked(message).await?;
        }
        Ok(())
    }

    async fn write_batch(&mut self, batch: Vec<Bytes>) -> Step {
        for message in batch {
            self.feed_tracked(message).await?;
        }
        self.flush().await
    }

    async fn complete(&mut self, finished: Finished) -> Step {
        self.write_completion(finished).await?;
        self.process_and_answer(true).await
    }

    /// Writes an invocation's Completion (not flushed), after the messages
    /// the method sent to its caller.
    async fn write_completion(&mut self, finished: Finished) -> Step {
        if finished.failed() {
            self.ctx
                .connection()
                .metrics()
                .invocation_errors
                .increment(1);
        }
        let meta = &finished.meta;
        let stream = meta.invocation_id.as_deref().filter(|_| meta.owns_stream);
        self.streams.finished(stream, &meta.upload_ids);
        self.drain_outbox().await?;
        let detailed = self.ctx.connection().options().enable_detailed_errors;
        if let Some(completion) = finished.completion(self.protocol, detailed) {
            self.feed_tracked(completion).await?;
        }
        Ok(())
    }

    /// Handles buffered records (a slot may have freed, or data arrived) and
    /// answers the invocations that finished as they started, each after what
    /// it sent its caller; one flush for all of them, and for what the caller
    /// already wrote (`wrote`).
    async fn process_and_answer(&mut self, mut wrote: bool) -> Step {
        loop {
            self.process_buffered()?;
            let Some(finished) = self.invocations.take_ready() else {
                break;
            };
            self.write_completion(finished).await?;
            wrote = true;
        }
        if wrote {
            self.flush().await?;
        }
        Ok(())
    }

    async fn receive(&mut self, event: Option<Result<TransportEvent, TransportError>>) -> Step {
        let inbound = match event {
            Some(Ok(TransportEvent::Data(inbound))) => inbound,
            Some(Ok(TransportEvent::Resumed)) => return self.resume().await,
            // The client broke the transport's rules; it can still be told why.
            Some(Err(
                error @ (TransportError::TooLarge(_) | TransportError::InvalidPayload(_)),
            )) => {
                return Err(CloseReason::TransportRefused(error.to_string()));
            }
            Some(Err(error)) => return Err(transport_failed(error)),
            None => return Err(CloseReason::TransportClosed),
        };
        self.last_read = Instant::now();
        let expected = self.protocol.transfer_format();
        if let Some(format) = inbound.format.filter(|&format| format != expected) {
            return Err(CloseReason::WrongFrameKind {
                received: match format {
                    TransferFormat::Text => "text",
                    TransferFormat::Binary => "binary",
                },
                protocol: self.protocol.name(),
            });
        }
        self.reader
            .push(inbound.data)
            .map_err(CloseReason::Protocol)?;
        self.process_and_answer(false).await
    }

    /// The client is back on a new socket: tell it where our numbering stands,
    /// then resend everything it has not acknowledged.
    async fn resume(&mut self) -> Step {
        let Some(replay) = &self.replay else {
            return Ok(());
        };
        let (first, unacked) = replay.resend();
        let unacked: Vec<Bytes> = unacked.cloned().collect();
        tracing::debug!(first, resent = unacked.len(), "client reconnected");
        self.feed(self.protocol.encode_sequence(first)).await?;
        for message in unacked {
            self.feed(message).await?;
        }
        self.flush().await
    }

    /// Parses and handles buffered records while messages are accepted.
    fn process_buffered(&mut self) -> Step {
        while self.accepting() {
            let Some(record) = self.reader.next_record().map_err(CloseReason::Protocol)? else {
                break;
            };
            let message = self
                .protocol
                .parse(&record)
                .map_err(CloseReason::Protocol)?;
            self.ctx.connection().metrics().received.increment(1);
            self.handle(message, &record)?;
        }
        Ok(())
    }

    fn handle(&mut self, message: HubMessage<'_>, record: &Bytes) -> Step {
        let trackable = matches!(
            message,
            HubMessage::Invocation(_)
                | HubMessage::StreamItem(_)
                | HubMessage::Completion(_)
                | HubMessage::StreamInvocation(_)
                | HubMessage::CancelInvocation { .. }
        );
        if let (true, Some(replay)) = (trackable, &mut self.replay)
            && !replay.received()
        {
            // Already processed before the client reconnected.
            return Ok(());
        }

        match message {
            HubMessage::Invocation(invocation) => self.dispatch(invocation, false),
            HubMessage::StreamInvocation(invocation) => self.dispatch(invocation, true),
            HubMessage::StreamItem(item) => {
                let bytes = record.slice_ref(item.item.as_bytes());
                if !self.streams.item(&item.invocation_id, bytes) {
                    tracing::debug!(id = %item.invocation_id, "stream item for an unknown stream ignored");
                }
            }
            HubMessage::Completion(completion) => self.client_completion(completion, record),
            HubMessage::CancelInvocation { invocation_id } => {
                if !self.streams.cancel(&invocation_id) {
                    tracing::debug!(id = %invocation_id, "cancel for an unknown stream ignored");
                }
            }
            HubMessage::Ping => {}
            HubMessage::Ack { sequence_id } => {
                if let Some(replay) = &mut self.replay {
                    replay.acknowledged(sequence_id);
                }
            }
            HubMessage::Sequence { sequence_id } => {
                if let Some(replay) = &mut self.replay {
                    replay
                        .resequence(sequence_id)
                        .map_err(CloseReason::Protocol)?;
                }
            }
            HubMessage::Close(close) => {
                return Err(CloseReason::ClientClosed { error: close.error });
            }
        }
        Ok(())
    }

    /// A Completion from the client ends an upload stream or answers a client
    /// result, in that order (as ASP.NET routes them); otherwise it is ignored.
    fn client_completion(&mut self, completion: CompletionMessage<'_>, record: &Bytes) {
        let id = &*completion.invocation_id;
        let upload_error = match &completion.outcome {
            CompletionOutcome::Error(error) => Some(error.to_string()),
            _ => None,
        };
        if self.streams.complete_upload(id, upload_error) {
            return;
        }
        let result = match completion.outcome {
            CompletionOutcome::Empty => ClientResult::Empty,
            CompletionOutcome::Result(value) => {
                ClientResult::Value(record.slice_ref(value.as_bytes()))
            }
            CompletionOutcome::Error(error) => ClientResult::Error(error.into_owned()),
        };
        if !self.ctx.connection().pending_results().complete(id, result) {
            tracing::debug!(%id, "completion for an unknown invocation ignored");
        }
    }

    /// Binds an invocation to its method and schedules it. Failures to bind are
    /// scheduled too, as ready errors, so that every Completion keeps the order
    /// of its invocation.
    fn dispatch(&mut self, invocation: InvocationMessage<'_>, streaming: bool) {
        let mut meta = InvocationMeta {
            invocation_id: invocation.invocation_id.as_deref().map(Into::into),
            // Set once the method is found (only its errors quote it).
            target: Cow::Borrowed(""),
            upload_ids: Vec::new(),
            uses_slot: !streaming && invocation.stream_ids.is_empty(),
            streaming,
            owns_stream: false,
        };
        match self.start(&invocation, streaming, &mut meta) {
            Ok(future) => self.invocations.submit(meta, future),
            Err(text) => self.invocations.reject(meta, text),
        }
    }

    fn start(
        &mut self,
        invocation: &InvocationMessage<'_>,
        streaming: bool,
        meta: &mut InvocationMeta,
    ) -> Result<InvocationFuture, String> {
        let connection = self.ctx.connection();
        let detailed = connection.options().enable_detailed_errors;
        let target = &*invocation.target;
        let dispatch = connection.hub().dispatch();
        let (index, spec) = dispatch
            .find(target)
            .ok_or_else(|| error_text::method_not_found(target))?;
        meta.target = if spec.name == target {
            Cow::Borrowed(spec.name)
        } else {
            Cow::Owned(target.to_owned())
        };
        if spec
            .authorize
            .is_some_and(|authorize| !authorize.permits(connection.identity()))
        {
            return Err(error_text::unauthorized(target));
        }
        check_shape(&spec, invocation, streaming, detailed)?;
        let id = invocation.invocation_id.as_deref();
        if let Some(id) = id.filter(|id| streaming && self.streams.is_streaming(id)) {
            return Err(error_text::id_in_use(id));
        }
        let new_streams = usize::from(streaming) + invocation.stream_ids.len();
        let limit = connection.options().maximum_streams_per_client;
        if new_streams > 0 && self.streams.open() + new_streams > limit {
            return Err(error_text::too_many_streams(target, limit));
        }

        let call = MethodCall {
            ctx: &self.ctx,
            invocation_id: meta.invocation_id.as_ref(),
            arguments: &invocation.arguments,
            stream_ids: &invocation.stream_ids,
            uploads: RefCell::new(Vec::new()),
            cancellation: streaming.then(CancellationToken::new),
        };
        let future = dispatch
            .invoke(index, &call)
            .map_err(|error| error_text::binding_failed(target, &error, detailed))?;
        let uploads = call.uploads.into_inner();
        meta.upload_ids = uploads.iter().map(|(id, _)| id.clone()).collect();
        self.streams.add_uploads(uploads);
        if let (Some(cancellation), Some(id)) = (call.cancellation, id) {
            self.streams.start_outgoing(id, cancellation);
            meta.owns_stream = true;
        }
        connection.metrics().invocations.increment(1);
        let span = tracing::debug_span!("invocation", method = spec.name, id = id.unwrap_or(""));
        let future: InvocationFuture = if span.is_disabled() {
            future
        } else {
            Box::pin(tracing::Instrument::instrument(future, span))
        };
        let filtered = connection.filters().wrap_invocation(
            Invocation {
                ctx: self.ctx.clone(),
                method: spec.name,
                invocation_id: meta.invocation_id.clone(),
                streaming,
            },
            future,
        );
        Ok(filtered)
    }

    async fn tick(&mut self) -> Step {
        let options = self.ctx.connection().options();
        let (keep_alive, client_timeout) =
            (options.keep_alive_interval, options.client_timeout_interval);
        let now = Instant::now();
        if now >= self.last_read + client_timeout {
            return Err(CloseReason::ClientTimeout);
        }
        if now >= self.last_write + keep_alive {
            let ping = self.protocol.encode_ping();
            self.feed(ping).await?;
            self.flush().await?;
        }
        let mut next = (self.last_write + keep_alive).min(self.last_read + client_timeout);
        if let Some(replay) = &mut self.replay {
            if let Some(id) = replay.take_ack() {
                let ack = self.protocol.encode_ack(id);
                self.feed(ack).await?;
                self.flush().await?;
            }
            next = next.min(now + ACK_INTERVAL);
        }
        if let Some(timer) = self.timer.as_mut() {
            timer.as_mut().reset(next);
        }
        Ok(())
    }
}

/// Checks that an invocation fits its method: kind, argument and stream counts.
fn check_shape(
    spec: &MethodSpec,
    invocation: &InvocationMessage<'_>,
    streaming: bool,
    detailed: bool,
) -> Result<(), String> {
    let target = &*invocation.target;
    if spec.streaming != streaming {
        return Err(error_text::streaming_mismatch(target, spec.streaming));
    }
    if spec.arguments != invocation.arguments.len() {
        let error = ArgumentError::Count {
            provided: invocation.arguments.len(),
            expected: spec.arguments,
        };
        return Err(error_text::binding_failed(target, &error, detailed));
    }
    if spec.upload_streams != invocation.stream_ids.len() {
        return Err(error_text::stream_count(
            target,
            invocation.stream_ids.len(),
            spec.upload_streams,
        ));
    }
    Ok(())
}

async fn wait_for(timer: &mut Option<Pin<Box<Sleep>>>) {
    match timer {
        Some(timer) => timer.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Polls the `on_connected` hook (catching panics); pending forever once it ran.
async fn run_hook(hook: &mut Option<BoxFuture<'static, HubResult<()>>>) -> HubResult<()> {
    use futures_util::FutureExt;
    match hook {
        Some(future) => std::panic::AssertUnwindSafe(future)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(HubError::unexpected("on_connected panicked"))),
        None => std::future::pending().await,
    }
}

fn transport_failed(error: TransportError) -> CloseReason {
    match error {
        // The client closed the transport (a Long Polling DELETE racing the
        // writes, a WebSocket after its close handshake): a clean end.
        TransportError::Closed => CloseReason::TransportClosed,
        error => CloseReason::TransportFailed(error.to_string()),
    }
}
