//! Hub methods as the runtime sees them: a table of wire names, each with an
//! argument count and a shim that decodes arguments and starts the call.
//!
//! The `#[hub]` macro emits one [`HubBuilder::method`] row per trait method;
//! argument decoding, arity checks, result encoding and error texts live here,
//! in plain generic code.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::HubCtx;
use crate::error::HubError;
use crate::protocol::EncodedValue;

/// What an invocation future yields: the encoded Completion (empty for
/// non-blocking calls), or the error to report.
pub(crate) type MethodOutcome = Result<Bytes, HubError>;

/// A started hub method call.
pub type InvocationFuture = Pin<Box<dyn Future<Output = MethodOutcome> + Send>>;

/// Why an invocation's arguments could not be bound to the method's parameters.
#[derive(Debug, thiserror::Error)]
pub enum ArgumentError {
    /// Wrong number of arguments.
    #[error("Invocation provides {provided} argument(s) but target expects {expected}.")]
    Count {
        /// Arguments sent by the client.
        provided: usize,
        /// Parameters of the method.
        expected: usize,
    },
    /// An argument did not decode into its parameter's type.
    #[error(
        "Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked. Argument {index}: {reason}"
    )]
    Invalid {
        /// Zero-based position of the argument.
        index: usize,
        /// The decoder's explanation.
        reason: String,
    },
}

/// Texts of errors reported to callers, worded as ASP.NET Core words them.
pub(crate) mod error_text {
    use super::ArgumentError;
    use crate::error::HubError;

    pub(crate) fn method_not_found(target: &str) -> String {
        format!(
            "Failed to invoke '{target}' due to an error on the server. HubException: Method does not exist."
        )
    }

    pub(crate) fn binding_failed(target: &str, error: &ArgumentError, detailed: bool) -> String {
        let text = format!("Failed to invoke '{target}' due to an error on the server.");
        if detailed {
            format!("{text} InvalidDataException: {error}")
        } else {
            text
        }
    }

    pub(crate) fn unexpected(target: &str, error: &HubError, detailed: bool) -> String {
        let text = format!("An unexpected error occurred invoking '{target}' on the server.");
        if detailed || error.is_visible() {
            format!("{text} {}", error.detail())
        } else {
            text
        }
    }

    pub(crate) fn streaming_mismatch(target: &str, method_streams: bool) -> String {
        if method_streams {
            format!(
                "The client attempted to invoke the streaming '{target}' method with a non-streaming invocation."
            )
        } else {
            format!(
                "The client attempted to invoke the non-streaming '{target}' method with a streaming invocation."
            )
        }
    }
}

/// One call of a hub method, handed to the method's shim.
#[derive(Debug)]
pub struct MethodCall<'a> {
    pub(crate) ctx: &'a HubCtx,
    pub(crate) invocation_id: Option<&'a str>,
    pub(crate) arguments: &'a [EncodedValue<'a>],
}

impl MethodCall<'_> {
    /// Decodes argument `index` into the parameter type `T`.
    pub fn argument<T: DeserializeOwned>(&self, index: usize) -> Result<T, ArgumentError> {
        let value = self.arguments.get(index).ok_or(ArgumentError::Count {
            provided: self.arguments.len(),
            expected: index + 1,
        })?;
        value.decode().map_err(|error| ArgumentError::Invalid {
            index,
            reason: error.to_string(),
        })
    }

    /// The context of the call, to move into the method's future.
    pub fn context(&self) -> HubCtx {
        self.ctx.clone()
    }

    /// Wraps the method's future: its result becomes the Completion.
    pub fn respond<R, F>(&self, future: F) -> InvocationFuture
    where
        R: IntoMethodResult,
        F: Future<Output = R> + Send + 'static,
    {
        let invocation_id: Option<Box<str>> = self.invocation_id.map(Into::into);
        let protocol = self.ctx.protocol();
        Box::pin(async move {
            let value = future.await.into_method_result()?;
            match invocation_id {
                Some(id) => Ok(protocol.encode_completion_result(&id, &value)?),
                None => Ok(Bytes::new()),
            }
        })
    }
}

/// A hub method's return value: `()` or `Result<T, E>` with `E: Into<HubError>`.
///
/// Methods returning a plain serializable value are wrapped in `Ok` by the macro.
pub trait IntoMethodResult: Send {
    /// The value sent to the caller.
    type Value: Serialize + Send;
    /// Splits into the value or the error to report.
    fn into_method_result(self) -> Result<Self::Value, HubError>;
}

