//! The group-commit writer: the only place that writes workspace changes.
//!
//! Connections submit commands into one bounded queue. A dedicated thread takes every command that
//! is waiting (up to [`MAX_BATCH`]), validates and applies each inside a single redb write
//! transaction, commits it durably once, and only then acknowledges each command and publishes its
//! event to the [`Hub`]. While one commit is being flushed to disk the next batch queues up, so
//! under load many commands share one fsync, and no command is ever acknowledged before it is
//! durable.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use redb::ReadableTable;
use tokio::sync::{mpsc, oneshot};
use warren_protocol::{Command, ErrorCode, Event, Id, Member, RequestId, WireError};

use crate::frames;
use crate::hub::Hub;
use crate::service::{self, ApplyError, Ctx};
use crate::store::read::{event_at, get_json};
use crate::store::tables::{EVENTS, MEMBERS, REQUESTS};
use crate::store::{Store, StoreError};

/// Most commands applied in one transaction.
pub const MAX_BATCH: usize = 512;
/// Commands that may wait for the writer before submitters are held back.
pub const QUEUE_DEPTH: usize = 4096;
/// How long request ids are remembered for idempotent retries.
pub const REQUEST_ID_TTL_SECS: u64 = 24 * 60 * 60;

/// One command waiting to be applied.
pub struct WriteRequest {
    pub user: Id,
    pub workspace: Id,
    pub request_id: RequestId,
    pub command: Command,
    pub reply: oneshot::Sender<Result<Applied, WireError>>,
}

/// A command that is durably applied.
#[derive(Debug, Clone)]
pub struct Applied {
    pub event: Arc<Event>,
    /// True when the request id had been applied before and this is the original answer.
    pub duplicate: bool,
}

/// Counters of the writer's work, for logs and benchmarks.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub commits: AtomicU64,
    pub commands: AtomicU64,
    /// Time from the start of a batch's transaction to the end of its durable commit.
    pub commit_latency: crate::metrics::Histogram,
}

/// A cheap handle to submit commands to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<WriteRequest>,
    pub stats: Arc<WriterStats>,
}

impl WriterHandle {
    /// Submits a command and waits until it is durably applied or rejected.
    pub async fn submit(
        &self,
        user: Id,
        workspace: Id,
        request_id: RequestId,
        command: Command,
    ) -> Result<Applied, WireError> {
        self.enqueue(user, workspace, request_id, command)
            .await
            .wait()
            .await
    }

    /// Commands waiting in the writer's queue right now.
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Puts a command in the writer's queue and returns a ticket for its answer. Commands
    /// enqueued one after another are applied in that order, which is how a connection keeps
    /// its commands in the order it sent them.
    pub async fn enqueue(
        &self,
        user: Id,
        workspace: Id,
        request_id: RequestId,
        command: Command,
    ) -> Ticket {
        let (reply, answer) = oneshot::channel();
        let request = WriteRequest {
            user,
            workspace,
            request_id,
            command,
            reply,
        };
        if self.tx.send(request).await.is_err() {
            return Ticket(None);
        }
        Ticket(Some(answer))
    }
}

/// The pending answer to an enqueued command.
pub struct Ticket(Option<oneshot::Receiver<Result<Applied, WireError>>>);

impl Ticket {
    /// Waits until the command is durably applied or rejected.
    pub async fn wait(self) -> Result<Applied, WireError> {
        match self.0 {
            Some(answer) => answer.await.unwrap_or_else(|_| Err(shutting_down())),
            None => Err(shutting_down()),
        }
    }
}

fn shutting_down() -> WireError {
    WireError::new(
        ErrorCode::ShuttingDown,
        "the server is shutting down; reconnect and retry with the same request id",
    )
}

/// Starts the writer thread. It stops after every [`WriterHandle`] is dropped and the queue is
/// drained.
pub fn spawn(
    store: Store,
    hub: Arc<Hub>,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
    let stats = Arc::new(WriterStats::default());
    let thread_stats = stats.clone();
    let join = std::thread::Builder::new()
        .name("warren-writer".into())
        .spawn(move || run(store, hub, rx, &thread_stats))?;
    Ok((WriterHandle { tx, stats }, join))
}

