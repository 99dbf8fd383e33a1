//! The first phase of a connection: read the handshake, answer it.
//!
//! A refused handshake is answered here at once; an accepted one only once
//! the connection is registered (see `serve`).

use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use crate::options::HubOptions;
use crate::transport::{Transport, TransportEvent};
use hub_protocol::handshake::{self, Handshake, HandshakeError};
use hub_protocol::{MessageReader, TransferFormat};

/// Reads the handshake. Returns `None` (after answering with an error where
/// the client can still hear it, and closing the transport) when the
/// connection cannot proceed; a handshake returned here is answered by
/// [`accept`] once the connection is registered.
pub(super) async fn receive<T: Transport>(
    transport: &mut T,
    reader: &mut MessageReader,
    options: &HubOptions,
    shutdown: &CancellationToken,
) -> Option<Handshake> {
    let outcome = tokio::select! {
        outcome = timeout(options.handshake_timeout, read(transport, reader, options)) => {
            outcome.unwrap_or(Err(Some(HandshakeError::Canceled)))
        }
        () = shutdown.cancelled() => Err(None),
    };
    match outcome {
        Ok(handshake) => Some(handshake),
        Err(error) => {
            if let Some(error) = error {
                tracing::debug!(%error, "handshake refused");
                let message = error.client_message(options.enable_detailed_errors);
                let response = handshake::error_response(&message);
                let sent = transport.feed(response, TransferFormat::Text).await;
                if sent.is_ok() {
                    let _ = transport.flush().await;
                }
            }
            transport.close().await;
            None
        }
    }
}

/// Sends the successful handshake response; false if the transport is gone.
pub(super) async fn accept<T: Transport>(transport: &mut T, handshake: &Handshake) -> bool {
    let response = handshake::success_response();
    let format = handshake.protocol.transfer_format();
    transport.feed(response, format).await.is_ok() && transport.flush().await.is_ok()
}

/// Reads until one complete handshake record has arrived. `Err(None)`: the
/// transport ended first.
async fn read<T: Transport>(
    transport: &mut T,
    reader: &mut MessageReader,
    options: &HubOptions,
) -> Result<Handshake, Option<HandshakeError>> {
    loop {
        match reader.next_record() {
            Ok(Some(record)) => {
                return handshake::accept(
                    &record,
                    &options.supported_protocols,
                    transport.transfer_formats(),
                )
                .map_err(Some);
            }
            Ok(None) => {}
            Err(_) => return Err(Some(HandshakeError::Canceled)),
        }
        match transport.recv().await {
            Some(Ok(TransportEvent::Data(inbound))) => reader
                .push(inbound.data)
                .map_err(|_| Some(HandshakeError::Canceled))?,
            Some(Ok(TransportEvent::Resumed)) => {}
            Some(Err(_)) | None => return Err(None),
        }
    }
}
