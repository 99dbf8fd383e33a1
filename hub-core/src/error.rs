//! Errors a hub method reports to its caller, and why a call's arguments did
//! not fit the method.

use std::borrow::Cow;
use std::fmt;

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
            visible: true,
            mid_stream: false,
        }
    }

    /// An unexpected error: the client sees its message only with detailed errors on.
    pub fn unexpected(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            kind: Cow::Borrowed("Error"),
            visible: false,
            mid_stream: false,
        }
    }

    /// The error message.
    pub fn message(&self) -> &str {
        &self.message
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
    fn hub_errors_are_visible_hub_exceptions() {
        let error = HubError::new("boom");
        assert!(error.is_visible());
        assert_eq!(error.detail(), "HubException: boom");
    }
}
