//! Texts of errors reported to callers, worded as ASP.NET Core words them.

/// The texts, as functions of the method name the client sent.
pub(crate) mod error_text {
    use crate::error::HubError;
    use crate::method::ArgumentError;

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
        append_detail(text, error, detailed)
    }

    pub(crate) fn streaming_failed(error: &HubError, detailed: bool) -> String {
        let text = "An error occurred on the server while streaming results.".to_owned();
        append_detail(text, error, detailed)
    }

    fn append_detail(text: String, error: &HubError, detailed: bool) -> String {
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

    pub(crate) fn stream_count(target: &str, sent: usize, expected: usize) -> String {
        format!(
            "An unexpected error occurred invoking '{target}' on the server. HubException: Client sent {sent} stream(s), Hub method expects {expected}."
        )
    }

    pub(crate) fn too_many_streams(target: &str, limit: usize) -> String {
        format!(
            "An unexpected error occurred invoking '{target}' on the server. HubException: The connection already has the maximum of {limit} open streams."
        )
    }

    pub(crate) fn unauthorized(target: &str) -> String {
        format!("Failed to invoke '{target}' because user is unauthorized")
    }

    pub(crate) fn id_in_use(id: &str) -> String {
        format!("Invocation ID '{id}' is already in use.")
    }
}

#[cfg(test)]
mod tests {
    use super::error_text::*;
    use crate::error::HubError;
    use crate::method::ArgumentError;

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
        assert_eq!(
            streaming_failed(&hidden, false),
            "An error occurred on the server while streaming results."
        );
        assert_eq!(
            stream_count("Sum", 2, 1),
            "An unexpected error occurred invoking 'Sum' on the server. HubException: Client sent 2 stream(s), Hub method expects 1."
        );
    }
}
