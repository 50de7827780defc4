//! A connection's streaming frames of agent runs: a worker's `agent_delta` (accepted only from
//! the worker holding the run, relayed, never stored, never answered) and a client's
//! `run_watch` / `run_unwatch`. The state is [`crate::runs::relay`]; this is the wiring: who
//! may send what, and the connection's own bounded queue of deltas, which a task moves into
//! the reply queue (so a watcher that does not read holds back only itself, and loses deltas,
//! never events).

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use warren_protocol::run::RunStatus;
use warren_protocol::{ErrorCode, Id, RequestId};

use super::{Conn, access};
use crate::runs::relay::{Delta, Target, WATCH_QUEUE};
use crate::store::{read, run_reads};

/// Times a delta of a run not yet known is looked up again when runs change under it.
const ADMIT_TRIES: usize = 3;

/// This connection's watches: the queue the relay fills and the task that empties it.
#[derive(Default)]
pub struct ConnWatch {
    queue: Option<(mpsc::Sender<Utf8Bytes>, AbortHandle)>,
}

/// The arguments of a `run_watch`.
pub struct RunWatch {
    pub request_id: RequestId,
    pub workspace_id: Option<Id>,
    pub run_id: Option<Id>,
    pub room_id: Option<Id>,
}

impl Drop for ConnWatch {
    fn drop(&mut self) {
        if let Some((_, task)) = self.queue.take() {
            task.abort();
        }
    }
}

fn target(run_id: Option<Id>, room_id: Option<Id>) -> Result<Target, &'static str> {
    match (run_id, room_id) {
        (Some(run), None) => Ok(Target::Run(run)),
        (None, Some(room)) => Ok(Target::Room(room)),
        _ => Err(
            "name exactly one of run_id (one agent run) or room_id (every agent run answering in the room)",
        ),
    }
}

