//! Rust names to SignalR wire names.

/// `send_message` → `SendMessage` (raw identifiers lose their `r#`).
pub(crate) fn pascal_case(ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    let mut out = String::with_capacity(ident.len());
    for word in ident.split('_').filter(|word| !word.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pascal_case;

    #[test]
    fn converts_snake_case_to_pascal_case() {
        assert_eq!(pascal_case("send_message"), "SendMessage");
        assert_eq!(pascal_case("get_connection_id"), "GetConnectionId");
        assert_eq!(pascal_case("echo"), "Echo");
        assert_eq!(pascal_case("whoami"), "Whoami");
        assert_eq!(pascal_case("_private__name_"), "PrivateName");
        assert_eq!(pascal_case("send2_all"), "Send2All");
        assert_eq!(pascal_case("r#type"), "Type");
        assert_eq!(pascal_case("already_Pascal"), "AlreadyPascal");
    }
}
