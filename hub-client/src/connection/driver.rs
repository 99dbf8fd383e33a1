//! The driver: one task per started connection. It owns the transport,
//! writes what the handles queue, reads and routes what the server sends,
//! keeps the connection alive (Pings, server timeout, Acks), and when the
//! transport is lost reopens it (stateful reconnect) or reconnects
//! (automatic reconnect) or closes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hub_core::client_api::CallbackArguments;
use hub_protocol::{CompletionOutcome, HubMessage, MessageReader};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::callbacks::ServerInvocation;
use super::shared::{Command, ConnectionState, Pending, Shared};
use super::start::{Link, connect, frame, reopen};
use super::stateful::Stateful;
use crate::error::Error;
use crate::negotiate::TokenSource;
use crate::options::RetryContext;
use crate::transport::Received;

/// How long a stateful connection tries to reopen its socket (the server
/// keeps the connection this long: ASP.NET's `DisconnectTimeout`).
const REOPEN_WINDOW: Duration = Duration::from_secs(15);

/// At most this many queued messages are written before one flush.
const BATCH: usize = 64;

/// How often a stateful connection acknowledges what it received.
const ACK_INTERVAL: Duration = Duration::from_secs(1);

/// How a connection's life on one transport ended.
enum End {
    /// `stop()`: close cleanly and tell the caller.
    Stopped(Option<oneshot::Sender<()>>),
    /// The server closed it for good (a Close without `allowReconnect`).
    Closed(Option<Error>),
    /// It was lost: reconnect if configured. `reopen`: whether a stateful
    /// connection may reopen its socket (not after the server's Close, nor
    /// after bytes it could not read).
    Lost(Error, bool),
}

/// A started connection's task.
pub(crate) struct Driver {
    pub(crate) shared: Arc<Shared>,
    pub(crate) link: Link,
    pub(crate) commands: mpsc::Receiver<Command>,
    /// Boxed: an idle connection's queue then takes 8 bytes a slot.
    pub(crate) callbacks: mpsc::Sender<Box<ServerInvocation>>,
    pub(crate) tokens: TokenSource,
    pub(crate) stateful: Option<Stateful>,
    pub(crate) last_sent: Instant,
    pub(crate) last_received: Instant,
}

impl Driver {
    /// Runs until the connection is stopped or closed for good.
    pub(crate) async fn run(mut self) {
        loop {
            let end = self.serve().await;
            // The cold paths (closing, reopening, reconnecting: each holds a
            // whole connect or close future) are boxed, so an idle
            // connection's task is the size of `serve` (2.5 KiB, not 6 KiB).
            let error = match end {
                End::Stopped(done) => {
                    let transport = self.take_transport();
                    Box::pin(transport.close()).await;
                    self.finish(None);
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                    return;
                }
                End::Closed(error) => {
                    Box::pin(self.take_transport().close()).await;
                    self.finish(error);
                    return;
                }
                End::Lost(error, reopen) => (error, reopen),
            };
            let (error, reopen) = error;
            tracing::debug!(%error, "connection lost");
            if reopen && self.stateful.is_some() {
                match Box::pin(self.reopen()).await {
                    Ok(()) => continue,
                    Err(Some(done)) => return self.stopped(done),
                    Err(None) => {}
                }
            }
            if self.shared.options.retry_policy.is_some() {
                match Box::pin(self.reconnect(error.clone())).await {
                    Ok(()) => continue,
                    Err(Some(done)) => return self.stopped(done),
                    Err(None) => {}
                }
            }
            self.finish(Some(error));
            return;
        }
    }

    fn take_transport(&mut self) -> crate::transport::Transport {
        // The link is replaced by a closed placeholder only at the very end.
        std::mem::replace(&mut self.link.transport, crate::transport::Transport::Gone)
    }

    fn stopped(mut self, done: oneshot::Sender<()>) {
        drop(self.take_transport());
        self.finish(None);
        let _ = done.send(());
    }