impl Conn {
    /// `agent_delta`: more text of a model call from the worker holding the run.
    pub(super) async fn agent_delta(&mut self, run_id: Id, step: u32, offset: u64, text: String) {
        let Some(link) = &self.worker else {
            return self
                .error(
                    None,
                    ErrorCode::Forbidden,
                    "agent_delta comes only from the worker holding the run (after worker_hello with \"agents\": true)",
                )
                .await;
        };
        let workspace = link.workspace.clone();
        // Over the token's budget the delta is dropped: the relay then sees the step's next
        // delta out of order and stops it, and watchers get the text when the step is stored.
        if !self.app.rates.agent_delta(&self.token.id, text.len()) {
            return;
        }
        let relay = &self.app.runs.relay;
        for _ in 0..ADMIT_TRIES {
            match relay.delta(&workspace, &self.user.id, &run_id, step, offset, &text) {
                Delta::Relayed | Delta::OutOfOrder => return,
                Delta::NotYours => return self.not_your_run(&run_id).await,
                Delta::Unknown => {}
            }
            let seen = relay.changes();
            let (ws, id) = (workspace.clone(), run_id.clone());
            let run = match self
                .app
                .read(move |s| run_reads::run(&s.begin_read()?, &ws, &id))
                .await
            {
                Ok(run) => run,
                Err(e) => {
                    tracing::error!(error = %e, "a run read failed; a delta was dropped");
                    return;
                }
            };
            let Some(run) = run else {
                return self.not_your_run(&run_id).await;
            };
            if run.agent.is_none() {
                return self
                    .error(
                        None,
                        ErrorCode::Validation,
                        &format!(
                            "run {run_id} is a job's run, not an agent run; its output goes in log_chunk frames"
                        ),
                    )
                    .await;
            }
            if run.worker_id.as_ref() != Some(&self.user.id) {
                return self.not_your_run(&run_id).await;
            }
            if !matches!(run.status, RunStatus::Assigned | RunStatus::Running) {
                // Late text of a run that ended or went back to the queue: dropped.
                relay
                    .stats
                    .out_of_order
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            relay.admit(seen, &workspace, &run);
        }
    }

    async fn not_your_run(&self, run_id: &Id) {
        self.error(
            None,
            ErrorCode::Forbidden,
            &format!(
                "run {run_id} is not held by this worker; send agent_delta only for runs assigned to you"
            ),
        )
        .await;
    }

    /// `run_watch`: answered with `run_watching`, then the deltas of the run (or the room's runs).
    pub(super) async fn run_watch(&mut self, w: RunWatch) {
        let Some(workspace) = self.workspace_for(&w.request_id, w.workspace_id).await else {
            return;
        };
        match access::check(
            &self.app,
            &workspace,
            &self.user.id,
            self.token.scope,
            "run_watch",
        )
        .await
        {
            Ok(()) => {}
            Err(access::Denied::Refused(e)) => {
                return self.error(Some(w.request_id), e.code, &e.message).await;
            }
            Err(access::Denied::Store(e)) => return self.internal(Some(w.request_id), &e).await,
        }
        let target = match target(w.run_id, w.room_id) {
            Ok(t) => t,
            Err(message) => {
                return self
                    .error(Some(w.request_id), ErrorCode::Validation, message)
                    .await;
            }
        };
        let (ws, t) = (workspace.clone(), target.clone());
        let exists = self
            .app
            .read(move |s| {
                let txn = s.begin_read()?;
                Ok(match &t {
                    Target::Run(id) => run_reads::run(&txn, &ws, id)?.map(|r| r.agent.is_some()),
                    Target::Room(id) => read::room(&txn, &ws, id)?.map(|_| true),
                })
            })
            .await;
        let problem = match (&target, exists) {
            (_, Err(e)) => return self.internal(Some(w.request_id), &e).await,
            (_, Ok(Some(true))) => None,
            (Target::Run(id), Ok(Some(false))) => Some((
                ErrorCode::Validation,
                format!("run {id} is a job's run; follow its log with `warren run logs` instead"),
            )),
            (Target::Run(id), Ok(None)) => Some((
                ErrorCode::NotFound,
                format!("no run {id} in this workspace; list runs with `warren run list`"),
            )),
            (Target::Room(id), Ok(_)) => Some((
                ErrorCode::NotFound,
                format!("no room {id} in this workspace; list rooms with a snapshot query"),
            )),
        };
        if let Some((code, message)) = problem {
            return self.error(Some(w.request_id), code, &message).await;
        }
        let tx = self.watch_queue();
        // A place for the answer, taken before the relay's lock, so it comes before any delta.
        let Ok(permit) = tx.reserve().await else {
            return;
        };
        self.app.runs.relay.watch(
            self.connection,
            &workspace,
            &self.user.id,
            &tx,
            target,
            w.request_id,
            permit,
        );
    }

    /// `run_unwatch`: no more deltas of that run or room reach this connection.
    pub(super) async fn run_unwatch(&mut self, run_id: Option<Id>, room_id: Option<Id>) {
        match target(run_id, room_id) {
            Ok(t) => self.app.runs.relay.unwatch(self.connection, &t),
            Err(message) => self.error(None, ErrorCode::Validation, message).await,
        }
    }

    /// The connection's queue of watched frames, made (with its task) on the first watch.
    fn watch_queue(&mut self) -> mpsc::Sender<Utf8Bytes> {
        if let Some((tx, _)) = &self.watch.queue {
            return tx.clone();
        }
        let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(WATCH_QUEUE);
        let out = self.out.clone();
        let task = tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                if !out.text(frame, None).await {
                    break;
                }
            }
        });
        self.watch.queue = Some((tx.clone(), task.abort_handle()));
        tx
    }

    /// The connection closed: its watches end.
    pub(super) fn watches_gone(&mut self) {
        self.app.runs.relay.forget(self.connection);
        self.watch = ConnWatch::default();
    }
}
