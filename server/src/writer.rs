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
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use warren_protocol::account::TokenScope;
use warren_protocol::{Change, Command, ErrorCode, Event, Id, Member, RequestId, WireError};

use crate::audit::Source;
use crate::frames;
use crate::health::Health;
use crate::hub::Hub;
use crate::runs::RunState;
use crate::runs::effects::Effects;
use crate::service::{self, ApplyError, Ctx};
use crate::store::read::{event_at, get_json};
use crate::store::tables::{EVENTS, MEMBERS, META, REQUESTS, WORKERS};
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
    /// The scope of the token the command came with.
    pub scope: TokenScope,
    pub workspace: Id,
    pub request_id: RequestId,
    pub op: WriteOp,
    /// Where the request came from, for the audit log.
    pub from: Source,
    pub reply: oneshot::Sender<Result<Applied, WireError>>,
}

/// What a write request asks for.
#[derive(Debug)]
pub enum WriteOp {
    /// A client's command.
    Command(Command),
    /// Add a bot member with its first token (an `add_bot` account request).
    AddBot { name: String, scope: TokenScope },
    /// Start the workspace named by the request, with its sender as owner.
    CreateWorkspace { name: String },
    /// Use one use of an invite to the request's workspace for the request's user (`POST
    /// /join`): made now, or signed in. Applied before any membership check, like
    /// `CreateWorkspace`.
    Join {
        invite_id: Id,
        secret: service::invites::InviteSecret,
        joiner: service::invites::Joiner,
    },
    /// Internal: look at the run queue and the workers' leases (the writer's timer). Produces no
    /// event of its own and gets no answer.
    Tick,
    /// Internal: a worker said `worker_hello` on its connection `generation` (its record is
    /// stored in `WORKERS`) and holds `held`; its runs are settled against that
    /// ([`crate::runs::assign::reattach`]) before it may get new work. With `held: None`, a
    /// goodbye: only the record changes. Gets no answer.
    WorkerSeen {
        record: crate::store::records::WorkerRecord,
        held: Option<Vec<Id>>,
        generation: u64,
    },
    /// Store a worker's `log_chunk` (answered on the chunk's own reply; see
    /// [`crate::logs::ingest`]). Not a command: no event, no request id.
    LogChunk(crate::logs::ingest::Chunk),
}

/// A command that is durably applied.
#[derive(Debug, Clone)]
pub struct Applied {
    pub event: Arc<Event>,
    /// True when the request id had been applied before and this is the original answer.
    pub duplicate: bool,
    /// The token an `add_bot` minted (its secret is in no event and nowhere else); `None` for
    /// commands and for a duplicate.
    pub minted: Option<Arc<crate::auth::MintedToken>>,
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
    /// Where requests through this handle come from (for the audit log).
    from: Source,
}

