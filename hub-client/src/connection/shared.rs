//! What a connection's handles, its driver and its callbacks task share:
//! the calls waiting for the server, the registered callbacks, the way to
//! the driver, the state and the event handlers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use hub_core::client_api::Callback;
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::Error;
use crate::options::ConnectionOptions;
use crate::url::HubUrl;

/// Where a connection is in its life (the JS client's `HubConnectionState`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// Not started, or stopped.
    Disconnected,
    /// `start()` is running.
    Connecting,
    /// Connected: calls go through.
    Connected,
    /// The connection was lost; automatic reconnect is trying again.
    Reconnecting,
    /// `stop()` is running.
    Disconnecting,
}

/// What the driver is asked to do, in the order asked.
#[derive(Debug)]
pub(crate) enum Command {
    /// Write a message. `invocation` names the call waiting for its answer,
    /// failed if the message cannot be written.
    Send {
        bytes: Bytes,
        invocation: Option<String>,
    },
    /// Close cleanly, then tell `done`.
    Stop { done: oneshot::Sender<()> },
}

/// A call waiting for the server.
#[derive(Debug)]
pub(crate) enum Pending {
    /// An invocation: its result value (encoded) or error.
    Invocation(oneshot::Sender<Result<Bytes, Error>>),
    /// A server-to-client stream: its items (encoded), an error at most once.
    Stream(mpsc::Sender<Result<Bytes, Error>>),
}

type Handler<T> = Arc<dyn Fn(T) + Send + Sync>;

/// The connection's event handlers.
#[derive(Default)]
pub(crate) struct Events {
    pub(crate) closed: Vec<Handler<Option<Error>>>,
    pub(crate) reconnecting: Vec<Handler<Option<Error>>>,
    pub(crate) reconnected: Vec<Handler<Option<String>>>,
}

/// Shared by every handle of one connection.
pub(crate) struct Shared {
    pub(crate) options: ConnectionOptions,
    pub(crate) url: HubUrl,
    next_id: AtomicU64,
    pub(crate) pending: Mutex<HashMap<String, Pending>>,
    pub(crate) callbacks: RwLock<HashMap<String, Vec<Callback>>>,
    /// The driver's command queue, while a driver runs.
    pub(crate) commands: Mutex<Option<mpsc::Sender<Command>>>,
    pub(crate) state: watch::Sender<ConnectionState>,
    pub(crate) connection_id: Mutex<Option<String>>,
    /// The transport in use, while connected.
    pub(crate) transport: Mutex<Option<crate::options::TransportKind>>,
    pub(crate) events: Mutex<Events>,
    /// Serializes `start` and `stop`; holds the running driver's task.
    pub(crate) lifecycle: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Shared {
    pub(crate) fn new(options: ConnectionOptions, url: HubUrl) -> Self {
        Self {
            options,
            url,
            next_id: AtomicU64::new(0),
            pending: Mutex::default(),
            callbacks: RwLock::default(),
            commands: Mutex::default(),
            state: watch::Sender::new(ConnectionState::Disconnected),
            connection_id: Mutex::default(),
            transport: Mutex::default(),
            events: Mutex::default(),
            lifecycle: tokio::sync::Mutex::default(),
        }
    }

    /// The next invocation or stream id (`"0"`, `"1"`, ... as the JS client).
    pub(crate) fn next_id(&self) -> String {
        self.next_id.fetch_add(1, Ordering::Relaxed).to_string()
    }

    /// The driver's queue, if connected.
    pub(crate) fn commands(&self) -> Result<mpsc::Sender<Command>, Error> {
        if *self.state.borrow() != ConnectionState::Connected {
            return Err(Error::NotConnected);
        }
        self.commands
            .lock()
            .expect("commands lock")
            .clone()
            .ok_or(Error::NotConnected)
    }

    /// Registers a pending call.
    pub(crate) fn insert(&self, id: String, pending: Pending) {
        self.pending
            .lock()
            .expect("pending lock")
            .insert(id, pending);
    }

    /// Removes a pending call.
    pub(crate) fn remove(&self, id: &str) -> Option<Pending> {
        self.pending.lock().expect("pending lock").remove(id)
    }

    /// Fails one pending call.
    pub(crate) fn fail(&self, id: &str, error: Error) {
        match self.remove(id) {
            Some(Pending::Invocation(sender)) => {
                let _ = sender.send(Err(error));
            }
            Some(Pending::Stream(sender)) => {
                let _ = sender.try_send(Err(error));
            }
            None => {}
        }
    }

    /// Fails every pending call (the connection is gone).
    pub(crate) fn fail_all(&self, error: &Error) {
        let pending = std::mem::take(&mut *self.pending.lock().expect("pending lock"));
        for (_, pending) in pending {
            match pending {
                Pending::Invocation(sender) => {
                    let _ = sender.send(Err(error.clone()));
                }
                Pending::Stream(sender) => {
                    let _ = sender.try_send(Err(error.clone()));
                }
            }
        }
    }

    /// Sets the state.
    pub(crate) fn set_state(&self, state: ConnectionState) {
        self.state.send_replace(state);
    }

    /// Runs the handlers of one event (outside the lock).
    pub(crate) fn emit<T: Clone>(&self, select: impl Fn(&Events) -> &Vec<Handler<T>>, value: T) {
        let handlers = select(&self.events.lock().expect("events lock")).clone();
        for handler in handlers {
            handler(value.clone());
        }
    }
}
