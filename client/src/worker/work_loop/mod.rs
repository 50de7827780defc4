//! The worker loop: one task that owns the connection and every held run, and reacts to one
//! thing at a time — a server frame (`worker_welcome`, `assign`, `cancel_run`, `log_ack`,
//! `log_refused`), news from a run (a batch, its end), the answer to a report, the heartbeat
//! tick, the stop signal, or a new connection after a drop. No lock is shared.
//!
//! ```text
//! connect ─ hello ─ worker_hello{tags, concurrency, held} ─ worker_welcome
//!   assign → start the job, report_run_started, log_chunk 0, 1, … (≤ window in flight)
//!   log_ack → drop the chunk; every chunk acked + job ended → report_run_finished
//!   dropped → keep running, buffer (bounded), reconnect with backoff, worker_hello{held}
//!   stop → heartbeat{draining}, wait up to the grace period (a second stop: no longer), cancel
//!          what still runs, report, exit
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};
use warren_protocol::agent::AgentAssignment;
use warren_protocol::run::Run;
use warren_protocol::run::{AssignedParam, HeldRun, RunEnd};
use warren_protocol::{ClientMessage, Id, ServerMessage};

mod pushes;
mod reports;

use super::agent::{self, AgentRun};
use super::assignment;
use super::exec::Execution;
use super::guard::{self, GuardSetup};
use super::held::{Held, Report, RunNews};
use super::spec::Limits;
use crate::connection::{Connection, Handle, new_request_id};
use crate::error::ClientError;
use crate::session::{Settings, connect_with_backoff, is_transient};

/// Where the worker's one-line event log goes (stderr for `warren worker`).
pub type Say = Arc<dyn Fn(&str) + Send + Sync>;

/// How a worker runs.
#[derive(Clone)]
pub struct Options {
    /// Tags it offers; a job's runs come only to workers whose tags include all of the job's.
    pub tags: Vec<String>,
    /// Most runs at once.
    pub concurrency: u32,
    /// Where jobs run.
    pub workdir: PathBuf,
    /// After the stop signal, how long running jobs may go on before they are cancelled.
    pub grace: Duration,
    /// After the grace period, how long the worker still tries to deliver logs and reports.
    pub flush_bound: Duration,
    /// The executor's limits for every run.
    pub limits: Limits,
    /// Most chunks of one run sent and not yet acknowledged.
    pub window: usize,
    /// Most chunks of one run held in memory; then the job's output waits.
    pub buffer: usize,
    /// What stops a job's processes should the worker die (`None`: nothing does). Its records
    /// directory is also swept at start-up for groups an earlier instance left.
    pub guard: Option<GuardSetup>,
    /// Take agent runs too (`--no-agents` says no): hello says `agents: true`.
    pub agents: bool,
    /// Adjustments of agent runs' model calls (see [`agent::Tuning`]).
    pub tuning: agent::Tuning,
    pub say: Say,
}

/// Most chunks of one run in flight by default. Measured with the log benchmark (a million
/// lines, ten viewers, this 2-core machine): 32 in flight left the writer's group commits at
/// about 7 chunks each; 128 lets about 10 share each fsync and acknowledges the log about 9%
/// sooner. 128 chunks are at most 8 MiB of text, and on a link with 50 ms round trips they
/// still keep about 160 MB/s moving.
pub const LOG_WINDOW: usize = 128;

impl Options {
    /// The defaults, with the worker's log on stderr.
    pub fn new(workdir: PathBuf) -> Self {
        Self {
            tags: Vec::new(),
            concurrency: 1,
            workdir,
            grace: Duration::from_secs(30),
            flush_bound: Duration::from_secs(30),
            limits: Limits::default(),
            window: LOG_WINDOW,
            buffer: 256,
            guard: None,
            agents: true,
            tuning: agent::Tuning::default(),
            say: Arc::new(|line| eprintln!("{line}")),
        }
    }
}

