//! The streaming relay of agent runs against a real server over real WebSockets: the worker
//! holding an agent run sends `agent_delta` frames (spoken by hand here), watchers of the run
//! or of its room get `run_watching` with the text so far and then every delta in order; a late
//! watcher gets the partial, two watchers see the same text, a delta from anyone but the run's
//! worker is refused, a watcher that does not read loses deltas but never sees a gap, and text
//! past the worker token's budget is not relayed.
//!
//! Until agent runs are assigned by the server (`ask_agent`), the agent run is made from a job
//! run held by the fake worker: the server is stopped, the run's record in the redb file gets an
//! `agent` part, and the server starts again on the same store.

#[path = "support/runs.rs"]
mod runs_support;

use redb::{ReadableDatabase, TableDefinition};
use serde_json::json;
use warren_e2e::client::{Client, ConnectOptions, connect_with};
use warren_e2e::raw::metric;
use warren_e2e::{Fixture, Server, connect_hello};
use warren_protocol::run::{HeldRun, Run};
use warren_protocol::{ErrorCode, Id, ServerMessage};

use runs_support::*;

/// The counter of refusals by rate limits.
const RATE_LIMITED: &str = "warren_rate_limited_total";

const RUNS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("runs: (workspace_id, run_id) -> run");

/// A running agent run held by a fake worker that said `"agents": true`.
struct Scenario {
    server: Server,
    ada: Client,
    worker: Client,
    run: Run,
    room: Id,
    /// A member's token, for a second watcher.
    mira: String,
    /// Another worker bot's token.
    other_bot: String,
}

/// Gives the stored run an `agent` part (the server is stopped).
fn make_agent_run(data: &std::path::Path, workspace: &Id, run: &Run) {
    let db = redb::Database::open(data.join("warren.redb")).expect("open the store");
    let key = (workspace.as_str(), run.id.as_str());
    let mut value: serde_json::Value = {
        let txn = db.begin_read().expect("read");
        let table = txn.open_table(RUNS).expect("runs table");
        let bytes = table.get(key).expect("get").expect("the run is stored");
        serde_json::from_slice(bytes.value()).expect("a run record")
    };
    value["agent"] = json!({"agent_id": run.job_id.as_str(), "prompt": "what blocks the release?"});
    let txn = db.begin_write().expect("write");
    {
        let mut table = txn.open_table(RUNS).expect("runs table");
        let bytes = serde_json::to_vec(&value).expect("json");
        table.insert(key, bytes.as_slice()).expect("insert");
    }
    txn.commit().expect("commit");
}

async fn agent_worker_hello(worker: &mut Client, held: &[HeldRun]) {
    worker
        .send_json(&json!({
            "type": "worker_hello",
            "concurrency": 2,
            "held": held,
            "agents": true,
        }))
        .await
        .expect("send worker_hello");
    worker
        .expect_until("worker_welcome", |c| {
            c.run_frames
                .iter()
                .any(|f| matches!(f, ServerMessage::WorkerWelcome { .. }))
        })
        .await;
}

async fn scenario() -> Scenario {
    scenario_with(&[]).await
}

/// [`scenario`] on a server started with `serve_args`.
async fn scenario_with(serve_args: &[&str]) -> Scenario {
    let mut server = Server::start_with(serve_args).await;
    server.kill_9().await;
    let bot = server.add_member("ci", "bot").await;
    let other_bot = server.add_member("other", "bot").await;
    let mira = server.add_member("mira", "member").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let room = Fixture::from_state(&ada.snapshot().await).room;
    let job_id = create_job(&mut ada, job("reviewer", vec![], &[])).await;
    let mut worker = connect_hello(server.addr, &bot).await;
    agent_worker_hello(&mut worker, &[]).await;
    let run = start_run(&mut ada, start(&job_id, &[], Some(&room))).await;
    nth_assign(&mut worker, 1).await;
    report_started(&mut worker, &run.id).await;
    let workspace = ada.workspace();

    server.kill_9().await;
    make_agent_run(&server.data_dir(), &workspace, &run);
    server.restart().await;
    let ada = connect_hello(server.addr, &server.token).await;
    let mut worker = connect_hello(server.addr, &bot).await;
    agent_worker_hello(
        &mut worker,
        &[HeldRun {
            run_id: run.id.clone(),
            next_chunk: 0,
        }],
    )
    .await;
    Scenario {
        server,
        ada,
        worker,
        run,
        room,
        mira,
        other_bot,
    }
}

async fn delta(worker: &mut Client, run: &Id, step: u32, offset: u64, text: &str) {
    worker
        .send_json(&json!({
            "type": "agent_delta",
            "run_id": run.as_str(),
            "step": step,
            "offset": offset,
            "text": text,
        }))
        .await
        .expect("send agent_delta");
}

