//! Stream entries: how a message is written (`XADD`) and read back (`XREAD`).
//!
//! An entry's fields: `s` the sender (`node id/incarnation`), `q` its
//! sequence number, `t` the node it is for (absent: every node), `d` the
//! message.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redis::{Pipeline, Value};

use super::queue::Pending;
use crate::options::Retention;

/// A stream entry id, `ms-seq`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct StreamId(pub(super) u64, pub(super) u64);

impl StreamId {
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(Self(ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

/// One message read from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Message {
    pub(super) sender: String,
    pub(super) seq: u64,
    pub(super) to: Option<String>,
    pub(super) data: Bytes,
}

/// One entry read: its id, and its message unless the entry is not one of
/// ours (written by something else: skipped, logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) id: StreamId,
    pub(super) message: Option<Message>,
}

/// Appends the `XADD` of `pending` (from `sender`) to `pipeline`, trimming
/// the stream as `retention` says.
pub(super) fn xadd(
    pipeline: &mut Pipeline,
    key: &str,
    retention: Retention,
    sender: &str,
    pending: &Pending,
) {
    let cmd = pipeline.cmd("XADD").arg(key);
    match retention {
        Retention::MaxLen(len) => cmd.arg("MAXLEN").arg("~").arg(len),
        Retention::MaxAge(age) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64;
            let oldest = now.saturating_sub(age.as_millis() as u64);
            cmd.arg("MINID").arg("~").arg(format!("{oldest}-0"))
        }
    };
    cmd.arg("*").arg("s").arg(sender).arg("q").arg(pending.seq);
    if let Some(to) = &pending.to {
        cmd.arg("t").arg(to);
    }
    cmd.arg("d").arg(pending.bytes.as_ref()).ignore();
}

fn text(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.as_bytes()),
        _ => None,
    }
}

fn items(value: &Value) -> Option<Vec<&Value>> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items.iter().collect()),
        Value::Map(pairs) => Some(pairs.iter().flat_map(|(k, v)| [k, v]).collect()),
        _ => None,
    }
}

/// The entries of one stream in an `XREAD` reply (RESP2 or RESP3); nil
/// (nothing new before the block ended) is none.
pub(super) fn parse_read(reply: &Value) -> Result<Vec<Entry>, String> {
    let streams = match reply {
        Value::Nil => return Ok(Vec::new()),
        // RESP3: {key: entries}.
        Value::Map(pairs) => pairs.iter().map(|(_, entries)| entries).collect(),
        // RESP2: [[key, entries], ...].
        Value::Array(streams) => streams
            .iter()
            .filter_map(|stream| items(stream).and_then(|pair| pair.get(1).copied()))
            .collect::<Vec<_>>(),
        other => return Err(format!("unexpected XREAD reply: {other:?}")),
    };
    let mut read = Vec::new();
    for entries in streams {
        read.extend(parse_entries(entries)?);
    }
    Ok(read)
}

/// Entries as `XRANGE`, `XREVRANGE` and each stream of `XREAD` list them.
pub(super) fn parse_entries(entries: &Value) -> Result<Vec<Entry>, String> {
    let mut read = Vec::new();
    for entry in items(entries).ok_or("entries are not an array")? {
        let entry = items(entry).ok_or("an entry is not an array")?;
        let id = entry
            .first()
            .and_then(|id| text(id))
            .and_then(|id| std::str::from_utf8(id).ok())
            .and_then(StreamId::parse)
            .ok_or("an entry without an id")?;
        let fields = entry.get(1).and_then(|fields| items(fields));
        read.push(Entry {
            id,
            message: fields.and_then(|fields| message(&fields)),
        });
    }
    Ok(read)
}

fn message(fields: &[&Value]) -> Option<Message> {
    let (mut sender, mut seq, mut to, mut data) = (None, None, None, None);
    for pair in fields.chunks(2) {
        let [name, value] = pair else { return None };
        let value = text(value)?;
        match text(name)? {
            b"s" => sender = Some(String::from_utf8(value.to_vec()).ok()?),
            b"q" => seq = std::str::from_utf8(value).ok()?.parse().ok(),
            b"t" => to = Some(String::from_utf8(value.to_vec()).ok()?),
            b"d" => data = Some(Bytes::copy_from_slice(value)),
            _ => {}
        }
    }
    Some(Message {
        sender: sender?,
        seq: seq?,
        to,
        data: data?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &[u8]) -> Value {
        Value::BulkString(text.to_vec())
    }

    #[test]
    fn ids_order_and_print() {
        let id = StreamId::parse("1700000000000-3").unwrap();
        assert_eq!(id.to_string(), "1700000000000-3");
        assert!(StreamId(1, 9) < StreamId(2, 0));
        assert!(StreamId::parse("12").is_none());
    }

    #[test]
    fn xread_replies_in_resp2_and_resp3() {
        let fields = Value::Array(vec![
            bulk(b"s"),
            bulk(b"node/1"),
            bulk(b"q"),
            bulk(b"7"),
            bulk(b"d"),
            bulk(&[0, 0xff]),
        ]);
        let foreign = Value::Array(vec![bulk(b"hello"), bulk(b"world")]);
        let entries = Value::Array(vec![
            Value::Array(vec![bulk(b"5-1"), fields]),
            Value::Array(vec![bulk(b"6-0"), foreign]),
        ]);
        let expected = vec![
            Entry {
                id: StreamId(5, 1),
                message: Some(Message {
                    sender: "node/1".into(),
                    seq: 7,
                    to: None,
                    data: Bytes::from_static(&[0, 0xff]),
                }),
            },
            Entry {
                id: StreamId(6, 0),
                message: None,
            },
        ];
        let resp2 = Value::Array(vec![Value::Array(vec![bulk(b"key"), entries.clone()])]);
        assert_eq!(parse_read(&resp2).unwrap(), expected);
        let resp3 = Value::Map(vec![(bulk(b"key"), entries)]);
        assert_eq!(parse_read(&resp3).unwrap(), expected);
        assert_eq!(parse_read(&Value::Nil).unwrap(), vec![]);
    }
}