/// Why the worker stopped other than by its stop signal; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(
        "this token may not execute runs ({0}); add a worker with 'warren worker add NAME' and \
         start it with the token that prints"
    )]
    NotAWorker(String),
    #[error("the server does not take workers ({0}); upgrade warren-server")]
    Unsupported(String),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// What the loop hears besides server frames.
enum Internal {
    /// The answer to a report (`started` or `finished`).
    Reported {
        run_id: Id,
        finished: bool,
        result: Result<(), ClientError>,
    },
    /// A new connection (or why none could be made).
    Connected(Result<Connection, ClientError>),
    /// An agent run ended here (reported, or left to the server); `line` says how.
    AgentEnded { run_id: Id, line: String },
}

/// One `assign` frame waiting for a free slot.
struct Assignment {
    run: Run,
    command: String,
    params: Vec<AssignedParam>,
    timeout_secs: u64,
    /// An agent run's assignment (then there is no command).
    agent: Option<Box<AgentAssignment>>,
}

/// The worker's state; see the module comment.
struct Worker {
    options: Options,
    settings: Settings,
    workspace_id: Id,
    conn: Option<Connection>,
    welcomed: bool,
    heartbeat: Duration,
    held: BTreeMap<Id, Held>,
    /// Agent runs under way (they count toward the concurrency like jobs).
    agents: BTreeMap<Id, AgentRun>,
    /// What agent runs share (`None`: this worker takes no agent runs).
    agent_setup: Option<Arc<agent::Setup>>,
    /// The connection agent runs send through (`None` while there is no welcomed one).
    handles: watch::Sender<Option<Handle>>,
    waiting: VecDeque<Assignment>,
    news_tx: mpsc::Sender<RunNews>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    draining: bool,
    /// The grace period is over: nothing more starts.
    closed: bool,
    /// The server refused a chunk for the token's log budget: no chunk goes out before this.
    logs_paused_until: Option<Instant>,
    /// Chunks of a run in flight at once now: `options.window`, halved by each refusal for the
    /// log budget and grown by one with each ack, so a worker over its budget does not send a
    /// whole window that is refused again after every wait.
    log_window: usize,
}

/// Runs a worker until the first message on `stop` (or its closing) and its runs are finished
/// and reported (or the flush
/// bound after the grace period passed), or until the server refuses it for good.
pub async fn run(
    settings: Settings,
    options: Options,
    stop: mpsc::UnboundedReceiver<()>,
) -> Result<(), WorkerError> {
    // A server that is not up yet is waited for (a worker often starts before it); a refused
    // token ends the worker at once.
    let conn = match crate::session::connect_patiently(&settings).await {
        Err(e) if is_transient(&e) => {
            (options.say)(&format!(
                "cannot reach {} yet ({}); retrying",
                settings.endpoint.display,
                crate::sanitize::line(&e.to_string())
            ));
            let say = options.say.clone();
            connect_with_backoff(&settings, |line| say(line)).await?
        }
        other => other?,
    };
    let workspace_id =
        crate::resolve::pick_workspace(&conn.welcome().workspaces, settings.workspace.as_deref())?
            .id
            .clone();
    let (news_tx, mut news) = mpsc::channel(64);
    let (internal_tx, mut internal) = mpsc::unbounded_channel();
    let agent_setup = if options.agents {
        match crate::provider::Chain::new(crate::provider::ChainSettings::default()) {
            Ok(chain) => Some(Arc::new(agent::Setup::new(chain, options.tuning.clone()))),
            Err(e) => {
                (options.say)(&format!(
                    "agent runs are off: cannot make the providers' HTTP client ({})",
                    crate::sanitize::line(&e.to_string())
                ));
                None
            }
        }
    } else {
        None
    };
    let mut worker = Worker {
        options,
        settings,
        workspace_id,
        conn: None,
        welcomed: false,
        heartbeat: Duration::from_secs(5),
        held: BTreeMap::new(),
        agents: BTreeMap::new(),
        agent_setup,
        handles: watch::channel(None).0,
        waiting: VecDeque::new(),
        news_tx,
        internal_tx,
        draining: false,
        closed: false,
        logs_paused_until: None,
        log_window: 0,
    };
    worker.log_window = worker.options.window;
    worker.attach(conn)?;
    (worker.options.say)(&format!(
        "worker connected to {} (tags: {}; up to {} at once; jobs run in {})",
        worker.settings.endpoint.display,
        if worker.options.tags.is_empty() {
            "none".to_owned()
        } else {
            worker.options.tags.join(",")
        },
        worker.options.concurrency,
        worker.options.workdir.display()
    ));

    worker.stop_leftovers();

    let result = serve(&mut worker, &mut news, &mut internal, stop).await;
    if let Err(e) = &result {
        worker.stop_all(&e.to_string()).await;
    }
    (worker.options.say)("worker stopped");
    if let Some(conn) = worker.conn.take() {
        conn.close().await;
    }
    result
}

