//! A TCP proxy that can cut every connection it carries: a network failure
//! on demand. Any HTTP request to the proxy's control address (or
//! [`CutProxy::cut`]) drops every proxied connection at once, as a broken
//! network would; later connections pass through again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A running proxy to one server.
#[derive(Debug)]
pub struct CutProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// `http://` + this + `/` cuts every proxied connection.
    pub control_addr: SocketAddr,
    cut: Arc<Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl CutProxy {
    /// Starts a proxy to `target` on `127.0.0.1:0`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind proxy");
        let control = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind proxy control");
        let addr = listener.local_addr().expect("proxy address");
        let control_addr = control.local_addr().expect("proxy control address");
        let cut = Arc::new(Mutex::new(CancellationToken::new()));
        let stop = CancellationToken::new();
        tokio::spawn(proxy(listener, target, cut.clone(), stop.clone()));
        tokio::spawn(control_loop(control, cut.clone(), stop.clone()));
        Self {
            addr,
            control_addr,
            cut,
            stop,
        }
    }

    /// Drops every connection carried now.
    pub fn cut(&self) {
        cut_all(&self.cut);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.cut();
    }
}

fn cut_all(cut: &Mutex<CancellationToken>) {
    let mut current = cut.lock().unwrap_or_else(PoisonError::into_inner);
    current.cancel();
    *current = CancellationToken::new();
}

async fn proxy(
    listener: TcpListener,
    target: SocketAddr,
    cut: Arc<Mutex<CancellationToken>>,
    stop: CancellationToken,
) {
    loop {
        let mut client = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => client,
                Err(_) => continue,
            },
            () = stop.cancelled() => return,
        };
        let token = cut.lock().unwrap_or_else(PoisonError::into_inner).clone();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(target).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                // Both sockets are dropped mid-conversation.
                () = token.cancelled() => {}
            }
        });
    }
}

/// Every request here cuts the proxied connections, then gets `200 OK`.
async fn control_loop(
    listener: TcpListener,
    cut: Arc<Mutex<CancellationToken>>,
    stop: CancellationToken,
) {
    loop {
        let mut client = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => client,
                Err(_) => continue,
            },
            () = stop.cancelled() => return,
        };
        cut_all(&cut);
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let _ = client.read(&mut request).await;
            let _ = client
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        });
    }
}
