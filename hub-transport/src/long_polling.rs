//! The Long Polling transport: the client polls with GET (each poll returns
//! what the server has queued, or nothing after the poll timeout) and sends
//! with POST; DELETE ends the connection.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{Response, StatusCode};
use hub_core::protocol::TransferFormat;
use hub_core::{Inbound, Transport, TransportError, TransportEvent};
use tokio::sync::{Notify, mpsc};
use tokio::time::{Instant, sleep_until};

use crate::http_util::{Body, empty, response};

/// The transport's name in negotiate responses.
pub(crate) const NAME: &str = "LongPolling";

/// Long Polling carries text and binary payloads.
pub(crate) const FORMATS: &[TransferFormat] = &[TransferFormat::Text, TransferFormat::Binary];

/// What the polls of one connection and its transport share.
#[derive(Debug)]
pub(crate) struct LongPollChannel {
    state: Mutex<PollState>,
    /// Wakes polls (data, close, a newer poll) and the transport (polls
    /// starting and ending, DELETE).
    changed: Notify,
    /// Wakes a writer waiting for polls to drain the buffer.
    drained: Notify,
    /// Bytes queued for polls before writers wait.
    max_buffered: usize,
}

#[derive(Debug)]
struct PollState {
    queued: Vec<Bytes>,
    queued_bytes: usize,
    /// The server side closed the transport.
    closed: bool,
    /// The client sent DELETE.
    deleted: bool,
    /// Incremented by each poll; an older poll still waiting answers 204.
    generation: u64,
    /// Whether a poll is outstanding.
    polling: bool,
    /// When the last poll ended (for the disconnect timeout).
    last_poll_end: Instant,
}

/// What a poll finds.
enum Found {
    Data(Bytes),
    /// Closed, deleted, or superseded by a newer poll.
    Over,
    Nothing,
}

impl LongPollChannel {
    pub(crate) fn new(max_buffered: usize) -> Self {
        Self {
            state: Mutex::new(PollState {
                queued: Vec::new(),
                queued_bytes: 0,
                closed: false,
                deleted: false,
                generation: 0,
                polling: false,
                last_poll_end: Instant::now(),
            }),
            changed: Notify::new(),
            drained: Notify::new(),
            max_buffered,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PollState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn begin_poll(&self) -> u64 {
        let mut state = self.lock();
        state.generation += 1;
        state.polling = true;
        let generation = state.generation;
        drop(state);
        self.changed.notify_waiters();
        generation
    }

    fn end_poll(&self, generation: u64) {
        let mut state = self.lock();
        if state.generation == generation {
            state.polling = false;
            state.last_poll_end = Instant::now();
        }
        drop(state);
        self.changed.notify_waiters();
    }

    fn take(&self, generation: u64) -> Found {
        let mut state = self.lock();
        if state.generation != generation {
            return Found::Over;
        }
        if !state.queued.is_empty() {
            let mut body = BytesMut::with_capacity(state.queued_bytes);
            for chunk in state.queued.drain(..) {
                body.extend_from_slice(&chunk);
            }
            state.queued_bytes = 0;
            drop(state);
            self.drained.notify_waiters();
            return Found::Data(body.freeze());
        }
        if state.closed || state.deleted {
            Found::Over
        } else {
            Found::Nothing
        }
    }

    /// Whether the connection is over (closed or deleted) with nothing left to deliver.
    pub(crate) fn is_over(&self) -> bool {
        let state = self.lock();
        (state.closed || state.deleted) && state.queued.is_empty()
    }

    /// The server side is done with the connection: polls answer what is
    /// still queued, then 204.
    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_waiters();
        self.drained.notify_waiters();
    }

    /// The client's DELETE: the connection ends; a waiting poll answers 204.
    pub(crate) fn delete(&self) {
        self.lock().deleted = true;
        self.changed.notify_waiters();
        self.drained.notify_waiters();
    }
}

/// Ends the poll's turn when its request ends, however it ends (a client
/// aborting the request drops the handler).
struct PollTurn<'a> {
    channel: &'a LongPollChannel,
    generation: u64,
}

