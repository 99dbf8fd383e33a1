//! W3C Trace Context (`traceparent`) as invocations carry it in their
//! `headers`: the remote span an invocation's span continues.
//!
//! The .NET client writes `traceparent` (and `tracestate`) into every
//! Invocation's headers when it runs inside an activity; ASP.NET Core then
//! makes the invocation's activity a child of it. This module reads the
//! header by the rules of <https://www.w3.org/TR/trace-context/#traceparent-header>.

use std::fmt;

/// A parsed `traceparent` header: the caller's trace and span.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace id (never zero).
    pub trace_id: u128,
    /// The caller's span id (never zero).
    pub span_id: u64,
    /// The trace flags (bit 0: sampled).
    pub flags: u8,
}

impl TraceParent {
    /// Reads a `traceparent` header value; `None` if it is not valid.
    ///
    /// Version `00` must be exactly `00-<32 hex>-<16 hex>-<2 hex>`; a later
    /// version may add fields after a `-`, which are ignored; version `ff`
    /// is invalid. Hex digits must be lowercase, and the ids not all zero.
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim_matches(|c| c == ' ' || c == '\t');
        let bytes = header.as_bytes();
        if bytes.len() < 55 || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        let version = lower_hex(&header[0..2])? as u8;
        if version == 0xff || (version == 0 && bytes.len() != 55) {
            return None;
        }
        if bytes.len() > 55 && bytes[55] != b'-' {
            return None;
        }
        let trace_id = lower_hex(&header[3..35])?;
        let span_id = lower_hex(&header[36..52])? as u64;
        let flags = lower_hex(&header[53..55])? as u8;
        if trace_id == 0 || span_id == 0 {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            flags,
        })
    }

    /// Whether the caller sampled its span.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }
}

impl fmt::Debug for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceParent({self})")
    }
}

/// The header form: `00-<trace id>-<span id>-<flags>`.
impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id, self.span_id, self.flags
        )
    }
}

/// A lowercase hex number of at most 32 digits.
fn lower_hex(digits: &str) -> Option<u128> {
    if digits.is_empty()
        || digits.len() > 32
        || !digits
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    u128::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn reads_the_specs_example() {
        let parent = TraceParent::parse(VALID).unwrap();
        assert_eq!(parent.trace_id, 0x0af7651916cd43dd8448eb211c80319c);
        assert_eq!(parent.span_id, 0xb7ad6b7169203331);
        assert!(parent.sampled());
        assert_eq!(parent.to_string(), VALID);
    }

    #[test]
    fn later_versions_may_add_fields() {
        let future = "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-what-comes";
        let parent = TraceParent::parse(future).unwrap();
        assert!(!parent.sampled());
        assert!(TraceParent::parse(&format!("{VALID}-extra")).is_none());
    }

    #[test]
    fn refuses_what_the_spec_refuses() {
        for header in [
            "",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
            "00-+af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
            "00-0af7651916cd43dd8448eb211c8031é-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333é01",
        ] {
            assert!(TraceParent::parse(header).is_none(), "{header}");
        }
    }
}
