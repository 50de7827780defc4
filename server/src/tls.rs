//! TLS termination: loading a PEM certificate chain and key into a rustls acceptor, the
//! handshakes of accepted sockets, and the stream hyper is served over (plain or TLS).
//!
//! The accept loop (`crate::listen`) lets a socket through the connection gate first; its
//! handshake then runs in the socket's own task ([`Handshakes`]: at most [`MAX_HANDSHAKES`] at
//! once, each within [`HANDSHAKE_TIMEOUT`]), so a peer that opens a socket and never finishes its
//! handshake holds no one else up, and counts against the caps while it tries.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most handshakes in progress at once; further admitted sockets wait for a place (within
/// [`HANDSHAKE_TIMEOUT`]).
pub const MAX_HANDSHAKES: usize = 256;
/// Most handshakes at once for sockets over the connection caps, which are answered `503` over
/// TLS when a place is free and otherwise just closed.
pub const MAX_REFUSAL_HANDSHAKES: usize = 16;
/// How long a socket over the caps may take to complete its handshake.
pub const REFUSAL_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);

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

/// TLS handshakes of accepted sockets, bounded in number and in time.
pub struct Handshakes {
    acceptor: TlsAcceptor,
    slots: Arc<Semaphore>,
    refusal_slots: Arc<Semaphore>,
}

impl Handshakes {
    /// Handshakes with `acceptor`'s certificate.
    pub fn new(acceptor: TlsAcceptor) -> Self {
        Self {
            acceptor,
            slots: Arc::new(Semaphore::new(MAX_HANDSHAKES)),
            refusal_slots: Arc::new(Semaphore::new(MAX_REFUSAL_HANDSHAKES)),
        }
    }

    /// Completes the handshake of an admitted socket: waits for one of the [`MAX_HANDSHAKES`]
    /// places, then handshakes, each within [`HANDSHAKE_TIMEOUT`]. `None` when the peer did not
    /// finish in time or the handshake failed (logged at debug level).
    pub async fn accept<S>(&self, io: S, peer: std::net::SocketAddr) -> Option<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Ok(Ok(_slot)) =
            tokio::time::timeout(HANDSHAKE_TIMEOUT, self.slots.clone().acquire_owned()).await
        else {
            tracing::debug!(%peer, "no TLS handshake place became free in time");
            return None;
        };
        handshake(&self.acceptor, io, HANDSHAKE_TIMEOUT, peer).await
    }

    /// The handshake of a socket over the caps, so it can read why it is refused: only when one
    /// of the [`MAX_REFUSAL_HANDSHAKES`] places is free now, within
    /// [`REFUSAL_HANDSHAKE_TIMEOUT`].
    pub async fn accept_refused<S>(&self, io: S, peer: std::net::SocketAddr) -> Option<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let _slot = self.refusal_slots.clone().try_acquire_owned().ok()?;
        handshake(&self.acceptor, io, REFUSAL_HANDSHAKE_TIMEOUT, peer).await
    }
}

async fn handshake<S>(
    acceptor: &TlsAcceptor,
    io: S,
    deadline: Duration,
    peer: std::net::SocketAddr,
) -> Option<TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(deadline, acceptor.accept(io)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}

/// A connection as hyper sees it: plain, or TLS over the accepted socket.
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
