//! `HubConnection`: the handle users hold. Cheap to clone; every clone is
//! the same connection.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use hub_core::client_api::{
    Callback, CallbackRegistry, FromArguments, HubCaller, IntoCallbackOutcome, Upload, callback,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::calls::{self, HubStream};
use super::driver::Driver;
use super::shared::{Command, ConnectionState, Shared};
use super::stateful::Stateful;
use super::{callbacks, start};
use crate::error::Error;
use crate::negotiate::TokenSource;

/// A connection to a hub (the JS client's `HubConnection`). Build one with
/// [`HubConnection::builder`], then [`start`](HubConnection::start) it.
#[derive(Clone)]
pub struct HubConnection {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for HubConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubConnection")
            .field("url", &self.shared.url.http())
            .field("state", &self.state())
            .finish()
    }
}

impl HubConnection {
    /// Connects: negotiates, opens a transport (falling back to the next
    /// one the server offers), completes the handshake. Fails unless the
    /// connection is [`Disconnected`](ConnectionState::Disconnected).
    pub async fn start(&self) -> Result<(), Error> {
        let shared = &self.shared;
        let mut lifecycle = shared.lifecycle.lock().await;
        if *shared.state.borrow() != ConnectionState::Disconnected {
            return Err(Error::NotConnected);
        }
        if let Some(previous) = lifecycle.take() {
            let _ = previous.await;
        }
        shared.set_state(ConnectionState::Connecting);
        let mut tokens = match &shared.options.access_token_factory {
            Some(factory) => TokenSource::Factory(factory.clone()),
            None => TokenSource::None,
        };
        let link = match start::connect(&shared.url, &shared.options, &mut tokens).await {
            Ok(link) => link,
            Err(error) => {
                shared.set_state(ConnectionState::Disconnected);
                return Err(error);
            }
        };
        let (commands_sender, commands) = mpsc::channel(shared.options.outgoing_queue_capacity);
        let (callbacks_sender, invocations) = mpsc::channel(shared.options.callback_queue_capacity);
        *shared.commands.lock().expect("commands lock") = Some(commands_sender.clone());
        *shared.connection_id.lock().expect("id lock") = link.connection_id.clone();
        *shared.transport.lock().expect("transport lock") = Some(link.transport.kind());
        tokio::spawn(callbacks::run(shared.clone(), invocations, commands_sender));
        let stateful = link
            .stateful
            .then(|| Stateful::new(shared.options.stateful_reconnect_buffer_size));
        let driver = Driver {
            shared: shared.clone(),
            link,
            commands,
            callbacks: callbacks_sender,
            tokens,
            stateful,
            last_sent: Instant::now(),
            last_received: Instant::now(),
        };
        shared.set_state(ConnectionState::Connected);
        *lifecycle = Some(tokio::spawn(driver.run()));
        Ok(())
    }

    /// Stops the connection cleanly: sends a Close message after what was
    /// queued, closes the transport (WebSocket close, DELETE on Long
    /// Polling), fails the calls still waiting with [`Error::Stopped`].
    /// Also stops a connection that is reconnecting.
    pub async fn stop(&self) {
        let mut lifecycle = self.shared.lifecycle.lock().await;
        let Some(driver) = lifecycle.take() else {
            return;
        };
        if *self.shared.state.borrow() != ConnectionState::Disconnected {
            self.shared.set_state(ConnectionState::Disconnecting);
        }
        let commands = self.shared.commands.lock().expect("commands lock").clone();
        if let Some(commands) = commands {
            let (done, stopped) = oneshot::channel();
            if commands.send(Command::Stop { done }).await.is_ok() {
                let _ = stopped.await;
            }
        }
        let _ = driver.await;
    }

    /// Where the connection is.
    pub fn state(&self) -> ConnectionState {
        self.shared.state.borrow().clone()
    }

    /// Every state change, to await one (`wait_for(|state| ..)`).
    pub fn state_changes(&self) -> watch::Receiver<ConnectionState> {
        self.shared.state.subscribe()
    }

    /// The connection id the server gave (none before start, while
    /// reconnecting, or when negotiation was skipped).
    pub fn connection_id(&self) -> Option<String> {
        self.shared.connection_id.lock().expect("id lock").clone()
    }

    /// The transport in use (none unless connected).
    pub fn transport(&self) -> Option<crate::options::TransportKind> {
        *self.shared.transport.lock().expect("transport lock")
    }

