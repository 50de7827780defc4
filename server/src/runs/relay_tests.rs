//! The relay's state on its own: order, gaps, a lagging watcher, the bound, a late attach.

use super::*;
use warren_protocol::step::{ModelCall, RunStep, StepDetail, StepStatus};

fn id(prefix: &str, n: u8) -> Id {
    Id::from_random(prefix, [n; 10])
}

fn run(status: RunStatus, worker: &Id, room: Option<&Id>) -> Run {
    let mut value = serde_json::json!({
        "id": id("run", 1).as_str(),
        "number": 1,
        "job_id": id("agent", 2).as_str(),
        "job_name": "reviewer",
        "status": status,
        "requested_by": id("usr", 3).as_str(),
        "attempt": 1,
        "worker_id": worker.as_str(),
        "created_at": 1,
        "agent": {"agent_id": id("agent", 2).as_str(), "prompt": "hi"}
    });
    if let Some(room) = room {
        value["room_id"] = room.as_str().into();
    }
    serde_json::from_value(value).expect("a run")
}

struct Fixture {
    relay: Relay,
    ws: Id,
    worker: Id,
    room: Id,
    run: Id,
}

fn admitted() -> Fixture {
    let relay = Relay::default();
    let (ws, worker, room) = (id("ws", 9), id("usr", 8), id("room", 7));
    let r = run(RunStatus::Running, &worker, Some(&room));
    assert!(relay.admit(relay.changes(), &ws, &r));
    Fixture {
        relay,
        ws,
        worker,
        room,
        run: r.id,
    }
}

impl Fixture {
    fn delta(&self, step: u32, offset: u64, text: &str) -> Delta {
        self.relay
            .delta(&self.ws, &self.worker, &self.run, step, offset, text)
    }

    /// A watcher with a queue of `depth` frames; returns its receiver after the answer.
    async fn watch(
        &self,
        conn: ConnectionId,
        target: Target,
        depth: usize,
    ) -> (
        mpsc::Sender<Utf8Bytes>,
        mpsc::Receiver<Utf8Bytes>,
        Vec<StreamPartial>,
    ) {
        let (tx, mut rx) = mpsc::channel(depth);
        let permit = tx.reserve().await.expect("room for the answer");
        let request = RequestId::parse("req-1").expect("a request id");
        self.relay
            .watch(conn, &self.ws, &id("usr", 5), &tx, target, request, permit);
        let answer = rx.recv().await.expect("the answer");
        let ServerMessage::RunWatching { partials, .. } =
            serde_json::from_str(answer.as_str()).expect("run_watching")
        else {
            panic!("not run_watching: {answer}");
        };
        (tx, rx, partials)
    }
}

/// Every delta waiting in `rx`, as (step, offset, text).
fn drain(rx: &mut mpsc::Receiver<Utf8Bytes>) -> Vec<(u32, u64, String)> {
    let mut out = Vec::new();
    while let Ok(frame) = rx.try_recv() {
        match serde_json::from_str(frame.as_str()).expect("a frame") {
            ServerMessage::AgentDelta {
                step, offset, text, ..
            } => out.push((step, offset, text)),
            other => panic!("not a delta: {other:?}"),
        }
    }
    out
}

fn finished(run: &Id, n: u32) -> Change {
    step_change(run, n, StepStatus::Done)
}

fn step_change(run: &Id, n: u32, status: StepStatus) -> Change {
    Change::RunStep {
        step: RunStep {
            run_id: run.clone(),
            n,
            status,
            started_at: 1,
            finished_at: Some(2),
            detail: StepDetail::ModelCall(ModelCall {
                provider_id: id("prov", 1),
                provider: "p".into(),
                model: "m".into(),
                usage: Default::default(),
                cost: 0,
                latency_ms: 0,
                first_token_ms: None,
                attempts: Vec::new(),
                text: String::new(),
                partial: false,
                tool_calls: Vec::new(),
                finish_reason: None,
                error: None,
            }),
        },
    }
}

#[tokio::test]
async fn deltas_that_continue_the_text_are_relayed_in_order_and_others_dropped() {
    let f = admitted();
    let (_tx, mut rx, partials) = f.watch(1, Target::Run(f.run.clone()), 16).await;
    assert!(partials.is_empty());
    assert_eq!(
        f.delta(1, 3, "late"),
        Delta::OutOfOrder,
        "a step starts at 0"
    );
    assert_eq!(f.delta(1, 0, "Hé"), Delta::Relayed);
    assert_eq!(f.delta(1, 2, "again"), Delta::OutOfOrder, "an overlap");
    assert_eq!(f.delta(1, 9, "gap"), Delta::OutOfOrder, "a gap");
    assert_eq!(f.delta(1, 3, "llo"), Delta::Relayed, "é is two bytes");
    assert_eq!(
        drain(&mut rx),
        vec![(1, 0, "Hé".to_owned()), (1, 3, "llo".to_owned())]
    );
    assert_eq!(f.relay.stats.out_of_order.load(Ordering::Relaxed), 3);
    assert_eq!(f.relay.partials(&f.run)[0].text, "Héllo");
}

#[tokio::test]
async fn a_late_watcher_gets_the_partial_then_the_live_deltas() {
    let f = admitted();
    f.delta(1, 0, "The release ");
    f.delta(1, 12, "waits");
    let (_tx, mut rx, partials) = f.watch(1, Target::Room(f.room.clone()), 16).await;
    assert_eq!(
        partials,
        vec![StreamPartial {
            run_id: f.run.clone(),
            step: 1,
            text: "The release waits".into()
        }]
    );
    f.delta(1, 17, " on #12");
    assert_eq!(drain(&mut rx), vec![(1, 17, " on #12".to_owned())]);
}