impl WriterHandle {
    /// A handle whose requests are recorded as coming from `from` (a connection's peer
    /// address, the admin socket): give each connection its own.
    pub fn with_source(&self, from: Source) -> WriterHandle {
        WriterHandle {
            tx: self.tx.clone(),
            stats: self.stats.clone(),
            from,
        }
    }

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
        self.enqueue_scoped(user, TokenScope::Full, workspace, request_id, command)
            .await
    }

    /// Adds a bot member to `workspace` for `user` (who needs `member:manage` there) and waits
    /// for the answer, which carries the bot's first token.
    pub async fn add_bot(
        &self,
        user: Id,
        scope: TokenScope,
        workspace: Id,
        request_id: RequestId,
        bot: (String, TokenScope),
    ) -> Result<Applied, WireError> {
        let op = WriteOp::AddBot {
            name: bot.0,
            scope: bot.1,
        };
        self.send_op((user, scope), workspace, request_id, op)
            .await
            .wait()
            .await
    }

    /// Creates the workspace `workspace` (a fresh id) named `name`, owned by `user`.
    pub async fn create_workspace(
        &self,
        user: Id,
        workspace: Id,
        request_id: RequestId,
        name: String,
    ) -> Result<Applied, WireError> {
        let op = WriteOp::CreateWorkspace { name };
        self.send_op((user, TokenScope::Full), workspace, request_id, op)
            .await
            .wait()
            .await
    }

    /// Lets `joiner` into `workspace` with one use of the invite `invite_id` (whose code's secret
    /// is `secret`), and waits for the answer, which carries a new user's first token.
    pub async fn join(
        &self,
        workspace: Id,
        invite_id: Id,
        secret: service::invites::InviteSecret,
        joiner: service::invites::Joiner,
    ) -> Result<Applied, WireError> {
        let user = match &joiner {
            service::invites::Joiner::New { id, .. }
            | service::invites::Joiner::Existing { id } => id.clone(),
        };
        let request_id = crate::auth::new_id("join")
            .ok()
            .and_then(|id| RequestId::parse(id.as_str()).ok())
            .ok_or_else(|| {
                WireError::new(
                    ErrorCode::Internal,
                    "the server has no randomness; try again",
                )
            })?;
        let op = WriteOp::Join {
            invite_id,
            secret,
            joiner,
        };
        self.send_op((user, TokenScope::Full), workspace, request_id, op)
            .await
            .wait()
            .await
    }

    /// Asks the writer to look at the run queue and the leases (no answer).
    pub async fn tick(&self) {
        if let Ok(request) = RequestId::parse("tick") {
            let user = record_user(&WriteOp::Tick);
            let _ = self
                .send_op(
                    (user.clone(), TokenScope::Full),
                    user,
                    request,
                    WriteOp::Tick,
                )
                .await;
        }
    }

    /// Stores a worker's record and settles its runs against `held` (`None`: a goodbye, only
    /// the record changes). No answer.
    pub async fn worker_seen(
        &self,
        workspace: Id,
        record: crate::store::records::WorkerRecord,
        (held, generation): (Option<Vec<Id>>, u64),
    ) {
        if let Ok(request) = RequestId::parse("worker_seen") {
            let op = WriteOp::WorkerSeen {
                record,
                held,
                generation,
            };
            let user = record_user(&op);
            let _ = self
                .send_op((user, TokenScope::Full), workspace, request, op)
                .await;
        }
    }

    /// Queues a worker's log chunk for `workspace`'s run; the writer answers on `chunk.reply`
    /// once it is durable, and the returned ticket carries the error if the commit failed.
    pub async fn log_chunk(
        &self,
        worker: Id,
        workspace: Id,
        chunk: crate::logs::ingest::Chunk,
    ) -> Ticket {
        let Ok(request_id) = RequestId::parse("log-chunk") else {
            return Ticket(None);
        };
        self.send_op(
            (worker, TokenScope::Full),
            workspace,
            request_id,
            WriteOp::LogChunk(chunk),
        )
        .await
    }

    /// [`WriterHandle::enqueue`] for a token of a limited scope.
    pub async fn enqueue_scoped(
        &self,
        user: Id,
        scope: TokenScope,
        workspace: Id,
        request_id: RequestId,
        command: Command,
    ) -> Ticket {
        self.send_op(
            (user, scope),
            workspace,
            request_id,
            WriteOp::Command(command),
        )
        .await
    }

    /// Queues one request and returns the ticket for its answer.
    async fn send_op(
        &self,
        (user, scope): (Id, TokenScope),
        workspace: Id,
        request_id: RequestId,
        op: WriteOp,
    ) -> Ticket {
        let (reply, answer) = oneshot::channel();
        let request = WriteRequest {
            user,
            scope,
            workspace,
            request_id,
            op,
            from: self.from,
            reply,
        };
        if self.tx.send(request).await.is_err() {
            return Ticket(None);
        }
        Ticket(Some(answer))
    }
}

