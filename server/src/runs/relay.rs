//! The streaming relay's state: the text so far of every model call in progress (from the
//! worker's `agent_delta` frames, kept in memory only, cut at [`MAX_STEP_TEXT_BYTES`]) and the
//! connections watching runs or rooms (`run_watch`), each with its own bounded queue.
//!
//! A delta is relayed only when its `offset` continues the step's text exactly; anything else
//! is dropped and counted, so a watcher never receives text out of order. A delta that does not
//! fit a watcher's queue is dropped for that watcher and the step is *cut* for it: it gets no
//! more deltas of that step (the finished step reaches it as a `run_step` event), so it never
//! sees a delta after a gap. A step's text is forgotten when its `run_step` event says it
//! finished, and a run's when its `run_updated` event takes it from its worker (finished,
//! re-queued, paused, given to another worker): [`Relay::on_change`], called by the writer
//! after each commit.
//!
//! Deltas are never stored and never answered. Each is serialised once and shared by every
//! watcher, as the hub does for events.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::{MAX_STEP_TEXT_BYTES, StepDetail, StepStatus, StreamPartial};
use warren_protocol::{Change, Id, RequestId, ServerMessage};

use crate::hub::ConnectionId;

/// Frames (deltas and `run_watching` answers) one watching connection may have waiting before
/// its deltas are dropped.
pub const WATCH_QUEUE: usize = 256;

/// What a watch is of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Run(Id),
    /// Every agent run answering in the room, also those started after the watch.
    Room(Id),
}

/// What became of one delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delta {
    /// It continued its step and went to every watcher with room for it.
    Relayed,
    /// The relay does not know the run yet: look it up and [`Relay::admit`] it.
    Unknown,
    /// The run is known, but held by another worker (or in another workspace).
    NotYours,
    /// Its offset does not continue the step (a gap, an overlap, a finished step): dropped.
    OutOfOrder,
}

/// Counters, for tests and the operator.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Deltas that continued their step.
    pub accepted: AtomicU64,
    /// Deltas dropped because their offset did not continue the step.
    pub out_of_order: AtomicU64,
    /// Deltas dropped for a watcher whose queue was full (or whose step was cut for it).
    pub lagged: AtomicU64,
}

/// The text of one model call in progress.
#[derive(Debug, Default)]
struct StepText {
    /// What the worker sent so far, cut at [`MAX_STEP_TEXT_BYTES`].
    text: String,
    /// Bytes the worker sent so far (the next delta's offset).
    bytes: u64,
}

impl StepText {
    fn is_cut(&self) -> bool {
        (self.text.len() as u64) < self.bytes
    }

    fn push(&mut self, piece: &str) {
        let room = MAX_STEP_TEXT_BYTES.saturating_sub(self.text.len());
        if piece.len() <= room {
            self.text.push_str(piece);
        } else {
            let mut end = room;
            while !piece.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&piece[..end]);
        }
        self.bytes += piece.len() as u64;
    }
}

/// An agent run whose deltas the relay accepts.
#[derive(Debug)]
struct RunText {
    workspace: Id,
    worker: Id,
    room: Option<Id>,
    steps: BTreeMap<u32, StepText>,
    /// The highest step that finished: later deltas of it (or of an earlier one) are dropped.
    finished: u32,
}

struct Watcher {
    workspace: Id,
    user: Id,
    tx: mpsc::Sender<Utf8Bytes>,
    targets: HashSet<Target>,
    /// Steps this watcher gets no more deltas of (one was dropped for it).
    cut: HashSet<(Id, u32)>,
}

#[derive(Default)]
struct Inner {
    runs: HashMap<Id, RunText>,
    watchers: HashMap<ConnectionId, Watcher>,
    by_target: HashMap<Target, HashSet<ConnectionId>>,
}

/// The relay: partial texts and watchers, shared by the connections and the writer.
#[derive(Default)]
pub struct Relay {
    inner: Mutex<Inner>,
    /// Bumped by every run change, so an admission based on an older read is refused.
    changes: AtomicU64,
    pub stats: RelayStats,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (runs, watchers) = self
            .inner
            .lock()
            .map(|i| (i.runs.len(), i.watchers.len()))
            .unwrap_or_default();
        write!(f, "Relay({runs} runs streaming, {watchers} watchers)")
    }
}

