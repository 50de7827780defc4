//! One `log_subscribe`: a task that sends a run's stored lines from the asked line (through the
//! filter), then `log_synced`, then the run's new lines from the live feed as they become
//! durable, then `log_end` once the run has ended and every line was sent.
//!
//! It starts following the feed before it reads the store, so no line falls between the two;
//! lines it already sent are skipped by number. When it falls behind the feed (`Lagged`), or
//! sees a gap, it reads the missing lines from the store instead of dropping them. Frames go
//! through the connection's bounded reply queue, so a viewer that does not read holds back only
//! itself.

use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use warren_protocol::run::{MAX_LINES_PER_FRAME, RunStatus};
use warren_protocol::{ErrorCode, Id, RequestId, ServerMessage};

use super::replies::Replies;
use crate::app::App;
use crate::frames;
use crate::logs::codec::LineRef;
use crate::logs::feed::FeedItem;
use crate::logs::filter::{LineFilter, passes};
use crate::logs::read::{self, PageRequest};
use crate::store::StoreError;

/// What a `log_subscribe` asked for.
pub struct Follow {
    pub request_id: RequestId,
    pub workspace: Id,
    pub run_id: Id,
    pub from_line: Option<u64>,
    pub tail: Option<u64>,
    pub filter: Option<LineFilter>,
    /// Lines as arrays.
    pub compact: bool,
}

/// Forgets the run in the feed when the task ends (also when it is aborted).
struct Unfollow(Arc<App>, Id);

impl Drop for Unfollow {
    fn drop(&mut self) {
        self.0.runs.logs.unfollow(&self.1);
    }
}

/// Where the store read got to.
struct Caught {
    /// Every line up to here was sent (or filtered out, or dropped by the cap).
    upto: u64,
    /// The run has ended: its log takes no more lines.
    sealed: bool,
    status: RunStatus,
}

/// Why a follow stopped early.
enum Stop {
    /// The connection's sending half is gone.
    Gone,
    /// No such run.
    NotFound,
    Store(StoreError),
}

/// Runs one subscription until its `log_end`, an error, or the connection ends. `feed` must
/// have been taken before this is called.
pub async fn run(
    app: Arc<App>,
    out: Replies,
    follow: Follow,
    feed: broadcast::Receiver<Arc<FeedItem>>,
) {
    let _unfollow = Unfollow(app.clone(), follow.run_id.clone());
    // Declared after the guard, so it is dropped first and the guard sees no receiver left.
    let mut feed = feed;
    let stopped = stream(&app, &out, &follow, &mut feed).await;
    let error = match stopped {
        Ok(()) | Err(Stop::Gone) => return,
        Err(Stop::NotFound) => (
            ErrorCode::NotFound,
            format!(
                "no run {} in this workspace; list runs with `warren run list`",
                follow.run_id
            ),
        ),
        Err(Stop::Store(e)) => {
            tracing::error!(error = %e, run = %follow.run_id, "a log read failed");
            (
                ErrorCode::Internal,
                "the server could not read this run's log; subscribe again".to_owned(),
            )
        }
    };
    let _ = out
        .text(
            frames::error_text(Some(follow.request_id.clone()), error.0, &error.1),
            None,
        )
        .await;
}

