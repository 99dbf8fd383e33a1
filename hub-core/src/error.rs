//! Errors a hub method reports to its caller, and why a call's arguments did
//! not fit the method.

use std::borrow::Cow;
use std::fmt;

/// The `error_type` of errors made by [`HubError::new`] and [`HubError::unexpected`].
const HUB_ERROR: &str = "hub_core::HubError";

/// The result type of hub methods and client callbacks.
pub type HubResult<T = ()> = Result<T, HubError>;

/// An error a hub method returns to the client that invoked it.
///
/// Mirrors ASP.NET Core's split between `HubException` and other exceptions:
///
/// * [`HubError::new`] is meant for the client: its message is always sent
///   (`... HubException: <message>`).
/// * Any other error converted with `?` (every `std::error::Error` converts) is
///   an *unexpected* error: the client only learns that something failed, unless
///   [`HubOptions::enable_detailed_errors`](crate::HubOptions::enable_detailed_errors)
///   is on.
///
/// Like `anyhow::Error`, `HubError` does not implement `std::error::Error` itself,
/// which is what lets every error type convert into it.
#[derive(Clone)]
pub struct HubError {
    message: Cow<'static, str>,
    kind: Cow<'static, str>,
    /// The full name of the error's type (`error.type` of traces).
    type_name: &'static str,
    visible: bool,
    /// Ended a server-to-client stream after it started (worded "while
    /// streaming results").
    mid_stream: bool,
}

impl HubError {
    /// An error whose message the client always sees (ASP.NET's `HubException`).
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            kind: Cow::Borrowed("HubException"),
            type_name: HUB_ERROR,
            visible: true,
            mid_stream: false,
        }
    }

    /// An unexpected error: the client sees its message only with detailed errors on.
    pub fn unexpected(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            kind: Cow::Borrowed("Error"),
            type_name: HUB_ERROR,
            visible: false,
            mid_stream: false,
        }
    }

    /// The error of a hub method that panicked: unexpected, of type `panic`.
    pub(crate) fn panicked(message: String) -> Self {
        Self {
            type_name: "panic",
            ..Self::unexpected(message)
        }
    }

    /// The error message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The full name of the error's type: the type converted into this
    /// error (`core::num::error::ParseIntError`, ...), or `hub_core::HubError`
    /// for errors made with [`new`](Self::new) or [`unexpected`](Self::unexpected).
    /// Traces report it as `error.type`, as ASP.NET reports the exception's type.
    pub fn error_type(&self) -> &'static str {
        self.type_name
    }

    /// Whether the client sees the message even without detailed errors.
    pub fn is_visible(&self) -> bool {
        self.visible
    }

    /// Marks the error as ending a server-to-client stream that had started.
    pub(crate) fn mid_stream(mut self) -> Self {
        self.mid_stream = true;
        self
    }

    /// Whether the error ended a stream that had started.
    pub(crate) fn is_mid_stream(&self) -> bool {
        self.mid_stream
    }

    /// `text`, followed by `<Kind>: <message>` when the client may see it
    /// (a visible error, or `detailed` errors), as ASP.NET words its errors.
    pub(crate) fn appended_to(&self, text: &str, detailed: bool) -> String {
        if detailed || self.visible {
            format!("{text} {}", self.detail())
        } else {
            text.to_owned()
        }
    }

    /// The `<Kind>: <message>` suffix ASP.NET appends to error texts.
    pub(crate) fn detail(&self) -> String {
        format!("{}: {}", self.kind, self.message)
    }
}

impl<E> From<E> for HubError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        let full = std::any::type_name::<E>();
        let short = full.rsplit("::").next().unwrap_or(full);
        Self {
            message: Cow::Owned(error.to_string()),
            kind: Cow::Owned(short.to_owned()),
            type_name: full,
            visible: false,
            mid_stream: false,
        }
    }
}

impl fmt::Debug for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("visible", &self.visible)
            .finish()
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The error of work stopped by a `CancellationToken` (ASP.NET's
/// `OperationCanceledException`): what a hub method returns when its caller
/// cancelled it.
///
/// ```
/// use hub_core::{Cancelled, CancellationToken, HubResult};
///
/// async fn slow_answer(token: CancellationToken) -> HubResult<u64> {
///     let answer = token
///         .run_until_cancelled(async { 42 })
///         .await
///         .ok_or(Cancelled)?;
///     Ok(answer)
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The operation was canceled.")]
pub struct Cancelled;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_errors_convert_as_unexpected_with_their_type_name() {
        let error: HubError = "x".parse::<i32>().unwrap_err().into();
        assert!(!error.is_visible());
        assert_eq!(
            error.detail(),
            "ParseIntError: invalid digit found in string"
        );
    }

    #[test]
    fn errors_know_their_full_type_name() {
        let error: HubError = "x".parse::<i32>().unwrap_err().into();
        assert_eq!(error.error_type(), "core::num::error::ParseIntError");
        assert_eq!(HubError::new("x").error_type(), "hub_core::HubError");
        let cancelled: HubError = Cancelled.into();
        assert_eq!(cancelled.error_type(), "hub_core::error::Cancelled");
        assert_eq!(cancelled.detail(), "Cancelled: The operation was canceled.");
    }

    #[test]
    fn hub_errors_are_visible_hub_exceptions() {
        let error = HubError::new("boom");
        assert!(error.is_visible());
        assert_eq!(error.detail(), "HubException: boom");
    }
}