fn run(store: Store, hub: Arc<Hub>, mut rx: mpsc::Receiver<WriteRequest>, stats: &WriterStats) {
    let mut last_prune = 0i64;
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let now = service::now_ms();
        if now - last_prune > 3_600_000 {
            last_prune = now;
            if let Err(e) = prune_requests(&store, now) {
                tracing::warn!(error = %e, "could not prune old request ids");
            }
        }
        commit_batch(&store, &hub, batch, now, stats);
    }
    tracing::debug!("writer stopped");
}

enum Outcome {
    /// Applied: the event and its JSON as stored.
    Applied(Event, String),
    Duplicate(Event),
    Rejected(WireError),
}

fn commit_batch(store: &Store, hub: &Hub, batch: Vec<WriteRequest>, now: i64, stats: &WriterStats) {
    let started = std::time::Instant::now();
    let applied = apply_batch(store, &batch, now);
    stats.commit_latency.record(started.elapsed());
    let outcomes = match applied {
        Ok(outcomes) => outcomes,
        Err(e) => {
            tracing::error!(error = %e, commands = batch.len(), "a group commit failed; nothing in it was applied");
            for request in batch {
                let _ = request.reply.send(Err(WireError::new(
                    ErrorCode::Internal,
                    "the server could not store this change; nothing was applied; retry with the same request id",
                )));
            }
            return;
        }
    };
    // Counted before anyone is answered, so a caller that saw its answer sees its commit counted.
    stats.commits.fetch_add(1, Ordering::Relaxed);
    stats
        .commands
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    for (request, outcome) in batch.into_iter().zip(outcomes) {
        let answer = match outcome {
            Outcome::Applied(event, json) => {
                hub.publish_event(&request.workspace, frames::event_frame(event.seq, &json));
                Ok(Applied {
                    event: Arc::new(event),
                    duplicate: false,
                })
            }
            Outcome::Duplicate(event) => Ok(Applied {
                event: Arc::new(event),
                duplicate: true,
            }),
            Outcome::Rejected(e) => Err(e),
        };
        let _ = request.reply.send(answer);
    }
}

fn apply_batch(
    store: &Store,
    batch: &[WriteRequest],
    now: i64,
) -> Result<Vec<Outcome>, ApplyError> {
    let txn = store.begin_write()?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch {
        outcomes.push(match apply_one(&txn, request, now) {
            Ok(outcome) => outcome,
            Err(ApplyError::Rejected(e)) => Outcome::Rejected(e),
            Err(fatal) => return Err(fatal),
        });
    }
    txn.commit().map_err(StoreError::from)?;
    Ok(outcomes)
}

fn apply_one(
    txn: &redb::WriteTransaction,
    request: &WriteRequest,
    now: i64,
) -> Result<Outcome, ApplyError> {
    let user = request.user.as_str();
    let previous = txn
        .open_table(REQUESTS)?
        .get((user, request.request_id.as_str()))?
        .map(|g| {
            let (ws, seq, _) = g.value();
            (ws.to_owned(), seq)
        });
    if let Some((ws, seq)) = previous {
        let event = event_at(&txn.open_table(EVENTS)?, &ws, seq)?.ok_or_else(|| {
            ApplyError::reject(
                ErrorCode::Internal,
                "the original event of this request is missing",
            )
        })?;
        return Ok(Outcome::Duplicate(event));
    }
    let member: Option<Member> = get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (request.workspace.as_str(), user),
    )?;
    if member.is_none() {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!(
                "no workspace {} that you are a member of",
                request.workspace
            ),
        ));
    }
    let ctx = Ctx {
        workspace: &request.workspace,
        actor: &request.user,
        now,
        seq: service::next_seq(txn, &request.workspace)?,
    };
    let change = service::apply(txn, &ctx, &request.command)?;
    let (event, json) = service::append_event(txn, &ctx, Some(&request.request_id), change)?;
    txn.open_table(REQUESTS)?.insert(
        (user, request.request_id.as_str()),
        (request.workspace.as_str(), event.seq, now),
    )?;
    Ok(Outcome::Applied(event, json))
}

/// Forgets request ids older than [`REQUEST_ID_TTL_SECS`].
fn prune_requests(store: &Store, now: i64) -> Result<(), StoreError> {
    let cutoff = now - (REQUEST_ID_TTL_SECS as i64) * 1000;
    let txn = store.begin_write()?;
    txn.open_table(REQUESTS)?
        .retain(|_, (_, _, at)| at >= cutoff)?;
    txn.commit()?;
    Ok(())
}