    /// Serves the current transport until it ends.
    async fn serve(&mut self) -> End {
        if let Some(end) = self.drain_records().await {
            return end;
        }
        let options = &self.shared.options;
        let keep_alive = !self.link.transport.kind().inherent_keep_alive();
        let (keep_alive_interval, server_timeout) =
            (options.keep_alive_interval, options.server_timeout);
        // One timer checks both deadlines (as ASP.NET's heartbeat does),
        // rather than a timer armed again for every message.
        let tick = (keep_alive_interval.min(server_timeout) / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut heartbeat = tokio::time::interval(tick);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut acks = tokio::time::interval(ACK_INTERVAL);
        loop {
            let full = self.stateful.as_ref().is_some_and(Stateful::is_full);
            tokio::select! {
                biased;
                received = self.link.transport.recv() => match received {
                    Received::Data(data) => {
                        self.last_received = Instant::now();
                        if let Err(error) = self.link.reader.push(data) {
                            return End::Lost(error.into(), false);
                        }
                        if let Some(end) = self.drain_records().await {
                            return end;
                        }
                    }
                    Received::Closed(error) => {
                        return End::Lost(error.unwrap_or_else(|| {
                            Error::ConnectionLost("the server closed the transport".into())
                        }), true);
                    }
                },
                command = self.commands.recv(), if !full => {
                    if let Some(end) = self.commands_batch(command).await {
                        return end;
                    }
                }
                _ = heartbeat.tick(), if keep_alive => {
                    let now = Instant::now();
                    if now >= self.last_received + server_timeout {
                        return End::Lost(Error::ServerTimeout, true);
                    }
                    if now >= self.last_sent + keep_alive_interval {
                        let ping = self.shared.options.protocol.encode_ping();
                        if let Err(error) = self.write(ping, false).await {
                            return End::Lost(error, true);
                        }
                    }
                }
                _ = acks.tick(), if self.stateful.is_some() => {
                    if let Some(id) = self.stateful.as_mut().and_then(Stateful::ack_due) {
                        let ack = self.shared.options.protocol.encode_ack(id);
                        if let Err(error) = self.write(ack, false).await {
                            return End::Lost(error, true);
                        }
                    }
                }
            }
        }
    }

    /// Writes `first` and whatever else is queued already (up to a batch),
    /// then flushes once.
    async fn commands_batch(&mut self, first: Option<Command>) -> Option<End> {
        let mut next = first;
        for _ in 0..BATCH {
            match next {
                Some(Command::Send { bytes, invocation }) => {
                    if let Err(error) = self.feed(bytes, true).await {
                        if self.stateful.is_none()
                            && let Some(id) = invocation
                        {
                            self.shared.fail(&id, error.clone());
                        }
                        return Some(End::Lost(error, true));
                    }
                }
                Some(Command::Stop { done }) => {
                    let close = self.shared.options.protocol.encode_close(None, false);
                    let _ = self.write(close, false).await;
                    return Some(End::Stopped(Some(done)));
                }
                None => return Some(End::Stopped(None)),
            }
            if self.stateful.as_ref().is_some_and(Stateful::is_full) {
                break;
            }
            match self.commands.try_recv() {
                Ok(command) => next = Some(command),
                Err(_) => break,
            }
        }
        if let Err(error) = self.link.transport.flush().await {
            return Some(End::Lost(error, true));
        }
        None
    }

    /// Writes one message now.
    async fn write(&mut self, bytes: Bytes, trackable: bool) -> Result<(), Error> {
        self.feed(bytes, trackable).await?;
        self.link.transport.flush().await
    }

    /// Queues one message for the next flush; trackable ones are kept for a
    /// stateful reconnect.
    async fn feed(&mut self, bytes: Bytes, trackable: bool) -> Result<(), Error> {
        if trackable && let Some(stateful) = &mut self.stateful {
            stateful.sent(bytes.clone());
        }
        self.last_sent = Instant::now();
        let frame = frame(&self.shared.options);
        self.link.transport.feed(bytes, frame).await
    }

    /// Handles every complete record read so far.
    async fn drain_records(&mut self) -> Option<End> {
        loop {
            let record = match self.link.reader.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => return None,
                Err(error) => return Some(End::Lost(error.into(), false)),
            };
            if let Some(end) = self.handle(record).await {
                return Some(end);
            }
        }
    }