/// The loop itself; see the module comment.
async fn serve(
    worker: &mut Worker,
    news: &mut mpsc::Receiver<RunNews>,
    internal: &mut mpsc::UnboundedReceiver<Internal>,
    mut stop: mpsc::UnboundedReceiver<()>,
) -> Result<(), WorkerError> {
    let mut stop_open = true;
    let mut beat = tokio::time::interval(worker.heartbeat);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let far = Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600);
    let mut grace_ends = far;
    let mut flush_ends = far;
    loop {
        tokio::select! {
            push = next_push(&mut worker.conn) => worker.on_push(push)?,
            Some(news) = news.recv() => worker.on_news(news),
            Some(event) = internal.recv() => worker.on_internal(event)?,
            _ = beat.tick() => worker.send_heartbeat(),
            () = sleep_until(worker.logs_paused_until.unwrap_or(far)), if worker.logs_paused_until.is_some() => {
                worker.logs_paused_until = None;
            }
            signal = stop.recv(), if stop_open && !worker.closed => {
                // A closed channel stops the worker too, and is not heard again.
                stop_open = signal.is_some();
                if worker.draining {
                    // Asked again (not merely closed): the grace period ends now.
                    if signal.is_some() {
                        (worker.options.say)("asked again: cancelling the running jobs now");
                        grace_ends = Instant::now();
                    }
                    continue;
                }
                worker.draining = true;
                grace_ends = Instant::now() + worker.options.grace;
                flush_ends = grace_ends + worker.options.flush_bound;
                let running = worker.running();
                (worker.options.say)(&format!(
                    "stopping: no new work; {running} running job(s) get up to {} to finish \
                     (stop again to cancel them now)",
                    super::exec::format_duration(worker.options.grace)
                ));
                worker.send_heartbeat();
            }
            () = sleep_until(grace_ends), if worker.draining && grace_ends != far => {
                grace_ends = far;
                worker.closed = true;
                for held in worker.held.values().filter(|h| h.is_running()) {
                    held.handle.cancel("the worker shutting down");
                }
                for run in worker.agents.values() {
                    run.stop(RunEnd::Cancelled, "cancelled: the worker shutting down");
                }
                // Assignments beyond the concurrency that never started are let go in
                // `start_waiting`: the server takes them back when this worker's lease ends.
            }
            () = sleep_until(flush_ends), if worker.draining => {
                for held in worker.held.values() {
                    (worker.options.say)(&format!(
                        "{}: its log or report could not be delivered before the worker stopped",
                        held.label
                    ));
                }
                for run in worker.agents.values() {
                    (worker.options.say)(&format!(
                        "{}: its report could not be delivered before the worker stopped",
                        run.label
                    ));
                }
                break;
            }
        }
        if worker.heartbeat != beat.period() {
            beat = tokio::time::interval(worker.heartbeat);
            beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        worker.start_waiting();
        worker.pump();
        if worker.draining
            && worker.held.is_empty()
            && worker.agents.is_empty()
            && worker.waiting.is_empty()
        {
            break;
        }
    }
    Ok(())
}

