//! The one place where an invocation's outcome becomes what its caller
//! receives: Completions, StreamItems, and the texts of every error, worded
//! as ASP.NET Core words them.

use bytes::Bytes;
use serde::Serialize;

use crate::error::{ArgumentError, HubError};
use crate::outcome::InvocationResult;
use hub_protocol::{EncodeError, Protocol};

/// Why an invocation was refused before its method ran.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// No method has that name.
    MethodNotFound,
    /// The method is `authorize`d and the caller is not.
    Unauthorized,
    /// A streaming method called with Invocation, or the reverse; `true`
    /// when the method streams.
    StreamingMismatch(bool),
    /// The arguments do not fit the parameters.
    Binding(ArgumentError),
    /// The client sent another number of upload streams than the method takes.
    StreamCount { sent: usize, expected: usize },
    /// The call would open more streams than `maximum_streams_per_client`.
    TooManyStreams { limit: usize },
    /// A StreamInvocation reusing the id of a stream in flight.
    IdInUse,
}

/// How an invocation ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// The method ran (through the filters) to this result.
    Ran(InvocationResult),
    /// It never ran.
    Rejected(Rejection),
}

impl Ending {
    /// Whether the caller is told of an error.
    pub(crate) fn failed(&self) -> bool {
        !matches!(self, Ending::Ran(Ok(_)))
    }
}

/// What a Completion answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// The caller's id for the call.
    pub(crate) invocation_id: &'a str,
    /// The method name as the client wrote it (error texts quote it).
    pub(crate) target: &'a str,
    /// Whether it was a StreamInvocation: its Completion never carries a value.
    pub(crate) streaming: bool,
}

/// The Completion of `call`. `detailed`: `HubOptions::enable_detailed_errors`.
pub(crate) fn completion(
    protocol: Protocol,
    call: Call<'_>,
    ending: Ending,
    detailed: bool,
) -> Bytes {
    let error = match ending {
        Ending::Ran(Ok(_)) if call.streaming => {
            return protocol.encode_completion_empty(call.invocation_id);
        }
        Ending::Ran(Ok(value)) => match value.into_completion(protocol, call.invocation_id) {
            Ok(completion) => return completion,
            Err(error) => unexpected(call.target, &HubError::from(error), detailed),
        },
        Ending::Ran(Err(error)) if error.is_mid_stream() => streaming_failed(&error, detailed),
        Ending::Ran(Err(error)) => unexpected(call.target, &error, detailed),
        Ending::Rejected(rejection) => rejected(call, &rejection, detailed),
    };
    protocol.encode_completion_error(call.invocation_id, &error)
}

/// The Completion of a unary call that returned `value`: encoded as the
/// method returns, when no filter needs to see the value.
pub(crate) fn completion_with<T: Serialize + ?Sized>(
    protocol: Protocol,
    invocation_id: &str,
    value: &T,
) -> Result<Bytes, EncodeError> {
    protocol.encode_completion_result(invocation_id, value)
}

/// One item of the server-to-client stream `invocation_id`.
pub(crate) fn stream_item<T: Serialize + ?Sized>(
    protocol: Protocol,
    invocation_id: &str,
    item: &T,
) -> Result<Bytes, EncodeError> {
    protocol.encode_stream_item(invocation_id, item)
}

fn rejected(call: Call<'_>, rejection: &Rejection, detailed: bool) -> String {
    let target = call.target;
    match rejection {
        Rejection::MethodNotFound => format!(
            "Failed to invoke '{target}' due to an error on the server. HubException: Method does not exist."
        ),
        Rejection::Unauthorized => {
            format!("Failed to invoke '{target}' because user is unauthorized")
        }
        Rejection::StreamingMismatch(true) => format!(
            "The client attempted to invoke the streaming '{target}' method with a non-streaming invocation."
        ),
        Rejection::StreamingMismatch(false) => format!(
            "The client attempted to invoke the non-streaming '{target}' method with a streaming invocation."
        ),
        Rejection::Binding(error) => {
            let text = format!("Failed to invoke '{target}' due to an error on the server.");
            if detailed {
                format!("{text} InvalidDataException: {error}")
            } else {
                text
            }
        }
        Rejection::StreamCount { sent, expected } => format!(
            "An unexpected error occurred invoking '{target}' on the server. HubException: Client sent {sent} stream(s), Hub method expects {expected}."
        ),
        Rejection::TooManyStreams { limit } => format!(
            "An unexpected error occurred invoking '{target}' on the server. HubException: The connection already has the maximum of {limit} open streams."
        ),
        Rejection::IdInUse => {
            format!("Invocation ID '{}' is already in use.", call.invocation_id)
        }
    }
}

