//! A connection's log frames: a worker's `log_chunk` (charged to its token's log budget,
//! checked and redacted here, stored by the writer, answered with `log_ack` once durable or
//! `log_refused`, in the order the chunks came, with many in flight), the `log` query, and
//! `log_subscribe` (rate limited per token) / `log_unsubscribe` (each subscription is a
//! [`follow`](super::follow) task).

use std::collections::HashMap;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tokio::task::AbortHandle;
use warren_protocol::run::LogFilter;
use warren_protocol::{ErrorCode, Id, QueryResult, RequestId, ServerMessage};

use super::access;
use super::follow::{self, Follow};
use super::replies::Replies;
use super::{Conn, MAX_IN_FLIGHT};
use crate::frames;
use crate::logs::filter::LineFilter;
use crate::logs::ingest::{self, Chunk, ChunkAnswer};
use crate::logs::lines::Lines;
use crate::logs::read::{self, PageRequest};
use crate::rate_limit::wait_ms;
use crate::writer::Ticket;

/// What a connection holds for the log path.
#[derive(Default)]
pub struct ConnLogs {
    follows: Follows,
    /// Chunks waiting for the writer's answer, in the order they came; one task answers them.
    acks: Option<mpsc::Sender<PendingChunk>>,
    /// Runs whose chunk was refused for the log budget: later chunks of the run are refused
    /// too, until that chunk (or an earlier one) comes again, so the worker re-sends in order.
    over_budget: HashMap<Id, OverBudget>,
}

/// A chunk refused for the log budget.
struct OverBudget {
    chunk: u64,
    /// When the budget has room again.
    until: Instant,
    refusal: crate::rate_limit::LogRefusal,
}

/// A chunk handed to the writer, waiting for its answer.
struct PendingChunk {
    run_id: Id,
    chunk: u64,
    answer: oneshot::Receiver<ChunkAnswer>,
    ticket: Ticket,
    /// The connection's in-flight slot, freed once the answer is written.
    permit: OwnedSemaphorePermit,
}

/// Answers a connection's chunks in the order they came, each once it is durable.
async fn answer_chunks(mut pending: mpsc::Receiver<PendingChunk>, out: Replies) {
    while let Some(p) = pending.recv().await {
        let answer = match p.answer.await {
            Ok(answer) => answer,
            // The writer dropped the chunk: its commit failed, and the ticket says why.
            Err(_) => match p.ticket.wait().await {
                Err(e) => ChunkAnswer::Refused {
                    code: e.code,
                    message: e.message,
                    expected: None,
                },
                Ok(_) => ChunkAnswer::Refused {
                    code: ErrorCode::Internal,
                    message: "the server lost this chunk's answer; re-send it".into(),
                    expected: None,
                },
            },
        };
        let (run_id, chunk) = (p.run_id, p.chunk);
        let frame = match answer {
            ChunkAnswer::Acked => ServerMessage::LogAck { run_id, chunk },
            ChunkAnswer::Refused {
                code,
                message,
                expected,
            } => ServerMessage::LogRefused {
                run_id,
                chunk,
                code,
                message,
                expected,
                retry_after_ms: None,
            },
        };
        if !out.text(frames::text(&frame), Some(p.permit)).await {
            return;
        }
    }
}

/// The log subscriptions of one connection, by run; each ends (is aborted) when replaced,
/// unsubscribed, or dropped with the connection.
#[derive(Default)]
pub struct Follows(HashMap<Id, AbortHandle>);

impl Follows {
    fn replace(&mut self, run: Id, task: AbortHandle) {
        if let Some(old) = self.0.insert(run, task) {
            old.abort();
        }
    }

    fn stop(&mut self, run: &Id) {
        if let Some(old) = self.0.remove(run) {
            old.abort();
        }
    }
}

impl Drop for Follows {
    fn drop(&mut self) {
        for task in self.0.values() {
            task.abort();
        }
    }
}

