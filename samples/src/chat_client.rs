//! `chat-client`: the chat sample's room from a terminal, with the Rust
//! client and the same `#[hub] trait Chat` the server implements.
//!
//! ```text
//! cargo run -p samples --bin chat-client -- --url http://127.0.0.1:5000/chatHub --name ann
//! ```
//!
//! Each line read from standard input is sent as a message from `--name`;
//! each message received is printed as one line `user: message` (flushed).
//! At the end of its input it stops the connection cleanly and exits 0.
//! `--transport websockets|sse|longpolling`, `--protocol json|messagepack`.

use std::io::Write;

use hub_client::{HubConnection, Protocol, TransportKind, Transports};
use tokio::io::AsyncBufReadExt;

use crate::chat::{ChatClientHandler, ChatProxy};

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// `--url`: the chat hub (default `http://127.0.0.1:5000/chatHub`).
    pub url: String,
    /// `--name`: who the messages are from.
    pub name: String,
    /// `--transport` (default: any, in the server's order).
    pub transport: Option<TransportKind>,
    /// `--protocol` (default JSON).
    pub protocol: Protocol,
}

const USAGE: &str = "usage: chat-client --name NAME [--url http://HOST:PORT/chatHub] \
                     [--transport websockets|sse|longpolling] [--protocol json|messagepack]";

/// Parses the arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        url: "http://127.0.0.1:5000/chatHub".into(),
        name: String::new(),
        transport: None,
        protocol: Protocol::Json,
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => parsed.url = value()?,
            "--name" => parsed.name = value()?,
            "--transport" => {
                parsed.transport = Some(match value()?.as_str() {
                    "websockets" => TransportKind::WebSockets,
                    "sse" => TransportKind::ServerSentEvents,
                    "longpolling" => TransportKind::LongPolling,
                    other => return Err(format!("unknown transport `{other}`")),
                })
            }
            "--protocol" => {
                parsed.protocol = match value()?.as_str() {
                    "json" => Protocol::Json,
                    "messagepack" => Protocol::MessagePack,
                    other => return Err(format!("unknown protocol `{other}`")),
                }
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if parsed.name.is_empty() {
        return Err("--name is required".into());
    }
    Ok(parsed)
}

/// Prints every message of the room.
struct Printer;

impl ChatClientHandler for Printer {
    async fn receive_message(&self, user: String, message: String) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{user}: {message}");
        let _ = stdout.flush();
    }
}

/// Runs the client until the end of standard input.
pub async fn run(args: Args) -> Result<(), hub_client::Error> {
    let transports = args.transport.map_or(Transports::ALL, Transports::from);
    let connection = HubConnection::builder(&args.url)
        .transports(transports)
        .protocol(args.protocol)
        .build()?;
    Printer.register(&connection);
    connection.start().await?;
    let chat = ChatProxy(connection.clone());
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut outcome = Ok(());
    while let Ok(Some(line)) = lines.next_line().await {
        if let Err(error) = chat.send_message(args.name.clone(), line).await {
            outcome = Err(error);
            break;
        }
    }
    connection.stop().await;
    outcome
}

/// The binary's `main`: exits 2 on bad arguments, 1 on a failure.
pub async fn main() {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("chat-client: {error}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(error) = run(args).await {
        eprintln!("chat-client: {error}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse(list.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn parses_the_documented_command_line() {
        let parsed = args(&[
            "--url",
            "http://h:1/chatHub",
            "--name",
            "ann",
            "--transport",
            "sse",
            "--protocol",
            "messagepack",
        ])
        .unwrap();
        assert_eq!(parsed.url, "http://h:1/chatHub");
        assert_eq!(parsed.transport, Some(TransportKind::ServerSentEvents));
        assert_eq!(parsed.protocol, Protocol::MessagePack);
        assert!(args(&["--url", "x"]).is_err(), "a name is required");
        assert!(args(&["--name", "a", "--transport", "carrier-pigeon"]).is_err());
    }
}
