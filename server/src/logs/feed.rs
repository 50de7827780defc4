//! The live feed of log lines: after each group commit the writer hands every run's newly
//! stored lines (and, when a run ends, its end) to the feed, which passes them to the run's
//! followers through a bounded broadcast channel. Nothing is kept for a run nobody follows. A
//! follower that falls behind gets `Lagged` and re-reads from the store; lines are never
//! dropped silently. Log lines never go through the workspace event stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;
use warren_protocol::Id;
use warren_protocol::run::RunStatus;

use super::lines::Lines;

/// Items a follower may be behind before it must re-read from the store.
pub const FEED_DEPTH: usize = 256;

/// Something that happened to a run's log.
#[derive(Debug)]
pub enum FeedItem {
    /// Lines just stored (durable), in order.
    Lines(LiveLines),
    /// The run ended with this status: its log is sealed.
    End(RunStatus),
}

/// Lines stored by one chunk, with their `log_lines` frame made once for every follower without
/// a filter.
#[derive(Debug)]
pub struct LiveLines {
    pub run_id: Id,
    pub lines: Lines,
    frame: OnceLock<Utf8Bytes>,
}

impl LiveLines {
    /// The `log_lines` frame carrying all of these lines.
    pub fn frame(&self) -> Utf8Bytes {
        self.frame
            .get_or_init(|| super::frame::log_lines(&self.run_id, &self.lines).into())
            .clone()
    }
}

/// The followers of every run, by run id.
#[derive(Debug, Default)]
pub struct LogFeed {
    runs: Mutex<HashMap<Id, broadcast::Sender<Arc<FeedItem>>>>,
}

impl LogFeed {
    /// Starts following `run`: everything published from now on arrives on the receiver.
    pub fn follow(&self, run: &Id) -> broadcast::Receiver<Arc<FeedItem>> {
        let Ok(mut runs) = self.runs.lock() else {
            // A poisoned lock: a receiver that never gets anything; the follower still reads
            // the store and ends when the connection does.
            return broadcast::channel(1).1;
        };
        runs.entry(run.clone())
            .or_insert_with(|| broadcast::channel(FEED_DEPTH).0)
            .subscribe()
    }

    /// Whether anyone follows `run` (so the writer can skip building items nobody reads).
    pub fn is_followed(&self, run: &Id) -> bool {
        self.runs
            .lock()
            .map(|runs| runs.contains_key(run))
            .unwrap_or(false)
    }

    /// Lines of `run` are durable: pass them on.
    pub fn lines(&self, run: &Id, lines: Lines) {
        if lines.is_empty() {
            return;
        }
        self.publish(
            run,
            FeedItem::Lines(LiveLines {
                run_id: run.clone(),
                lines,
                frame: OnceLock::new(),
            }),
        );
    }

    /// `run` ended (its end is durable).
    pub fn end(&self, run: &Id, status: RunStatus) {
        self.publish(run, FeedItem::End(status));
    }

    fn publish(&self, run: &Id, item: FeedItem) {
        let Ok(mut runs) = self.runs.lock() else {
            return;
        };
        let Some(sender) = runs.get(run) else {
            return;
        };
        if sender.send(Arc::new(item)).is_err() {
            // Every follower is gone.
            runs.remove(run);
        }
    }

    /// A follower of `run` stopped: forget the run when it was the last.
    pub fn unfollow(&self, run: &Id) {
        if let Ok(mut runs) = self.runs.lock()
            && runs.get(run).is_some_and(|s| s.receiver_count() == 0)
        {
            runs.remove(run);
        }
    }
}
