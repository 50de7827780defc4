//! The log path of runs (issue 8) through a real server on port 0, real WebSockets and a real
//! redb file: a worker's chunks are stored and acknowledged once durable, re-sends are stored
//! once, gaps and wrong workers are refused, secrets and tokens never reach the store, the
//! per-run cap ends in a truncation line, the `log` query filters the whole log, followers get
//! every line exactly once and in order then `log_end` (as objects or, `compact`, as arrays), and
//! acknowledged lines survive `kill -9`.
//!
//! The runs service (jobs, assignment) is not part of this test: each run is written into the
//! store before the server starts (status `running`, held by the `builder` bot), and the end of a
//! run is what the writer does when a run reaches a final status: seal its log in a transaction,
//! then tell the log feed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use redb::ReadableTable;
use serde_json::json;
use tempfile::TempDir;
use warren_e2e::{Client, Server, connect_hello};
use warren_protocol::run::{Job, LogFilter, LogLine, LogStream, Run, RunStatus};
use warren_protocol::{ErrorCode, Id, Query, QueryResult, Role, ServerMessage};
use warren_server::limits::Limits;
use warren_server::runs::RunState;
use warren_server::runs::secrets::Secret;
use warren_server::service::workspace::{add_member, bootstrap};
use warren_server::store::tables::{JOBS, MEMBERS, RUN_NUMBERS, RUNS};
use warren_server::store::{Store, decode, encode};

/// An in-process server over a fresh store with an owner, a worker bot and an intruder.
struct Live {
    addr: std::net::SocketAddr,
    store: Store,
    runs: Arc<RunState>,
    ws: Id,
    owner: String,
    worker: String,
    intruder: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
    _dir: TempDir,
}

impl Live {
    async fn start(runs_wanted: u8, log_cap_bytes: Option<u64>) -> (Live, Vec<Id>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::create(dir.path()).expect("a store");
        let boot = bootstrap(&store, "ada", "Acme").expect("bootstrap");
        let ws = boot.workspace.id.clone();
        let (bot, worker) = add_member(&store, &ws, "builder", Role::Member).expect("a bot");
        let (_, intruder) = add_member(&store, &ws, "intruder", Role::Member).expect("another");
        let runs: Vec<Id> = (1..=runs_wanted)
            .map(|n| put_run(&store, &ws, &bot.id, u64::from(n)))
            .collect();
        let mut limits = Limits::default();
        if let Some(cap) = log_cap_bytes {
            limits.log_cap_bytes = cap;
        }
        let bound = warren_server::server::bind_store_with(store.clone(), "127.0.0.1:0", limits)
            .await
            .expect("bind");
        let addr = bound.local_addr;
        let state = bound.runs();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let _ = bound
                .run(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        let live = Live {
            addr,
            store,
            runs: state,
            ws,
            owner: boot.token.token.clone(),
            worker: worker.token.clone(),
            intruder: intruder.token.clone(),
            stop: Some(stop),
            served: Some(served),
            _dir: dir,
        };
        (live, runs)
    }

    /// Stops the server and waits until it has let go of the store.
    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            tokio::time::timeout(Duration::from_secs(20), served)
                .await
                .expect("the server stops")
                .expect("the server task");
        }
    }

    /// What the writer does when a run reaches a final status: seal its log with the run's new
    /// status in one transaction, then, once durable, tell the log feed.
    fn finish(&self, run_id: &Id, status: RunStatus) {
        let txn = self.store.begin_write().expect("write");
        {
            let mut table = txn.open_table(RUNS).expect("runs");
            let key = (self.ws.as_str(), run_id.as_str());
            let mut run: Run = decode(
                "runs",
                table.get(key).expect("get").expect("the run").value(),
            )
            .expect("decode");
            run.status = status;
            let bytes = encode("runs", &run).expect("encode");
            table.insert(key, bytes.as_slice()).expect("insert");
        }
        warren_server::logs::progress::seal(&txn, self.ws.as_str(), run_id.as_str()).expect("seal");
        txn.commit().expect("commit");
        self.runs.logs.end(run_id, status);
    }
}

