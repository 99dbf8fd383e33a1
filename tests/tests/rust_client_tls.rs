//! The Rust client (`hub-client`) over `https://` and `wss://`: a private CA
//! and a server certificate made at test time (rcgen), a TLS-terminating
//! proxy (tokio-rustls) in front of the in-process test hub, and the client
//! trusting that CA through `HubConnectionBuilder::tls_config` — on every
//! transport × protocol pair, after a negotiate redirect from http to https,
//! straight over `wss://`; and a client with the default roots refusing the
//! server with a typed certificate error.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hub_client::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use hub_client::rustls::{self, RootCertStore};
use hub_client::{Error, HubConnection, HubConnectionBuilder, Protocol, TransportKind, tls};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use samples::testhub::{TestClientHandler, TestProxy};
use tests::TestServer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Every pair the client can use (SSE carries JSON only).
const COMBOS: [(TransportKind, Protocol); 5] = [
    (TransportKind::WebSockets, Protocol::Json),
    (TransportKind::WebSockets, Protocol::MessagePack),
    (TransportKind::ServerSentEvents, Protocol::Json),
    (TransportKind::LongPolling, Protocol::Json),
    (TransportKind::LongPolling, Protocol::MessagePack),
];

/// How long any one expected event may take.
const WAIT: Duration = Duration::from_secs(10);

/// A private CA and a server certificate it signed.
struct Pki {
    ca: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
}

impl Pki {
    /// The server's certificate names `names` (DNS names or IP addresses).
    fn generate(names: &[&str]) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "hub-client test CA");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("server key");
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].as_str());
        let server = params
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        Self {
            ca: ca.der().clone(),
            server_chain: vec![server.der().clone(), ca.der().clone()],
            server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
        }
    }

    /// A client configuration trusting only this CA.
    fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).expect("add the CA");
        tls::client_config(roots)
    }

    /// The server side: the certificate chain and its key.
    #[allow(deprecated)] // ring's provider: see hub_client::tls.
    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(self.server_chain.clone(), self.server_key.clone_key())
            .expect("server certificate and key");
        Arc::new(config)
    }
}

