//! The event loop of an established connection.
//!
//! One task owns the transport and multiplexes, in priority order: close
//! requests, messages queued in the outbox, invocations finishing, a stalled
//! upload item finding room, the `on_connected` hook, payloads from the
//! client, and the keep-alive timer. Invocations run inside this task (no task
//! per call); a hub method awaiting room in its own caller's outbox yields back
//! here, where the outbox is drained.
//!
//! A received Invocation goes down once: read and parsed here, bound and
//! started by [`Dispatcher`], scheduled by [`Invocations`]; when it finishes,
//! [`reply`] words its Completion, written here after what the method sent
//! its caller.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::time::{Instant, Sleep, sleep_until, timeout};
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::dispatch::{Caller, Dispatcher};
use super::invocations::{Finished, Invocations};
use super::poll_on_wake::PollOnWake;
use super::spans::{self, Origin};
use super::streams::Streams;
use super::wire::{Step, Wire, transport_failed};
use crate::connection::{ClientAnswer, CloseReason, Connection};
use crate::context::HubCtx;
use crate::error::{HubError, HubResult};
use crate::hub_state::HubState;
use crate::reply::{self, Ending};
use crate::transport::{Transport, TransportError, TransportEvent};
use hub_protocol::{
    CompletionMessage, CompletionOutcome, HubMessage, MessageReader, TransferFormat,
};

/// Messages written before one flush, at most.
const MAX_BATCH: usize = 64;

/// How often received messages are acknowledged with stateful reconnect.
const ACK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

pub(super) struct EventLoop<T> {
    hub: Arc<HubState>,
    dispatcher: Arc<Dispatcher>,
    connection: Arc<Connection>,
    /// What hub code is called with.
    ctx: HubCtx,
    wire: Wire<T>,
    reader: MessageReader,
    invocations: Invocations,
    streams: Streams,
    /// The hub's `on_connected`, run before any message is read.
    connected: Option<BoxFuture<'static, HubResult<()>>>,
    closing: PollOnWake<WaitForCancellationFutureOwned>,
    timer: Option<Pin<Box<Sleep>>>,
    last_read: Instant,
    /// The request the connection started with.
    origin: Origin,
}