/// The next push of the connection, or never while there is none.
async fn next_push(conn: &mut Option<Connection>) -> Result<ServerMessage, ClientError> {
    match conn {
        Some(conn) => conn
            .next_push()
            .await
            .unwrap_or_else(|| Err(ClientError::Disconnected("the connection ended".into()))),
        None => std::future::pending().await,
    }
}

impl Worker {
    fn say(&self, line: &str) {
        (self.options.say)(line);
    }

    /// The worker ends on an error: no job may outlive it, so each is stopped (SIGTERM, then
    /// SIGKILL after the grace) and awaited, within a bound.
    async fn stop_all(&mut self, why: &str) {
        for (_, run) in std::mem::take(&mut self.agents) {
            run.abandon();
            self.say(&format!(
                "{}: stopped, the worker is ending ({})",
                run.label,
                crate::sanitize::line(why)
            ));
        }
        let bound = self.options.limits.kill_grace + Duration::from_secs(5);
        for (_, held) in std::mem::take(&mut self.held) {
            if !held.is_running() {
                continue;
            }
            held.abandon("the worker stopping on an error");
            self.say(&format!(
                "{}: stopped, the worker is ending ({})",
                held.label,
                crate::sanitize::line(why)
            ));
            let _ = tokio::time::timeout(bound, held.handle.wait()).await;
        }
    }

    /// Stops (in the background) the job groups an earlier instance of a worker on this
    /// machine left running when it died, if their guards died too.
    fn stop_leftovers(&self) {
        let Some(records) = self.options.guard.as_ref().and_then(|g| g.records.as_ref()) else {
            return;
        };
        for leftover in guard::leftovers(records) {
            self.say(&format!(
                "stopping job group {} left running by an earlier worker ({})",
                leftover.group.id(),
                leftover.marker
            ));
            let grace = self.options.limits.kill_grace;
            tokio::spawn(async move { leftover.group.stop(grace).await });
        }
    }

    /// Takes a new connection into use: `worker_hello` with every held run.
    fn attach(&mut self, conn: Connection) -> Result<(), ClientError> {
        let held = self
            .held
            .iter()
            .map(|(run_id, h)| HeldRun {
                run_id: run_id.clone(),
                next_chunk: h.outbox.next_unsent(),
            })
            .chain(self.agents.keys().map(|run_id| HeldRun {
                run_id: run_id.clone(),
                next_chunk: 0,
            }))
            .collect();
        conn.handle().send(ClientMessage::WorkerHello {
            workspace_id: Some(self.workspace_id.clone()),
            tags: self.options.tags.clone(),
            concurrency: self.options.concurrency,
            held,
            agents: self.agent_setup.is_some(),
        })?;
        self.conn = Some(conn);
        self.welcomed = false;
        self.handles.send_replace(None);
        Ok(())
    }

    fn handle(&self) -> Option<Handle> {
        self.conn
            .as_ref()
            .filter(|_| self.welcomed)
            .map(Connection::handle)
    }

    fn on_news(&mut self, news: RunNews) {
        match news {
            RunNews::Batch { run_id, batch } => {
                if let Some(h) = self.held.get_mut(&run_id) {
                    h.outbox.push(batch);
                }
            }
            RunNews::Ended { run_id, outcome } => {
                if let Some(h) = self.held.get_mut(&run_id) {
                    h.outcome = Some(outcome);
                    self.send_reports(&run_id);
                }
            }
        }
    }

    fn on_internal(&mut self, event: Internal) -> Result<(), WorkerError> {
        match event {
            Internal::Connected(Ok(conn)) => {
                self.say("reconnected");
                self.attach(conn)?;
            }
            Internal::Connected(Err(e)) => return Err(e.into()),
            Internal::Reported {
                run_id,
                finished,
                result,
            } => self.on_reported(run_id, finished, result),
            Internal::AgentEnded { run_id, line } => {
                if let Some(run) = self.agents.remove(&run_id) {
                    self.say(&format!("{}: {line}", run.label));
                }
            }
        }
        Ok(())
    }