impl Relay {
    /// The change counter: read it before looking a run up for [`Relay::admit`].
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Starts accepting deltas of `run` (an agent run held by its worker, read from the store
    /// when the counter was `seen`). False when a run changed since: read it again.
    pub fn admit(&self, seen: u64, workspace: &Id, run: &Run) -> bool {
        let Some(worker) = run.worker_id.clone() else {
            return false;
        };
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        // Checked under the lock `on_change` takes before bumping, so no change slips between.
        if self.changes() != seen {
            return false;
        }
        inner.runs.entry(run.id.clone()).or_insert_with(|| RunText {
            workspace: workspace.clone(),
            worker,
            room: run.room_id.clone(),
            steps: BTreeMap::new(),
            finished: 0,
        });
        true
    }

    /// A delta from the worker `worker` of `workspace`: checked against the step's text so far,
    /// kept, and relayed to every watcher of the run or its room.
    pub fn delta(
        &self,
        workspace: &Id,
        worker: &Id,
        run_id: &Id,
        step: u32,
        offset: u64,
        text: &str,
    ) -> Delta {
        let Ok(mut inner) = self.inner.lock() else {
            return Delta::OutOfOrder;
        };
        let Inner {
            runs,
            watchers,
            by_target,
        } = &mut *inner;
        let Some(run) = runs.get_mut(run_id) else {
            return Delta::Unknown;
        };
        if &run.worker != worker || &run.workspace != workspace {
            return Delta::NotYours;
        }
        let continues = step > run.finished
            && match run.steps.get(&step) {
                Some(s) => s.bytes == offset,
                None => offset == 0,
            };
        if !continues {
            self.stats.out_of_order.fetch_add(1, Ordering::Relaxed);
            return Delta::OutOfOrder;
        }
        run.steps.entry(step).or_default().push(text);
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        let frame = crate::frames::text(&ServerMessage::AgentDelta {
            run_id: run_id.clone(),
            step,
            offset,
            text: text.to_owned(),
        });
        let mut sent: Vec<ConnectionId> = Vec::new();
        let mut closed: Vec<ConnectionId> = Vec::new();
        let targets = [
            Some(Target::Run(run_id.clone())),
            run.room.clone().map(Target::Room),
        ];
        for target in targets.iter().flatten() {
            let Some(conns) = by_target.get(target) else {
                continue;
            };
            for conn in conns {
                if sent.contains(conn) {
                    continue;
                }
                sent.push(*conn);
                let Some(w) = watchers.get_mut(conn) else {
                    continue;
                };
                let key = (run_id.clone(), step);
                if w.cut.contains(&key) {
                    self.stats.lagged.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                match w.tx.try_send(frame.clone()) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        self.stats.lagged.fetch_add(1, Ordering::Relaxed);
                        w.cut.insert(key);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => closed.push(*conn),
                }
            }
        }
        for conn in closed {
            forget(watchers, by_target, conn);
        }
        Delta::Relayed
    }

    /// Adds a watch of `target` for connection `conn` and answers it with `run_watching` (the
    /// partial text of every watched model call in progress) through `permit`, a place reserved
    /// in the connection's queue, so the answer comes before any delta relayed after it.
    #[allow(clippy::too_many_arguments)]
    pub fn watch(
        &self,
        conn: ConnectionId,
        workspace: &Id,
        user: &Id,
        tx: &mpsc::Sender<Utf8Bytes>,
        target: Target,
        request_id: RequestId,
        permit: mpsc::Permit<'_, Utf8Bytes>,
    ) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let Inner {
            runs,
            watchers,
            by_target,
        } = &mut *inner;
        let watcher = watchers.entry(conn).or_insert_with(|| Watcher {
            workspace: workspace.clone(),
            user: user.clone(),
            tx: tx.clone(),
            targets: HashSet::new(),
            cut: HashSet::new(),
        });
        let mut partials = Vec::new();
        for (run_id, run) in runs.iter() {
            let matches = run.workspace == *workspace
                && match &target {
                    Target::Run(id) => id == run_id,
                    Target::Room(room) => run.room.as_ref() == Some(room),
                };
            if !matches {
                continue;
            }
            for (n, step) in &run.steps {
                if step.is_cut() {
                    // Its text is no longer whole here: show what there is, relay no more.
                    watcher.cut.insert((run_id.clone(), *n));
                }
                partials.push(StreamPartial {
                    run_id: run_id.clone(),
                    step: *n,
                    text: step.text.clone(),
                });
            }
        }
        partials.sort_by(|a, b| a.run_id.cmp(&b.run_id).then(a.step.cmp(&b.step)));
        watcher.targets.insert(target.clone());
        by_target.entry(target).or_default().insert(conn);
        permit.send(crate::frames::text(&ServerMessage::RunWatching {
            request_id,
            partials,
        }));
    }

