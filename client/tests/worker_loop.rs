//! The worker loop (`warren worker`) against a small fake server that speaks the worker frames
//! and lets each test play the server's part frame by frame: assign real `sh` jobs, ack, refuse
//! or swallow log chunks, drop the connection, cancel, and check what the worker sent.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use warren::endpoint::Endpoint;
use warren::session::Settings;
use warren::worker::spec::Limits;
use warren::worker::work_loop::{self, Options};
use warren_protocol::message::ServerLimits;
use warren_protocol::run::{
    AssignedParam, HeldRun, HeldRunState, LogLine, LogStream, Run, RunEnd, RunStatus,
};
use warren_protocol::{
    Change, ClientMessage, Command, ErrorCode, Event, Id, Member, RequestId, Role, ServerMessage,
    Workspace,
};

const TOKEN: &str = "wrn_worker_token_for_tests";
/// How long any one expected frame may take.
const BOUND: Duration = Duration::from_secs(30);

fn id(s: &str) -> Id {
    Id::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

/// One connection the worker opened, as the test drives it.
struct Conn {
    from_worker: mpsc::UnboundedReceiver<ClientMessage>,
    /// Frames as JSON text; `None` drops the connection.
    to_worker: mpsc::UnboundedSender<Option<String>>,
}

impl Conn {
    async fn next(&mut self) -> ClientMessage {
        match timeout(BOUND, self.from_worker.recv()).await {
            Ok(Some(frame)) => frame,
            Ok(None) => panic!("the worker's connection closed"),
            Err(_) => panic!("no frame from the worker within {BOUND:?}"),
        }
    }

    fn send(&self, message: ServerMessage) {
        self.send_raw(serde_json::to_string(&message).unwrap_or_default());
    }

    fn send_raw(&self, json: String) {
        let _ = self.to_worker.send(Some(json));
    }

    fn drop_connection(&self) {
        let _ = self.to_worker.send(None);
    }

    /// Waits for `worker_hello` and answers it.
    async fn welcome(&mut self, held: Vec<HeldRunState>) -> Vec<HeldRun> {
        loop {
            if let ClientMessage::WorkerHello { held: theirs, .. } = self.next().await {
                self.send(ServerMessage::WorkerWelcome {
                    worker_id: id("user_worker"),
                    heartbeat_secs: 1,
                    lease_secs: 30,
                    held,
                });
                return theirs;
            }
        }
    }

    fn ack_command(&self, request_id: RequestId) {
        let event = Event {
            seq: 1,
            workspace_id: id("ws_acme"),
            at: 0,
            actor: id("user_worker"),
            request_id: Some(request_id.clone()),
            change: Change::RunUpdated {
                run: run(0),
                from: RunStatus::Assigned,
            },
        };
        self.send(ServerMessage::Ack {
            request_id,
            seq: 1,
            duplicate: false,
            event,
        });
    }
}

/// The fake server: every frame the worker sent (as JSON text), and its connections.
struct Fake {
    url: String,
    frames: Arc<Mutex<Vec<String>>>,
    conns: mpsc::UnboundedReceiver<Conn>,
}

impl Fake {
    async fn accept(&mut self) -> Conn {
        match timeout(BOUND, self.conns.recv()).await {
            Ok(Some(conn)) => conn,
            _ => panic!("the worker did not connect within {BOUND:?}"),
        }
    }

    fn all_frames(&self) -> String {
        self.frames.lock().map(|f| f.join("\n")).unwrap_or_default()
    }
}

async fn fake() -> Fake {
    fake_on("127.0.0.1:0").await
}

async fn fake_on(addr: &str) -> Fake {
    let listener = TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let frames = Arc::new(Mutex::new(Vec::new()));
    let (conns_tx, conns) = mpsc::unbounded_channel();
    let log = frames.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                continue;
            };
            let (from_tx, from_worker) = mpsc::unbounded_channel();
            let (to_worker, to_rx) = mpsc::unbounded_channel();
            let _ = conns_tx.send(Conn {
                from_worker,
                to_worker,
            });
            tokio::spawn(pump(ws, from_tx, to_rx, log.clone()));
        }
    });
    Fake {
        url: format!("http://{addr}"),
        frames,
        conns,
    }
}