/// Accepts TLS on `127.0.0.1:0` and copies bytes both ways between each
/// decrypted connection and `target` (the test hub). Stops accepting when
/// dropped; a failed handshake just drops that connection.
struct TlsProxy {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl TlsProxy {
    async fn start(config: Arc<rustls::ServerConfig>, target: SocketAddr) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the TLS proxy");
        let addr = listener.local_addr().expect("proxy address");
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut hub) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut hub).await;
                });
            }
        });
        Self { addr, accept }
    }

    /// `https://localhost:PORT/hubs/test`.
    fn url(&self) -> String {
        format!(
            "https://localhost:{}{}",
            self.addr.port(),
            samples::testhub::PATH
        )
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The test hub behind a TLS proxy, and the CA its certificate comes from.
struct Setup {
    server: TestServer,
    proxy: TlsProxy,
    pki: Pki,
}

impl Setup {
    async fn start() -> Self {
        let pki = Pki::generate(&["localhost", "127.0.0.1"]);
        let server = TestServer::testhub().await;
        let proxy = TlsProxy::start(pki.server_config(), server.addr).await;
        Self { server, proxy, pki }
    }

    async fn stop(self) {
        drop(self.proxy);
        self.server.stop().await;
    }
}

/// The test client's callbacks: `Receive` goes to the inbox, `Answer`
/// answers with a prefix.
struct Client {
    received: mpsc::UnboundedSender<String>,
}

impl TestClientHandler for Client {
    async fn receive(&self, message: String) {
        let _ = self.received.send(message);
    }

    async fn answer(&self, question: String) -> String {
        format!("answer to {question}")
    }
}

/// Starts `builder` with the test callbacks, then calls, receives and
/// answers over it.
async fn exercise(builder: HubConnectionBuilder, what: &str) {
    let connection = builder.build().expect("a valid URL");
    let (sender, mut inbox) = mpsc::unbounded_channel();
    Client { received: sender }.register(&connection);
    tokio::time::timeout(WAIT, connection.start())
        .await
        .expect("start within the wait")
        .unwrap_or_else(|error| panic!("{what}: start: {error}"));
    let hub = TestProxy(connection.clone());
    assert_eq!(
        hub.echo("over TLS".into()).await.unwrap(),
        "over TLS",
        "{what}"
    );
    assert_eq!(hub.add(40, 2).await.unwrap(), 42, "{what}");
    // A callback: the hub calls Receive on this client.
    hub.send_to_caller("pushed".into()).await.unwrap();
    let pushed = tokio::time::timeout(WAIT, inbox.recv()).await;
    assert_eq!(
        pushed.expect("Receive within the wait").as_deref(),
        Some("pushed"),
        "{what}"
    );
    // A client result: the hub asks this client and waits for its answer.
    assert_eq!(
        hub.ask_client("life".into()).await.unwrap(),
        "answer to life",
        "{what}"
    );
    let numbers: Vec<i32> = hub.counter(3, 1).map(Result::unwrap).collect().await;
    assert_eq!(numbers, [0, 1, 2], "{what}");
    // Larger than a TLS record (16 KiB), within the hub's 32 KiB limit.
    let large = "x".repeat(30_000);
    assert_eq!(hub.echo(large.clone()).await.unwrap(), large, "{what}");
    connection.stop().await;
}

#[tokio::test]
async fn the_typed_client_works_over_https_on_every_transport_and_protocol() {
    let setup = Setup::start().await;
    for (transport, protocol) in COMBOS {
        let builder = HubConnection::builder(setup.proxy.url())
            .transports(transport)
            .protocol(protocol)
            .tls_config(setup.pki.client_config());
        exercise(builder, &format!("{transport:?} {protocol:?}")).await;
    }
    setup.stop().await;
}

#[tokio::test]
async fn wss_urls_connect_straight_over_websockets() {
    let setup = Setup::start().await;
    // An IP address: SNI is skipped, the certificate's IP SAN is checked.
    let url = format!(
        "wss://127.0.0.1:{}{}",
        setup.proxy.addr.port(),
        samples::testhub::PATH
    );
    for protocol in [Protocol::Json, Protocol::MessagePack] {
        let builder = HubConnection::builder(&url)
            .transports(TransportKind::WebSockets)
            .skip_negotiation(true)
            .protocol(protocol)
            .tls_config(setup.pki.client_config());
        exercise(builder, &format!("wss {protocol:?}")).await;
    }
    setup.stop().await;
}

#[tokio::test]
async fn a_negotiate_redirect_to_https_is_followed() {
    let setup = Setup::start().await;
    let document = format!(r#"{{"url":"{}"}}"#, setup.proxy.url());
    let app = axum::Router::new().route(
        "/hub/negotiate",
        axum::routing::post(move || std::future::ready(document.clone())),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = format!("http://{}/hub", listener.local_addr().unwrap());
    let front_task = tokio::spawn(async move { axum::serve(listener, app).await });
    for (transport, protocol) in [COMBOS[0], COMBOS[2], COMBOS[4]] {
        let builder = HubConnection::builder(&front)
            .transports(transport)
            .protocol(protocol)
            .tls_config(setup.pki.client_config());
        exercise(builder, &format!("redirected {transport:?} {protocol:?}")).await;
    }
    front_task.abort();
    setup.stop().await;
}

#[tokio::test]
async fn the_default_roots_refuse_a_private_ca_with_a_certificate_error() {
    let setup = Setup::start().await;
    let wss = format!(
        "wss://localhost:{}{}",
        setup.proxy.addr.port(),
        samples::testhub::PATH
    );
    let negotiated = HubConnection::builder(setup.proxy.url());
    let skipped = HubConnection::builder(wss)
        .transports(TransportKind::WebSockets)
        .skip_negotiation(true);
    for (builder, what) in [(negotiated, "negotiate"), (skipped, "WebSocket")] {
        let connection = builder.build().expect("a valid URL");
        let error = tokio::time::timeout(WAIT, connection.start())
            .await
            .expect("refused promptly, no hang")
            .expect_err("a certificate from an unknown CA is refused");
        let Error::Certificate { host, reason } = &error else {
            panic!("{what}: expected Error::Certificate, got {error:?}");
        };
        assert_eq!(host, "localhost", "{what}");
        assert!(reason.contains("UnknownIssuer"), "{what}: {reason}");
        assert!(
            error
                .to_string()
                .starts_with("the certificate of 'localhost' was refused"),
            "{what}: {error}"
        );
    }
    setup.stop().await;
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused() {
    // The right CA, but a certificate for another name than the URL's host.
    let pki = Pki::generate(&["hub.example"]);
    let server = TestServer::testhub().await;
    let proxy = TlsProxy::start(pki.server_config(), server.addr).await;
    let connection = HubConnection::builder(proxy.url())
        .tls_config(pki.client_config())
        .build()
        .expect("a valid URL");
    let error = tokio::time::timeout(WAIT, connection.start())
        .await
        .expect("refused promptly, no hang")
        .expect_err("a certificate for another host is refused");
    let Error::Certificate { host, reason } = &error else {
        panic!("expected Error::Certificate, got {error:?}");
    };
    assert_eq!(host, "localhost");
    assert!(reason.contains("not valid for name"), "{reason}");
    drop(proxy);
    server.stop().await;
}