    /// Ends one watch of connection `conn`.
    pub fn unwatch(&self, conn: ConnectionId, target: &Target) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let Inner {
            watchers,
            by_target,
            ..
        } = &mut *inner;
        if let Some(w) = watchers.get_mut(&conn) {
            w.targets.remove(target);
        }
        if let Some(conns) = by_target.get_mut(target) {
            conns.remove(&conn);
            if conns.is_empty() {
                by_target.remove(target);
            }
        }
    }

    /// Forgets every watch of a connection (it closed).
    pub fn forget(&self, conn: ConnectionId) {
        if let Ok(mut inner) = self.inner.lock() {
            let Inner {
                watchers,
                by_target,
                ..
            } = &mut *inner;
            forget(watchers, by_target, conn);
        }
    }

    /// A durable change (called by the writer after each commit, in order): a finished step's
    /// text is forgotten; a run taken from its worker is forgotten with its steps; a removed
    /// member's watches in the workspace end; a deleted workspace's runs and watches go.
    pub fn on_change(&self, workspace: &Id, change: &Change) {
        match change {
            Change::RunUpdated { run, .. } => {
                let Ok(mut inner) = self.inner.lock() else {
                    return;
                };
                self.changes.fetch_add(1, Ordering::AcqRel);
                let keep = inner.runs.get(&run.id).is_none_or(|known| {
                    matches!(run.status, RunStatus::Assigned | RunStatus::Running)
                        && run.worker_id.as_ref() == Some(&known.worker)
                });
                if !keep {
                    inner.runs.remove(&run.id);
                    for w in inner.watchers.values_mut() {
                        w.cut.retain(|(r, _)| r != &run.id);
                    }
                }
            }
            // A model call started (`start_model_call`): a late watcher sees it, empty so far.
            Change::RunStep { step }
                if step.status == StepStatus::Running
                    && matches!(step.detail, StepDetail::ModelCall(_)) =>
            {
                if let Ok(mut inner) = self.inner.lock()
                    && let Some(run) = inner.runs.get_mut(&step.run_id)
                    && step.n > run.finished
                {
                    run.steps.entry(step.n).or_default();
                }
            }
            Change::RunStep { step } if step.status.is_final() => {
                let Ok(mut inner) = self.inner.lock() else {
                    return;
                };
                if let Some(run) = inner.runs.get_mut(&step.run_id) {
                    run.steps.remove(&step.n);
                    run.finished = run.finished.max(step.n);
                    let key = (step.run_id.clone(), step.n);
                    for w in inner.watchers.values_mut() {
                        w.cut.remove(&key);
                    }
                }
            }
            Change::MemberRemoved { user_id } => {
                let Ok(mut inner) = self.inner.lock() else {
                    return;
                };
                let Inner {
                    watchers,
                    by_target,
                    ..
                } = &mut *inner;
                let gone: Vec<ConnectionId> = watchers
                    .iter()
                    .filter(|(_, w)| &w.user == user_id && &w.workspace == workspace)
                    .map(|(c, _)| *c)
                    .collect();
                for conn in gone {
                    forget(watchers, by_target, conn);
                }
            }
            Change::WorkspaceDeleted { .. } => {
                let Ok(mut inner) = self.inner.lock() else {
                    return;
                };
                self.changes.fetch_add(1, Ordering::AcqRel);
                let Inner {
                    runs,
                    watchers,
                    by_target,
                } = &mut *inner;
                runs.retain(|_, r| &r.workspace != workspace);
                let gone: Vec<ConnectionId> = watchers
                    .iter()
                    .filter(|(_, w)| &w.workspace == workspace)
                    .map(|(c, _)| *c)
                    .collect();
                for conn in gone {
                    forget(watchers, by_target, conn);
                }
            }
            _ => {}
        }
    }

    /// The text so far of every model call in progress of `run` (for tests).
    pub fn partials(&self, run: &Id) -> Vec<StreamPartial> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        inner.runs.get(run).map_or_else(Vec::new, |r| {
            r.steps
                .iter()
                .map(|(n, s)| StreamPartial {
                    run_id: run.clone(),
                    step: *n,
                    text: s.text.clone(),
                })
                .collect()
        })
    }
}

fn forget(
    watchers: &mut HashMap<ConnectionId, Watcher>,
    by_target: &mut HashMap<Target, HashSet<ConnectionId>>,
    conn: ConnectionId,
) {
    let Some(w) = watchers.remove(&conn) else {
        return;
    };
    for target in w.targets {
        if let Some(conns) = by_target.get_mut(&target) {
            conns.remove(&conn);
            if conns.is_empty() {
                by_target.remove(&target);
            }
        }
    }
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