/// The arguments of a `log` query.
pub struct LogQuery {
    pub run_id: Id,
    pub from: u64,
    pub limit: u32,
    pub backward: bool,
    pub filter: Option<LogFilter>,
}

/// The arguments of a `log_subscribe`.
pub struct LogSubscribe {
    pub request_id: RequestId,
    pub workspace_id: Option<Id>,
    pub run_id: Id,
    pub from_line: Option<u64>,
    pub tail: Option<u64>,
    pub filter: Option<LogFilter>,
    /// Lines as arrays (see `ClientMessage::LogSubscribe`).
    pub compact: bool,
}

fn compile(filter: Option<&LogFilter>) -> Result<Option<LineFilter>, String> {
    filter.map(LineFilter::compile).transpose()
}

impl Conn {
    /// The workspace a worker's log chunk belongs to: the subscribed one, else its first.
    /// The workspace a worker's chunks belong to: the one its `worker_hello` named, else the
    /// subscribed one, else its first.
    fn log_workspace(&self) -> Option<Id> {
        self.worker
            .as_ref()
            .map(|link| link.workspace.clone())
            .or_else(|| self.subscribed.clone())
            .or_else(|| self.memberships.first().map(|(w, _)| w.id.clone()))
    }

    async fn refuse_chunk(&self, run_id: Id, chunk: u64, code: ErrorCode, message: String) {
        self.send(&ServerMessage::LogRefused {
            run_id,
            chunk,
            code,
            message,
            expected: None,
            retry_after_ms: None,
        })
        .await;
    }

    /// Charges a chunk to the token's log budget. `Err` is the refusal's message and the wait
    /// (ms) before it may come again: the chunk is over the budget, or a chunk of the run before
    /// it was and has not come again.
    fn charge_chunk(
        &mut self,
        run_id: &Id,
        chunk: u64,
        lines: &Lines,
    ) -> Result<(), (String, u64)> {
        let now = Instant::now();
        if let Some(over) = self.logs.over_budget.get(run_id) {
            if chunk > over.chunk {
                self.app.rates.count_refusal();
                let wait = over.until.saturating_duration_since(now);
                return Err((over.refusal.message(chunk, wait), wait_ms(wait)));
            }
            self.logs.over_budget.remove(run_id);
        }
        let bytes = lines.text_bytes() as u64;
        let refusal = match self.app.rates.log_chunk(&self.token.id, bytes) {
            Ok(()) => return Ok(()),
            Err(refusal) => refusal,
        };
        let wait = refusal.wait;
        let message = refusal.message(chunk, wait);
        self.logs.over_budget.insert(
            run_id.clone(),
            OverBudget {
                chunk,
                until: now + wait,
                refusal,
            },
        );
        Err((message, wait_ms(wait)))
    }