    /// Starts waiting assignments while there is a free slot.
    fn start_waiting(&mut self) {
        if self.closed {
            for a in std::mem::take(&mut self.waiting) {
                self.say(&format!(
                    "{} {}: not started (the worker is stopping); its lease will return it",
                    a.run.label(),
                    crate::sanitize::line(&a.run.job_name)
                ));
            }
            return;
        }
        loop {
            if self.running() >= self.options.concurrency.max(1) as usize {
                return;
            }
            let Some(a) = self.waiting.pop_front() else {
                return;
            };
            self.start(a);
        }
    }

    /// Runs executing now: jobs still running and agent runs.
    fn running(&self) -> usize {
        self.held.values().filter(|h| h.is_running()).count() + self.agents.len()
    }

    fn start(&mut self, a: Assignment) {
        if let Some(assignment) = a.agent {
            self.start_agent(a.run, *assignment);
            return;
        }
        let spec = assignment::job_spec(
            &a.run,
            &a.command,
            &a.params,
            a.timeout_secs,
            &self.options.workdir,
            self.options.limits,
            self.options.guard.as_ref(),
        );
        let (handle, batches) = Execution::start(spec);
        let did_start = handle.process_group().is_some();
        let run_id = a.run.id.clone();
        let mut held = Held::new(
            a.run,
            handle,
            batches,
            self.options.buffer,
            self.news_tx.clone(),
        );
        if did_start {
            match new_request_id() {
                Ok(id) => held.started = Report::Waiting(id),
                Err(e) => self.say(&format!("{}: {e}", held.label)),
            }
        }
        self.held.insert(run_id.clone(), held);
        self.send_reports(&run_id);
    }

    /// Starts driving an agent run (see [`agent`]).
    fn start_agent(&mut self, run: Run, assignment: AgentAssignment) {
        let Some(setup) = self.agent_setup.clone() else {
            return;
        };
        let link = agent::link::Link::new(self.handles.subscribe(), self.workspace_id.clone());
        let tx = self.internal_tx.clone();
        let run_id = run.id.clone();
        let agent_run = AgentRun::start(setup, run, assignment, link, move |run_id, line| {
            let _ = tx.send(Internal::AgentEnded { run_id, line });
        });
        self.say(&format!("{}: agent run started", agent_run.label));
        self.agents.insert(run_id, agent_run);
    }

    /// Sends each run's next chunks, up to the window (none while the server asked to wait).
    fn pump(&mut self) {
        if self.logs_paused_until.is_some() {
            return;
        }
        let Some(handle) = self.handle() else {
            return;
        };
        for h in self.held.values_mut() {
            for frame in h.outbox.to_send(self.log_window.max(1)) {
                if handle.send_text(frame).is_err() {
                    return;
                }
            }
        }
    }

    fn send_heartbeat(&self) {
        if let Some(handle) = self.handle() {
            let _ = handle.send(ClientMessage::Heartbeat {
                runs: self
                    .held
                    .keys()
                    .chain(self.agents.keys())
                    .cloned()
                    .collect(),
                draining: self.draining,
            });
        }
    }

    /// The connection dropped: everything in flight goes again on the next one, which a
    /// background task opens with backoff.
    fn disconnected(&mut self, why: &ClientError) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        drop(conn);
        self.welcomed = false;
        self.handles.send_replace(None);
        for h in self.held.values_mut() {
            h.outbox.disconnected();
        }
        self.say(&format!(
            "connection lost ({}); jobs keep running, reconnecting…",
            crate::sanitize::line(&why.to_string())
        ));
        let settings = self.settings.clone();
        let say = self.options.say.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let conn = connect_with_backoff(&settings, |line| say(line)).await;
            let _ = tx.send(Internal::Connected(conn));
        });
    }
}
