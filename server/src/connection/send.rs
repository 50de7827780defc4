//! The sending half of a connection: direct replies, and the subscribed workspace's event stream
//! with replay from the store, de-duplication and resync.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::sync::mpsc;
use warren_protocol::account::TokenScope;
use warren_protocol::{ErrorCode, Id, ServerMessage};

use super::replies::Outgoing;
use crate::app::App;
use crate::frames;
use crate::hub::{ConnectionId, Subscription};
use crate::presence::Here;
use crate::store::read;

/// Events a `subscribe` may be behind before it gets a snapshot instead of a replay.
pub const MAX_REPLAY_EVENTS: u64 = 10_000;
/// Events read from the store per replay page.
const REPLAY_PAGE: usize = 1000;

/// Close code for a socket that did not say `hello` in time (RFC 6455 "policy violation").
pub const CLOSE_POLICY: u16 = 1008;

/// Close code for a frame over the hard size limit (RFC 6455 "message too big").
pub const CLOSE_TOO_BIG: u16 = 1009;

/// Close code for a text frame that is not valid UTF-8 (RFC 6455 "invalid frame payload data").
pub const CLOSE_BAD_DATA: u16 = 1007;

/// Whether a read failed because a text frame was not valid UTF-8.
pub fn is_bad_utf8(error: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    std::error::Error::source(error)
        .and_then(|inner| inner.downcast_ref::<WsError>())
        .is_some_and(|e| matches!(e, WsError::Utf8(_)))
}

/// Whether a read failed because the peer sent a frame or message over the hard limit.
pub fn is_too_large(error: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    std::error::Error::source(error)
        .and_then(|inner| inner.downcast_ref::<WsError>())
        .is_some_and(|e| matches!(e, WsError::Capacity(_)))
}

struct Subscribed {
    workspace: Id,
    sub: Subscription,
    last_seq: u64,
}

/// The socket's writing half, with the deadline for each frame.
struct Sink {
    sink: SplitSink<WebSocket, Message>,
    write_timeout: Duration,
}

/// Why the sending half stopped.
#[derive(Debug)]
enum Stop {
    /// The socket failed; the peer is gone.
    Socket,
    /// The peer has not taken a frame for the write timeout: it does not read.
    Stalled,
}