    /// A worker's `log_chunk`: validated and redacted here, stored by the writer; the answer is
    /// sent by the connection's answering task once the chunk is durable, so many chunks can be
    /// in flight and their answers keep their order.
    pub(super) async fn log_chunk(&mut self, run_id: Id, chunk: u64, mut lines: Lines) {
        let Some(workspace) = self.log_workspace() else {
            let message = "you are not a member of any workspace; a worker must be a bot member of the run's workspace".to_owned();
            return self
                .refuse_chunk(run_id, chunk, ErrorCode::NotFound, message)
                .await;
        };
        if let Err((message, retry_after_ms)) = self.charge_chunk(&run_id, chunk, &lines) {
            return self
                .send(&ServerMessage::LogRefused {
                    run_id,
                    chunk,
                    code: ErrorCode::RateLimited,
                    message,
                    expected: None,
                    retry_after_ms: Some(retry_after_ms),
                })
                .await;
        }
        let secrets = self.app.runs.secrets.values(&run_id);
        let encoded = match ingest::prepare(&mut lines, &secrets) {
            Ok(encoded) => encoded,
            Err(message) => {
                return self
                    .refuse_chunk(run_id, chunk, ErrorCode::Validation, message)
                    .await;
            }
        };
        let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
            return;
        };
        let (reply, answer) = oneshot::channel();
        let request = Chunk {
            run_id: run_id.clone(),
            chunk,
            lines,
            encoded,
            cap_bytes: self.app.limits.log_cap_bytes,
            reply,
        };
        let ticket = self
            .writer
            .log_chunk(self.user.id.clone(), workspace, request)
            .await;
        let pending = PendingChunk {
            run_id,
            chunk,
            answer,
            ticket,
            permit,
        };
        let out = self.out.clone();
        let acks = self.logs.acks.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel(MAX_IN_FLIGHT);
            tokio::spawn(answer_chunks(rx, out));
            tx
        });
        let _ = acks.send(pending).await;
    }

    /// The `log` query (access was checked by the caller).
    pub(super) async fn log_query(&mut self, request_id: RequestId, workspace: Id, q: LogQuery) {
        let filter = match compile(q.filter.as_ref()) {
            Ok(f) => f,
            Err(message) => {
                return self
                    .error(Some(request_id), ErrorCode::Validation, &message)
                    .await;
            }
        };
        let run_id = q.run_id.clone();
        let result = self
            .app
            .read(move |s| {
                let txn = s.begin_read()?;
                let Some(run) = read::run(&txn, &workspace, &q.run_id)? else {
                    return Ok(None);
                };
                let page = read::page(
                    &txn,
                    &workspace,
                    &q.run_id,
                    PageRequest {
                        from: q.from,
                        limit: q.limit,
                        backward: q.backward,
                        filter: filter.as_ref(),
                    },
                )?;
                Ok(Some(QueryResult::Log {
                    run_id: q.run_id,
                    lines: page.lines,
                    next: page.next,
                    stored: page.progress.last_stored(),
                    finished: run.status.is_final(),
                }))
            })
            .await;
        match result {
            Ok(Some(result)) => {
                self.send(&ServerMessage::Result { request_id, result })
                    .await
            }
            Ok(None) => {
                let message =
                    format!("no run {run_id} in this workspace; list runs with `warren run list`");
                self.error(Some(request_id), ErrorCode::NotFound, &message)
                    .await;
            }
            Err(e) => self.internal(Some(request_id), &e).await,
        }
    }

    /// `log_subscribe`: checks access and the filter, then starts (or replaces) the run's
    /// follow task. The feed is followed before the task reads the store.
    pub(super) async fn log_subscribe(&mut self, s: LogSubscribe) {
        let Some(workspace) = self.workspace_for(&s.request_id, s.workspace_id).await else {
            return;
        };
        if let Err(limited) = self.app.rates.log_subscribe(&self.token.id) {
            return self.refuse(s.request_id, &limited).await;
        }
        let checked = access::check(
            &self.app,
            &workspace,
            &self.user.id,
            self.token.scope,
            "log_subscribe",
        )
        .await;
        match checked {
            Ok(()) => {}
            Err(access::Denied::Refused(e)) => {
                return self.error(Some(s.request_id), e.code, &e.message).await;
            }
            Err(access::Denied::Store(e)) => return self.internal(Some(s.request_id), &e).await,
        }
        let filter = match compile(s.filter.as_ref()) {
            Ok(f) => f,
            Err(message) => {
                return self
                    .error(Some(s.request_id), ErrorCode::Validation, &message)
                    .await;
            }
        };
        self.logs.follows.stop(&s.run_id);
        let feed = self.app.runs.logs.follow(&s.run_id);
        let follow = Follow {
            request_id: s.request_id,
            workspace,
            run_id: s.run_id.clone(),
            from_line: s.from_line,
            tail: s.tail,
            filter,
            compact: s.compact,
        };
        let task = tokio::spawn(follow::run(
            self.app.clone(),
            self.out.clone(),
            follow,
            feed,
        ));
        self.logs.follows.replace(s.run_id, task.abort_handle());
    }

    /// `log_unsubscribe`: no more lines of the run reach this connection.
    pub(super) fn log_unsubscribe(&mut self, run_id: &Id) {
        self.logs.follows.stop(run_id);
    }
}