impl IntoMethodResult for () {
    type Value = ();
    fn into_method_result(self) -> Result<(), HubError> {
        Ok(())
    }
}

impl<T: Serialize + Send, E: Into<HubError> + Send> IntoMethodResult for Result<T, E> {
    type Value = T;
    fn into_method_result(self) -> Result<T, HubError> {
        self.map_err(Into::into)
    }
}

/// Starts a call of one method: decodes the arguments, returns the call's future.
pub type InvokeFn<H> =
    for<'a> fn(&Arc<H>, &MethodCall<'a>) -> Result<InvocationFuture, ArgumentError>;

/// What the runtime knows about a hub method.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MethodInfo {
    /// The wire name (PascalCase, or as renamed).
    pub(crate) name: &'static str,
    /// Number of (non-stream) arguments.
    pub(crate) arity: usize,
}

struct MethodEntry<H> {
    info: MethodInfo,
    invoke: InvokeFn<H>,
}

/// The type-erased method table of a hub.
pub(crate) trait HubDispatch: Send + Sync + 'static {
    /// The trait's name, for logs.
    fn name(&self) -> &'static str;
    /// Finds a method by wire name, ignoring ASCII case (as ASP.NET does).
    fn find(&self, target: &str) -> Option<(usize, MethodInfo)>;
    /// Starts a call of method `index`.
    fn invoke(
        &self,
        index: usize,
        call: &MethodCall<'_>,
    ) -> Result<InvocationFuture, ArgumentError>;
}

/// Collects the methods of a hub implementation; used by `#[hub]`-generated code.
pub struct HubBuilder<H> {
    name: &'static str,
    hub: Arc<H>,
    methods: Vec<MethodEntry<H>>,
}

impl<H: Send + Sync + 'static> HubBuilder<H> {
    /// Starts a table for the hub implementation `hub` of the trait `name`.
    pub fn new(hub: H, name: &'static str) -> Self {
        Self {
            name,
            hub: Arc::new(hub),
            methods: Vec::new(),
        }
    }

    /// Adds a method under its wire name.
    pub fn method(&mut self, name: &'static str, arity: usize, invoke: InvokeFn<H>) -> &mut Self {
        self.methods.push(MethodEntry {
            info: MethodInfo { name, arity },
            invoke,
        });
        self
    }

    /// Finishes the hub.
    pub fn build(self) -> crate::Hub {
        crate::Hub::from_dispatch(Box::new(self))
    }
}

impl<H> std::fmt::Debug for HubBuilder<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.methods.iter().map(|m| m.info.name).collect();
        f.debug_struct("HubBuilder")
            .field("name", &self.name)
            .field("methods", &names)
            .finish()
    }
}

impl<H: Send + Sync + 'static> HubDispatch for HubBuilder<H> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn find(&self, target: &str) -> Option<(usize, MethodInfo)> {
        self.methods
            .iter()
            .position(|method| method.info.name.eq_ignore_ascii_case(target))
            .map(|index| (index, self.methods[index].info))
    }

    fn invoke(
        &self,
        index: usize,
        call: &MethodCall<'_>,
    ) -> Result<InvocationFuture, ArgumentError> {
        (self.methods[index].invoke)(&self.hub, call)
    }
}

#[cfg(test)]
mod tests {
    use super::error_text::*;
    use super::*;

    #[test]
    fn error_texts_match_asp_net() {
        assert_eq!(
            method_not_found("Nope"),
            "Failed to invoke 'Nope' due to an error on the server. HubException: Method does not exist."
        );
        let count = ArgumentError::Count {
            provided: 3,
            expected: 2,
        };
        assert_eq!(
            binding_failed("Echo", &count, false),
            "Failed to invoke 'Echo' due to an error on the server."
        );
        assert_eq!(
            binding_failed("Echo", &count, true),
            "Failed to invoke 'Echo' due to an error on the server. InvalidDataException: Invocation provides 3 argument(s) but target expects 2."
        );
        let hidden = HubError::unexpected("db down");
        assert_eq!(
            unexpected("Echo", &hidden, false),
            "An unexpected error occurred invoking 'Echo' on the server."
        );
        assert_eq!(
            unexpected("Echo", &hidden, true),
            "An unexpected error occurred invoking 'Echo' on the server. Error: db down"
        );
        assert_eq!(
            unexpected("Throw", &HubError::new("nope"), false),
            "An unexpected error occurred invoking 'Throw' on the server. HubException: nope"
        );
    }
}