/// Writes a job and a running run `r{number}` held by `worker` (as the runs service would after
/// assigning it).
fn put_run(store: &Store, ws: &Id, worker: &Id, number: u64) -> Id {
    let job = Job {
        id: Id::from_random("job", [number as u8; 10]),
        name: format!("build{number}"),
        command: "make".into(),
        description: String::new(),
        params: Vec::new(),
        timeout_secs: 60,
        retries: 0,
        tags: Vec::new(),
        protected: false,
        concurrency: None,
        created_by: worker.clone(),
        created_at: 1,
        updated_at: 1,
    };
    let run = Run {
        agent: None,
        parent_run_id: None,
        id: Id::from_random("run", [number as u8; 10]),
        number,
        job_id: job.id.clone(),
        job_name: job.name.clone(),
        params: Vec::new(),
        status: RunStatus::Running,
        requested_by: worker.clone(),
        card_id: None,
        room_id: None,
        retry_of: None,
        attempt: 1,
        worker_id: Some(worker.clone()),
        decided_by: None,
        created_at: 1,
        queued_at: Some(1),
        not_before: None,
        started_at: Some(2),
        finished_at: None,
        exit_code: None,
        reason: None,
        lines: 0,
        log_bytes: 0,
    };
    let txn = store.begin_write().expect("write");
    txn.open_table(JOBS)
        .expect("jobs")
        .insert(
            (ws.as_str(), job.id.as_str()),
            encode("jobs", &job).expect("job").as_slice(),
        )
        .expect("insert job");
    txn.open_table(RUNS)
        .expect("runs")
        .insert(
            (ws.as_str(), run.id.as_str()),
            encode("runs", &run).expect("run").as_slice(),
        )
        .expect("insert run");
    txn.open_table(RUN_NUMBERS)
        .expect("numbers")
        .insert((ws.as_str(), number), run.id.as_str())
        .expect("insert number");
    txn.commit().expect("commit");
    run.id
}

fn line(n: u64, text: String) -> LogLine {
    LogLine {
        n,
        ts: 1_700_000_000_000 + n as i64,
        stream: if n.is_multiple_of(3) {
            LogStream::Err
        } else {
            LogStream::Out
        },
        text,
        continued: false,
    }
}

/// Lines `first..first + count` with the default text.
fn numbered(first: u64, count: u64) -> Vec<LogLine> {
    (first..first + count)
        .map(|n| line(n, format!("line {n}")))
        .collect()
}

async fn send_chunk(client: &mut Client, run: &Id, chunk: u64, lines: &[LogLine]) {
    let frame = json!({"type": "log_chunk", "run_id": run, "chunk": chunk, "lines": lines});
    client.send_json(&frame).await.expect("send a chunk");
}

/// The answers to `run`'s chunk `chunk` that arrived so far.
fn answers(client: &Client, run: &Id, chunk: u64) -> Vec<ServerMessage> {
    client
        .run_frames
        .iter()
        .filter(|f| match f {
            ServerMessage::LogAck { run_id, chunk: c } => run_id == run && *c == chunk,
            ServerMessage::LogRefused {
                run_id, chunk: c, ..
            } => run_id == run && *c == chunk,
            _ => false,
        })
        .cloned()
        .collect()
}

/// Sends a chunk and waits for its (newest) answer.
async fn chunk_answer(
    client: &mut Client,
    run: &Id,
    chunk: u64,
    lines: &[LogLine],
) -> ServerMessage {
    let before = answers(client, run, chunk).len();
    send_chunk(client, run, chunk, lines).await;
    client
        .expect_until("the chunk's answer", |c| {
            answers(c, run, chunk).len() > before
        })
        .await;
    answers(client, run, chunk).pop().expect("an answer")
}

fn acked_chunks(client: &Client, run: &Id) -> BTreeSet<u64> {
    client
        .run_frames
        .iter()
        .filter_map(|f| match f {
            ServerMessage::LogAck { run_id, chunk } if run_id == run => Some(*chunk),
            ServerMessage::LogRefused { message, .. } => panic!("a chunk was refused: {message}"),
            _ => None,
        })
        .collect()
}