    /// Routes one message from the server.
    async fn handle(&mut self, record: Bytes) -> Option<End> {
        let protocol = self.shared.options.protocol;
        let message = match protocol.parse(&record) {
            Ok(message) => message,
            Err(hub_protocol::ProtocolError::UnknownMessageType(kind)) => {
                tracing::debug!(kind, "ignored a message of an unknown type");
                return None;
            }
            Err(error) => return Some(End::Lost(error.into(), false)),
        };
        let trackable = matches!(
            message,
            HubMessage::Invocation(_)
                | HubMessage::StreamItem(_)
                | HubMessage::Completion(_)
                | HubMessage::StreamInvocation(_)
                | HubMessage::CancelInvocation { .. }
        );
        if trackable
            && let Some(stateful) = &mut self.stateful
            && !stateful.received()
        {
            return None;
        }
        match message {
            HubMessage::Invocation(invocation) => {
                let arguments = invocation
                    .arguments
                    .iter()
                    .map(|value| record.slice_ref(value.as_bytes()))
                    .collect();
                let invocation = Box::new(ServerInvocation {
                    target: invocation.target.into_owned(),
                    invocation_id: invocation.invocation_id.map(|id| id.into_owned()),
                    arguments: CallbackArguments::new(protocol, arguments),
                });
                let timeout = self.shared.options.server_timeout;
                if self
                    .callbacks
                    .send_timeout(invocation, timeout)
                    .await
                    .is_err()
                {
                    return Some(End::Closed(Some(Error::BufferFull(
                        "the callback queue (callback_queue_capacity)",
                    ))));
                }
            }
            HubMessage::StreamItem(item) => {
                let id = item.invocation_id;
                let full = {
                    let pending = self.shared.pending.lock().expect("pending lock");
                    match pending.get(id.as_ref()) {
                        Some(Pending::Stream(sender)) if sender.capacity() > 1 => {
                            let _ = sender.try_send(Ok(record.slice_ref(item.item.as_bytes())));
                            None
                        }
                        Some(Pending::Stream(_)) => Some(true),
                        Some(Pending::Invocation(_)) => Some(false),
                        None => {
                            tracing::debug!(%id, "a StreamItem for an unknown invocation id");
                            None
                        }
                    }
                };
                match full {
                    Some(true) => {
                        self.shared.fail(
                            &id,
                            Error::BufferFull("the stream's buffer (stream_buffer_capacity)"),
                        );
                        let cancel = protocol.encode_cancel_invocation(&id);
                        if let Err(error) = self.write(cancel, true).await {
                            return Some(End::Lost(error, true));
                        }
                    }
                    Some(false) => self.shared.fail(
                        &id,
                        Error::Protocol("a StreamItem for a non-streaming invocation".into()),
                    ),
                    None => {}
                }
            }
            HubMessage::Completion(completion) => {
                let id = completion.invocation_id;
                match (self.shared.remove(&id), completion.outcome) {
                    (Some(Pending::Invocation(sender)), outcome) => {
                        let _ = sender.send(match outcome {
                            CompletionOutcome::Result(value) => {
                                Ok(record.slice_ref(value.as_bytes()))
                            }
                            CompletionOutcome::Empty => Ok(protocol.encoded_null()),
                            CompletionOutcome::Error(error) => Err(Error::Hub(error.into_owned())),
                        });
                    }
                    (Some(Pending::Stream(sender)), CompletionOutcome::Error(error)) => {
                        let _ = sender.try_send(Err(Error::Hub(error.into_owned())));
                    }
                    (Some(Pending::Stream(_)), _) => {}
                    (None, _) => tracing::debug!(%id, "a Completion for an unknown invocation id"),
                }
            }
            HubMessage::Close(close) => {
                let error = close.error.map(Error::ServerClosed);
                return Some(if close.allow_reconnect {
                    End::Lost(
                        error.unwrap_or_else(|| {
                            Error::ConnectionLost("the server closed the connection".into())
                        }),
                        false,
                    )
                } else {
                    End::Closed(error)
                });
            }
            HubMessage::Ack { sequence_id } => {
                if let Some(stateful) = &mut self.stateful {
                    stateful.ack(sequence_id);
                }
            }
            HubMessage::Sequence { sequence_id } => {
                if let Some(stateful) = &mut self.stateful
                    && let Err(error) = stateful.sequence(sequence_id)
                {
                    return Some(End::Closed(Some(Error::Protocol(error))));
                }
            }
            HubMessage::Ping
            | HubMessage::StreamInvocation(_)
            | HubMessage::CancelInvocation { .. } => {}
        }
        None
    }

    /// Stateful reconnect: reopens the socket within [`REOPEN_WINDOW`], then
    /// sends the Sequence and what the server has not acknowledged. `Err`
    /// carries a `stop()` that arrived meanwhile.
    async fn reopen(&mut self) -> Result<(), Option<oneshot::Sender<()>>> {
        let deadline = Instant::now() + REOPEN_WINDOW;
        let mut delay = Duration::ZERO;
        let options = self.shared.options.clone();
        let endpoint = self.link.endpoint.clone();
        drop(self.take_transport());
        while Instant::now() < deadline {
            let attempt = async {
                tokio::time::sleep(delay).await;
                reopen(&endpoint, &options).await
            };
            let opened = tokio::select! {
                opened = attempt => opened,
                command = self.commands.recv() => match command {
                    Some(Command::Stop { done }) => return Err(Some(done)),
                    Some(Command::Send { bytes, .. }) => {
                        // Sent with the replay once the socket is back.
                        if let Some(stateful) = &mut self.stateful {
                            stateful.sent(bytes);
                        }
                        continue;
                    }
                    None => return Err(None),
                },
            };
            delay = (delay * 2)
                .max(Duration::from_millis(250))
                .min(Duration::from_secs(2));
            let Ok(transport) = opened else { continue };
            self.link.transport = transport;
            self.link.reader =
                MessageReader::new(options.protocol.framing(), options.max_message_size);
            let stateful = self.stateful.as_mut().expect("a stateful connection");
            let (first, replay) = stateful.reconnected();
            let frame = frame(&options);
            let mut sent = self
                .link
                .transport
                .send(options.protocol.encode_sequence(first), frame)
                .await;
            for message in replay {
                if sent.is_ok() {
                    sent = self.link.transport.send(message, frame).await;
                }
            }
            if sent.is_ok() {
                self.last_sent = Instant::now();
                self.last_received = Instant::now();
                return Ok(());
            }
        }
        Err(None)
    }