impl<T: Transport> EventLoop<T> {
    pub(super) fn new(
        hub: Arc<HubState>,
        dispatcher: Arc<Dispatcher>,
        ctx: HubCtx,
        connection: Arc<Connection>,
        wire: Wire<T>,
        reader: MessageReader,
        origin: Origin,
    ) -> Self {
        let options = hub.options();
        let now = Instant::now();
        let timer = (!wire.transport().has_inherent_keep_alive()).then(|| {
            let first = options
                .keep_alive_interval
                .min(options.client_timeout_interval);
            Box::pin(sleep_until(now + first))
        });
        Self {
            invocations: Invocations::new(
                options.maximum_parallel_invocations_per_client,
                options.maximum_queued_invocations_per_client,
            ),
            streams: Streams::default(),
            connected: Some(dispatcher.connected(&ctx)),
            closing: PollOnWake::new(connection.closing().clone().cancelled_owned()),
            timer,
            last_read: now,
            hub,
            dispatcher,
            connection,
            ctx,
            wire,
            reader,
            origin,
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
            let sending = !self.wire.is_paused();
            let step = tokio::select! {
                biased;
                () = &mut self.closing => Err(self.connection.take_close_reason()),
                batch = self.connection.outbox().recv_batch(MAX_BATCH), if sending => {
                    self.write_batch(batch).await
                }
                finished = self.invocations.next_finished() => self.complete(finished).await,
                () = self.streams.unstall() => self.process_buffered(),
                result = run_hook(&mut self.connected) => self.connected_hook_done(result),
                inbound = self.wire.recv(), if accepting => self.receive(inbound).await,
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
        let drain_timeout = self.hub.options().invocation_drain_timeout;
        let connection = self.connection.clone();
        let drained = timeout(drain_timeout, async {
            while !self.invocations.is_idle() {
                let step = tokio::select! {
                    batch = connection.outbox().recv_batch(MAX_BATCH) => {
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
        if let Some(close) = reason.close_message(self.connection.protocol()) {
            let _ = self.wire.feed(close).await;
        }
        let _ = self.wire.flush().await;
        self.wire.close().await;
    }

    fn connected_hook_done(&mut self, result: HubResult<()>) -> Step {
        self.connected = None;
        match result {
            Ok(()) => self.process_buffered(),
            Err(error) => {
                tracing::warn!(%error, "on_connected failed; closing the connection");
                let detailed = self.hub.options().enable_detailed_errors;
                Err(CloseReason::connected_hook_failed(&error, detailed))
            }
        }
    }

    /// Feeds everything queued in the outbox right now (bounded by its capacity).
    async fn drain_outbox(&mut self) -> Step {
        let outbox = self.connection.outbox();
        let batch = outbox.try_recv_batch(outbox.capacity());
        if batch.is_empty() {
            // The usual case: a method that sent its caller nothing.
            return Ok(());
        }
        self.wire.feed_all(batch).await
    }

    async fn write_batch(&mut self, batch: Vec<Bytes>) -> Step {
        self.wire.feed_all(batch).await?;
        self.wire.flush().await
    }

    async fn complete(&mut self, finished: Finished) -> Step {
        self.write_completion(finished).await?;
        self.process_and_answer(true).await
    }

    /// Writes an invocation's Completion (not flushed), after the messages
    /// the method sent to its caller.
    async fn write_completion(&mut self, finished: Finished) -> Step {
        let Finished { meta, ending } = finished;
        if ending.failed() {
            self.connection.metrics().invocation_errors.increment(1);
        }
        if let Ending::Ran(Err(error)) = &ending {
            spans::record_error(&meta.span, error);
        }
        self.streams.finished(meta.registered(), &meta.upload_ids);
        self.drain_outbox().await?;
        let Some(call) = meta.call() else {
            return Ok(());
        };
        let detailed = self.hub.options().enable_detailed_errors;
        let protocol = self.connection.protocol();
        let completion = reply::completion(protocol, call, ending, detailed);
        self.wire.feed_tracked(completion).await
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
            self.wire.flush().await?;
        }
        Ok(())
    }

    async fn receive(&mut self, event: Option<Result<TransportEvent, TransportError>>) -> Step {
        let inbound = match event {
            Some(Ok(TransportEvent::Data(inbound))) => inbound,
            Some(Ok(TransportEvent::Resumed)) => return self.wire.resume().await,
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
        let protocol = self.connection.protocol();
        let expected = protocol.transfer_format();
        if let Some(format) = inbound.format.filter(|&format| format != expected) {
            return Err(CloseReason::WrongFrameKind {
                received: match format {
                    TransferFormat::Text => "text",
                    TransferFormat::Binary => "binary",
                },
                protocol: protocol.name(),
            });
        }
        self.reader
            .push(inbound.data)
            .map_err(CloseReason::Protocol)?;
        self.process_and_answer(false).await
    }

    /// Parses and handles buffered records while messages are accepted.
    fn process_buffered(&mut self) -> Step {
        let protocol = self.connection.protocol();
        while self.accepting() {
            let Some(record) = self.reader.next_record().map_err(CloseReason::Protocol)? else {
                break;
            };
            let message = protocol.parse(&record).map_err(CloseReason::Protocol)?;
            self.connection.metrics().received.increment(1);
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
        if let (true, Some(replay)) = (trackable, self.wire.replay())
            && !replay.received()
        {
            // Already processed before the client reconnected.
            return Ok(());
        }

        match message {
            HubMessage::Invocation(invocation) => self.dispatch(&invocation, false),
            HubMessage::StreamInvocation(invocation) => self.dispatch(&invocation, true),
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
                if let Some(replay) = self.wire.replay() {
                    replay.acknowledged(sequence_id);
                }
            }
            HubMessage::Sequence { sequence_id } => {
                if let Some(replay) = self.wire.replay() {
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

    /// Starts an invocation through the dispatcher. A refused one is
    /// scheduled too, as a ready error, so that every Completion keeps the
    /// order of its invocation.
    fn dispatch(&mut self, invocation: &hub_protocol::InvocationMessage<'_>, streaming: bool) {
        let caller = Caller {
            ctx: &self.ctx,
            connection: &self.connection,
            options: self.hub.options(),
            streams: &mut self.streams,
            origin: &self.origin,
        };
        match self.dispatcher.start(caller, invocation, streaming) {
            (meta, Ok(future)) => self.invocations.submit(meta, future),
            (meta, Err(rejection)) => self.invocations.reject(meta, rejection),
        }
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
        let answer = match completion.outcome {
            CompletionOutcome::Empty => ClientAnswer::Empty,
            CompletionOutcome::Result(value) => {
                ClientAnswer::Value(record.slice_ref(value.as_bytes()))
            }
            CompletionOutcome::Error(error) => ClientAnswer::Error(error.into_owned()),
        };
        if !self.connection.answer_client_result(id, answer) {
            tracing::debug!(%id, "completion for an unknown invocation ignored");
        }
    }

    async fn tick(&mut self) -> Step {
        let options = self.hub.options();
        let (keep_alive, client_timeout) =
            (options.keep_alive_interval, options.client_timeout_interval);
        let protocol = self.connection.protocol();
        let now = Instant::now();
        if now >= self.last_read + client_timeout {
            return Err(CloseReason::ClientTimeout);
        }
        if now >= self.wire.last_write() + keep_alive {
            self.wire.send_now(protocol.encode_ping()).await?;
        }
        let mut next = (self.wire.last_write() + keep_alive).min(self.last_read + client_timeout);
        if let Some(replay) = self.wire.replay() {
            if let Some(id) = replay.take_ack() {
                self.wire.send_now(protocol.encode_ack(id)).await?;
            }
            next = next.min(now + ACK_INTERVAL);
        }
        if let Some(timer) = self.timer.as_mut() {
            timer.as_mut().reset(next);
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests;
