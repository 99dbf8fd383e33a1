//! The tasks a backplane runs (subscriber, reader, writer, heartbeat),
//! aborted when the backplane that owns them is dropped.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use tokio_util::task::AbortOnDropHandle;

/// Spawned tasks, each aborted when this is dropped.
#[derive(Default)]
pub(crate) struct Tasks(Mutex<Vec<AbortOnDropHandle<()>>>);

impl Tasks {
    /// Spawns `task` on the current runtime, to run until it ends or this
    /// is dropped.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let handle = AbortOnDropHandle::new(tokio::spawn(task));
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
    }
}