    /// Invokes a hub method and decodes its result: `arguments` is a tuple
    /// (`("ann", "hi")`, `()` for none). A hub error is [`Error::Hub`].
    ///
    /// The arguments are encoded at once; the returned future is `Send` and
    /// `'static` whatever they borrow.
    pub fn invoke<R: DeserializeOwned>(
        &self,
        method: &str,
        arguments: impl Serialize,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static {
        calls::invoke(self.shared.clone(), method, arguments, Vec::new())
    }

    /// [`invoke`](Self::invoke) with client-to-server streams bound to the
    /// method's stream parameters (`Upload::new(stream)`).
    pub fn invoke_with_uploads<R: DeserializeOwned>(
        &self,
        method: &str,
        arguments: impl Serialize,
        uploads: Vec<Upload>,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static {
        calls::invoke(self.shared.clone(), method, arguments, uploads)
    }

    /// Sends a hub method call without waiting for (or getting) a result.
    /// Resolves once the message is queued for the transport.
    pub fn send(
        &self,
        method: &str,
        arguments: impl Serialize,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        calls::send(self.shared.clone(), method, arguments, Vec::new())
    }

    /// Starts a server-to-client stream (sent when first polled).
    pub fn stream<T: DeserializeOwned>(
        &self,
        method: &str,
        arguments: impl Serialize,
    ) -> HubStream<T> {
        HubStream::new(
            self.shared.clone(),
            method.to_owned(),
            arguments,
            Vec::new(),
        )
    }

    /// [`stream`](Self::stream) with client-to-server streams.
    pub fn stream_with_uploads<T: DeserializeOwned>(
        &self,
        method: &str,
        arguments: impl Serialize,
        uploads: Vec<Upload>,
    ) -> HubStream<T> {
        HubStream::new(self.shared.clone(), method.to_owned(), arguments, uploads)
    }

    /// Registers a handler for the server's calls of `method` (matched
    /// ignoring case). It takes the arguments as a tuple (`|(user, message):
    /// (String, String)| async move { .. }`) and returns `()`, or
    /// [`Answer(value)`](hub_core::client_api::Answer) to answer a client
    /// result, or a `Result` of either. Several handlers may share a method.
    ///
    /// Handlers run one at a time in the order the server's calls arrive;
    /// spawn a task for long work.
    pub fn on<Args, F, Fut, Out>(&self, method: &str, handler: F)
    where
        Args: FromArguments + Send + 'static,
        F: Fn(Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Out> + Send + 'static,
        Out: IntoCallbackOutcome + 'static,
    {
        self.register_callback(method, callback(handler));
    }

    /// Removes every handler of `method`.
    pub fn off(&self, method: &str) {
        self.shared
            .callbacks
            .write()
            .expect("callbacks lock")
            .remove(&method.to_ascii_lowercase());
    }

    /// Runs `handler` when the connection closes for good: `None` after
    /// `stop()`, the error otherwise.
    pub fn on_closed(&self, handler: impl Fn(Option<Error>) + Send + Sync + 'static) {
        let mut events = self.shared.events.lock().expect("events lock");
        events.closed.push(Arc::new(handler));
    }

    /// Runs `handler` when the connection was lost and automatic reconnect starts.
    pub fn on_reconnecting(&self, handler: impl Fn(Option<Error>) + Send + Sync + 'static) {
        let mut events = self.shared.events.lock().expect("events lock");
        events.reconnecting.push(Arc::new(handler));
    }

    /// Runs `handler` with the new connection id once automatic reconnect succeeded.
    pub fn on_reconnected(&self, handler: impl Fn(Option<String>) + Send + Sync + 'static) {
        let mut events = self.shared.events.lock().expect("events lock");
        events.reconnected.push(Arc::new(handler));
    }
}

impl CallbackRegistry for HubConnection {
    fn register_callback(&self, target: &str, callback: Callback) {
        self.shared
            .callbacks
            .write()
            .expect("callbacks lock")
            .entry(target.to_ascii_lowercase())
            .or_default()
            .push(callback);
    }
}

impl HubCaller for HubConnection {
    type Error = Error;

    fn invoke<A, R>(
        &self,
        target: &'static str,
        arguments: A,
        uploads: Vec<Upload>,
    ) -> BoxFuture<'static, Result<R, Error>>
    where
        A: Serialize + Send + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        calls::invoke(self.shared.clone(), target, arguments, uploads).boxed()
    }

    fn send<A>(
        &self,
        target: &'static str,
        arguments: A,
        uploads: Vec<Upload>,
    ) -> BoxFuture<'static, Result<(), Error>>
    where
        A: Serialize + Send + 'static,
    {
        calls::send(self.shared.clone(), target, arguments, uploads).boxed()
    }

    fn stream<A, T>(
        &self,
        target: &'static str,
        arguments: A,
        uploads: Vec<Upload>,
    ) -> BoxStream<'static, Result<T, Error>>
    where
        A: Serialize + Send + 'static,
        T: DeserializeOwned + Send + 'static,
    {
        HubStream::new(self.shared.clone(), target.to_owned(), arguments, uploads).boxed()
    }
}