async fn pump(
    mut ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    from_worker: mpsc::UnboundedSender<ClientMessage>,
    mut to_worker: mpsc::UnboundedReceiver<Option<String>>,
    log: Arc<Mutex<Vec<String>>>,
) {
    loop {
        tokio::select! {
            frame = ws.next() => {
                let Some(Ok(WsMessage::Text(text))) = frame else { return };
                if let Ok(mut log) = log.lock() {
                    log.push(text.to_string());
                }
                let message: ClientMessage =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
                let reply = match message {
                    ClientMessage::Hello { .. } => ServerMessage::Welcome {
                        protocol: 1,
                        server_version: "fake".into(),
                        user: Member {
                            user_id: id("user_worker"),
                            name: "builder".into(),
                            role: Role::Bot,
                        },
                        workspaces: vec![Workspace {
                            id: id("ws_acme"),
                            name: "Acme".into(),
                            created_at: 0,
                        }],
                        limits: ServerLimits {
                            max_frame_bytes: 1 << 18,
                            max_replay_events: 1000,
                            request_id_ttl_secs: 600,
                        },
                    },
                    other => {
                        let _ = from_worker.send(other);
                        continue;
                    }
                };
                let json = serde_json::to_string(&reply).unwrap_or_default();
                if ws.send(WsMessage::text(json)).await.is_err() {
                    return;
                }
            }
            out = to_worker.recv() => {
                let Some(Some(json)) = out else {
                    let _ = ws.close(None).await;
                    return;
                };
                if ws.send(WsMessage::text(json)).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn run(lines: u64) -> Run {
    run_n(7, lines)
}

fn run_n(number: u64, lines: u64) -> Run {
    Run {
        agent: None,
        parent_run_id: None,
        id: id(&format!("run_r{number}")),
        number,
        job_id: id("job_deploy"),
        job_name: "deploy".into(),
        params: vec![],
        status: RunStatus::Assigned,
        requested_by: id("user_ann"),
        card_id: None,
        room_id: None,
        retry_of: None,
        attempt: 1,
        worker_id: Some(id("user_worker")),
        decided_by: None,
        created_at: 0,
        queued_at: None,
        not_before: None,
        started_at: None,
        finished_at: None,
        exit_code: None,
        reason: None,
        lines,
        log_bytes: 0,
    }
}

fn assign(lines: u64, command: &str, params: Vec<AssignedParam>) -> ServerMessage {
    ServerMessage::Assign {
        agent: None,
        run: run(lines),
        command: command.into(),
        params,
        timeout_secs: 600,
    }
}

/// A worker running in the test: stop it with `stop`; `said` is its log.
struct Running {
    stop: mpsc::UnboundedSender<()>,
    said: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<Result<(), work_loop::WorkerError>>,
}

impl Running {
    async fn stops_cleanly(self) {
        let _ = self.stop.send(());
        let result = timeout(BOUND, self.task).await;
        assert!(matches!(result, Ok(Ok(Ok(())))), "the worker stops cleanly");
    }

    fn said(&self) -> String {
        self.said.lock().map(|s| s.join("\n")).unwrap_or_default()
    }
}

/// A worker on the fake, with fast batches; its log lines are collected.
fn start_worker(url: &str, workdir: &Path) -> Running {
    start_worker_with(url, workdir, |_| {})
}

fn start_worker_with(url: &str, workdir: &Path, tune: impl FnOnce(&mut Options)) -> Running {
    let settings = Settings {
        endpoint: Endpoint::parse(url).unwrap_or_else(|e| panic!("{e}")),
        token: TOKEN.into(),
        workspace: None,
    };
    let said = Arc::new(Mutex::new(Vec::new()));
    let mut options = Options::new(workdir.to_path_buf());
    options.limits = Limits {
        batch_max_bytes: 2048,
        batch_max_age: Duration::from_millis(50),
        kill_grace: Duration::from_secs(2),
        ..Limits::default()
    };
    options.window = 4;
    options.grace = Duration::from_secs(1);
    let heard = said.clone();
    options.say = Arc::new(move |line| {
        if let Ok(mut said) = heard.lock() {
            said.push(line.to_owned());
        }
    });
    tune(&mut options);
    let (stop, stop_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(work_loop::run(settings, options, stop_rx));
    Running { stop, said, task }
}

/// Plays the server for one run until its finish report: acks every command and every chunk
/// (unless `hold` says to keep a chunk unanswered for now). Returns the chunks received (by
/// number, each time) and the finish report.
struct Played {
    sends: Vec<u64>,
    lines: BTreeMap<u64, LogLine>,
    finished: Command,
}

async fn play(conn: &mut Conn, mut lines: BTreeMap<u64, LogLine>) -> Played {
    let mut sends = Vec::new();
    loop {
        match conn.next().await {
            ClientMessage::Command {
                request_id,
                command: Command::ReportRunStarted { .. },
                ..
            } => conn.ack_command(request_id),
            ClientMessage::Command {
                request_id,
                command: finished @ Command::ReportRunFinished { .. },
                ..
            } => {
                conn.ack_command(request_id);
                return Played {
                    sends,
                    lines,
                    finished,
                };
            }
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines: got,
            } => {
                sends.push(chunk);
                for line in got {
                    lines.insert(line.n, line);
                }
                conn.send(ServerMessage::LogAck { run_id, chunk });
            }
            _ => {}
        }
    }
}

fn texts(lines: &BTreeMap<u64, LogLine>, stream: LogStream) -> Vec<String> {
    lines
        .values()
        .filter(|l| l.stream == stream)
        .map(|l| l.text.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_and_its_whole_log_arrives_in_order_without_its_secrets() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker(&fake.url, dir.path());
    let mut conn = fake.accept().await;
    assert!(conn.welcome(vec![]).await.is_empty());
    let secret = "hunter2-very-secret";
    let token = "wrn_0123456789abcdefghijKLMN";
    conn.send(assign(
        5,
        &format!(
            "for i in $(seq 1 2000); do echo \"out $i\"; echo \"err $i\" >&2; done; \
             echo \"pw=$WARREN_PARAM_PASSWORD env=$WARREN_PARAM_ENV tok={token}\"; exit 3"
        ),
        vec![
            AssignedParam {
                name: "password".into(),
                value: secret.into(),
                secret: true,
            },
            AssignedParam {
                name: "env".into(),
                value: "prod".into(),
                secret: false,
            },
        ],
    ));
    let played = play(&mut conn, BTreeMap::new()).await;

    let numbers: Vec<u64> = played.lines.keys().copied().collect();
    let expected: Vec<u64> = (6..6 + numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "numbered from run.lines + 1 with no gap");
    let outs = texts(&played.lines, LogStream::Out);
    let errs = texts(&played.lines, LogStream::Err);
    let want_out: Vec<String> = (1..=2000).map(|i| format!("out {i}")).collect();
    assert_eq!(&outs[..2000], &want_out[..]);
    assert_eq!(
        errs,
        (1..=2000).map(|i| format!("err {i}")).collect::<Vec<_>>()
    );
    assert_eq!(outs[2000], "pw=*** env=prod tok=***");
    let sys = texts(&played.lines, LogStream::Sys);
    assert_eq!(sys.first().map(String::as_str), Some("started"));
    assert_eq!(sys.last().map(String::as_str), Some("exit code 3"));
    let Command::ReportRunFinished {
        end,
        exit_code,
        lines,
        ..
    } = played.finished
    else {
        panic!("a finish report");
    };
    assert_eq!((end, exit_code), (RunEnd::Failed, Some(3)));
    assert_eq!(lines, *numbers.last().unwrap_or(&0));
    let mut sorted = played.sends.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), played.sends.len(), "no chunk sent twice");

    let log = worker.said.clone();
    worker.stops_cleanly().await;
    let said = log.lock().map(|s| s.join("\n")).unwrap_or_default();
    let frames = fake.all_frames();
    assert!(!frames.contains(secret), "a secret reached a frame");
    assert!(!frames.contains(token), "a token reached a frame");
    assert!(said.contains("r7 deploy: started"), "{said}");
    assert!(said.contains("r7 deploy: failed (exit 3) in"), "{said}");
    assert!(!said.contains(secret) && !said.contains(token), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_reconnect_only_unacknowledged_chunks_go_again_and_the_job_kept_running() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let go = dir.path().join("go");
    let worker = start_worker(&fake.url, dir.path());
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    conn.send(assign(
        0,
        &format!(
            "for i in $(seq 1 300); do echo \"a $i\"; done; \
             while [ ! -e {} ]; do sleep 0.05; done; \
             for i in $(seq 1 300); do echo \"b $i\"; done",
            go.display()
        ),
        vec![],
    ));
    // Ack chunk 0 only; see at least three chunks; then drop the connection.
    let mut lines = BTreeMap::new();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match conn.next().await {
            ClientMessage::Command { request_id, .. } => conn.ack_command(request_id),
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines: got,
            } => {
                seen.push(chunk);
                if chunk == 0 {
                    for line in got {
                        lines.insert(line.n, line);
                    }
                    conn.send(ServerMessage::LogAck { run_id, chunk });
                }
            }
            _ => {}
        }
    }
    conn.drop_connection();

    let mut conn = fake.accept().await;
    let held = conn
        .welcome(vec![HeldRunState {
            run_id: id("run_r7"),
            acked_chunks: 1,
            stop: false,
        }])
        .await;
    assert_eq!(held.len(), 1, "the run is still held");
    assert!(held[0].next_chunk >= 3, "{held:?}");
    std::fs::write(&go, b"").unwrap_or_else(|e| panic!("{e}"));
    let played = play(&mut conn, lines).await;
    assert!(
        !played.sends.contains(&0),
        "the acknowledged chunk went again: {:?}",
        played.sends
    );
    assert_eq!(played.sends.first(), Some(&1), "{:?}", played.sends);
    let outs = texts(&played.lines, LogStream::Out);
    let want: Vec<String> = (1..=300)
        .map(|i| format!("a {i}"))
        .chain((1..=300).map(|i| format!("b {i}")))
        .collect();
    assert_eq!(outs, want);
    let numbers: Vec<u64> = played.lines.keys().copied().collect();
    assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>());
    assert!(matches!(
        played.finished,
        Command::ReportRunFinished {
            end: RunEnd::Succeeded,
            ..
        }
    ));
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_gap_is_sent_again_from_the_expected_chunk() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker(&fake.url, dir.path());
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    conn.send(assign(
        0,
        "for i in $(seq 1 500); do echo \"line $i\"; done",
        vec![],
    ));
    // Chunk 0 is stored, chunk 1 is lost on the way, later ones are refused as a gap until
    // chunk 1 comes again.
    let mut lines = BTreeMap::new();
    let mut sends = Vec::new();
    let mut have = 0u64;
    let finished = loop {
        match conn.next().await {
            ClientMessage::Command {
                request_id,
                command: Command::ReportRunStarted { .. },
                ..
            } => conn.ack_command(request_id),
            ClientMessage::Command {
                request_id,
                command: finished @ Command::ReportRunFinished { .. },
                ..
            } => {
                conn.ack_command(request_id);
                break finished;
            }
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines: got,
            } => {
                sends.push(chunk);
                let first_loss = chunk == 1 && sends.iter().filter(|c| **c == 1).count() == 1;
                if first_loss {
                    continue;
                }
                if chunk > have {
                    conn.send(ServerMessage::LogRefused {
                        run_id,
                        chunk,
                        code: ErrorCode::Conflict,
                        message: format!("expected chunk {have}"),
                        expected: Some(have),
                        retry_after_ms: None,
                    });
                    continue;
                }
                if chunk == have {
                    have += 1;
                    for line in got {
                        lines.insert(line.n, line);
                    }
                }
                conn.send(ServerMessage::LogAck { run_id, chunk });
            }
            _ => {}
        }
    };
    assert_eq!(sends.iter().filter(|c| **c == 0).count(), 1, "{sends:?}");
    assert_eq!(
        sends.iter().filter(|c| **c == 1).count(),
        2,
        "chunk 1 goes again once: {sends:?}"
    );
    let outs = texts(&lines, LogStream::Out);
    assert_eq!(
        outs,
        (1..=500).map(|i| format!("line {i}")).collect::<Vec<_>>()
    );
    let Command::ReportRunFinished { lines: n, end, .. } = finished else {
        panic!("a finish report");
    };
    assert_eq!(end, RunEnd::Succeeded);
    assert_eq!(n, lines.len() as u64);
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_over_the_log_budget_goes_again_after_the_wait_and_nothing_is_lost() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker(&fake.url, dir.path());
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    conn.send(assign(
        0,
        "for i in $(seq 1 20000); do echo \"line $i\"; done; echo last",
        vec![],
    ));
    // The first time chunk 1 comes, it and every chunk after it that is in flight are refused
    // for the budget (as the server does); after the wait they come again, in order.
    const WAIT_MS: u64 = 400;
    let mut lines = BTreeMap::new();
    let mut sends: Vec<(u64, tokio::time::Instant)> = Vec::new();
    let mut refused_at: Option<tokio::time::Instant> = None;
    let mut have = 0u64;
    let finished = loop {
        match conn.next().await {
            ClientMessage::Command {
                request_id,
                command: Command::ReportRunStarted { .. },
                ..
            } => conn.ack_command(request_id),
            ClientMessage::Command {
                request_id,
                command: finished @ Command::ReportRunFinished { .. },
                ..
            } => {
                conn.ack_command(request_id);
                break finished;
            }
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines: got,
            } => {
                sends.push((chunk, tokio::time::Instant::now()));
                let refusing = chunk >= 1 && sends.iter().filter(|(c, _)| *c == 1).count() == 1;
                if refusing {
                    refused_at.get_or_insert_with(tokio::time::Instant::now);
                    conn.send(ServerMessage::LogRefused {
                        run_id,
                        chunk,
                        code: ErrorCode::RateLimited,
                        message: format!("over the budget; re-send chunk {chunk} in 0.4 s"),
                        expected: None,
                        retry_after_ms: Some(WAIT_MS),
                    });
                    continue;
                }
                assert_eq!(chunk, have, "chunks come in order: {sends:?}");
                have += 1;
                for line in got {
                    lines.insert(line.n, line);
                }
                conn.send(ServerMessage::LogAck { run_id, chunk });
            }
            _ => {}
        }
    };
    let refused_at = refused_at.expect("chunk 1 was refused");
    let again = sends
        .iter()
        .filter(|(c, _)| *c == 1)
        .nth(1)
        .expect("chunk 1 came again");
    assert!(
        again.1.duration_since(refused_at) >= Duration::from_millis(WAIT_MS - 50),
        "not before the wait: {:?}",
        again.1.duration_since(refused_at)
    );
    let mut outs = texts(&lines, LogStream::Out);
    assert_eq!(outs.pop().as_deref(), Some("last"));
    assert_eq!(
        outs,
        (1..=20000).map(|i| format!("line {i}")).collect::<Vec<_>>()
    );
    assert!(have >= 3, "the log came in several chunks: {sends:?}");
    let Command::ReportRunFinished { lines: n, end, .. } = finished else {
        panic!("a finish report");
    };
    assert_eq!(end, RunEnd::Succeeded);
    assert_eq!(n, lines.len() as u64);
    assert!(
        fake.conns.try_recv().is_err(),
        "no reconnect: the worker waited instead"
    );
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_the_job_and_the_finish_report_waits_for_every_ack() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker(&fake.url, dir.path());
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    conn.send(assign(0, "echo \"pid $$\"; sleep 60 & wait", vec![]));
    let mut pid = None;
    let mut held_back = Vec::new();
    let mut lines = BTreeMap::new();
    let mut heartbeats_after_end = 0;
    loop {
        match conn.next().await {
            ClientMessage::Command {
                request_id,
                command: Command::ReportRunStarted { .. },
                ..
            } => conn.ack_command(request_id),
            ClientMessage::Command {
                command: Command::ReportRunFinished { .. },
                ..
            } => panic!("the finish report came before every chunk was acknowledged"),
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines: got,
            } => {
                for line in got {
                    if let Some(p) = line.text.strip_prefix("pid ") {
                        pid = p.trim().parse::<i32>().ok();
                        conn.send(ServerMessage::CancelRun {
                            run_id: run_id.clone(),
                            reason: Some("not today".into()),
                        });
                    }
                    lines.insert(line.n, line);
                }
                // Hold every chunk back from here on.
                held_back.push((run_id, chunk));
            }
            ClientMessage::Heartbeat { .. }
                if texts(&lines, LogStream::Sys)
                    .iter()
                    .any(|l| l.starts_with("cancelled by")) =>
            {
                // The job has ended and its last line is here; two heartbeats later there
                // is still no finish report.
                heartbeats_after_end += 1;
                if heartbeats_after_end == 2 {
                    break;
                }
            }
            _ => {}
        }
    }
    for (run_id, chunk) in held_back {
        conn.send(ServerMessage::LogAck { run_id, chunk });
    }
    let played = play(&mut conn, lines).await;
    let Command::ReportRunFinished {
        end, reason, lines, ..
    } = played.finished
    else {
        panic!("a finish report");
    };
    assert_eq!(end, RunEnd::Cancelled);
    assert!(reason.is_some_and(|r| r.contains("not today")));
    assert_eq!(lines, played.lines.len() as u64);
    let pid = pid.unwrap_or_else(|| panic!("the job printed its pid"));
    // The job's process group is gone: signal 0 to it fails.
    let gone = rustix::process::test_kill_process_group(
        rustix::process::Pid::from_raw(pid).unwrap_or_else(|| panic!("pid {pid}")),
    )
    .is_err();
    assert!(gone, "the job's process group {pid} survived the cancel");
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_then_cancels_what_still_runs_and_exits_zero() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_warren"))
        .args([
            "worker",
            "--server",
            &fake.url,
            "--grace",
            "1s",
            "--tags",
            "linux,docker",
        ])
        .arg("--workdir")
        .arg(dir.path())
        .env("WARREN_TOKEN", TOKEN)
        .env("WARREN_CONFIG_DIR", dir.path())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = fake.accept().await;
    let hello = loop {
        if let hello @ ClientMessage::WorkerHello { .. } = conn.next().await {
            break hello;
        }
    };
    let ClientMessage::WorkerHello { tags, .. } = hello else {
        unreachable!()
    };
    assert_eq!(tags, ["linux", "docker"]);
    conn.send(ServerMessage::WorkerWelcome {
        worker_id: id("user_worker"),
        heartbeat_secs: 1,
        lease_secs: 30,
        held: vec![],
    });
    conn.send(assign(0, "echo working; sleep 60", vec![]));
    let mut lines = BTreeMap::new();
    let mut signalled = false;
    let mut drained = false;
    let finished = loop {
        match conn.next().await {
            ClientMessage::Command {
                request_id,
                command: Command::ReportRunStarted { .. },
                ..
            } => {
                conn.ack_command(request_id);
                let pid = child.id().and_then(|p| i32::try_from(p).ok());
                let pid = pid.and_then(rustix::process::Pid::from_raw);
                let pid = pid.unwrap_or_else(|| panic!("the worker's pid"));
                rustix::process::kill_process(pid, rustix::process::Signal::TERM)
                    .unwrap_or_else(|e| panic!("{e}"));
                signalled = true;
            }
            ClientMessage::Heartbeat { draining, .. } if signalled && draining => drained = true,
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines: got,
            } => {
                for line in got {
                    lines.insert(line.n, line);
                }
                conn.send(ServerMessage::LogAck { run_id, chunk });
            }
            ClientMessage::Command {
                request_id,
                command: finished @ Command::ReportRunFinished { .. },
                ..
            } => {
                conn.ack_command(request_id);
                break finished;
            }
            _ => {}
        }
    };
    assert!(drained, "a draining heartbeat came before the end");
    assert!(matches!(
        finished,
        Command::ReportRunFinished {
            end: RunEnd::Cancelled,
            ..
        }
    ));
    let status = timeout(BOUND, child.wait())
        .await
        .unwrap_or_else(|_| panic!("the worker did not exit"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = err.read_to_string(&mut stderr).await;
    }
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("stopping: no new work"), "{stderr}");
    assert!(stderr.contains("r7 deploy: cancelled after"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "{stderr}");
}