#[tokio::test]
async fn a_lagging_watcher_gets_no_delta_after_a_dropped_one_and_the_next_step_again() {
    let f = admitted();
    let (_slow_tx, mut slow, _) = f.watch(1, Target::Run(f.run.clone()), 2).await;
    let (_tx, mut fast, _) = f.watch(2, Target::Room(f.room.clone()), 64).await;
    let mut offset = 0;
    for piece in ["a", "b", "c", "d"] {
        assert_eq!(f.delta(1, offset, piece), Delta::Relayed);
        offset += 1;
    }
    // The slow one took two, then its queue was full: the third was dropped.
    assert_eq!(drain(&mut slow).len(), 2);
    f.delta(1, offset, "e");
    assert!(
        drain(&mut slow).is_empty(),
        "after a dropped delta the step is cut for that watcher"
    );
    assert_eq!(
        drain(&mut fast).len(),
        5,
        "the other watcher is not held back"
    );
    f.relay.on_change(&f.ws, &finished(&f.run, 1));
    assert!(
        f.relay.partials(&f.run).is_empty(),
        "a finished step is forgotten"
    );
    assert_eq!(f.delta(1, 5, "f"), Delta::OutOfOrder, "its step finished");
    assert_eq!(f.delta(2, 0, "next"), Delta::Relayed);
    assert_eq!(drain(&mut slow), vec![(2, 0, "next".to_owned())]);
}

#[tokio::test]
async fn two_watches_of_one_connection_get_each_delta_once() {
    let f = admitted();
    let (tx, mut rx, _) = f.watch(1, Target::Run(f.run.clone()), 16).await;
    // The same connection watches the room too (through the same queue).
    let permit = tx.reserve().await.expect("room");
    f.relay.watch(
        1,
        &f.ws,
        &id("usr", 5),
        &tx,
        Target::Room(f.room.clone()),
        RequestId::parse("req-2").expect("id"),
        permit,
    );
    let _answer = rx.recv().await.expect("the second answer");
    f.delta(1, 0, "once");
    assert_eq!(drain(&mut rx).len(), 1);
    f.relay.unwatch(1, &Target::Run(f.run.clone()));
    f.delta(1, 4, " more");
    assert_eq!(drain(&mut rx).len(), 1, "still watching the room");
    f.relay.forget(1);
    f.delta(1, 9, " gone");
    assert!(drain(&mut rx).is_empty());
}

#[tokio::test]
async fn text_is_kept_up_to_the_bound_and_a_late_watcher_of_a_cut_step_gets_no_deltas() {
    let f = admitted();
    let (_tx, mut live, _) = f.watch(1, Target::Run(f.run.clone()), 16).await;
    let big = "é".repeat(MAX_STEP_TEXT_BYTES / 2 - 1);
    assert_eq!(f.delta(1, 0, &big), Delta::Relayed);
    let offset = big.len() as u64;
    assert_eq!(f.delta(1, offset, "ééé"), Delta::Relayed);
    let kept = &f.relay.partials(&f.run)[0].text;
    assert!(kept.len() <= MAX_STEP_TEXT_BYTES && kept.len() >= MAX_STEP_TEXT_BYTES - 1);
    assert!(kept.ends_with('é'), "cut on a character boundary");
    let (_tx2, mut late, partials) = f.watch(2, Target::Run(f.run.clone()), 16).await;
    assert_eq!(partials[0].text.len(), kept.len());
    assert_eq!(
        f.delta(1, offset + 6, "x"),
        Delta::Relayed,
        "offsets go on past the cut"
    );
    assert_eq!(
        drain(&mut live).len(),
        3,
        "a watcher that saw it all goes on"
    );
    assert!(
        drain(&mut late).is_empty(),
        "a late watcher would see a gap"
    );
}

#[tokio::test]
async fn a_run_taken_from_its_worker_is_forgotten_and_other_workers_are_refused() {
    let f = admitted();
    assert_eq!(
        f.relay.delta(&f.ws, &id("usr", 4), &f.run, 1, 0, "x"),
        Delta::NotYours
    );
    f.delta(1, 0, "so far");
    let seen = f.relay.changes();
    let queued = run(RunStatus::Queued, &f.worker, Some(&f.room));
    f.relay.on_change(
        &f.ws,
        &Change::RunUpdated {
            run: queued.clone(),
            from: RunStatus::Running,
        },
    );
    assert!(f.relay.partials(&f.run).is_empty());
    assert_eq!(f.delta(1, 6, " more"), Delta::Unknown);
    assert!(
        !f.relay.admit(seen, &f.ws, &queued),
        "an admission read before the change is refused"
    );
}

#[tokio::test]
async fn a_started_model_call_is_an_empty_partial_until_its_first_delta() {
    let f = admitted();
    f.relay
        .on_change(&f.ws, &step_change(&f.run, 1, StepStatus::Running));
    let (_tx, mut rx, partials) = f.watch(1, Target::Run(f.run.clone()), 16).await;
    assert_eq!(partials.len(), 1);
    assert_eq!((partials[0].step, partials[0].text.as_str()), (1, ""));
    assert_eq!(f.delta(1, 0, "Hi"), Delta::Relayed);
    assert_eq!(drain(&mut rx), vec![(1, 0, "Hi".to_owned())]);
}