fn record_user(op: &WriteOp) -> Id {
    match op {
        WriteOp::WorkerSeen { record, .. } => record.user_id.clone(),
        _ => Id::from_random("usr", [0; 10]),
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
    spawn_with(
        store,
        hub,
        Arc::new(Health::default()),
        Arc::new(RunState::default()),
    )
}

/// [`spawn`], reporting the store's health (a full disk, a failed commit) to `health`.
pub fn spawn_with(
    store: Store,
    hub: Arc<Hub>,
    health: Arc<Health>,
    runs: Arc<RunState>,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
    let stats = Arc::new(WriterStats::default());
    let thread_stats = stats.clone();
    // With a runtime at hand, a degraded writer wakes up now and then to probe the disk.
    let runtime = tokio::runtime::Handle::try_current().ok();
    let join = std::thread::Builder::new()
        .name("warren-writer".into())
        .spawn(move || {
            let writer = Writer {
                store,
                hub,
                health,
                runs,
                stats: thread_stats,
                broken: None,
            };
            writer.run(rx, runtime.as_ref());
        })?;
    Ok((
        WriterHandle {
            tx,
            stats,
            from: Source::Unknown,
        },
        join,
    ))
}

/// How often a writer whose store failed checks, while idle, whether writes work again.
pub const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

struct Writer {
    store: Store,
    hub: Arc<Hub>,
    health: Arc<Health>,
    /// Shared run state (secret values of unfinished runs, workers, the log feed, …).
    runs: Arc<RunState>,
    stats: Arc<WriterStats>,
    /// Set after a failed commit: the answer every command gets until a write works again.
    broken: Option<WireError>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<WriteRequest>, runtime: Option<&Handle>) {
        let mut last_prune = 0i64;
        loop {
            let first = match runtime {
                Some(rt) if self.broken.is_some() => {
                    // The timer must be created inside the runtime's context.
                    let next =
                        rt.block_on(async { tokio::time::timeout(PROBE_EVERY, rx.recv()).await });
                    match next {
                        Ok(next) => next,
                        Err(_) => {
                            self.probe();
                            continue;
                        }
                    }
                }
                _ => rx.blocking_recv(),
            };
            let Some(first) = first else { break };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            if let Some(error) = self.broken.clone() {
                // Reopening closes the handle that still serves reads, so only when there is room.
                let reopened = if has_room(&self.store) {
                    self.store.reopen()
                } else {
                    Err(StoreError::Closed)
                };
                if let Err(e) = reopened {
                    tracing::debug!(error = %e, "the store cannot be reopened yet");
                    for request in batch {
                        let _ = request.reply.send(Err(error.clone()));
                    }
                    continue;
                }
            }
            self.broken = None;
            let now = service::now_ms();
            if now - last_prune > 3_600_000 {
                last_prune = now;
                if let Err(e) = prune_requests(&self.store, now) {
                    tracing::warn!(error = %e, "could not prune old request ids");
                }
            }
            self.commit_batch(batch, now);
        }
        tracing::debug!("writer stopped");
    }

    /// While idle after a failure: reopens the store and tries a tiny durable write; if it works,
    /// the store is healthy again.
    fn probe(&mut self) {
        if !has_room(&self.store) {
            return;
        }
        let result = self.store.reopen().and_then(|()| {
            let txn = self.store.begin_write()?;
            let now = service::now_ms().to_be_bytes();
            txn.open_table(META)?
                .insert("health_probe", now.as_slice())?;
            txn.commit()?;
            Ok(())
        });
        match result {
            Ok(()) => {
                self.broken = None;
                if self.health.recover() {
                    tracing::info!("the store accepts writes again");
                }
            }
            Err(e) => {
                self.fail(&ApplyError::Store(e), 0);
            }
        }
    }

    /// Records a failed commit: the health, the log, and the answer until writes work again.
    fn fail(&mut self, e: &ApplyError, commands: usize) -> WireError {
        let full = matches!(e, ApplyError::Store(s) if s.is_storage_full());
        let reopen = matches!(e, ApplyError::Store(s) if s.needs_reopen());
        let answer = if full {
            self.health.degrade(
                "storage_full",
                "the disk holding the store is full; free space there and writes resume without a restart",
            );
            WireError::new(
                ErrorCode::StorageFull,
                "the server's disk is full; nothing was applied; retry with the same request id once space is freed",
            )
        } else {
            if reopen {
                self.health.degrade(
                    "storage_error",
                    format!("the store failed to write ({e}); see the server log"),
                );
            }
            WireError::new(
                ErrorCode::Internal,
                "the server could not store this change; nothing was applied; retry with the same request id",
            )
        };
        if commands > 0 || self.broken.is_none() {
            tracing::error!(error = %e, commands, "a group commit failed; nothing in it was applied");
        }
        if full || reopen {
            self.broken = Some(answer.clone());
        }
        answer
    }

    fn commit_batch(&mut self, batch: Vec<WriteRequest>, now: i64) {
        let started = std::time::Instant::now();
        let applied = apply_batch(&self.store, &batch, now, &self.runs);
        let internal_only = batch
            .iter()
            .all(|r| matches!(r.op, WriteOp::Tick | WriteOp::WorkerSeen { .. }));
        if !internal_only {
            self.stats.commit_latency.record(started.elapsed());
        }
        let (outcomes, fx) = match applied {
            Ok(done) => done,
            Err(e) => {
                // Unfinished runs may have changed in memory only: read them again next time.
                self.runs.set_active(None);
                let answer = self.fail(&e, batch.len());
                for request in batch {
                    let _ = request.reply.send(Err(answer.clone()));
                }
                return;
            }
        };
        if self.health.recover() {
            tracing::info!("the store accepts writes again");
        }
        publish(&self.hub, &self.runs, batch, outcomes, &self.stats);
        after_commit(&self.hub, &self.runs, fx);
    }
}

