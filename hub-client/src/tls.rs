//! TLS for `https://` and `wss://` hub URLs (the `tls` feature, on by
//! default): rustls with the `ring` crypto provider, verifying the server's
//! certificate against Mozilla's root certificates (`webpki-roots`, the
//! list Node.js ships, so the JS client trusts the same servers) unless
//! [`HubConnectionBuilder::tls_config`](crate::HubConnectionBuilder::tls_config)
//! supplies a configuration of your own.
//!
//! A server whose certificate comes from a private CA:
//!
//! ```no_run
//! use hub_client::rustls::pki_types::CertificateDer;
//! use hub_client::rustls::pki_types::pem::PemObject;
//! use hub_client::{HubConnection, tls};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut roots = tls::web_pki_roots(); // or an empty `rustls::RootCertStore`
//! roots.add(CertificateDer::from_pem_file("my-ca.pem")?)?;
//! let connection = HubConnection::builder("https://hub.internal/hubs/chat")
//!     .tls_config(tls::client_config(roots))
//!     .build()?;
//! # Ok(())
//! # }
//! ```
//!
//! A configuration must leave ALPN empty or offer `http/1.1`: this client
//! speaks HTTP/1.1 (WebSockets need it).

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};

use crate::error::Error;

/// Mozilla's root certificates (the default trust of this client), to add
/// a private CA to.
pub fn web_pki_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// A client configuration trusting `roots`, with rustls's safe default
/// protocol versions (TLS 1.3 and 1.2), offering `http/1.1` by ALPN and no
/// client certificate. Its crypto is the process's default provider when
/// one is installed (`CryptoProvider::install_default`), else `ring`.
pub fn client_config(roots: RootCertStore) -> Arc<ClientConfig> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(ring_provider()));
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // Every provider rustls ships supports both default versions.
        .expect("the crypto provider supports TLS 1.2 and 1.3");
    let mut config = builder.with_root_certificates(roots).with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// rustls's `ring` provider. rustls 0.23.48 deprecates it because ring has
/// no post-quantum key exchange (it nudges towards aws-lc-rs, which needs
/// cmake to build); servers negotiate X25519 or P-256 with it, as with any
/// client that offers no post-quantum group.
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The default configuration ([`web_pki_roots`]), built once.
pub(crate) fn default_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| client_config(web_pki_roots()))
        .clone()
}

/// The error of a failed TLS handshake with `host`: [`Error::Certificate`]
/// when the server's certificate was refused, [`Error::Tls`] otherwise.
pub(crate) fn handshake_error(host: &str, error: std::io::Error) -> Error {
    let host = host.to_owned();
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(reason)) => Error::Certificate {
            host,
            reason: reason.to_string(),
        },
        Some(rustls::Error::NoCertificatesPresented) => Error::Certificate {
            host,
            reason: "the server presented no certificate".into(),
        },
        Some(other) => Error::Tls {
            host,
            reason: other.to_string(),
        },
        None => Error::Tls {
            host,
            reason: error.to_string(),
        },
    }
}