/// Whether the process group `pid` is gone, waiting for it up to the bound.
async fn group_gone(pid: i32) -> bool {
    let pid = rustix::process::Pid::from_raw(pid).unwrap_or_else(|| panic!("pid {pid}"));
    let deadline = tokio::time::Instant::now() + BOUND;
    while tokio::time::Instant::now() < deadline {
        if rustix::process::test_kill_process_group(pid).is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_the_server_takes_back_on_reconnect_is_stopped_and_forgotten() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker(&fake.url, dir.path());
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    conn.send(assign(0, "echo \"pid $$\"; sleep 60", vec![]));
    let pid = loop {
        match conn.next().await {
            ClientMessage::Command { request_id, .. } => conn.ack_command(request_id),
            ClientMessage::LogChunk { lines, .. } => {
                if let Some(pid) = lines.iter().find_map(|l| {
                    l.text
                        .strip_prefix("pid ")
                        .and_then(|p| p.parse::<i32>().ok())
                }) {
                    break pid;
                }
            }
            _ => {}
        }
    };
    conn.drop_connection();
    let mut conn = fake.accept().await;
    let held = conn
        .welcome(vec![HeldRunState {
            run_id: id("run_r7"),
            acked_chunks: 0,
            stop: true,
        }])
        .await;
    assert_eq!(held.len(), 1);
    assert!(group_gone(pid).await, "the job was stopped");
    // The next heartbeats hold no run, and no chunk or report of it comes.
    loop {
        match conn.next().await {
            ClientMessage::Heartbeat { runs, .. } if runs.is_empty() => break,
            ClientMessage::Heartbeat { .. } => {}
            other => panic!("nothing more of the run may come: {other:?}"),
        }
    }
    assert!(
        worker
            .said()
            .contains("r7 deploy: the server no longer gives this run")
    );
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_at_most_its_concurrency_at_once() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let go = dir.path().join("go");
    let worker = start_worker_with(&fake.url, dir.path(), |o| o.concurrency = 1);
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    let command = format!("while [ ! -e {} ]; do sleep 0.05; done", go.display());
    for number in [7, 8] {
        conn.send(ServerMessage::Assign {
            agent: None,
            run: run_n(number, 0),
            command: command.clone(),
            params: vec![],
            timeout_secs: 600,
        });
    }
    let mut started = Vec::new();
    let mut finished = Vec::new();
    let mut heartbeats = 0;
    while finished.len() < 2 {
        match conn.next().await {
            ClientMessage::Command {
                request_id,
                command,
                ..
            } => {
                match command {
                    Command::ReportRunStarted { run_id } => started.push(run_id),
                    Command::ReportRunFinished { run_id, .. } => finished.push(run_id),
                    _ => {}
                }
                conn.ack_command(request_id);
            }
            ClientMessage::LogChunk { run_id, chunk, .. } => {
                conn.send(ServerMessage::LogAck { run_id, chunk });
            }
            ClientMessage::Heartbeat { .. } if !started.is_empty() && !go.exists() => {
                heartbeats += 1;
                if heartbeats == 2 {
                    assert_eq!(started.len(), 1, "only one run starts at a time");
                    std::fs::write(&go, b"").unwrap_or_else(|e| panic!("{e}"));
                }
            }
            _ => {}
        }
    }
    assert_eq!(started, [id("run_r7"), id("run_r8")], "in assignment order");
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_before_its_server_waits_for_it() {
    let probe = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = probe.local_addr().unwrap_or_else(|e| panic!("{e}"));
    drop(probe);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker(&format!("http://{addr}"), dir.path());
    let deadline = tokio::time::Instant::now() + BOUND;
    while !worker.said().contains("cannot reach") {
        assert!(tokio::time::Instant::now() < deadline, "{}", worker.said());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fake = fake_on(&addr.to_string()).await;
    let mut conn = fake.accept().await;
    assert!(conn.welcome(vec![]).await.is_empty());
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_chunks_hold_the_job_back_instead_of_piling_up() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let marker = dir.path().join("wrote-everything");
    let worker = start_worker_with(&fake.url, dir.path(), |o| {
        o.window = 4;
        o.buffer = 8;
    });
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    conn.send(assign(
        0,
        &format!(
            "seq -f 'line %g padding padding padding padding padding' 1 60000; touch {}",
            marker.display()
        ),
        vec![],
    ));
    // Nothing is acknowledged: the window fills, the buffer fills, and the job must wait.
    let mut unanswered = Vec::new();
    let mut heartbeats = 0;
    while heartbeats < 3 {
        match conn.next().await {
            ClientMessage::Command { request_id, .. } => conn.ack_command(request_id),
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines,
            } => unanswered.push((run_id, chunk, lines)),
            ClientMessage::Heartbeat { .. } if unanswered.len() >= 4 => heartbeats += 1,
            _ => {}
        }
    }
    assert_eq!(unanswered.len(), 4, "no more than the window is in flight");
    assert!(
        !marker.exists(),
        "the job ran ahead of an unacknowledged log"
    );
    let mut lines = BTreeMap::new();
    for (run_id, chunk, got) in unanswered {
        for line in got {
            lines.insert(line.n, line);
        }
        conn.send(ServerMessage::LogAck { run_id, chunk });
    }
    let played = play(&mut conn, lines).await;
    assert!(marker.exists());
    let outs = texts(&played.lines, LogStream::Out);
    assert_eq!(outs.len(), 60000);
    assert_eq!(
        outs[59999],
        "line 60000 padding padding padding padding padding"
    );
    let numbers: Vec<u64> = played.lines.keys().copied().collect();
    assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>());
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_ends_on_an_error_leaves_no_job_behind() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker(&fake.url, dir.path());
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    conn.send(assign(0, "echo \"pid $$\"; sleep 60", vec![]));
    let pid = loop {
        match conn.next().await {
            ClientMessage::Command { request_id, .. } => conn.ack_command(request_id),
            ClientMessage::LogChunk { lines, .. } => {
                if let Some(pid) = lines.iter().find_map(|l| {
                    l.text
                        .strip_prefix("pid ")
                        .and_then(|p| p.parse::<i32>().ok())
                }) {
                    break pid;
                }
            }
            _ => {}
        }
    };
    conn.drop_connection();
    // The token lost run:execute meanwhile: the new connection's worker_hello is refused.
    let mut conn = fake.accept().await;
    while !matches!(conn.next().await, ClientMessage::WorkerHello { .. }) {}
    conn.send(ServerMessage::Error {
        request_id: None,
        code: ErrorCode::Forbidden,
        message: "run:execute needed".into(),
        retry_after_ms: None,
    });
    let result = timeout(BOUND, worker.task)
        .await
        .unwrap_or_else(|_| panic!("the worker did not end"));
    let message = match result {
        Ok(Err(e)) => e.to_string(),
        other => panic!("expected the worker to fail: {other:?}"),
    };
    assert!(message.contains("warren worker add"), "{message}");
    assert!(group_gone(pid).await, "the job outlived its worker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_the_worker_cannot_read_is_ignored_without_quoting_it() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker(&fake.url, dir.path());
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    let mut frame = serde_json::to_value(assign(
        0,
        "echo hi",
        vec![AssignedParam {
            name: "pw".into(),
            value: "SECRET-in-a-newer-frame".into(),
            secret: true,
        }],
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    frame["from_the_future"] = serde_json::json!(true);
    conn.send_raw(frame.to_string());
    let deadline = tokio::time::Instant::now() + BOUND;
    while !worker.said().contains("ignored a frame") {
        assert!(tokio::time::Instant::now() < deadline, "{}", worker.said());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !worker.said().contains("SECRET-in-a-newer-frame"),
        "{}",
        worker.said()
    );
    worker.stops_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_stop_cancels_the_running_jobs_at_once() {
    let mut fake = fake().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let worker = start_worker_with(&fake.url, dir.path(), |o| {
        o.grace = Duration::from_secs(600);
    });
    let mut conn = fake.accept().await;
    conn.welcome(vec![]).await;
    conn.send(assign(0, "echo working; sleep 600", vec![]));
    let mut lines = BTreeMap::new();
    let mut stops = 0;
    let finished = loop {
        match conn.next().await {
            ClientMessage::Command {
                request_id,
                command: Command::ReportRunStarted { .. },
                ..
            } => {
                conn.ack_command(request_id);
                let _ = worker.stop.send(());
                stops = 1;
            }
            ClientMessage::Heartbeat { draining: true, .. } if stops == 1 => {
                let _ = worker.stop.send(());
                stops = 2;
            }
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines: got,
            } => {
                for line in got {
                    lines.insert(line.n, line);
                }
                conn.send(ServerMessage::LogAck { run_id, chunk });
            }
            ClientMessage::Command {
                request_id,
                command: finished @ Command::ReportRunFinished { .. },
                ..
            } => {
                conn.ack_command(request_id);
                break finished;
            }
            _ => {}
        }
    };
    assert_eq!(stops, 2);
    assert!(matches!(
        finished,
        Command::ReportRunFinished {
            end: RunEnd::Cancelled,
            ..
        }
    ));
    let result = timeout(BOUND, worker.task).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "the worker exits cleanly");
}