/// Runs until every sender of `out` is dropped (the reader finished and in-flight commands were
/// answered), then closes the socket with `close`. Gives up (and so ends the connection) when the
/// peer leaves a frame unread for [`Limits::write_timeout`](crate::limits::Limits).
pub async fn run(
    app: Arc<App>,
    connection: ConnectionId,
    user: Id,
    scope: TokenScope,
    sink: SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Outgoing>,
) {
    let mut sink = Sink {
        sink,
        write_timeout: app.limits.write_timeout,
    };
    let mut state: Option<Subscribed> = None;
    // Counts this connection as online in the subscribed workspace while it holds it.
    let mut here: Option<Here> = None;
    let mut close: Option<(u16, &'static str)> = None;
    let result: Result<(), Stop> = async {
        loop {
            tokio::select! {
                biased;
                next = out.recv() => match next {
                    None => return Ok(()),
                    Some(Outgoing::Text(text, held)) => {
                        send(&mut sink, text).await?;
                        // Written: its share of the reply budget (and its in-flight slot) is free.
                        drop(held);
                    }
                    Some(Outgoing::Close { code, reason }) => close = Some((code, reason)),
                    Some(Outgoing::Subscribe { workspace, since }) => {
                        state = None;
                        state = subscribe(&app, connection, (&user, scope), &mut sink, workspace, since).await?;
                        here = present(&app, here.take(), state.as_ref(), connection, &user);
                    }
                },
                frame = next_frame(&mut state) => {
                    let Some(current) = state.as_mut() else { continue };
                    match frame {
                        Some(frame) if frame.seq == 0 => send(&mut sink, frame.text.clone()).await?,
                        Some(frame) if frame.seq <= current.last_seq => {}
                        Some(frame) if frame.seq == current.last_seq + 1 => {
                            send(&mut sink, frame.text.clone()).await?;
                            current.last_seq = frame.seq;
                        }
                        Some(_) | None => {
                            // A gap (should not happen) or the hub dropped us: replay from the store.
                            let lagged = current.sub.lagged.load(Ordering::Acquire);
                            if frame.is_none() && !lagged {
                                // Removed from the workspace, or it was deleted.
                                state = None;
                                here = None;
                                continue;
                            }
                            let workspace = current.workspace.clone();
                            let from = current.last_seq;
                            let notice = ServerMessage::Resync {
                                workspace_id: workspace.clone(),
                                from,
                                reason: "this connection fell behind the live stream; replaying from the store".into(),
                            };
                            send(&mut sink, frames::text(&notice)).await?;
                            state = None;
                            state = subscribe(&app, connection, (&user, scope), &mut sink, workspace, Some(from)).await?;
                            here = present(&app, here.take(), state.as_ref(), connection, &user);
                        }
                    }
                }
            }
        }
    }
    .await;
    if let Err(Stop::Stalled) = result {
        tracing::info!(
            "disconnected a client that left frames unread for {:?}",
            sink.write_timeout
        );
        return;
    }
    if result.is_ok() {
        let shutting_down = *app.shutdown.borrow();
        let (code, reason) = if let Some(requested) = close {
            requested
        } else if shutting_down {
            (1001, "server shutting down")
        } else {
            (1000, "bye")
        };
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(sink.write_timeout, sink.sink.send(frame)).await;
    }
    let _ = tokio::time::timeout(sink.write_timeout, sink.sink.close()).await;
}

/// After a (re)subscribe: stays present in the same workspace (and re-sends the list, which a
/// lagged subscription may have missed), enters the new one, or leaves when the subscribe failed.
fn present(
    app: &App,
    here: Option<Here>,
    state: Option<&Subscribed>,
    connection: ConnectionId,
    user: &Id,
) -> Option<Here> {
    let subscribed = state?;
    match here {
        Some(here) if here.workspace() == &subscribed.workspace => {
            here.tell(connection);
            Some(here)
        }
        other => {
            drop(other);
            Some(app.presence.enter(&subscribed.workspace, user, connection))
        }
    }
}

async fn next_frame(state: &mut Option<Subscribed>) -> Option<Arc<crate::hub::Frame>> {
    match state {
        Some(s) => s.sub.rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn send(sink: &mut Sink, text: Utf8Bytes) -> Result<(), Stop> {
    match tokio::time::timeout(sink.write_timeout, sink.sink.send(Message::Text(text))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Stop::Socket),
        Err(_) => Err(Stop::Stalled),
    }
}

/// Registers with the hub, then sends the backlog after `since` (or a snapshot), then `synced`.
/// Registering first means no event can fall between the backlog and the live stream; live frames
/// already covered by the backlog are skipped by sequence number.
async fn subscribe(
    app: &App,
    connection: ConnectionId,
    (user, scope): (&Id, TokenScope),
    sink: &mut Sink,
    workspace: Id,
    since: Option<u64>,
) -> Result<Option<Subscribed>, Stop> {
    match super::access::check(app, &workspace, user, scope, "subscribe").await {
        Ok(()) => {}
        Err(super::access::Denied::Refused(e)) => {
            send(sink, frames::error_text(None, e.code, &e.message)).await?;
            return Ok(None);
        }
        Err(super::access::Denied::Store(e)) => return internal(sink, &e.to_string()).await,
    }
    let sub = app.hub.subscribe(&workspace, connection, user);
    let ws = workspace.clone();
    let head = app
        .read(move |store| {
            read::head(
                &store
                    .begin_read()?
                    .open_table(crate::store::tables::HEADS)?,
                ws.as_str(),
            )
        })
        .await;
    let head = match head {
        Ok(h) => h,
        Err(e) => return internal(sink, &e.to_string()).await,
    };
    let mut last_seq = match since {
        Some(s) if s <= head && head - s <= MAX_REPLAY_EVENTS => s,
        _ => {
            let ws = workspace.clone();
            let snapshot = app
                .catch_up
                .snapshot(&workspace, head, || {
                    app.read(move |store| read::snapshot(&store.begin_read()?, &ws))
                })
                .await;
            match snapshot {
                Ok(Some(frame)) => {
                    send(sink, frame.text).await?;
                    frame.seq
                }
                Ok(None) => return internal(sink, "the workspace vanished").await,
                Err(e) => return internal(sink, &e.to_string()).await,
            }
        }
    };
    loop {
        let ws = workspace.clone();
        let from = last_seq;
        let page = {
            let _turn = app.catch_up.turn().await;
            app.read(move |store| {
                read::event_texts_after(&store.begin_read()?, &ws, from, REPLAY_PAGE)
            })
            .await
        };
        let (texts, _) = match page {
            Ok(p) => p,
            Err(e) => return internal(sink, &e.to_string()).await,
        };
        if texts.is_empty() {
            break;
        }
        for (seq, text) in texts {
            send(sink, frames::event_text(&text).into()).await?;
            last_seq = seq;
        }
    }
    let synced = ServerMessage::Synced {
        workspace_id: workspace.clone(),
        seq: last_seq,
    };
    send(sink, frames::text(&synced)).await?;
    Ok(Some(Subscribed {
        workspace,
        sub,
        last_seq,
    }))
}

async fn internal(sink: &mut Sink, detail: &str) -> Result<Option<Subscribed>, Stop> {
    tracing::error!(error = detail, "subscribe failed");
    let text = frames::error_text(
        None,
        ErrorCode::Internal,
        "the server could not read the workspace; subscribe again in a moment",
    );
    send(sink, text).await?;
    Ok(None)
}