impl Drop for PollTurn<'_> {
    fn drop(&mut self) {
        self.channel.end_poll(self.generation);
    }
}

/// Answers one poll: 200 with everything queued as soon as there is any, 200
/// empty after `poll_timeout`, 204 once the connection is over (or when a
/// newer poll supersedes this one).
pub(crate) async fn poll(channel: Arc<LongPollChannel>, poll_timeout: Duration) -> Response<Body> {
    let turn = PollTurn {
        generation: channel.begin_poll(),
        channel: &channel,
    };
    let deadline = Instant::now() + poll_timeout;
    loop {
        let notified = channel.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match channel.take(turn.generation) {
            Found::Data(body) => return response(StatusCode::OK, "application/octet-stream", body),
            Found::Over => return empty(StatusCode::NO_CONTENT),
            Found::Nothing => {}
        }
        tokio::select! {
            () = notified => {}
            () = sleep_until(deadline) => {
                return response(StatusCode::OK, "application/octet-stream", Bytes::new());
            }
        }
    }
}

/// The server side of a long-polling connection.
#[derive(Debug)]
pub(crate) struct LongPollingTransport {
    pub(crate) inbound: mpsc::Receiver<Bytes>,
    pub(crate) channel: Arc<LongPollChannel>,
    /// A connection without a poll for this long is over.
    pub(crate) disconnect_timeout: Duration,
}

impl Transport for LongPollingTransport {
    fn name(&self) -> &'static str {
        NAME
    }

    fn transfer_formats(&self) -> &'static [TransferFormat] {
        FORMATS
    }

    fn has_inherent_keep_alive(&self) -> bool {
        true
    }

    async fn recv(&mut self) -> Option<Result<TransportEvent, TransportError>> {
        loop {
            // What the client POSTed comes first, even when it also went away
            // (its Close message, then its DELETE).
            if let Ok(data) = self.inbound.try_recv() {
                return Some(Ok(TransportEvent::Data(Inbound { data, format: None })));
            }
            let notified = self.channel.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let deadline = {
                let state = self.channel.lock();
                if state.deleted {
                    // DELETE ends the connection cleanly.
                    return None;
                }
                let idle_since = (!state.polling).then_some(state.last_poll_end);
                idle_since.map(|since| since + self.disconnect_timeout)
            };
            if deadline.is_some_and(|deadline| deadline <= Instant::now()) {
                return Some(Err(TransportError::TimedOut(
                    "no poll within the disconnect timeout".into(),
                )));
            }
            let idle = async {
                match deadline {
                    Some(deadline) => sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                data = self.inbound.recv() => {
                    return data.map(|data| Ok(TransportEvent::Data(Inbound { data, format: None })));
                }
                () = notified => {}
                () = idle => {}
            }
        }
    }

    async fn feed(
        &mut self,
        payload: Bytes,
        _format: TransferFormat,
    ) -> Result<(), TransportError> {
        loop {
            let drained = self.channel.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            {
                let mut state = self.channel.lock();
                if state.closed || state.deleted {
                    return Err(TransportError::Closed);
                }
                if state.queued_bytes == 0
                    || state.queued_bytes + payload.len() <= self.channel.max_buffered
                {
                    state.queued_bytes += payload.len();
                    state.queued.push(payload);
                    return Ok(());
                }
            }
            // Full: wait for a poll (the connection's send timeout bounds this).
            drained.await;
        }
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.channel.changed.notify_waiters();
        Ok(())
    }

    async fn close(&mut self) {
        self.channel.close();
    }
}

/// However the connection ended (a clean close, a failed transport, no poll
/// within the disconnect timeout), a poll waiting or coming now answers at
/// once that the connection is over, instead of waiting out its timeout.
impl Drop for LongPollingTransport {
    fn drop(&mut self) {
        self.channel.close();
    }
}