/// `run_watch` of a run or a room; returns the partials of the answer.
async fn watch(c: &mut Client, target: (&str, &Id)) -> Vec<(Id, u32, String)> {
    let request_id = c.next_request_id();
    c.send_json(
        &json!({"type": "run_watch", "request_id": request_id, target.0: target.1.as_str()}),
    )
    .await
    .expect("send run_watch");
    match c.try_answer(&request_id).await {
        Ok(ServerMessage::RunWatching { partials, .. }) => partials
            .into_iter()
            .map(|p| (p.run_id, p.step, p.text))
            .collect(),
        other => panic!("expected run_watching, got {other:?}"),
    }
}

/// The deltas `c` received: (step, offset, text).
fn deltas(c: &Client) -> Vec<(u32, u64, String)> {
    c.run_frames
        .iter()
        .filter_map(|f| match f {
            ServerMessage::AgentDelta {
                step, offset, text, ..
            } => Some((*step, *offset, text.clone())),
            _ => None,
        })
        .collect()
}

/// Checks that the deltas of `step` continue `start` (its length) without a gap; returns the
/// whole text.
fn joined(deltas: &[(u32, u64, String)], step: u32, start: &str) -> String {
    let mut text = start.to_owned();
    for (_, offset, piece) in deltas.iter().filter(|d| d.0 == step) {
        assert_eq!(
            *offset,
            text.len() as u64,
            "a gap or an overlap in {deltas:?}"
        );
        text.push_str(piece);
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_watcher_gets_the_partial_then_the_same_text_as_an_early_one() {
    let Scenario {
        server,
        mut ada,
        mut worker,
        run,
        room,
        mira,
        ..
    } = scenario().await;
    assert!(watch(&mut ada, ("run_id", &run.id)).await.is_empty());
    let pieces = [
        "The release ",
        "waits on ",
        "card #12, ",
        "which is ",
        "not done.",
    ];
    let mut offset = 0;
    for piece in &pieces[..2] {
        delta(&mut worker, &run.id, 1, offset, piece).await;
        offset += piece.len() as u64;
    }
    ada.expect_until("two deltas", |c| deltas(c).len() == 2)
        .await;

    let mut mira = connect_hello(server.addr, &mira).await;
    let partials = watch(&mut mira, ("room_id", &room)).await;
    assert_eq!(
        partials,
        vec![(run.id.clone(), 1, "The release waits on ".to_owned())]
    );
    for piece in &pieces[2..] {
        delta(&mut worker, &run.id, 1, offset, piece).await;
        offset += piece.len() as u64;
    }
    ada.expect_until("every delta", |c| deltas(c).len() == pieces.len())
        .await;
    mira.expect_until("the live deltas", |c| deltas(c).len() == 3)
        .await;
    let whole = pieces.concat();
    assert_eq!(joined(&deltas(&ada), 1, ""), whole);
    assert_eq!(joined(&deltas(&mira), 1, &partials[0].2), whole);

    // Unwatched: nothing more reaches ada, while mira's watch of the room goes on.
    ada.send_json(&json!({"type": "run_unwatch", "run_id": run.id.as_str()}))
        .await
        .expect("send run_unwatch");
    // A ping answered means the unwatch was handled (frames are read in order).
    ada.ping(7).await.expect("ping");
    ada.expect_until("pong", |c| c.pongs.contains(&7)).await;
    delta(&mut worker, &run.id, 1, offset, " Soon.").await;
    mira.expect_until("the delta after the unwatch", |c| deltas(c).len() == 4)
        .await;
    // Watching again answers through the same queue as the deltas, so one relayed before
    // would have arrived before this answer.
    let again = watch(&mut ada, ("run_id", &run.id)).await;
    assert_eq!(again[0].2, format!("{whole} Soon."));
    assert_eq!(
        deltas(&ada).len(),
        pieces.len(),
        "no delta after the unwatch"
    );
    assert!(worker.loose_errors.is_empty(), "{:?}", worker.loose_errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deltas_from_anyone_but_the_runs_worker_or_out_of_order_are_not_relayed() {
    let Scenario {
        server,
        mut ada,
        mut worker,
        run,
        other_bot,
        ..
    } = scenario().await;
    watch(&mut ada, ("run_id", &run.id)).await;

    // A member who is not a worker.
    delta(&mut ada, &run.id, 1, 0, "forged by a person").await;
    ada.expect_until("a refusal", |c| !c.loose_errors.is_empty())
        .await;
    assert_eq!(
        ada.loose_errors[0].0,
        ErrorCode::Forbidden,
        "{:?}",
        ada.loose_errors
    );
    assert!(
        ada.loose_errors[0].1.contains("worker"),
        "{:?}",
        ada.loose_errors
    );

    // Another worker.
    let mut other = connect_hello(server.addr, &other_bot).await;
    agent_worker_hello(&mut other, &[]).await;
    delta(&mut other, &run.id, 1, 0, "forged by a worker").await;
    other
        .expect_until("a refusal", |c| !c.loose_errors.is_empty())
        .await;
    assert_eq!(other.loose_errors[0].0, ErrorCode::Forbidden);
    assert!(other.loose_errors[0].1.contains("not held by this worker"));

    // The run's worker, out of order: a step must start at 0 and continue exactly.
    delta(&mut worker, &run.id, 1, 5, "a gap").await;
    delta(&mut worker, &run.id, 1, 0, "Yes").await;
    delta(&mut worker, &run.id, 1, 1, "es").await;
    delta(&mut worker, &run.id, 1, 3, ".").await;
    ada.expect_until("the real text", |c| deltas(c).iter().any(|d| d.2 == "."))
        .await;
    assert_eq!(
        deltas(&ada),
        vec![(1, 0, "Yes".to_owned()), (1, 3, ".".to_owned())],
        "only the deltas that continue the text, and nothing forged"
    );
    assert!(worker.loose_errors.is_empty(), "deltas are never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_does_not_read_loses_deltas_but_never_sees_a_gap() {
    let Scenario {
        server,
        mut ada,
        mut worker,
        run,
        mira,
        ..
    } = scenario_with(&["--delta-kib-per-second", "0"]).await;
    let mut slow = connect_with(
        server.addr,
        &ConnectOptions {
            authorization: Some(format!("Bearer {mira}")),
            recv_buffer: Some(4096),
        },
    )
    .await
    .expect("connect");
    slow.hello().await;
    watch(&mut slow, ("run_id", &run.id)).await;
    watch(&mut ada, ("run_id", &run.id)).await;

    // 16 MiB of text (past the default per-token budget, turned off above) while `slow` reads nothing: far more than its queues and TCP hold. The
    // worker waits for `ada` after every 32 deltas, so a reading watcher never falls behind,
    // and heartbeats, so it keeps its run however slow the machine.
    let piece = "x".repeat(16 * 1024);
    let count = 1024;
    for n in 0..count {
        delta(&mut worker, &run.id, 1, (n * piece.len()) as u64, &piece).await;
        if (n + 1) % 32 == 0 {
            worker
                .send_json(&json!({"type": "heartbeat", "runs": [run.id.as_str()]}))
                .await
                .expect("heartbeat");
            ada.expect_until("a batch of deltas", |c| deltas(c).len() == n + 1)
                .await;
        }
    }
    assert_eq!(joined(&deltas(&ada), 1, "").len(), count * piece.len());

    // Watching again is answered through the queue the deltas take: once the answer is in,
    // `slow` has read every delta that was queued for it.
    watch(&mut slow, ("run_id", &run.id)).await;
    let step_one = deltas(&slow);
    assert!(
        step_one.len() < count,
        "it fell behind: {} of {count}",
        step_one.len()
    );
    joined(&step_one, 1, "");
    // The next step is not cut for it.
    delta(&mut worker, &run.id, 2, 0, "next step").await;
    slow.expect_until("the next step", |c| deltas(c).iter().any(|d| d.0 == 2))
        .await;
    let got = deltas(&slow);
    assert_eq!(got.len(), step_one.len() + 1, "nothing more of step 1");
    assert_eq!(got.last().map(|d| (d.0, d.1)), Some((2, 0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_past_the_tokens_budget_is_not_relayed_and_the_next_step_streams_again() {
    // A budget of one 64-byte cell a second with a burst of 1 KiB (16 cells).
    let Scenario {
        server,
        mut ada,
        mut worker,
        run,
        ..
    } = scenario_with(&["--delta-kib-per-second", "0.0625", "--delta-burst-kib", "1"]).await;
    watch(&mut ada, ("run_id", &run.id)).await;
    let before = metric(server.addr, RATE_LIMITED).await;

    let burst = "b".repeat(1024);
    delta(&mut worker, &run.id, 1, 0, &burst).await;
    // Over the budget: dropped, and with it the rest of the step (it no longer continues
    // the text the watchers have).
    delta(&mut worker, &run.id, 1, 1024, "over").await;
    delta(&mut worker, &run.id, 1, 1028, " and on").await;
    ada.expect_until("the burst", |c| !deltas(c).is_empty())
        .await;
    // A ping answered after the two later deltas: they were handled (frames are read in
    // order), and nothing of them reached ada.
    worker.ping(1).await.expect("ping");
    ada.ping(2).await.expect("ping");
    assert_eq!(deltas(&ada), vec![(1, 0, burst.clone())]);
    assert!(metric(server.addr, RATE_LIMITED).await > before);
    assert!(
        worker.loose_errors.is_empty(),
        "a dropped delta is not answered: {:?}",
        worker.loose_errors
    );

    // Once the bucket has refilled a cell, the next step streams from its start.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    delta(&mut worker, &run.id, 2, 0, "Next.").await;
    ada.expect_until("the next step", |c| deltas(c).iter().any(|d| d.0 == 2))
        .await;
    assert_eq!(deltas(&ada).last(), Some(&(2, 0, "Next.".to_owned())));
}
