//! The worker side of a connection: `worker_hello` (a bot with `run:execute` offers tags and
//! capacity and says which runs it still holds; answered by `worker_welcome`, after which the
//! registry routes `assign` and `cancel_run` frames to this connection), `heartbeat`, and the
//! goodbye when the connection ends (its runs stay its own until the lease runs out).

use warren_protocol::run::{HeldRun, HeldRunState, MAX_TAGS, RunStatus};
use warren_protocol::{ErrorCode, Id, RequestId, ServerMessage};

use super::{Conn, access};
use crate::logs::progress;
use crate::runs::workers::Offer;
use crate::service::now_ms;
use crate::store::records::WorkerRecord;
use crate::store::run_reads;
use crate::store::tables::LOG_PROGRESS;

/// Most runs one worker executes at once.
pub const MAX_WORKER_CONCURRENCY: u32 = 64;

/// The worker this connection speaks for.
pub struct Link {
    pub workspace: Id,
    pub generation: u64,
    pub offer: Offer,
}

fn tags_problem(tags: &[String]) -> Option<String> {
    if tags.len() > MAX_TAGS {
        return Some(format!(
            "a worker offers at most {MAX_TAGS} tags; got {}",
            tags.len()
        ));
    }
    tags.iter()
        .find(|t| {
            t.is_empty()
                || t.len() > 64
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        })
        .map(|t| {
            format!(
                "worker tag {t:?} is not valid; tags are words of letters, digits, '-', '_', '.' or ':', e.g. --tags linux,docker"
            )
        })
}

impl Conn {
    pub(super) async fn worker_hello(
        &mut self,
        workspace_id: Option<Id>,
        mut tags: Vec<String>,
        concurrency: u32,
        held: Vec<HeldRun>,
        agents: bool,
    ) {
        let Ok(probe) = RequestId::parse("worker_hello") else {
            return;
        };
        let Some(workspace) = self.workspace_for(&probe, workspace_id).await else {
            return;
        };
        match access::check(
            &self.app,
            &workspace,
            &self.user.id,
            self.token.scope,
            "worker_hello",
        )
        .await
        {
            Ok(()) => {}
            Err(access::Denied::Refused(e)) => return self.error(None, e.code, &e.message).await,
            Err(access::Denied::Store(e)) => return self.internal(None, &e).await,
        }
        if let Some(problem) = tags_problem(&tags) {
            return self.error(None, ErrorCode::Validation, &problem).await;
        }
        if !(1..=MAX_WORKER_CONCURRENCY).contains(&concurrency) {
            return self
                .error(
                    None,
                    ErrorCode::Validation,
                    &format!(
                        "a worker's concurrency must be 1 to {MAX_WORKER_CONCURRENCY}; got {concurrency}"
                    ),
                )
                .await;
        }
        tags.sort();
        tags.dedup();
        let me = self.user.id.clone();
        let (ws, who) = (workspace.clone(), me.clone());
        let states = self
            .app
            .read(move |s| {
                let txn = s.begin_read()?;
                let progress_table = txn.open_table(LOG_PROGRESS)?;
                let mut out = Vec::with_capacity(held.len());
                for h in held {
                    let run = run_reads::run(&txn, &ws, &h.run_id)?;
                    let ours = run.as_ref().is_some_and(|r| {
                        r.worker_id.as_ref() == Some(&who)
                            && matches!(r.status, RunStatus::Assigned | RunStatus::Running)
                    });
                    let at = progress::read(&progress_table, ws.as_str(), h.run_id.as_str())?;
                    out.push(HeldRunState {
                        run_id: h.run_id,
                        acked_chunks: at.next_chunk,
                        stop: !ours,
                    });
                }
                Ok(out)
            })
            .await;
        let states = match states {
            Ok(states) => states,
            Err(e) => return self.internal(None, &e).await,
        };
        let offer = Offer {
            name: self.user.name.clone(),
            tags,
            concurrency,
            version: self.client.clone(),
            agents,
        };
        self.send(&ServerMessage::WorkerWelcome {
            worker_id: me.clone(),
            heartbeat_secs: self.app.runs.heartbeat_secs,
            lease_secs: self.app.runs.lease_secs,
            held: states.clone(),
        })
        .await;
        // A second hello on this connection replaces the first.
        self.worker_gone().await;
        let now = now_ms();
        let (generation, mut frames) =
            self.app
                .runs
                .workers
                .attach(&workspace, &me, offer.clone(), now);
        let out = self.out.clone();
        tokio::spawn(async move {
            while let Some(text) = frames.recv().await {
                if !out.text(text.into(), None).await {
                    break;
                }
            }
        });
        let keep: Vec<Id> = states
            .into_iter()
            .filter(|s| !s.stop)
            .map(|s| s.run_id)
            .collect();
        self.writer
            .worker_seen(
                workspace.clone(),
                record(&me, &offer, now),
                (Some(keep), generation),
            )
            .await;
        tracing::info!(worker = %me, workspace = %workspace, concurrency, "worker attached");
        self.worker = Some(Link {
            workspace,
            generation,
            offer,
        });
    }

    pub(super) async fn heartbeat(&mut self, draining: bool) {
        let Some(link) = &self.worker else {
            return self
                .error(
                    None,
                    ErrorCode::HelloRequired,
                    "send worker_hello before heartbeats",
                )
                .await;
        };
        let (ws, me, generation) = (
            link.workspace.clone(),
            self.user.id.clone(),
            link.generation,
        );
        if !self
            .app
            .runs
            .workers
            .heartbeat(&ws, &me, generation, draining, now_ms())
        {
            self.worker = None;
            self.error(
                None,
                ErrorCode::Conflict,
                "a newer worker_hello from this bot replaced this connection; it gets no more work",
            )
            .await;
        }
    }

    /// The connection stops speaking for its worker: the registry lets go of it and its record
    /// notes when it was last seen. Its runs stay its own until the lease runs out.
    pub(super) async fn worker_gone(&mut self) {
        let Some(link) = self.worker.take() else {
            return;
        };
        let me = self.user.id.clone();
        if !self
            .app
            .runs
            .workers
            .detach(&link.workspace, &me, link.generation)
        {
            return;
        }
        let record = record(&me, &link.offer, now_ms());
        self.writer
            .worker_seen(link.workspace, record, (None, link.generation))
            .await;
    }
}

fn record(user: &Id, offer: &Offer, now: i64) -> WorkerRecord {
    WorkerRecord {
        user_id: user.clone(),
        name: offer.name.clone(),
        tags: offer.tags.clone(),
        concurrency: offer.concurrency,
        last_seen: now,
        version: offer.version.clone(),
    }
}