/// Streams lines up to `last_line` (made by `text`) in chunks of `per_chunk`, from the first
/// line and chunk not yet acknowledged, with up to 32 chunks unacknowledged, and waits for
/// every ack.
async fn stream(
    worker: &mut Client,
    run: &Id,
    last_line: u64,
    per_chunk: u64,
    text: impl Fn(u64) -> String,
) {
    const WINDOW: u64 = 32;
    let chunks = last_line.div_ceil(per_chunk);
    let mut sent = acked_chunks(worker, run).len() as u64;
    while sent < chunks || acked_chunks(worker, run).len() < chunks as usize {
        let acked = acked_chunks(worker, run).len() as u64;
        if sent < chunks && sent < acked + WINDOW {
            let first = sent * per_chunk + 1;
            let last = (first + per_chunk - 1).min(last_line);
            let lines: Vec<LogLine> = (first..=last).map(|n| line(n, text(n))).collect();
            send_chunk(worker, run, sent, &lines).await;
            sent += 1;
        } else {
            worker
                .read_until(Duration::from_secs(20), |c| {
                    acked_chunks(c, run).len() as u64 > acked
                })
                .await
                .expect("acks keep coming");
        }
    }
}

async fn log_page(
    client: &mut Client,
    run: &Id,
    from: u64,
    limit: u32,
    backward: bool,
    filter: Option<LogFilter>,
) -> (Vec<LogLine>, Option<u64>, u64) {
    let query = Query::Log {
        run_id: run.clone(),
        from,
        limit,
        backward,
        filter,
    };
    match client.query(&query).await {
        QueryResult::Log {
            lines,
            next,
            stored,
            ..
        } => (lines, next, stored),
        other => panic!("expected a log result, got {other:?}"),
    }
}

/// Every line the `log` query returns, paging forwards from line 1.
async fn whole_log(client: &mut Client, run: &Id, filter: Option<LogFilter>) -> Vec<LogLine> {
    let mut all = Vec::new();
    let mut from = 1;
    loop {
        let (lines, next, _) = log_page(client, run, from, 4096, false, filter.clone()).await;
        all.extend(lines);
        match next {
            Some(n) => from = n,
            None => return all,
        }
    }
}

