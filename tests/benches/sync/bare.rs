//! The baseline for fan-out: a bare tokio-tungstenite broadcast server. It does only what fan-out
//! cannot avoid: accept WebSockets, and relay every text frame a producer sends to every
//! subscriber through one tokio broadcast channel. No auth, no JSON, no storage, no ordering or
//! resync logic.
//!
//! Protocol: a client's first text frame is `sub` (the server answers `ready` once the client is
//! registered, then streams every relayed frame) or `pub` (every later text frame is relayed).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Accepts connections on `listener` forever. Frames a subscriber misses because it fell more
/// than `capacity` frames behind are added to `lost`.
pub async fn serve(listener: TcpListener, capacity: usize, lost: Arc<AtomicU64>) {
    let (tx, _) = broadcast::channel::<Utf8Bytes>(capacity);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let tx = tx.clone();
        let lost = lost.clone();
        tokio::spawn(async move {
            let _ = connection(tcp, tx, lost).await;
        });
    }
}

async fn connection(
    tcp: TcpStream,
    tx: broadcast::Sender<Utf8Bytes>,
    lost: Arc<AtomicU64>,
) -> Result<()> {
    let ws = tokio_tungstenite::accept_async(tcp).await?;
    let (mut sink, mut stream) = ws.split();
    let role = loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => break text,
            Some(Ok(_)) => {}
            _ => return Ok(()),
        }
    };
    match role.as_str() {
        "sub" => {
            let mut rx = tx.subscribe();
            sink.send(Message::text("ready")).await?;
            loop {
                tokio::select! {
                    frame = rx.recv() => match frame {
                        Ok(text) => sink.send(Message::Text(text)).await?,
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            lost.fetch_add(n, Ordering::Relaxed);
                        }
                        Err(broadcast::error::RecvError::Closed) => return Ok(()),
                    },
                    incoming = stream.next() => match incoming {
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ok(()),
                        Some(Ok(_)) => {}
                    },
                }
            }
        }
        "pub" => {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message {
                    let _ = tx.send(text);
                }
            }
            Ok(())
        }
        other => bail!("unknown role {other:?}"),
    }
}
