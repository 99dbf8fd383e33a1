//! What a hub method call yields: its value, before it is encoded, or its error.
//!
//! [`HubFilter`](crate::HubFilter)s see an [`InvocationResult`] as ASP.NET's
//! `IHubFilter` sees the result object, and may replace it. A hub without
//! filters never pays for that: its methods encode their Completion as they
//! return, and no value is boxed.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use serde::Serialize;

use crate::error::HubError;
use hub_protocol::{EncodeError, Protocol};

/// What an invocation yields: the method's value, or the error to report
/// ("An unexpected error occurred invoking ..." unless it is visible).
pub type InvocationResult = Result<MethodValue, HubError>;

/// A started hub method call.
pub type InvocationFuture = Pin<Box<dyn Future<Output = InvocationResult> + Send>>;

/// The value a hub method returned.
///
/// Inside a [`HubFilter`](crate::HubFilter) it is the method's own value: look
/// at it with [`downcast_ref`](Self::downcast_ref) or [`to_json`](Self::to_json),
/// replace it with [`MethodValue::new`]. The client receives it in the
/// Completion of its call; a streaming method's value is `()`, and a stream's
/// Completion carries no value whatever a filter returns.
pub struct MethodValue(Repr);

enum Repr {
    /// The value, for filters to see.
    Typed(Box<dyn ErasedValue>),
    /// The call's whole Completion, encoded as the method returned (no
    /// filter is installed); empty for a call that wants no Completion.
    Encoded(Bytes),
}

impl MethodValue {
    /// A value to send as the call's result.
    pub fn new<T: Serialize + Send + 'static>(value: T) -> Self {
        Self(Repr::Typed(Box::new(value)))
    }

    /// `()`: what void methods and finished streams return (sent as `null`).
    pub fn unit() -> Self {
        Self::new(())
    }

    /// The call's Completion, encoded already.
    pub(crate) fn encoded(completion: Bytes) -> Self {
        Self(Repr::Encoded(completion))
    }

    /// The value, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        match &self.0 {
            Repr::Typed(value) => value.as_any().downcast_ref(),
            Repr::Encoded(_) => None,
        }
    }

    /// The value, if it is a `T`; the value back otherwise.
    pub fn downcast<T: 'static>(self) -> Result<T, Self> {
        match self.0 {
            Repr::Typed(value) if value.as_any().is::<T>() => {
                Ok(*value.into_any().downcast::<T>().expect("checked by `is`"))
            }
            repr => Err(Self(repr)),
        }
    }

    /// The value as JSON, whatever the caller's protocol (for logs and
    /// inspection).
    pub fn to_json(&self) -> Result<serde_json::Value, EncodeError> {
        match &self.0 {
            Repr::Typed(value) => value.to_json(),
            Repr::Encoded(_) => Err(EncodeError::new("the value is encoded already")),
        }
    }

    /// The Completion of the call `invocation_id` carrying this value.
    pub(crate) fn into_completion(
        self,
        protocol: Protocol,
        invocation_id: &str,
    ) -> Result<Bytes, EncodeError> {
        match self.0 {
            Repr::Typed(value) => value.completion(protocol, invocation_id),
            Repr::Encoded(completion) => Ok(completion),
        }
    }
}

impl fmt::Debug for MethodValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Typed(value) => f
                .debug_tuple("MethodValue")
                .field(&value.type_name())
                .finish(),
            Repr::Encoded(bytes) => f
                .debug_struct("MethodValue")
                .field("encoded_len", &bytes.len())
                .finish(),
        }
    }
}

/// `Serialize + Any`, object safe: what a [`MethodValue`] holds.
trait ErasedValue: Send {
    fn completion(&self, protocol: Protocol, invocation_id: &str) -> Result<Bytes, EncodeError>;
    fn to_json(&self) -> Result<serde_json::Value, EncodeError>;
    fn type_name(&self) -> &'static str;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: Serialize + Send + 'static> ErasedValue for T {
    fn completion(&self, protocol: Protocol, invocation_id: &str) -> Result<Bytes, EncodeError> {
        protocol.encode_completion_result(invocation_id, self)
    }

    fn to_json(&self) -> Result<serde_json::Value, EncodeError> {
        serde_json::to_value(self).map_err(|error| EncodeError::new(error.to_string()))
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_can_be_seen_replaced_and_encoded() {
        let value = MethodValue::new(vec![1, 2]);
        assert_eq!(value.downcast_ref::<Vec<i32>>(), Some(&vec![1, 2]));
        assert_eq!(value.downcast_ref::<String>(), None);
        assert_eq!(value.to_json().unwrap(), serde_json::json!([1, 2]));
        let value = value.downcast::<String>().unwrap_err();
        assert_eq!(value.downcast::<Vec<i32>>().unwrap(), vec![1, 2]);
        let completion = MethodValue::new("hi")
            .into_completion(Protocol::Json, "7")
            .unwrap();
        assert_eq!(
            &completion[..],
            b"{\"type\":3,\"invocationId\":\"7\",\"result\":\"hi\"}\x1e"
        );
    }
}