fn unexpected(target: &str, error: &HubError, detailed: bool) -> String {
    let text = format!("An unexpected error occurred invoking '{target}' on the server.");
    error.appended_to(&text, detailed)
}

fn streaming_failed(error: &HubError, detailed: bool) -> String {
    error.appended_to(
        "An error occurred on the server while streaming results.",
        detailed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::MethodValue;

    /// The error text of a Completion for `Echo` (call id `1`).
    fn error_of(ending: Ending, detailed: bool) -> String {
        let call = Call {
            invocation_id: "1",
            target: "Echo",
            streaming: false,
        };
        let completion = completion(Protocol::Json, call, ending, detailed);
        let json: serde_json::Value =
            serde_json::from_slice(&completion[..completion.len() - 1]).unwrap();
        json["error"].as_str().unwrap_or("").to_owned()
    }

    #[test]
    fn rejections_are_worded_as_asp_net_words_them() {
        let rejected = |rejection, detailed| error_of(Ending::Rejected(rejection), detailed);
        assert_eq!(
            rejected(Rejection::MethodNotFound, false),
            "Failed to invoke 'Echo' due to an error on the server. HubException: Method does not exist."
        );
        let count = || {
            Rejection::Binding(ArgumentError::Count {
                provided: 3,
                expected: 2,
            })
        };
        assert_eq!(
            rejected(count(), false),
            "Failed to invoke 'Echo' due to an error on the server."
        );
        assert_eq!(
            rejected(count(), true),
            "Failed to invoke 'Echo' due to an error on the server. InvalidDataException: Invocation provides 3 argument(s) but target expects 2."
        );
        assert_eq!(
            rejected(
                Rejection::StreamCount {
                    sent: 2,
                    expected: 1
                },
                false
            ),
            "An unexpected error occurred invoking 'Echo' on the server. HubException: Client sent 2 stream(s), Hub method expects 1."
        );
        assert_eq!(
            rejected(Rejection::Unauthorized, false),
            "Failed to invoke 'Echo' because user is unauthorized"
        );
        assert_eq!(
            rejected(Rejection::IdInUse, false),
            "Invocation ID '1' is already in use."
        );
        assert_eq!(
            rejected(Rejection::StreamingMismatch(true), false),
            "The client attempted to invoke the streaming 'Echo' method with a non-streaming invocation."
        );
    }

    #[test]
    fn errors_show_their_detail_when_visible_or_detailed() {
        let failed = |error: HubError, detailed| error_of(Ending::Ran(Err(error)), detailed);
        let hidden = HubError::unexpected("db down");
        assert_eq!(
            failed(hidden.clone(), false),
            "An unexpected error occurred invoking 'Echo' on the server."
        );
        assert_eq!(
            failed(hidden.clone(), true),
            "An unexpected error occurred invoking 'Echo' on the server. Error: db down"
        );
        assert_eq!(
            failed(HubError::new("nope"), false),
            "An unexpected error occurred invoking 'Echo' on the server. HubException: nope"
        );
        assert_eq!(
            failed(hidden.mid_stream(), false),
            "An error occurred on the server while streaming results."
        );
    }

    #[test]
    fn values_become_results_and_streams_end_empty() {
        let call = Call {
            invocation_id: "1",
            target: "Echo",
            streaming: false,
        };
        let value = || Ending::Ran(Ok(MethodValue::new(42)));
        assert_eq!(
            &completion(Protocol::Json, call, value(), false)[..],
            b"{\"type\":3,\"invocationId\":\"1\",\"result\":42}\x1e"
        );
        let stream = Call {
            streaming: true,
            ..call
        };
        assert_eq!(
            &completion(Protocol::Json, stream, value(), false)[..],
            b"{\"type\":3,\"invocationId\":\"1\"}\x1e",
            "a stream's Completion carries no value, whatever a filter returned"
        );
    }
}
