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
use warren_protocol::run::{MAX_LINES_PER_FRAME, RunStatus};

use super::codec::LineRef;
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

/// Lines stored by one commit (one chunk, or several joined by [`Joined`]: each chunk's
/// buffer as it was stored, in order, not copied into one), with their `log_lines` frame made
/// once for every follower without a filter.
#[derive(Debug)]
pub struct LiveLines {
    pub run_id: Id,
    parts: Vec<Lines>,
    frame: OnceLock<Utf8Bytes>,
    compact: OnceLock<Utf8Bytes>,
}

impl LiveLines {
    /// The lines in order.
    pub fn iter(&self) -> impl Iterator<Item = LineRef<'_>> + Clone + '_ {
        self.parts.iter().flat_map(Lines::iter)
    }

    pub fn first(&self) -> Option<LineRef<'_>> {
        self.parts.first()?.first()
    }

    pub fn last(&self) -> Option<LineRef<'_>> {
        self.parts.last()?.last()
    }

    /// The `log_lines` frame carrying all of these lines (with `compact`, as arrays).
    pub fn frame(&self, compact: bool) -> Utf8Bytes {
        let cell = if compact { &self.compact } else { &self.frame };
        cell.get_or_init(|| {
            warren_protocol::log_json::log_lines(&self.run_id, self.iter(), compact).into()
        })
        .clone()
    }
}

/// Text a joined item holds at most (its frame then stays well under the connection's reply
/// budget).
pub const JOIN_BYTES: usize = 512 * 1024;

/// The lines of one group commit on their way to the feed. A group commit often stores several
/// chunks of one run; their lines became durable together, so they go out as one item (one
/// `log_lines` frame per follower instead of one per chunk: fewer wakeups, writes and frames for
/// every viewer) as long as they continue each other and fit in [`MAX_LINES_PER_FRAME`] lines
/// and [`JOIN_BYTES`]. [`Joined::flush`] passes on what is held; call it before anything else
/// of the commit reaches the feed (a run's end), so the feed keeps the commit's order.
pub struct Joined<'a> {
    feed: &'a LogFeed,
    run: Option<Id>,
    parts: Vec<Lines>,
}