    /// Automatic reconnect: new connections, as the retry policy says, until
    /// one works or it gives up. `Err` carries a `stop()` that arrived meanwhile.
    async fn reconnect(&mut self, reason: Error) -> Result<(), Option<oneshot::Sender<()>>> {
        let shared = self.shared.clone();
        let lost = Error::ConnectionLost(reason.to_string());
        shared.fail_all(&lost);
        shared.set_state(ConnectionState::Reconnecting);
        *shared.connection_id.lock().expect("id lock") = None;
        shared.emit(|events| &events.reconnecting, Some(reason.clone()));
        drop(self.take_transport());
        let policy = shared.options.retry_policy.clone().expect("a retry policy");
        let started = Instant::now();
        let mut context = RetryContext {
            previous_retry_count: 0,
            elapsed: Duration::ZERO,
            retry_reason: reason,
        };
        while let Some(delay) = policy.next_retry_delay(&context) {
            let attempt = async {
                tokio::time::sleep(delay).await;
                connect(&shared.url, &shared.options, &mut self.tokens).await
            };
            tokio::pin!(attempt);
            let connected = loop {
                tokio::select! {
                    connected = &mut attempt => break connected,
                    command = self.commands.recv() => match command {
                        Some(Command::Stop { done }) => return Err(Some(done)),
                        Some(Command::Send { invocation: Some(id), .. }) => {
                            shared.fail(&id, Error::NotConnected);
                        }
                        Some(Command::Send { .. }) => {}
                        None => return Err(None),
                    },
                }
            };
            match connected {
                Ok(link) => {
                    let id = link.connection_id.clone();
                    self.stateful = link
                        .stateful
                        .then(|| Stateful::new(shared.options.stateful_reconnect_buffer_size));
                    self.link = link;
                    self.last_sent = Instant::now();
                    self.last_received = Instant::now();
                    *shared.connection_id.lock().expect("id lock") = id.clone();
                    *shared.transport.lock().expect("transport lock") =
                        Some(self.link.transport.kind());
                    shared.set_state(ConnectionState::Connected);
                    shared.emit(|events| &events.reconnected, id);
                    return Ok(());
                }
                Err(error) => {
                    tracing::debug!(%error, "reconnect attempt failed");
                    context.previous_retry_count += 1;
                    context.elapsed = started.elapsed();
                    context.retry_reason = error;
                }
            }
        }
        Err(None)
    }

    /// The connection is over: nothing waits on it any more.
    fn finish(&mut self, error: Option<Error>) {
        let shared = &self.shared;
        self.commands.close();
        *shared.commands.lock().expect("commands lock") = None;
        *shared.connection_id.lock().expect("id lock") = None;
        *shared.transport.lock().expect("transport lock") = None;
        let reason = match &error {
            Some(error) => Error::ConnectionLost(error.to_string()),
            None => Error::Stopped,
        };
        shared.fail_all(&reason);
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Send {
                    invocation: Some(id),
                    ..
                } => shared.fail(&id, reason.clone()),
                Command::Send { .. } => {}
                Command::Stop { done } => {
                    let _ = done.send(());
                }
            }
        }
        shared.set_state(ConnectionState::Disconnected);
        shared.emit(|events| &events.closed, error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ConnectionOptions;
    use crate::transport::Endpoint;
    use crate::url::HubUrl;

    /// An idle connection's memory is mostly its driver task, whose size is
    /// that of `run`'s future: the cold paths must stay boxed.
    #[test]
    fn an_idle_driver_task_stays_small() {
        let url = HubUrl::parse("http://127.0.0.1:1/hub").expect("a URL");
        let options = ConnectionOptions::default();
        let reader = MessageReader::new(options.protocol.framing(), options.max_message_size);
        let shared = Arc::new(Shared::new(options, url.clone()));
        let (_commands_sender, commands) = mpsc::channel(1);
        let (callbacks, _invocations) = mpsc::channel(1);
        let driver = Driver {
            shared,
            link: Link {
                transport: crate::transport::Transport::Gone,
                endpoint: Endpoint { url, token: None },
                connection_id: None,
                stateful: false,
                reader,
            },
            commands,
            callbacks,
            tokens: TokenSource::None,
            stateful: None,
            last_sent: Instant::now(),
            last_received: Instant::now(),
        };
        let run = driver.run();
        let size = std::mem::size_of_val(&run);
        assert!(size <= 3 * 1024, "the driver's future takes {size} bytes");
    }
}
