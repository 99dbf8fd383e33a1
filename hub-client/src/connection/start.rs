//! Connecting once: negotiate (unless skipped), open the first transport
//! that works (negotiating again before each next one, as the JS client
//! does), and complete the handshake.

use hub_protocol::{MessageReader, handshake};

use crate::error::Error;
use crate::negotiate::{TokenSource, negotiate};
use crate::options::{ConnectionOptions, TransportKind};
use crate::transport::{Endpoint, Frame, Received, Transport};
use crate::url::HubUrl;

/// A connected transport, its handshake done.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) transport: Transport,
    /// Where the transport connected (for a stateful reconnect).
    pub(crate) endpoint: Endpoint,
    /// The connection id, unless negotiation was skipped.
    pub(crate) connection_id: Option<String>,
    /// Whether stateful reconnect is on for this connection.
    pub(crate) stateful: bool,
    /// Holds what followed the handshake response; switched to the
    /// protocol's framing.
    pub(crate) reader: MessageReader,
}

/// Connects with `options`.
pub(crate) async fn connect(
    url: &HubUrl,
    options: &ConnectionOptions,
    tokens: &mut TokenSource,
) -> Result<Link, Error> {
    if options.skip_negotiation {
        if !options.transports.is_web_sockets_only() {
            return Err(Error::NoTransport(
                "Negotiation can only be skipped when using the WebSocket transport directly."
                    .into(),
            ));
        }
        let endpoint = Endpoint {
            url: url.clone(),
            token: tokens.token().await?,
        };
        let transport = Transport::open(TransportKind::WebSockets, &endpoint, options).await?;
        return finish(transport, endpoint, None, false, options).await;
    }
    let format = options.protocol.transfer_format().name();
    let mut negotiated = Some(negotiate(url, options, tokens).await?);
    let candidates: Vec<TransportKind> = negotiated
        .as_ref()
        .map(|negotiated| &negotiated.connection.available_transports)
        .into_iter()
        .flatten()
        .filter_map(|offered| {
            let kind = TransportKind::from_name(&offered.transport)?;
            let usable = options.transports.contains(kind)
                && offered
                    .transfer_formats
                    .iter()
                    .any(|offered| offered == format);
            usable.then_some(kind)
        })
        .collect();
    if candidates.is_empty() {
        return Err(Error::NoTransport(
            "None of the transports supported by the client are supported by the server.".into(),
        ));
    }
    let mut failures = Vec::new();
    for kind in candidates {
        let current = match negotiated.take() {
            Some(current) => current,
            None => negotiate(url, options, tokens).await?,
        };
        let connection = current.connection;
        let endpoint = Endpoint {
            url: current.url.with_id(Some(connection.transport_id())),
            token: current.token,
        };
        match Transport::open(kind, &endpoint, options).await {
            Ok(transport) => {
                let stateful =
                    connection.use_stateful_reconnect && kind == TransportKind::WebSockets;
                return finish(
                    transport,
                    endpoint,
                    Some(connection.connection_id),
                    stateful,
                    options,
                )
                .await;
            }
            Err(error) => {
                tracing::debug!(transport = kind.name(), %error, "transport failed to start");
                failures.push(format!("{}: {error}", kind.name()));
            }
        }
    }
    Err(Error::NoTransport(format!(
        "Unable to connect to the server with any of the available transports. {}",
        failures.join("; ")
    )))
}

/// The handshake on an open transport, then the first Ping (not on Long Polling).
async fn finish(
    mut transport: Transport,
    endpoint: Endpoint,
    connection_id: Option<String>,
    stateful: bool,
    options: &ConnectionOptions,
) -> Result<Link, Error> {
    let protocol = options.protocol;
    let version = if stateful { 2 } else { 1 };
    let mut reader = MessageReader::new(
        hub_protocol::Framing::RecordSeparator,
        options.max_message_size,
    );
    let exchange = async {
        transport
            .send(handshake::request(protocol, version), Frame::Text)
            .await?;
        loop {
            if let Some(record) = reader.next_record()? {
                return handshake::read_response(&record)
                    .map_err(|error| Error::Handshake(error.to_string()));
            }
            match transport.recv().await {
                Received::Data(data) => reader.push(data)?,
                Received::Closed(error) => {
                    return Err(Error::Handshake(format!(
                        "the server closed the connection before answering the handshake{}",
                        error.map(|error| format!(": {error}")).unwrap_or_default()
                    )));
                }
            }
        }
    };
    let outcome = tokio::time::timeout(options.server_timeout, exchange).await;
    let outcome = outcome.unwrap_or(Err(Error::ServerTimeout));
    if let Err(error) = outcome {
        transport.close().await;
        return Err(error);
    }
    reader.set_framing(protocol.framing());
    if !transport.kind().inherent_keep_alive() {
        transport
            .send(protocol.encode_ping(), frame(options))
            .await?;
    }
    Ok(Link {
        transport,
        endpoint,
        connection_id,
        stateful,
        reader,
    })
}

/// The frame kind the protocol's messages travel in.
pub(crate) fn frame(options: &ConnectionOptions) -> Frame {
    match options.protocol.transfer_format() {
        hub_protocol::TransferFormat::Text => Frame::Text,
        hub_protocol::TransferFormat::Binary => Frame::Binary,
    }
}

/// Reopens the WebSocket of a stateful connection (same URL and token, no
/// negotiate, no handshake).
pub(crate) async fn reopen(
    endpoint: &Endpoint,
    options: &ConnectionOptions,
) -> Result<Transport, Error> {
    Transport::open(TransportKind::WebSockets, endpoint, options).await
}
