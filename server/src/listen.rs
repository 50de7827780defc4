//! The accept loop: every TCP connection passes the [`Gate`] (per-address and total caps) or is
//! answered `503` and closed at once, completes a TLS handshake when the server has a
//! certificate ([`crate::tls`], within the header deadline), then is served by hyper's HTTP/1 with a deadline for the
//! request head and a small header buffer. A connection let in past the total cap (overflow)
//! gets a 1 s deadline, no keep-alive, and `/healthz` only. The socket keeps its [`Pass`] after the upgrade to a
//! WebSocket, so it counts until it closes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::gate::{Gate, Pass, Refused};
use crate::limits::{HEADER_BUFFER, Limits};

/// Marks a request on a connection let in past the total cap: it may ask for `/healthz` only.
#[derive(Debug, Clone, Copy)]
pub struct Overflow;

/// Header deadline of an overflow connection.
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a refused connection gets to take its `503`.
const REFUSE_WRITE: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `signal` completes, then stops accepting, lets every
/// HTTP connection finish the request it is on, and returns. Upgraded WebSockets are not waited
/// for here (the connection tracker does that).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    gate: Arc<Gate>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    signal: impl std::future::Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (open_tx, open_rx) = watch::channel(());
    let service = TowerToHyperService::new(router);
    let mut signal = std::pin::pin!(signal);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: back off a little
                    // rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let pass = match gate.admit(peer.ip()) {
            Ok(pass) => pass,
            Err(why) => {
                tokio::spawn(refuse(tcp, why, tls.clone()));
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
        let overflow = pass.is_overflow();
        let counted = Counted { tcp, _pass: pass };
        let service = service.clone();
        let handler = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            if overflow {
                request.extensions_mut().insert(Overflow);
            }
            service.call(request)
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(if overflow {
                limits.header_timeout.min(OVERFLOW_HEADER_TIMEOUT)
            } else {
                limits.header_timeout
            })
            .max_buf_size(HEADER_BUFFER)
            .keep_alive(!overflow);
        let mut stop = stop_rx.clone();
        let open = open_rx.clone();
        let tls = tls.clone();
        let handshake_deadline = limits.header_timeout;
        tokio::spawn(async move {
            // A socket still in its handshake when the server stops is dropped, not waited for.
            let handshaken = tokio::select! {
                stream = crate::tls::wrap(counted, tls.as_ref(), handshake_deadline) => stream,
                _ = stop.wait_for(|s| *s) => None,
            };
            let Some(stream) = handshaken else {
                drop(open);
                return;
            };
            let io = TokioIo::new(stream);
            let conn = builder.serve_connection(io, handler).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            let finished = tokio::select! {
                result = conn.as_mut() => Some(result),
                _ = stop.wait_for(|s| *s) => None,
            };
            let result = match finished {
                Some(result) => result,
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "HTTP connection ended");
            }
            drop(open);
        });
    }
    let _ = stop_tx.send(true);
    drop(open_rx);
    open_tx.closed().await;
}

/// Answers a connection over the caps with `503` and closes it. On a TLS server the `503` goes
/// through TLS too (all within [`REFUSE_WRITE`]), so the client reads the refusal rather than a
/// broken handshake.
async fn refuse(tcp: TcpStream, why: Refused, tls: Option<tokio_rustls::TlsAcceptor>) {
    let _ = tokio::time::timeout(REFUSE_WRITE, async {
        if let Some(mut stream) = crate::tls::wrap(tcp, tls.as_ref(), REFUSE_WRITE).await {
            refuse_on(&mut stream, why).await;
        }
    })
    .await;
}

async fn refuse_on(tcp: &mut (impl AsyncWrite + Unpin), why: Refused) {
    let body = serde_json::to_string(&warren_protocol::WireError::new(
        warren_protocol::ErrorCode::TooManyConnections,
        why.message(),
    ))
    .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSE_WRITE, async {
        let _ = tcp.write_all(response.as_bytes()).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}

/// A TCP stream that holds its place in the [`Gate`] until it is dropped.
struct Counted {
    tcp: TcpStream,
    _pass: Pass,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}
