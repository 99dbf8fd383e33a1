//! The MessagePack hub protocol, as far as the tests need it.

use rmpv::Value as Msg;
use serde_json::{Map, Value, json};

/// Prefixes `body` with its length as a varint (7 bits a byte, low first).
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(body.len() + 5);
    let mut length = body.len();
    loop {
        let byte = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            framed.push(byte);
            break;
        }
        framed.push(byte | 0x80);
    }
    framed.extend_from_slice(body);
    framed
}

fn to_msg(value: &Value) -> Msg {
    match value {
        Value::Null => Msg::Nil,
        Value::Bool(b) => Msg::Boolean(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Msg::from(i)
            } else if let Some(u) = n.as_u64() {
                Msg::from(u)
            } else {
                Msg::F64(n.as_f64().expect("a number"))
            }
        }
        Value::String(s) => Msg::from(s.as_str()),
        Value::Array(items) => Msg::Array(items.iter().map(to_msg).collect()),
        Value::Object(map) => Msg::Map(
            map.iter()
                .map(|(key, value)| (Msg::from(key.as_str()), to_msg(value)))
                .collect(),
        ),
    }
}

fn to_json(value: &Msg) -> Value {
    match value {
        Msg::Nil => Value::Null,
        Msg::Boolean(b) => json!(b),
        Msg::Integer(i) => i
            .as_i64()
            .map(Value::from)
            .or_else(|| i.as_u64().map(Value::from))
            .unwrap_or(Value::Null),
        Msg::F32(f) => json!(f),
        Msg::F64(f) => json!(f),
        Msg::String(s) => json!(s.as_str().unwrap_or_default()),
        Msg::Binary(bytes) => json!(bytes),
        Msg::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Msg::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| (key.as_str().unwrap_or_default().to_owned(), to_json(value)))
                .collect::<Map<_, _>>(),
        ),
        Msg::Ext(..) => Value::Null,
    }
}

/// Encodes a message given in the JSON protocol's shape (without the
/// length prefix). Invocations are written with 5 elements, as the JS client does.
pub fn encode(message: &Value) -> Vec<u8> {
    let kind = message["type"].as_u64().expect("a message type");
    let id = || to_msg(message.get("invocationId").unwrap_or(&Value::Null));
    // `headers` as given (an object of strings), else an empty map.
    let headers = || match message.get("headers") {
        Some(headers) => to_msg(headers),
        None => Msg::Map(Vec::new()),
    };
    let array = match kind {
        1 | 4 => {
            let mut array = vec![
                Msg::from(kind),
                headers(),
                id(),
                to_msg(&message["target"]),
                to_msg(&message["arguments"]),
            ];
            if let Some(ids) = message.get("streamIds") {
                array.push(to_msg(ids));
            }
            array
        }
        2 => vec![Msg::from(2), headers(), id(), to_msg(&message["item"])],
        3 => {
            let mut array = vec![Msg::from(3), headers(), id()];
            if let Some(error) = message.get("error") {
                array.extend([Msg::from(1), to_msg(error)]);
            } else if let Some(result) = message.get("result") {
                array.extend([Msg::from(3), to_msg(result)]);
            } else {
                array.push(Msg::from(2));
            }
            array
        }
        5 => vec![Msg::from(5), headers(), id()],
        6 => vec![Msg::from(6)],
        7 => vec![
            Msg::from(7),
            to_msg(message.get("error").unwrap_or(&Value::Null)),
        ],
        other => panic!("cannot encode message type {other}"),
    };
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &Msg::Array(array)).expect("encode");
    bytes
}

/// Decodes one message into the JSON protocol's shape.
pub fn decode(body: &[u8]) -> Value {
    let mut reader = body;
    let value = rmpv::decode::read_value(&mut reader).expect("a MessagePack value");
    assert!(reader.is_empty(), "trailing bytes after a message");
    let Msg::Array(items) = value else {
        panic!("a message is an array: {value}");
    };
    let item = |index: usize| items.get(index).map(to_json).unwrap_or(Value::Null);
    let kind = item(0).as_u64().expect("a message type");
    let mut message = Map::new();
    message.insert("type".into(), json!(kind));
    match kind {
        1 | 4 => {
            if !item(2).is_null() {
                message.insert("invocationId".into(), item(2));
            }
            message.insert("target".into(), item(3));
            message.insert("arguments".into(), item(4));
        }
        2 => {
            message.insert("invocationId".into(), item(2));
            message.insert("item".into(), item(3));
        }
        3 => {
            message.insert("invocationId".into(), item(2));
            match item(3).as_u64() {
                Some(1) => {
                    message.insert("error".into(), item(4));
                }
                Some(3) => {
                    message.insert("result".into(), item(4));
                }
                _ => {}
            }
        }
        7 => {
            if !item(1).is_null() {
                message.insert("error".into(), item(1));
            }
            if items.len() > 2 {
                message.insert("allowReconnect".into(), item(2));
            }
        }
        8 | 9 => {
            message.insert("sequenceId".into(), item(1));
        }
        _ => {}
    }
    Value::Object(message)
}

/// Decodes every length-prefixed message of a server frame; a frame never
/// ends inside a message.
pub fn decode_frames(mut data: &[u8]) -> Vec<Value> {
    let mut messages = Vec::new();
    while !data.is_empty() {
        let mut length = 0usize;
        let mut shift = 0;
        loop {
            let (&byte, rest) = data.split_first().expect("a complete length prefix");
            data = rest;
            length |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
            assert!(shift < 35, "a length prefix of at most 5 bytes");
        }
        assert!(data.len() >= length, "a frame holds whole messages");
        let (body, rest) = data.split_at(length);
        messages.push(decode(body));
        data = rest;
    }
    messages
}