impl Joined<'_> {
    /// Lines of `run` just stored by one chunk.
    pub fn lines(&mut self, run: &Id, lines: Lines) {
        if lines.is_empty() || !self.feed.is_followed(run) {
            return;
        }
        let continues = self.run.as_ref() == Some(run)
            && match (self.parts.last().and_then(Lines::last), lines.first()) {
                (Some(last), Some(first)) => first.n == last.n + 1,
                _ => false,
            }
            && self.parts.iter().map(Lines::len).sum::<usize>() + lines.len()
                <= MAX_LINES_PER_FRAME
            && self.parts.iter().map(Lines::text_bytes).sum::<usize>() + lines.text_bytes()
                <= JOIN_BYTES;
        if !continues {
            self.flush();
            self.run = Some(run.clone());
        }
        self.parts.push(lines);
    }

    /// Passes on the lines held.
    pub fn flush(&mut self) {
        let parts = std::mem::take(&mut self.parts);
        if let Some(run) = self.run.take() {
            self.feed.lines(&run, parts);
        }
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

    /// Lines of `run`, in parts that continue each other (none empty, as [`Joined`] holds
    /// them), are durable: pass them on as one item.
    fn lines(&self, run: &Id, parts: Vec<Lines>) {
        self.publish(
            run,
            FeedItem::Lines(LiveLines {
                run_id: run.clone(),
                parts,
                frame: OnceLock::new(),
                compact: OnceLock::new(),
            }),
        );
    }

    /// A joiner for the lines of one group commit (see [`Joined`]).
    pub fn joined(&self) -> Joined<'_> {
        Joined {
            feed: self,
            run: None,
            parts: Vec::new(),
        }
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

#[cfg(test)]
mod tests {
    use warren_protocol::run::{LogLine, LogStream};

    use super::*;

    fn run(n: u8) -> Id {
        Id::parse(&format!("run_{n:0>16}")).expect("an id")
    }

    /// Lines `from..=to`, each `bytes` long.
    fn lines(from: u64, to: u64, bytes: usize) -> Lines {
        let owned: Vec<LogLine> = (from..=to)
            .map(|n| LogLine {
                n,
                ts: n as i64,
                stream: LogStream::Out,
                text: "x".repeat(bytes),
                continued: false,
            })
            .collect();
        Lines::from(owned)
    }

    /// What a follower received so far: each item's first and last line number, or the end.
    fn received(rx: &mut broadcast::Receiver<Arc<FeedItem>>) -> Vec<Option<(u64, u64)>> {
        let mut got = Vec::new();
        while let Ok(item) = rx.try_recv() {
            got.push(match &*item {
                FeedItem::Lines(live) => {
                    let numbers: Vec<u64> = live.iter().map(|l| l.n).collect();
                    assert!(
                        numbers.windows(2).all(|w| w[1] == w[0] + 1),
                        "an item's lines continue each other: {numbers:?}"
                    );
                    Some((
                        live.first().map_or(0, |l| l.n),
                        live.last().map_or(0, |l| l.n),
                    ))
                }
                FeedItem::End(_) => None,
            });
        }
        got
    }

    #[test]
    fn chunks_of_one_commit_that_continue_each_other_go_out_as_one_item() {
        let feed = LogFeed::default();
        let mut a = feed.follow(&run(1));
        let mut joined = feed.joined();
        joined.lines(&run(1), lines(1, 3, 10));
        joined.lines(&run(1), lines(4, 5, 10));
        // Nobody follows run 2: it is skipped, and run 1's lines are passed on.
        joined.lines(&run(2), lines(1, 2, 10));
        assert!(received(&mut a).is_empty(), "held until flushed");
        // A gap is never hidden inside one item.
        joined.lines(&run(1), lines(9, 9, 10));
        joined.flush();
        joined.flush();
        assert_eq!(received(&mut a), vec![Some((1, 5)), Some((9, 9))]);
        let mut d = feed.follow(&run(1));
        joined.lines(&run(1), lines(1, 3, 10));
        joined.lines(&run(1), lines(4, 5, 10));
        joined.flush();
        let Ok(item) = d.try_recv() else {
            panic!("one item")
        };
        let FeedItem::Lines(live) = &*item else {
            panic!("lines")
        };
        let want = lines(1, 5, 10);
        assert!(live.iter().eq(want.iter()), "joined lines keep their texts");
        let frame = live.frame(true);
        assert_eq!(
            frame.as_str(),
            warren_protocol::log_json::log_lines(&run(1), want.iter(), true)
        );
    }

    #[test]
    fn a_joined_item_stays_within_a_frames_lines_and_bytes_and_before_the_runs_end() {
        let feed = LogFeed::default();
        let mut a = feed.follow(&run(1));
        let mut b = feed.follow(&run(2));
        let mut joined = feed.joined();
        let most = MAX_LINES_PER_FRAME as u64;
        joined.lines(&run(1), lines(1, most - 10, 1));
        joined.lines(&run(1), lines(most - 9, most + 5, 1));
        // Another run in between starts a new item.
        joined.lines(&run(2), lines(1, 1, 1));
        joined.lines(&run(1), lines(most + 6, most + 6, 1));
        joined.flush();
        assert_eq!(
            received(&mut a),
            vec![
                Some((1, most - 10)),
                Some((most - 9, most + 5)),
                Some((most + 6, most + 6))
            ]
        );
        assert_eq!(received(&mut b), vec![Some((1, 1))]);

        let half = JOIN_BYTES / 2;
        joined.lines(&run(2), lines(2, 2, half));
        joined.lines(&run(2), lines(3, 3, half));
        joined.lines(&run(2), lines(4, 4, 1));
        joined.flush();
        feed.end(&run(2), RunStatus::Succeeded);
        assert_eq!(
            received(&mut b),
            vec![Some((2, 3)), Some((4, 4)), None],
            "at most JOIN_BYTES of text, and the end after the lines"
        );
    }
}
