//! TLS termination: loading a PEM certificate chain and key into a rustls acceptor, and a
//! listener that hands axum either plain or TLS streams.
//!
//! TLS handshakes run in their own tasks (at most [`MAX_HANDSHAKES`] at once, each within
//! [`HANDSHAKE_TIMEOUT`]), so a peer that opens a socket and never finishes its handshake holds
//! no one else up.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::Listener;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most handshakes in progress at once; further sockets wait to be accepted.
pub const MAX_HANDSHAKES: usize = 256;

/// Why the certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "cannot read the TLS certificate {path}: {reason}; pass a PEM file with the server's certificate chain (--tls-cert or [tls] cert)"
    )]
    Cert { path: String, reason: String },
    #[error(
        "cannot read the TLS key {path}: {reason}; pass the PEM private key of the certificate (--tls-key or [tls] key)"
    )]
    Key { path: String, reason: String },
    #[error(
        "the TLS certificate and key do not work together: {0}; check that the key belongs to the certificate"
    )]
    Config(rustls::Error),
}

/// The cryptography both ends use: rustls on *ring*. rustls 0.23.48 marks the *ring* provider
/// deprecated because it lacks post-quantum key exchange; its alternative, aws-lc-rs, needs a
/// C/CMake toolchain and minutes of build on our 2-core machines. Moving over is a feature flag
/// in `Cargo.toml` and this one function.
#[allow(deprecated)]
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds an acceptor from PEM files: the certificate chain (leaf first) and its private key.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_err = |reason: String| TlsError::Cert {
        path: cert.display().to_string(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(cert_err("it holds no CERTIFICATE block".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(TlsError::Config)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A connection as axum sees it: plain, or TLS over the inner listener's stream.
pub enum Stream<S> {
    Plain(S),
    Tls(Box<TlsStream<S>>),
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// A listener that serves its inner listener's connections as they are, or through TLS.
pub enum MaybeTls<L: Listener> {
    Plain(L),
    Tls {
        handshaken: mpsc::Receiver<(TlsStream<L::Io>, L::Addr)>,
        local_addr: io::Result<L::Addr>,
        acceptor_task: JoinHandle<()>,
    },
}

impl<L> MaybeTls<L>
where
    L: Listener,
    L::Addr: Clone + std::fmt::Debug + Sync,
{
    /// Wraps `inner`; with an acceptor, every connection must complete a TLS handshake first.
    pub fn new(inner: L, acceptor: Option<TlsAcceptor>) -> Self {
        let Some(acceptor) = acceptor else {
            return MaybeTls::Plain(inner);
        };
        let local_addr = inner.local_addr();
        let (tx, handshaken) = mpsc::channel(64);
        let acceptor_task = tokio::spawn(accept_loop(inner, acceptor, tx));
        MaybeTls::Tls {
            handshaken,
            local_addr,
            acceptor_task,
        }
    }
}

async fn accept_loop<L: Listener>(
    mut inner: L,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<L::Io>, L::Addr)>,
) where
    L::Addr: std::fmt::Debug + Sync,
{
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (io, addr) = inner.accept().await;
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                Ok(Ok(stream)) => {
                    let _ = tx.send((stream, addr)).await;
                }
                Ok(Err(e)) => tracing::debug!(peer = ?addr, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(peer = ?addr, "TLS handshake timed out"),
            }
        });
    }
}

impl<L> Drop for MaybeTls<L>
where
    L: Listener,
{
    fn drop(&mut self) {
        if let MaybeTls::Tls { acceptor_task, .. } = self {
            acceptor_task.abort();
        }
    }
}

impl<L> Listener for MaybeTls<L>
where
    L: Listener,
    L::Addr: Clone + Sync,
{
    type Io = Stream<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self {
            MaybeTls::Plain(inner) => {
                let (io, addr) = inner.accept().await;
                (Stream::Plain(io), addr)
            }
            MaybeTls::Tls { handshaken, .. } => match handshaken.recv().await {
                Some((stream, addr)) => (Stream::Tls(Box::new(stream)), addr),
                // The accept task ended (it never does while the listener lives).
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match self {
            MaybeTls::Plain(inner) => inner.local_addr(),
            MaybeTls::Tls { local_addr, .. } => match local_addr {
                Ok(a) => Ok(a.clone()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            },
        }
    }
}
