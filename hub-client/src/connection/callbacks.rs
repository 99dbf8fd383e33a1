//! The callbacks task: runs the handlers of the server's Invocations one at
//! a time, in arrival order, and answers client-result requests as the JS
//! client words its answers.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use hub_core::client_api::{CallbackArguments, CallbackError};
use tokio::sync::mpsc;

use super::shared::{Command, Shared};

/// An Invocation from the server.
#[derive(Debug)]
pub(crate) struct ServerInvocation {
    pub(crate) target: String,
    /// Set when the server waits for a result.
    pub(crate) invocation_id: Option<String>,
    pub(crate) arguments: CallbackArguments,
}

/// Runs until the driver drops its sender.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut invocations: mpsc::Receiver<Box<ServerInvocation>>,
    commands: mpsc::Sender<Command>,
) {
    let protocol = shared.options.protocol;
    while let Some(invocation) = invocations.recv().await {
        let handlers = shared
            .callbacks
            .read()
            .expect("callbacks lock")
            .get(&invocation.target.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default();
        if handlers.is_empty() {
            tracing::warn!(
                target_name = %invocation.target,
                "No client method with the name '{}' found.",
                invocation.target
            );
        }
        let mut results = Vec::new();
        let mut failure = None;
        for handler in handlers {
            let outcome = AssertUnwindSafe(handler(invocation.arguments.clone()))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(CallbackError::Failed("the callback panicked".into())));
            match outcome {
                Ok(Some(result)) => results.push(result),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(target_name = %invocation.target, %error, "a callback failed");
                    failure = Some(error.to_string());
                }
            }
        }
        let Some(id) = invocation.invocation_id else {
            continue;
        };
        let completion = match (failure, results.len()) {
            (Some(error), _) => protocol.encode_completion_error(&id, &error),
            (None, 0) => protocol.encode_completion_error(&id, "Client didn't provide a result."),
            (None, 1) => {
                let result = results.pop().expect("one result");
                result(protocol, &id).unwrap_or_else(|error| {
                    protocol.encode_completion_error(&id, &error.to_string())
                })
            }
            (None, _) => protocol.encode_completion_error(&id, "Client provided multiple results."),
        };
        let command = Command::Send {
            bytes: completion,
            invocation: None,
        };
        if commands.send(command).await.is_err() {
            return;
        }
    }
}
