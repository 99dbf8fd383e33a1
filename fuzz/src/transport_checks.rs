//! Invariant checks on hub-transport's request parsing and response formatting,
//! shared by the `negotiate_query` fuzz target and the corpus replay test
//! `hub-transport/tests/fuzz_corpus.rs`, which includes this file with `#[path]`.
//!
//! The code under test is crate-private; `hub_transport::__fuzz` forwards to it.

use std::path::{Component, Path};

use hub_transport::__fuzz::{query_param, resolve_static, sse_event};

/// The query parameters the server reads.
pub const PARAMETERS: [&str; 4] = [
    "id",
    "negotiateVersion",
    "useStatefulReconnect",
    "access_token",
];

/// `negotiate_query`: the input as a query string, as an SSE payload and as a
/// request path.
pub fn check_negotiate_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_query(&text);
    check_sse_event(data);
    check_static_path(&text);
}

/// `query_param` must find what a reading of the form-urlencoded rules finds:
/// pairs split at `&`, name and value at the first `=`, `+` is a space,
/// `%XX` a byte, invalid UTF-8 replaced, names matched ignoring ASCII case.
pub fn check_query(query: &str) {
    assert_eq!(query_param(None, "id"), None);
    let pairs = reference_pairs(query);
    let mut names: Vec<String> = PARAMETERS.iter().map(|name| (*name).to_owned()).collect();
    // Names that occur, so that matches (and case-insensitive matches) are exercised.
    for (name, _) in pairs.iter().take(4) {
        names.push(name.clone());
        names.push(name.to_ascii_uppercase());
    }
    for name in &names {
        let expected = pairs
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone());
        assert_eq!(
            query_param(Some(query), name),
            expected,
            "parameter {name:?}"
        );
    }
    // negotiate reads the version as an i64; it must never panic on any text.
    if let Some(version) = query_param(Some(query), "negotiateVersion") {
        let _ = version.parse::<i64>();
    }
}

fn reference_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(name), form_decode(value))
        })
        .collect()
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let hex = |at: usize| bytes.get(at).and_then(|&b| (b as char).to_digit(16));
        match byte {
            b'+' => out.push(b' '),
            b'%' => match (hex(index + 1), hex(index + 2)) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    index += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A payload sent as one Server-Sent Event must reach an `EventSource` whole:
/// the event is only `data: ` lines and a blank line, and reading it back the
/// way the HTML standard's event-stream parser does (lines end at CRLF, LF or
/// CR) gives the payload with its line breaks as LF.
pub fn check_sse_event(payload: &[u8]) {
    let event = sse_event(payload);
    let body = event
        .strip_suffix(b"\r\n\r\n")
        .expect("an event must end with \\r\\n\\r\\n");
    // Read as the formatter writes lines (ended by CRLF), the event is the payload
    // with each line break (CRLF, LF or a lone CR) as LF.
    let mut data = Vec::new();
    for (index, line) in split_crlf(body).into_iter().enumerate() {
        let value = line
            .strip_prefix(b"data: ")
            .unwrap_or_else(|| panic!("a line that is not data: {line:?}"));
        assert!(
            !value.contains(&b'\r') && !value.contains(&b'\n'),
            "a data line holds a line break: {line:?}"
        );
        if index > 0 {
            data.push(b'\n');
        }
        data.extend_from_slice(value);
    }
    let payload_lines = normalize_line_breaks(payload);
    assert_eq!(
        data, payload_lines,
        "the data lines do not carry the payload"
    );
    let events = parse_event_stream(&event);
    assert_eq!(
        events,
        [payload_lines],
        "an EventSource does not read the payload back"
    );
}

fn split_crlf(text: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.windows(2).position(|pair| pair == b"\r\n") {
        lines.push(&rest[..end]);
        rest = &rest[end + 2..];
    }
    lines.push(rest);
    lines
}

/// CRLF, then any lone CR, as LF.
fn normalize_line_breaks(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut bytes = payload.iter().peekable();
    while let Some(&byte) = bytes.next() {
        if byte == b'\r' {
            if bytes.peek() == Some(&&b'\n') {
                bytes.next();
            }
            out.push(b'\n');
        } else {
            out.push(byte);
        }
    }
    out
}

/// The `data` of each event dispatched from an event stream (HTML standard,
/// "Interpreting an event stream"), on bytes.
fn parse_event_stream(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut events = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let Some(end) = rest.iter().position(|&byte| byte == b'\r' || byte == b'\n') else {
            break; // an unterminated line is not processed
        };
        let line = &rest[..end];
        let skip = if rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n') {
            2
        } else {
            1
        };
        rest = &rest[end + skip..];
        if line.is_empty() {
            if !data.is_empty() {
                if data.last() == Some(&b'\n') {
                    data.pop();
                }
                events.push(std::mem::take(&mut data));
            }
            continue;
        }
        if line[0] == b':' {
            continue;
        }
        let (field, value) = match line.iter().position(|&byte| byte == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        if field == b"data" {
            data.extend_from_slice(value);
            data.push(b'\n');
        }
    }
    events
}

/// Static file resolution must stay under the mounted directory: a resolved
/// file is the mount's directory joined with plain names only, and a path with a
/// `..` segment (after percent-decoding) never resolves.
pub fn check_static_path(path: &str) {
    let root = Path::new("/srv/www");
    let decoded = form_decode_path(path);
    let has_parent = decoded.split(['/', '\\']).any(|segment| segment == "..");
    for (url_path, is_dir) in [("/", true), ("/static/", true), ("/lib/signalr.js", false)] {
        let Some(file) = resolve_static(url_path, root, is_dir, path) else {
            continue;
        };
        if !is_dir {
            assert_eq!(path, url_path, "a file mount served another path");
            assert_eq!(file, root);
            continue;
        }
        assert!(
            !has_parent,
            "{path:?} has a `..` segment but resolved to {file:?}"
        );
        let relative = file
            .strip_prefix(root)
            .unwrap_or_else(|_| panic!("{path:?} resolved outside the mount: {file:?}"));
        assert!(
            relative.components().next().is_some()
                && relative
                    .components()
                    .all(|part| matches!(part, Component::Normal(_))),
            "{path:?} resolved to {file:?}"
        );
        let text = relative.to_str().expect("a resolved path is UTF-8");
        assert!(
            !text.contains(['\\', '\0']),
            "{path:?} resolved to {file:?}"
        );
    }
}

/// Percent-decoding as the static server does it (no `+` rule), lossy.
fn form_decode_path(path: &str) -> String {
    form_decode(&path.replace('+', "%2B"))
}