/// Bytes a free-space probe writes next to the store.
const ROOM_PROBE_BYTES: usize = 256 * 1024;

/// Whether the disk holding the store has room again: a small file can be written and synced
/// next to it (then removed). Checked before reopening, because reopening drops the handle that
/// still serves reads while the disk is full.
fn has_room(store: &Store) -> bool {
    use std::io::Write;
    let Some(dir) = store.path().parent() else {
        return true;
    };
    let probe = dir.join(".warren-space-probe");
    let written = std::fs::File::create(&probe).and_then(|mut file| {
        file.write_all(&[0u8; ROOM_PROBE_BYTES])?;
        file.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    written.is_ok()
}

enum Outcome {
    /// Applied: the event and its JSON as stored (and a bot's new token), then the events that
    /// follow it (a run's line in its room).
    Applied(
        Box<Event>,
        String,
        Option<crate::auth::MintedToken>,
        Vec<(Event, String)>,
    ),
    Duplicate(Box<Event>),
    Rejected(WireError),
    /// An internal request (tick, worker seen) that is not answered.
    Quiet,
    /// A log chunk was taken (stored, re-sent, or refused with its reason).
    Log(crate::logs::ingest::Ingested),
}

/// Publishes the events the run scheduler made, sends the frames for workers and forgets the
/// secrets of runs that ended, once the batch is durable.
fn after_commit(hub: &Hub, runs: &RunState, fx: Effects) {
    for (workspace, event, json) in fx.events {
        hub.publish_event(&workspace, frames::event_frame(event.seq, &json));
        runs.relay.on_change(&workspace, &event.change);
        // A run the scheduler ended (lost, failed for lack of its secrets): its log is sealed
        // with it and its followers get their end.
        if let Change::RunUpdated { run, .. } = &event.change
            && run.status.is_final()
        {
            runs.logs.end(&run.id, run.status);
        }
    }
    for (workspace, worker, text) in fx.to_workers {
        if !runs.workers.send(&workspace, &worker, text) {
            tracing::debug!(%worker, "a frame for a worker that is not connected was dropped");
        }
    }
    for run in fx.forget {
        runs.secrets.forget(&run);
    }
}

fn publish(
    hub: &Hub,
    runs: &RunState,
    batch: Vec<WriteRequest>,
    outcomes: Vec<Outcome>,
    stats: &WriterStats,
) {
    // Counted before anyone is answered, so a caller that saw its answer sees its commit counted.
    // Internal requests (the run scheduler's ticks, workers' hellos) are not commands.
    let commands = outcomes
        .iter()
        .filter(|o| !matches!(o, Outcome::Quiet))
        .count();
    if commands > 0 {
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.commands.fetch_add(commands as u64, Ordering::Relaxed);
    }
    let mut feed = runs.logs.joined();
    for (request, outcome) in batch.into_iter().zip(outcomes) {
        let answer = match outcome {
            Outcome::Log(ingested) => {
                if let WriteOp::LogChunk(chunk) = request.op {
                    let stored = ingested.stored(chunk.lines);
                    feed.lines(&chunk.run_id, stored);
                    let _ = chunk.reply.send(ingested.answer);
                }
                continue;
            }
            Outcome::Applied(event, json, minted, follow) => {
                // Lines stored before this change reach the feed before it (a run's end).
                feed.flush();
                hub.publish_event(&request.workspace, frames::event_frame(event.seq, &json));
                for next in &follow {
                    hub.publish_event(&request.workspace, frames::event_frame(next.0.seq, &next.1));
                }
                runs.relay.on_change(&request.workspace, &event.change);
                for next in &follow {
                    runs.relay.on_change(&request.workspace, &next.0.change);
                }
                match &event.change {
                    // The run's log is sealed with it: its followers get their end.
                    Change::RunUpdated { run, .. } if run.status.is_final() => {
                        runs.logs.end(&run.id, run.status);
                    }
                    Change::MemberRemoved { user_id } => {
                        hub.evict_user(&request.workspace, user_id);
                    }
                    // Its last frame is out: end every subscription to it.
                    Change::WorkspaceDeleted { .. } => hub.close_workspace(&request.workspace),
                    _ => {}
                }
                Ok(Applied {
                    event: Arc::new(*event),
                    duplicate: false,
                    minted: minted.map(Arc::new),
                })
            }
            Outcome::Duplicate(event) => Ok(Applied {
                event: Arc::new(*event),
                duplicate: true,
                minted: None,
            }),
            Outcome::Rejected(e) => Err(e),
            Outcome::Quiet => continue,
        };
        let _ = request.reply.send(answer);
    }
    feed.flush();
}

fn apply_batch(
    store: &Store,
    batch: &[WriteRequest],
    now: i64,
    runs: &RunState,
) -> Result<(Vec<Outcome>, Effects), ApplyError> {
    let txn = store.begin_write()?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut fx = Effects::default();
    let mut wrote = false;
    for request in batch {
        outcomes.push(match apply_one(&txn, request, now, (runs, &mut fx)) {
            Ok(outcome) => {
                // Log chunks write too: a batch of chunks alone must commit before they are
                // acknowledged (only ticks that found nothing to do may skip the commit).
                wrote |= matches!(outcome, Outcome::Applied(..) | Outcome::Log(_))
                    || matches!(request.op, WriteOp::WorkerSeen { .. });
                outcome
            }
            Err(ApplyError::Rejected(e)) => Outcome::Rejected(e),
            Err(fatal) => return Err(fatal),
        });
    }
    if fx.schedule
        && let Err(e) = crate::runs::assign::schedule(&txn, now, runs, &mut fx)
    {
        tracing::error!(error = %e, "the run scheduler failed; nothing in this batch was applied");
        return Err(e);
    }
    if wrote || !fx.events.is_empty() {
        txn.commit().map_err(StoreError::from)?;
    } else {
        // Only ticks that found nothing to do: no commit, no fsync.
        txn.abort().map_err(StoreError::from)?;
    }
    Ok((outcomes, fx))
}

/// Applies the internal requests: a tick, a worker's hello or goodbye.
fn apply_internal(
    txn: &redb::WriteTransaction,
    request: &WriteRequest,
    now: i64,
    (runs, fx): (&RunState, &mut Effects),
) -> Result<Outcome, ApplyError> {
    if let WriteOp::WorkerSeen {
        record,
        held,
        generation,
    } = &request.op
    {
        txn.open_table(WORKERS)?.insert(
            (request.workspace.as_str(), record.user_id.as_str()),
            crate::store::encode("workers", record)?.as_slice(),
        )?;
        if let Some(held) = held {
            crate::runs::assign::reattach(
                txn,
                &request.workspace,
                &record.user_id,
                held,
                (runs, fx, now),
            )?;
            runs.workers
                .set_ready(&request.workspace, &record.user_id, *generation);
        }
    }
    fx.schedule = true;
    Ok(Outcome::Quiet)
}

fn apply_one(
    txn: &redb::WriteTransaction,
    request: &WriteRequest,
    now: i64,
    (runs, fx): (&RunState, &mut Effects),
) -> Result<Outcome, ApplyError> {
    if matches!(request.op, WriteOp::Tick | WriteOp::WorkerSeen { .. }) {
        return apply_internal(txn, request, now, (runs, fx));
    }
    if let WriteOp::LogChunk(chunk) = &request.op {
        let ingested = crate::logs::ingest::apply(txn, &request.workspace, &request.user, chunk)?;
        return Ok(Outcome::Log(ingested));
    }
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
        return Ok(Outcome::Duplicate(Box::new(event)));
    }
    if let WriteOp::CreateWorkspace { name } = &request.op {
        let (event, json) = service::workspace::create(
            txn,
            &request.user,
            &request.workspace,
            name,
            (now, request.from),
        )?;
        txn.open_table(REQUESTS)?.insert(
            (user, request.request_id.as_str()),
            (request.workspace.as_str(), event.seq, now),
        )?;
        return Ok(Outcome::Applied(Box::new(event), json, None, Vec::new()));
    }
    if let WriteOp::Join {
        invite_id,
        secret,
        joiner,
    } = &request.op
    {
        let done = service::invites::join(txn, invite_id, secret, joiner, now)?;
        if done.workspace.id != request.workspace {
            return Err(ApplyError::reject(
                ErrorCode::Internal,
                "the invite names another workspace than the join request",
            ));
        }
        let ctx = Ctx {
            workspace: &request.workspace,
            actor: &request.user,
            role: warren_protocol::Role::Member,
            scope: TokenScope::Full,
            now,
            seq: service::next_seq(txn, &request.workspace)?,
            from: request.from,
        };
        if let Change::MemberAdded { member } = &done.change {
            ctx.audit(
                txn,
                "invite.use",
                Some(crate::audit::target::member(member)),
                crate::audit::details([
                    ("invite", invite_id.as_str()),
                    ("role", member.role.as_str()),
                    (
                        "new_user",
                        if done.minted.is_some() {
                            "true"
                        } else {
                            "false"
                        },
                    ),
                ]),
            )?;
        }
        let (event, json) = service::append_event(txn, &ctx, None, done.change)?;
        return Ok(Outcome::Applied(
            Box::new(event),
            json,
            done.minted,
            Vec::new(),
        ));
    }
    let member: Option<Member> = get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (request.workspace.as_str(), user),
    )?;
    let Some(member) = member else {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!(
                "no workspace {} that you are a member of",
                request.workspace
            ),
        ));
    };
    let ctx = Ctx {
        workspace: &request.workspace,
        actor: &request.user,
        role: member.role,
        scope: request.scope,
        now,
        seq: service::next_seq(txn, &request.workspace)?,
        from: request.from,
    };
    let mut agent_member = None;
    let mut agent_run = None;
    let (change, minted) = match &request.op {
        WriteOp::Command(command) => {
            ctx.check(command)?;
            if let Command::UpdateAgent { agent_id, .. } | Command::DeleteAgent { agent_id } =
                command
            {
                agent_member = service::agents::member_before(txn, &ctx, agent_id)?;
            }
            agent_run = service::agent_runs::run_before(txn, &ctx, command)?;
            (service::apply(txn, &ctx, command, runs, fx)?, None)
        }
        WriteOp::CreateWorkspace { .. }
        | WriteOp::Join { .. }
        | WriteOp::Tick
        | WriteOp::WorkerSeen { .. }
        | WriteOp::LogChunk(_) => {
            return Err(ApplyError::reject(
                ErrorCode::Internal,
                "create_workspace, join and internal requests are applied before membership checks",
            ));
        }
        WriteOp::AddBot { name, scope } => {
            ctx.check_account("add_bot")?;
            let (change, minted) = service::members::add_bot(txn, &ctx, name, *scope)?;
            (change, Some(minted))
        }
    };
    if let Change::WorkspaceDeleted { .. } = change {
        // The log went with the workspace: the event is sent, not stored, and the request id is
        // not remembered (a retry finds the workspace gone: `not_found`).
        let (event, json) = service::unstored_event(&ctx, Some(&request.request_id), change)?;
        runs.workers.forget_workspace(&request.workspace);
        return Ok(Outcome::Applied(Box::new(event), json, minted, Vec::new()));
    }
    let (event, json) = service::append_event(txn, &ctx, Some(&request.request_id), change)?;
    txn.open_table(REQUESTS)?.insert(
        (user, request.request_id.as_str()),
        (request.workspace.as_str(), event.seq, now),
    )?;
    // A run's line in its room follows its transition, an agent's member follows the agent,
    // each as an event of its own.
    let before = service::follow::Before {
        agent_member,
        agent_run,
        runs: Some(runs),
    };
    let follow = service::follow::follow_ups(txn, &event, before)?;
    // A follow-up that started a run (an `@name` mention) is assigned in this batch, not at the
    // next tick.
    if follow
        .iter()
        .any(|(e, _)| matches!(e.change, Change::RunCreated { .. }))
    {
        fx.schedule = true;
    }
    Ok(Outcome::Applied(Box::new(event), json, minted, follow))
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