#[tokio::test]
async fn chunks_are_acked_once_durable_and_resends_gaps_and_strangers_are_handled() {
    let (live, runs) = Live::start(2, None).await;
    let run = &runs[0];
    let mut worker = connect_hello(live.addr, &live.worker).await;
    let first = numbered(1, 3);
    let second = numbered(4, 3);
    assert!(matches!(
        chunk_answer(&mut worker, run, 0, &first).await,
        ServerMessage::LogAck { chunk: 0, .. }
    ));
    assert!(matches!(
        chunk_answer(&mut worker, run, 1, &second).await,
        ServerMessage::LogAck { chunk: 1, .. }
    ));
    // A re-send after a reconnect: acknowledged again, stored once.
    assert!(matches!(
        chunk_answer(&mut worker, run, 0, &first).await,
        ServerMessage::LogAck { chunk: 0, .. }
    ));
    // A gap: refused, with where to re-send from.
    match chunk_answer(&mut worker, run, 5, &numbered(7, 1)).await {
        ServerMessage::LogRefused { code, expected, .. } => {
            assert_eq!((code, expected), (ErrorCode::Conflict, Some(2)));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Lines that do not continue the numbering.
    match chunk_answer(&mut worker, run, 2, &numbered(9, 2)).await {
        ServerMessage::LogRefused { code, message, .. } => {
            assert_eq!(code, ErrorCode::Validation);
            assert!(message.contains("continue from 7"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Another member's chunk for this run, and a run that does not exist.
    let mut intruder = connect_hello(live.addr, &live.intruder).await;
    match chunk_answer(&mut intruder, run, 2, &numbered(7, 1)).await {
        ServerMessage::LogRefused { code, .. } => assert_eq!(code, ErrorCode::Forbidden),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let nowhere = Id::from_random("run", [99; 10]);
    match chunk_answer(&mut worker, &nowhere, 0, &numbered(1, 1)).await {
        ServerMessage::LogRefused { code, .. } => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Too many lines in one frame: validation, before the writer.
    match chunk_answer(&mut worker, run, 2, &numbered(7, 4097)).await {
        ServerMessage::LogRefused { code, .. } => assert_eq!(code, ErrorCode::Validation),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let mut viewer = connect_hello(live.addr, &live.owner).await;
    let stored = whole_log(&mut viewer, run, None).await;
    assert_eq!(stored, numbered(1, 6), "every line once, in order");
    // The run ends: its log takes no more lines, but a re-send of a stored chunk is still acked.
    live.finish(run, RunStatus::Succeeded);
    match chunk_answer(&mut worker, run, 2, &numbered(7, 1)).await {
        ServerMessage::LogRefused { code, message, .. } => {
            assert_eq!(code, ErrorCode::Conflict);
            assert!(message.contains("ended"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(
        chunk_answer(&mut worker, run, 1, &second).await,
        ServerMessage::LogAck { chunk: 1, .. }
    ));
    assert_eq!(whole_log(&mut viewer, run, None).await.len(), 6);
    // The other run's log is untouched and a client that follows nothing got no log frame.
    assert!(whole_log(&mut viewer, &runs[1], None).await.is_empty());
    viewer.ping(1).await.expect("ping");
    viewer
        .expect_until("the pong", |c| c.pongs.contains(&1))
        .await;
    assert!(viewer.run_frames.is_empty(), "{:?}", viewer.run_frames);
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_the_store_and_the_cap_truncates_once() {
    let (mut live, runs) = Live::start(2, Some(1000)).await;
    let secret = "hunter2-s3cr3t-value";
    let token = "wrn_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL";
    live.runs.secrets.put(
        &runs[0],
        vec![Secret {
            name: "api_key".into(),
            value: secret.into(),
        }],
    );
    let mut worker = connect_hello(live.addr, &live.worker).await;
    let mut viewer = connect_hello(live.addr, &live.owner).await;
    let id = viewer.next_request_id();
    viewer
        .send_json(&json!({"type": "log_subscribe", "request_id": id, "run_id": runs[0]}))
        .await
        .expect("subscribe");
    viewer
        .expect_until("log_synced", |c| c.has_answer(&id))
        .await;
    let lines = vec![
        line(1, format!("deploying with key {secret} now")),
        line(2, format!("export WARREN_TOKEN={token}")),
        line(3, format!("\u{1b}[31m{secret}\u{1b}[0m and {token}")),
    ];
    assert!(matches!(
        chunk_answer(&mut worker, &runs[0], 0, &lines).await,
        ServerMessage::LogAck { .. }
    ));
    let stored = whole_log(&mut viewer, &runs[0], None).await;
    let texts: Vec<&str> = stored.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "deploying with key *** now",
            "export WARREN_TOKEN=***",
            "\u{1b}[31m***\u{1b}[0m and ***"
        ]
    );
    viewer
        .expect_until("the live lines", |c| {
            c.run_frames
                .iter()
                .any(|f| matches!(f, ServerMessage::LogLines { lines, .. } if lines.len() == 3))
        })
        .await;
    let frames = format!("{:?}", viewer.run_frames);
    assert!(
        !frames.contains(secret) && !frames.contains(token),
        "{frames}"
    );

    // The cap (1000 bytes here): 10 lines of 100 bytes fit, the 11th becomes the truncation
    // line, the rest are dropped — and still acknowledged, so the worker carries on.
    let hundred = |n: u64| format!("{n:0>100}");
    stream(&mut worker, &runs[1], 30, 4, hundred).await;
    let capped = whole_log(&mut viewer, &runs[1], None).await;
    assert_eq!(capped.len(), 11, "{capped:?}");
    assert_eq!(
        capped[..10],
        (1..=10).map(|n| line(n, hundred(n))).collect::<Vec<_>>()[..]
    );
    assert_eq!(capped[10].n, 11);
    assert_eq!(capped[10].stream, LogStream::Sys);
    assert!(
        capped[10].text.contains("log truncated at 1000 bytes"),
        "{}",
        capped[10].text
    );
    let (_, _, stored) = log_page(&mut viewer, &runs[1], 1, 10, false, None).await;
    assert_eq!(stored, 11);

    // The redb file itself never held the secret or the token.
    viewer.close().await;
    worker.close().await;
    live.shutdown().await;
    let bytes = std::fs::read(live.store.path()).expect("the store file");
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(
        contains("deploying with key *** now"),
        "the lines are in the file"
    );
    assert!(!contains(secret), "the secret is in the store file");
    assert!(!contains(token), "the token is in the store file");
}

#[tokio::test]
async fn the_log_query_filters_the_whole_log_forwards_backwards_and_inverted() {
    let (live, runs) = Live::start(1, None).await;
    let run = &runs[0];
    let mut worker = connect_hello(live.addr, &live.worker).await;
    let text = |n: u64| {
        if n.is_multiple_of(1000) {
            format!("\u{1b}[1;31mERROR\u{1b}[0m step {n} failed")
        } else {
            format!("\u{1b}[32mok\u{1b}[0m step {n}")
        }
    };
    stream(&mut worker, run, 100_000, 1000, text).await;
    let mut viewer = connect_hello(live.addr, &live.owner).await;
    let errors = LogFilter {
        pattern: "^ERROR step".into(),
        invert: false,
    };
    let found = whole_log(&mut viewer, run, Some(errors.clone())).await;
    let numbers: Vec<u64> = found.iter().map(|l| l.n).collect();
    assert_eq!(numbers, (1..=100).map(|k| k * 1000).collect::<Vec<_>>());
    assert_eq!(found[0].text, text(1000), "lines keep their colours");

    let inverted = whole_log(
        &mut viewer,
        run,
        Some(LogFilter {
            invert: true,
            ..errors.clone()
        }),
    )
    .await;
    assert_eq!(inverted.len(), 99_900);
    assert!(inverted.windows(2).all(|w| w[0].n < w[1].n));
    assert!(inverted.iter().all(|l| !l.n.is_multiple_of(1000)));

    // Backwards from the end: the last lines, in line order, and where to go on.
    let (last, next, stored) = log_page(&mut viewer, run, 0, 10, true, None).await;
    assert_eq!(stored, 100_000);
    assert_eq!(
        last.iter().map(|l| l.n).collect::<Vec<_>>(),
        (99_991..=100_000).collect::<Vec<_>>()
    );
    assert_eq!(next, Some(99_990));
    let (before, _, _) = log_page(&mut viewer, run, 2500, 2, true, Some(errors.clone())).await;
    assert_eq!(before.iter().map(|l| l.n).collect::<Vec<_>>(), [1000, 2000]);
    // A page from the middle starts exactly at its line.
    let (middle, next, _) = log_page(&mut viewer, run, 54_321, 3, false, None).await;
    assert_eq!(
        middle.iter().map(|l| l.n).collect::<Vec<_>>(),
        [54_321, 54_322, 54_323]
    );
    assert_eq!(next, Some(54_324));

    // An invalid regex is a validation error that quotes the problem.
    let id = viewer.next_request_id();
    let bad = json!({"type": "query", "request_id": id, "query": {
        "type": "log", "run_id": run, "from": 1, "limit": 10,
        "filter": {"pattern": "(unclosed"}}});
    viewer.send_json(&bad).await.expect("send");
    match viewer.try_answer(&id).await {
        Ok(ServerMessage::Error { code, message, .. }) => {
            assert_eq!(code, ErrorCode::Validation);
            assert!(
                message.contains("(unclosed") && message.contains("unclosed group"),
                "{message}"
            );
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// Every line a follower received for `run`, in arrival order, and its `log_end`.
fn followed(client: &Client, run: &Id) -> (Vec<u64>, Option<(RunStatus, u64)>) {
    let mut numbers = Vec::new();
    let mut end = None;
    for frame in &client.run_frames {
        match frame {
            ServerMessage::LogLines { run_id, lines } if run_id == run => {
                assert!(end.is_none(), "lines after log_end");
                numbers.extend(lines.iter().map(|l| l.n));
            }
            ServerMessage::LogEnd {
                run_id,
                status,
                lines,
            } if run_id == run => end = Some((*status, *lines)),
            _ => {}
        }
    }
    (numbers, end)
}

fn ended(client: &Client, run: &Id) -> bool {
    client
        .run_frames
        .iter()
        .any(|f| matches!(f, ServerMessage::LogEnd { run_id, .. } if run_id == run))
}

#[tokio::test]
async fn followers_that_join_mid_stream_get_every_line_once_in_order_then_the_end() {
    const LINES: u64 = 20_000;
    let (live, runs) = Live::start(1, None).await;
    let run = runs[0].clone();
    let mut worker = connect_hello(live.addr, &live.worker).await;
    // The first quarter is stored before anyone follows.
    stream(&mut worker, &run, LINES / 4, 50, |n| format!("line {n}")).await;
    let mut viewers = Vec::new();
    for k in 0..10 {
        let mut viewer = connect_hello(live.addr, &live.owner).await;
        let id = viewer.next_request_id();
        let mut frame = json!({"type": "log_subscribe", "request_id": id, "run_id": run});
        if k == 1 {
            frame["filter"] = json!({"pattern": "7$"});
        }
        if k == 2 {
            frame["tail"] = json!(100);
        }
        // Lines as arrays: live (3), filtered (1), and caught up from the store (9).
        if matches!(k, 1 | 3 | 9) {
            frame["compact"] = json!(true);
        }
        viewer.send_json(&frame).await.expect("subscribe");
        viewer
            .expect_until("log_synced", |c| c.has_answer(&id))
            .await;
        viewers.push(viewer);
    }
    // The rest arrives live while the viewers read (viewer 9 reads nothing until the end: it
    // falls behind the feed and must catch up from the store).
    let rest = tokio::spawn(async move {
        stream(&mut worker, &run, LINES, 50, |n| format!("line {n}")).await;
        worker
    });
    for viewer in viewers.iter_mut().take(9) {
        // Reading concurrently with the worker: the live part.
        viewer
            .read_until(Duration::from_secs(30), |c| {
                followed(c, &runs[0])
                    .0
                    .last()
                    .is_some_and(|&n| n >= LINES / 2)
                    || c.run_frames.len() > 10_000
            })
            .await
            .ok();
    }
    let _worker = rest.await.expect("the worker");
    live.finish(&runs[0], RunStatus::Failed);
    for (k, viewer) in viewers.iter_mut().enumerate() {
        viewer
            .read_until(Duration::from_secs(30), |c| ended(c, &runs[0]))
            .await
            .unwrap_or_else(|e| panic!("viewer {k} got no log_end: {e:?}"));
        let (numbers, end) = followed(viewer, &runs[0]);
        assert_eq!(end, Some((RunStatus::Failed, LINES)), "viewer {k}");
        let expected: Vec<u64> = match k {
            1 => (1..=LINES).filter(|n| n % 10 == 7).collect(),
            2 => (LINES / 4 - 99..=LINES).collect(),
            _ => (1..=LINES).collect(),
        };
        assert_eq!(numbers.len(), expected.len(), "viewer {k}");
        let texts_match = viewer.run_frames.iter().all(|f| match f {
            ServerMessage::LogLines { lines, .. } => {
                lines.iter().all(|l| l.text == format!("line {}", l.n))
            }
            _ => true,
        });
        assert!(texts_match, "viewer {k}: a line's text is not its own");
        assert!(
            numbers == expected,
            "viewer {k}: lines missing, repeated or out of order"
        );
    }
    // Following a finished run: the stored lines, log_synced, then log_end at once.
    let mut late = connect_hello(live.addr, &live.owner).await;
    let id = late.next_request_id();
    late.send_json(&json!({"type": "log_subscribe", "request_id": id, "run_id": runs[0], "from_line": LINES - 4}))
        .await
        .expect("subscribe");
    late.expect_until("log_end", |c| ended(c, &runs[0])).await;
    assert_eq!(
        followed(&late, &runs[0]),
        (
            (LINES - 4..=LINES).collect(),
            Some((RunStatus::Failed, LINES))
        )
    );
}

#[tokio::test]
async fn every_acknowledged_line_survives_kill_9() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let worker_token = server.add_member("builder", "member").await;
    let run = {
        let store = Store::open(&server.data_dir()).expect("open the store");
        let (ws, worker_id) = {
            let txn = store.begin_read().expect("read");
            let table = txn.open_table(MEMBERS).expect("members");
            let mut found = None;
            for row in table.iter().expect("iter") {
                let (key, value) = row.expect("row");
                let member: warren_protocol::Member =
                    decode("members", value.value()).expect("member");
                if member.name == "builder" {
                    let (ws, user) = key.value();
                    found = Some((Id::parse(ws).expect("id"), Id::parse(user).expect("id")));
                }
            }
            found.expect("the builder")
        };
        put_run(&store, &ws, &worker_id, 1)
    };
    server.restart().await;
    let mut worker = connect_hello(server.addr, &worker_token).await;
    // Many chunks in flight; kill the server while acks are still coming.
    for chunk in 0..400u64 {
        send_chunk(&mut worker, &run, chunk, &numbered(chunk * 100 + 1, 100)).await;
    }
    worker
        .read_until(Duration::from_secs(20), |c| {
            acked_chunks(c, &run).len() >= 50
        })
        .await
        .expect("acks");
    server.kill_9().await;
    let _ = worker.read_until(Duration::from_secs(5), |_| false).await;
    let acked = acked_chunks(&worker, &run);
    let highest = *acked.iter().max().expect("acks");
    assert_eq!(
        acked.len() as u64,
        highest + 1,
        "acks come in order of chunks"
    );
    server.restart().await;
    let mut viewer = connect_hello(server.addr, &server.token).await;
    let lines = whole_log(&mut viewer, &run, None).await;
    assert!(
        lines.len() as u64 >= (highest + 1) * 100,
        "{} lines stored, {} acknowledged",
        lines.len(),
        (highest + 1) * 100
    );
    assert_eq!(
        lines,
        numbered(1, lines.len() as u64),
        "gap-free, in order, as sent"
    );
    // The worker reconnects and re-sends from its first unacknowledged chunk: stored once.
    let mut worker = connect_hello(server.addr, &worker_token).await;
    for chunk in highest + 1..400 {
        send_chunk(&mut worker, &run, chunk, &numbered(chunk * 100 + 1, 100)).await;
    }
    worker
        .read_until(Duration::from_secs(20), |c| {
            acked_chunks(c, &run).len() as u64 == 400 - highest - 1
        })
        .await
        .expect("every re-sent chunk acked");
    assert_eq!(
        whole_log(&mut viewer, &run, None).await,
        numbered(1, 40_000)
    );
}

#[tokio::test]
async fn a_follower_that_falls_far_behind_rereads_the_store_and_an_unsubscribed_one_gets_nothing() {
    const CHUNKS: u64 = 1000;
    const PER_CHUNK: u64 = 10;
    let (live, runs) = Live::start(1, None).await;
    let run = runs[0].clone();
    // A viewer with a tiny receive window that reads nothing while 10 MB of lines go by: its
    // follow task blocks, the live feed (256 items) runs past it, and it must re-read the store.
    let options = warren_e2e::client::ConnectOptions {
        authorization: Some(format!("Bearer {}", live.owner)),
        recv_buffer: Some(4096),
    };
    let mut slow = warren_e2e::client::connect_with(live.addr, &options)
        .await
        .expect("connect");
    slow.hello().await;
    let id = slow.next_request_id();
    slow.send_json(&json!({"type": "log_subscribe", "request_id": id, "run_id": run}))
        .await
        .expect("subscribe");
    slow.expect_until("log_synced", |c| c.has_answer(&id)).await;
    // Another viewer subscribes and unsubscribes before any line exists.
    let mut gone = connect_hello(live.addr, &live.owner).await;
    let id = gone.next_request_id();
    gone.send_json(&json!({"type": "log_subscribe", "request_id": id, "run_id": run}))
        .await
        .expect("subscribe");
    gone.expect_until("log_synced", |c| c.has_answer(&id)).await;
    gone.send_json(&json!({"type": "log_unsubscribe", "run_id": run}))
        .await
        .expect("unsubscribe");
    gone.ping(7).await.expect("ping");
    gone.expect_until("the pong", |c| c.pongs.contains(&7))
        .await;

    let mut worker = connect_hello(live.addr, &live.worker).await;
    let wide = |n: u64| format!("{n:>1000}");
    stream(&mut worker, &run, CHUNKS * PER_CHUNK, PER_CHUNK, wide).await;
    live.finish(&run, RunStatus::Succeeded);
    slow.read_until(Duration::from_secs(60), |c| ended(c, &run))
        .await
        .expect("the slow viewer gets to log_end");
    let (numbers, end) = followed(&slow, &run);
    assert_eq!(end, Some((RunStatus::Succeeded, CHUNKS * PER_CHUNK)));
    assert!(
        numbers == (1..=CHUNKS * PER_CHUNK).collect::<Vec<_>>(),
        "{} lines, missing, repeated or out of order",
        numbers.len()
    );
    gone.ping(8).await.expect("ping");
    gone.expect_until("the pong", |c| c.pongs.contains(&8))
        .await;
    assert!(gone.run_frames.is_empty(), "{:?}", gone.run_frames.len());
}

#[tokio::test]
async fn the_continued_flag_survives_the_store_the_query_and_followers() {
    let (live, runs) = Live::start(1, None).await;
    let run = &runs[0];
    let mut worker = connect_hello(live.addr, &live.worker).await;
    // A follower that gets the lines live, before they are sent.
    let mut viewer = connect_hello(live.addr, &live.owner).await;
    let id = viewer.next_request_id();
    viewer
        .send_json(&json!({"type": "log_subscribe", "request_id": id, "run_id": run}))
        .await
        .expect("subscribe");
    viewer
        .expect_until("log_synced", |c| c.has_answer(&id))
        .await;
    let cut = |n: u64, text: &str, continued: bool| LogLine {
        stream: LogStream::Out,
        continued,
        ..line(n, text.to_owned())
    };
    let lines = vec![
        cut(1, "begin", false),
        cut(2, "a long line, cut", false),
        cut(3, " and its rest", true),
        cut(4, " and more", true),
        cut(5, "next", false),
    ];
    assert!(matches!(
        chunk_answer(&mut worker, run, 0, &lines).await,
        ServerMessage::LogAck { chunk: 0, .. }
    ));
    let flags = |got: &[LogLine]| got.iter().map(|l| l.continued).collect::<Vec<_>>();
    let expected = vec![false, false, true, true, false];
    assert_eq!(whole_log(&mut viewer, run, None).await, lines, "the query");
    let filtered = Some(LogFilter {
        pattern: "and".into(),
        invert: false,
    });
    assert_eq!(
        flags(&whole_log(&mut viewer, run, filtered).await),
        [true, true],
        "a filtered query"
    );
    let live_lines = |c: &Client| -> Vec<LogLine> {
        c.run_frames
            .iter()
            .filter_map(|f| match f {
                ServerMessage::LogLines { run_id, lines } if run_id == run => Some(lines.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    };
    viewer
        .expect_until("the live lines", |c| live_lines(c).len() >= 5)
        .await;
    assert_eq!(flags(&live_lines(&viewer)), expected, "live lines");
    // A follower that reads them from the store.
    let mut late = connect_hello(live.addr, &live.owner).await;
    let id = late.next_request_id();
    late.send_json(&json!({"type": "log_subscribe", "request_id": id, "run_id": run}))
        .await
        .expect("subscribe");
    late.expect_until("log_synced", |c| c.has_answer(&id)).await;
    assert_eq!(flags(&live_lines(&late)), expected, "stored lines followed");
}