async fn stream(
    app: &Arc<App>,
    out: &Replies,
    follow: &Follow,
    feed: &mut broadcast::Receiver<Arc<FeedItem>>,
) -> Result<(), Stop> {
    let start = match (follow.from_line, follow.tail) {
        (_, Some(tail)) => {
            let (ws, id) = (follow.workspace.clone(), follow.run_id.clone());
            let progress = app
                .read(move |s| read::progress_of(&s.begin_read()?, &ws, &id))
                .await
                .map_err(Stop::Store)?;
            progress.last_stored().saturating_sub(tail) + 1
        }
        (Some(from), None) => from.max(1),
        (None, None) => 1,
    };
    let mut caught = catch_up(app, out, follow, start).await?;
    send(
        out,
        &ServerMessage::LogSynced {
            request_id: follow.request_id.clone(),
            run_id: follow.run_id.clone(),
            stored: caught.upto,
        },
    )
    .await?;
    loop {
        if caught.sealed {
            return end(out, follow, &caught).await;
        }
        match feed.recv().await {
            Ok(item) => match &*item {
                FeedItem::Lines(live) => {
                    let first = live.first().map_or(0, |l| l.n);
                    let last = live.last().map_or(0, |l| l.n);
                    if last <= caught.upto {
                        continue;
                    }
                    if first > caught.upto + 1 {
                        // A gap (should not happen): the store has every durable line.
                        caught = catch_up(app, out, follow, caught.upto + 1).await?;
                        continue;
                    }
                    if first == caught.upto + 1 && follow.filter.is_none() {
                        if !out.text(live.frame(follow.compact), None).await {
                            return Err(Stop::Gone);
                        }
                    } else {
                        let lines = live.iter().filter(|l| {
                            l.n > caught.upto && passes(follow.filter.as_ref(), l.text)
                        });
                        send_lines(out, follow, lines).await?;
                    }
                    caught.upto = last;
                }
                FeedItem::End(status) => {
                    let status = *status;
                    caught = catch_up(app, out, follow, caught.upto + 1).await?;
                    caught.status = status;
                    caught.sealed = true;
                }
            },
            Err(RecvError::Lagged(_)) => {
                // Behind the feed: read what was missed from the store, then carry on live.
                caught = catch_up(app, out, follow, caught.upto + 1).await?;
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

async fn end(out: &Replies, follow: &Follow, caught: &Caught) -> Result<(), Stop> {
    send(
        out,
        &ServerMessage::LogEnd {
            run_id: follow.run_id.clone(),
            status: caught.status,
            lines: caught.upto,
        },
    )
    .await
}

/// Sends every stored line from `from` on (through the filter), a page at a time.
async fn catch_up(
    app: &Arc<App>,
    out: &Replies,
    follow: &Follow,
    from: u64,
) -> Result<Caught, Stop> {
    let mut next = from;
    loop {
        let (ws, id) = (follow.workspace.clone(), follow.run_id.clone());
        let filter = follow.filter.clone();
        let read = app
            .read(move |s| {
                let txn = s.begin_read()?;
                let Some(run) = read::run(&txn, &ws, &id)? else {
                    return Ok(None);
                };
                let page = read::page(
                    &txn,
                    &ws,
                    &id,
                    PageRequest {
                        from: next,
                        limit: MAX_LINES_PER_FRAME as u32,
                        backward: false,
                        filter: filter.as_ref(),
                    },
                )?;
                Ok(Some((run.status, page)))
            })
            .await
            .map_err(Stop::Store)?;
        let Some((status, page)) = read else {
            return Err(Stop::NotFound);
        };
        send_lines(out, follow, page.lines.iter().map(LineRef::of)).await?;
        match page.next {
            Some(n) => next = n,
            None => {
                return Ok(Caught {
                    upto: page.progress.lines.max(from.saturating_sub(1)),
                    // A final run takes no more lines (its finish report waited for all of
                    // them; a lost run's worker is gone).
                    sealed: status.is_final(),
                    status,
                });
            }
        }
    }
}

/// A `log_lines` frame of `lines` (none when there are none), in the follower's form.
async fn send_lines<'a>(
    out: &Replies,
    follow: &Follow,
    lines: impl Iterator<Item = LineRef<'a>> + Clone,
) -> Result<(), Stop> {
    if lines.clone().next().is_none() {
        return Ok(());
    }
    let frame = warren_protocol::log_json::log_lines(&follow.run_id, lines, follow.compact);
    if out.text(frame.into(), None).await {
        Ok(())
    } else {
        Err(Stop::Gone)
    }
}

async fn send(out: &Replies, message: &ServerMessage) -> Result<(), Stop> {
    if out.text(frames::text(message), None).await {
        Ok(())
    } else {
        Err(Stop::Gone)
    }
}
