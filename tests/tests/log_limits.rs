//! Limits on the log path against a real in-process server on port 0, real WebSockets and a
//! real redb file: a worker token over its log-text budget is refused with `rate_limited` and a
//! wait, and a worker that honours the wait still stores its whole log; a `log_subscribe` storm
//! is limited per token; and a cancel that the worker never confirms is ended by the server at
//! the deadline (log sealed, secrets forgotten), after which the worker's late report is taken
//! without another transition.

#[path = "support/runs.rs"]
mod runs_support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;
use tokio::time::Instant;
use warren_e2e::raw::metric;
use warren_e2e::{Client, connect_hello};
use warren_protocol::run::{LogLine, LogStream, ParamKind, RunEnd, RunStatus};
use warren_protocol::{Command, ErrorCode, Id, Query, QueryResult, Role, ServerMessage};
use warren_server::limits::Limits;
use warren_server::rate_limit::RateLimits;
use warren_server::runs::RunState;
use warren_server::service::workspace::{add_member, bootstrap};
use warren_server::store::Store;

use runs_support::*;

/// An in-process server with an owner and one worker bot.
struct Live {
    addr: std::net::SocketAddr,
    runs: Arc<RunState>,
    owner: String,
    bot: String,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: TempDir,
}

async fn live(limits: Limits) -> Live {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::create(dir.path()).expect("a store");
    let boot = bootstrap(&store, "ada", "Acme").expect("bootstrap");
    let (_, bot) = add_member(&store, &boot.workspace.id, "w1", Role::Bot).expect("a bot");
    let bound = warren_server::server::bind_store_with(store, "127.0.0.1:0", limits)
        .await
        .expect("bind");
    let addr = bound.local_addr;
    let runs = bound.runs();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = bound
            .run(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Live {
        addr,
        runs,
        owner: boot.token.token.clone(),
        bot: bot.token.clone(),
        _stop: stop,
        _dir: dir,
    }
}

/// A job `name` (with a secret parameter `key`), a run of it, and the bot as its worker:
/// returns (owner subscribed, worker, run id) once the run is `running`.
async fn running_run(live: &Live, params: &[(&str, &str)]) -> (Client, Client, Id) {
    let mut ada = connect_hello(live.addr, &live.owner).await;
    ada.subscribe(None).await;
    let job_id = create_job(
        &mut ada,
        job(
            "build",
            vec![param("key", ParamKind::Secret, &[], None)],
            &[],
        ),
    )
    .await;
    let mut worker = connect_hello(live.addr, &live.bot).await;
    worker_hello(&mut worker, &[], 1, &[]).await;
    let run = start_run(&mut ada, start(&job_id, params, None)).await;
    let (assigned, _) = nth_assign(&mut worker, 1).await;
    assert_eq!(assigned.id, run.id);
    report_started(&mut worker, &run.id).await;
    (ada, worker, run.id)
}

/// Chunk `chunk` of `per` lines of about 1 KB each (lines numbered from 1 without gaps).
fn chunk_lines(chunk: u64, per: u64) -> Vec<LogLine> {
    (chunk * per + 1..=(chunk + 1) * per)
        .map(|n| LogLine {
            continued: false,
            n,
            ts: 1_795_264_891_000,
            stream: LogStream::Out,
            text: format!("{n:08} {}", "x".repeat(1000)),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_log_budget_is_told_to_wait_and_its_log_still_completes() {
    // 1 MiB a second with bursts of 1 MiB; the worker sends about 3 MiB at once, 32 in flight.
    let live = live(Limits {
        rates: RateLimits {
            log_mib_per_second: 1.0,
            log_burst_mib: 1,
            ..RateLimits::default()
        },
        ..Limits::default()
    })
    .await;
    let (mut ada, mut worker, run) = running_run(&live, &[("key", "sekrit-value-1")]).await;
    let (chunks, per) = (48u64, 64u64);

    let mut acked = BTreeSet::new();
    let mut in_flight = BTreeSet::new();
    let mut refusals: Vec<(u64, Option<u64>)> = Vec::new();
    let mut paused_until: Option<Instant> = None;
    let mut seen = worker.run_frames.len();
    let began = Instant::now();
    let give_up = began + Duration::from_secs(60);
    while (acked.len() as u64) < chunks {
        assert!(
            Instant::now() < give_up,
            "the log never completed: {acked:?}"
        );
        if paused_until.is_none_or(|t| Instant::now() >= t) {
            paused_until = None;
            for c in 0..chunks {
                if in_flight.len() >= 32 {
                    break;
                }
                if acked.contains(&c) || in_flight.contains(&c) {
                    continue;
                }
                let frame = json!({"type": "log_chunk", "run_id": run, "chunk": c, "lines": chunk_lines(c, per)});
                worker.send_json(&frame).await.expect("send a chunk");
                in_flight.insert(c);
            }
        }
        let wait = paused_until
            .map_or(Duration::from_millis(500), |t| {
                t.saturating_duration_since(Instant::now())
            })
            .max(Duration::from_millis(1));
        let before = seen;
        let _ = worker
            .read_until(wait, |c| c.run_frames.len() > before)
            .await;
        for frame in &worker.run_frames[seen..] {
            match frame {
                ServerMessage::LogAck { run_id, chunk } if *run_id == run => {
                    acked.insert(*chunk);
                    in_flight.remove(chunk);
                }
                ServerMessage::LogRefused {
                    run_id,
                    chunk,
                    code: ErrorCode::RateLimited,
                    retry_after_ms,
                    message,
                    ..
                } if *run_id == run => {
                    assert!(message.contains("MiB a second"), "{message}");
                    in_flight.remove(chunk);
                    refusals.push((*chunk, *retry_after_ms));
                    let ms =
                        retry_after_ms.expect("a refusal for the budget says how long to wait");
                    let until = Instant::now() + Duration::from_millis(ms);
                    paused_until = Some(paused_until.map_or(until, |t| t.max(until)));
                }
                ServerMessage::LogRefused { code, message, .. } => {
                    panic!("refused other than for the budget: {code}: {message}")
                }
                _ => {}
            }
        }
        seen = worker.run_frames.len();
    }
    println!(
        "{chunks} chunks of {per} lines (~64 KB each) stored in {:?} at 1 MiB/s with bursts of 1 MiB: {} refusals",
        began.elapsed(),
        refusals.len()
    );
    assert!(
        !refusals.is_empty(),
        "3 MiB at once must pass a 1 MiB budget's burst"
    );
    assert!(
        refusals
            .iter()
            .all(|(_, ms)| ms.is_some_and(|ms| (1..=2_000).contains(&ms))),
        "{refusals:?}"
    );
    assert!(metric(live.addr, "warren_rate_limited_total").await >= refusals.len() as u64);

    // The whole log is stored: the finish report's line count is reached, and the last line
    // is the last one sent.
    let lines = chunks * per;
    let ack = worker
        .command(&Command::ReportRunFinished {
            run_id: run.clone(),
            end: RunEnd::Succeeded,
            exit_code: Some(0),
            reason: None,
            lines,
        })
        .await;
    assert!(ack.seq > 0);
    let QueryResult::Log {
        lines: got,
        stored,
        finished,
        ..
    } = ada
        .query(&Query::Log {
            run_id: run.clone(),
            from: lines - 1,
            limit: 10,
            backward: false,
            filter: None,
        })
        .await
    else {
        panic!("a log page")
    };
    assert_eq!((stored, finished), (lines, true));
    assert_eq!(
        got.iter().map(|l| l.n).collect::<Vec<_>>(),
        vec![lines - 1, lines]
    );
    assert!(got[1].text.starts_with(&format!("{lines:08} ")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_subscribe_storm_is_limited_per_token() {
    let live = live(Limits {
        rates: RateLimits {
            log_subscribes_per_second: 1.0,
            log_subscribes_burst: 3,
            ..RateLimits::default()
        },
        ..Limits::default()
    })
    .await;
    let (mut ada, _worker, run) = running_run(&live, &[("key", "sekrit-value-1")]).await;
    let before = metric(live.addr, "warren_rate_limited_total").await;

    // Ten runs that do not exist (a second subscription to one run would replace the first,
    // which then never answers): each gets an answer, `not_found` or `rate_limited`.
    let mut ids = Vec::new();
    for n in 0..10u8 {
        let id = ada.next_request_id();
        let other = Id::from_random("run", [100 + n; 10]);
        ada.send_json(&json!({"type": "log_subscribe", "request_id": id, "run_id": other}))
            .await
            .expect("send log_subscribe");
        ids.push(id);
    }
    ada.expect_until("an answer to every log_subscribe", |c| {
        ids.iter().all(|id| c.has_answer(id))
    })
    .await;
    let (mut synced, mut limited) = (0, 0);
    let mut wait = 0;
    for id in &ids {
        match ada.take_answer(id) {
            Some(ServerMessage::Error {
                code: ErrorCode::NotFound,
                ..
            }) => synced += 1,
            Some(ServerMessage::Error {
                code: ErrorCode::RateLimited,
                retry_after_ms,
                message,
                ..
            }) => {
                assert!(message.contains("follow logs"), "{message}");
                wait = retry_after_ms.expect("a wait");
                limited += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    // Three at once, then one a second: ten sent within a second get three or four through.
    assert!((3..=4).contains(&synced), "{synced} followed");
    assert_eq!(synced + limited, 10);
    assert!(metric(live.addr, "warren_rate_limited_total").await >= before + limited);

    // After the wait, the next one goes through.
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let id = ada.next_request_id();
    ada.send_json(&json!({"type": "log_subscribe", "request_id": id, "run_id": run}))
        .await
        .expect("send log_subscribe");
    match ada.try_answer(&id).await.expect("an answer") {
        ServerMessage::LogSynced { .. } => {}
        other => panic!("expected log_synced after the wait, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_the_worker_never_confirms_is_ended_by_the_server_at_the_deadline() {
    let live = live(Limits {
        cancel_deadline: Duration::from_millis(1500),
        worker_heartbeat_secs: 1,
        ..Limits::default()
    })
    .await;
    let secret = "sk-cancel-deadline-4f9a";
    let (mut ada, mut worker, run) = running_run(&live, &[("key", secret)]).await;
    let line = |n: u64| LogLine {
        continued: false,
        n,
        ts: 1,
        stream: LogStream::Out,
        text: format!("line {n}"),
    };
    let frame = json!({"type": "log_chunk", "run_id": run, "chunk": 0, "lines": [line(1)]});
    worker.send_json(&frame).await.expect("a chunk");
    worker
        .expect_until("chunk 0 acked", |c| {
            c.run_frames
                .iter()
                .any(|f| matches!(f, ServerMessage::LogAck { chunk: 0, .. }))
        })
        .await;

    ada.command(&Command::CancelRun {
        run_id: run.clone(),
        reason: Some("wrong branch".into()),
    })
    .await;
    worker
        .expect_until("cancel_run", |c| cancels(c).contains(&run))
        .await;
    assert!(
        live.runs.secrets.get(&run).is_some(),
        "kept until the worker confirms or the deadline passes"
    );
    // The worker stays connected and heartbeats, but never reports the cancel.
    let cancelled_at = Instant::now();
    let ended = loop {
        assert!(
            cancelled_at.elapsed() < Duration::from_secs(20),
            "the server never ended the unconfirmed cancel"
        );
        worker
            .send_json(&json!({"type": "heartbeat"}))
            .await
            .expect("heartbeat");
        let _ = ada
            .read_until(Duration::from_millis(300), |c| {
                latest(c, &run).is_some_and(|r| {
                    r.reason
                        .as_deref()
                        .is_some_and(|r| r.contains("did not confirm"))
                })
            })
            .await;
        if let Some(r) = latest(&ada, &run).filter(|r| {
            r.reason
                .as_deref()
                .is_some_and(|r| r.contains("did not confirm"))
        }) {
            break r;
        }
    };
    assert!(
        cancelled_at.elapsed() >= Duration::from_millis(1400),
        "not before the deadline"
    );
    assert_eq!(ended.status, RunStatus::Cancelled);
    assert_eq!(ended.lines, 1, "the log ends where it was: {ended:?}");
    let reason = ended.reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("cancelled: wrong branch")
            && reason.contains("1.5 s")
            && reason.contains("the server ended"),
        "{reason}"
    );
    // Forgotten once the batch that ended the run is durable (just after its event went out).
    let forgetting = Instant::now();
    while live.runs.secrets.get(&run).is_some() {
        assert!(
            forgetting.elapsed() < Duration::from_secs(5),
            "its secrets are forgotten"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!everything(&ada).contains(secret));

    // The log is sealed: a chunk after the deadline is refused, not stored.
    let frame = json!({"type": "log_chunk", "run_id": run, "chunk": 1, "lines": [line(2)]});
    worker.send_json(&frame).await.expect("a late chunk");
    worker
        .expect_until("the late chunk's answer", |c| {
            c.run_frames.iter().any(|f| {
                matches!(
                    f,
                    ServerMessage::LogRefused {
                        chunk: 1,
                        code: ErrorCode::Conflict,
                        ..
                    }
                )
            })
        })
        .await;

    // The worker's late report is taken as it stands: acknowledged, no other transition, the
    // server's reason and the sealed line count kept.
    let ack = worker.command(&finished_with_lines(&run, 2)).await;
    let warren_protocol::Change::RunUpdated { run: after, from } = ack.event.change else {
        panic!("a run_updated")
    };
    assert_eq!(
        (from, after.status),
        (RunStatus::Cancelled, RunStatus::Cancelled)
    );
    assert_eq!(after.exit_code, Some(143));
    assert_eq!(after.lines, 1);
    assert_eq!(after.reason.as_deref(), Some(reason.as_str()));
    // Reported again (a new request id): still no error and no change of status.
    let again = worker.command(&finished_with_lines(&run, 2)).await;
    let warren_protocol::Change::RunUpdated { run: again, .. } = again.event.change else {
        panic!("a run_updated")
    };
    assert_eq!(again.status, RunStatus::Cancelled);
}

fn finished_with_lines(run: &Id, lines: u64) -> Command {
    Command::ReportRunFinished {
        run_id: run.clone(),
        end: RunEnd::Cancelled,
        exit_code: Some(143),
        reason: None,
        lines,
    }
}
