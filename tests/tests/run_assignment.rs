//! Assignment and leases against a real server with fake workers (raw worker frames over real
//! WebSockets, bot tokens): fifty queued runs over two workers are each assigned exactly once,
//! tags route and a job's concurrency holds; a silent worker loses its run (queued again while
//! retries last, then `lost`); after `kill -9` of the server a running run keeps its worker,
//! which re-attaches with `worker_hello`, while a queued run whose secret died with the server
//! fails with a reason.

#[path = "support/runs.rs"]
mod runs_support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use warren_e2e::client::Gone;
use warren_e2e::{Client, Server, connect_hello};
use warren_protocol::run::{HeldRun, ParamKind, RunEnd, RunStatus, WorkerState};
use warren_protocol::{Change, Command, Id, Query, QueryResult};

use runs_support::*;

/// Executes every run assigned to `worker` at once (started, then succeeded), until `done`
/// reaches `total`. Returns the runs it was assigned, in order.
async fn work(mut worker: Client, done: Arc<AtomicUsize>, total: usize) -> Vec<Id> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut handled = 0;
    loop {
        let assigned = assigns(&worker);
        while handled < assigned.len() {
            let run = assigned[handled].0.id.clone();
            report_started(&mut worker, &run).await;
            worker
                .command(&finished(&run, RunEnd::Succeeded, Some(0)))
                .await;
            done.fetch_add(1, Ordering::SeqCst);
            handled += 1;
        }
        if done.load(Ordering::SeqCst) >= total {
            return assigns(&worker).into_iter().map(|(r, _)| r.id).collect();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {total} runs were done",
            done.load(Ordering::SeqCst)
        );
        // Wake up for the next frame, or now and then to see whether the other worker is done.
        let next = tokio::time::Instant::now() + Duration::from_millis(200);
        match worker.read_one(next).await {
            Ok(()) | Err(Gone::Timeout) => {}
            Err(gone) => panic!("the worker's connection ended: {gone:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_runs_on_two_workers_each_run_once_tags_route_and_concurrency_holds() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let w1_token = server.add_member("w1", "bot").await;
    let w2_token = server.add_member("w2", "bot").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    ada.subscribe(None).await;
    let plain = create_job(&mut ada, job("plain", vec![], &["linux"])).await;
    let mut gpu_job = job("gpu", vec![], &["gpu", "linux"]);
    if let Command::CreateJob { concurrency, .. } = &mut gpu_job {
        *concurrency = Some(2);
    }
    let gpu = create_job(&mut ada, gpu_job).await;

    let mut w1 = connect_hello(server.addr, &w1_token).await;
    worker_hello(&mut w1, &["linux"], 4, &[]).await;
    let mut w2 = connect_hello(server.addr, &w2_token).await;
    worker_hello(&mut w2, &["gpu", "linux"], 4, &[]).await;

    let mut started = Vec::new();
    for i in 0..50 {
        let job = if i % 5 == 0 { &gpu } else { &plain };
        let id = ada
            .send_command(&start(job, &[], None))
            .await
            .expect("send");
        started.push(id);
    }
    let mut runs: HashMap<Id, Id> = HashMap::new();
    for id in started {
        let ack = ada.ack(&id).await;
        let Change::RunCreated { run } = ack.event.change else {
            panic!("{:?}", ack.event.change)
        };
        runs.insert(run.id, run.job_id);
    }
    let done = Arc::new(AtomicUsize::new(0));
    let one = tokio::spawn(work(w1, done.clone(), 50));
    let two = tokio::spawn(work(w2, done.clone(), 50));
    let by_w1 = one.await.expect("worker 1");
    let by_w2 = two.await.expect("worker 2");

    let all: Vec<&Id> = by_w1.iter().chain(&by_w2).collect();
    assert_eq!(all.len(), 50, "every run assigned once in total");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 50, "no run twice");
    assert!(
        by_w1.iter().all(|r| runs[r] == plain),
        "w1 lacks the gpu tag"
    );
    assert_eq!(by_w2.iter().filter(|r| runs[*r] == gpu).count(), 10);

    // Every run succeeded; gpu runs never held more than two places at once.
    ada.expect_until("all fifty runs succeeded", |c| {
        runs.keys()
            .all(|r| latest(c, r).is_some_and(|run| run.status == RunStatus::Succeeded))
    })
    .await;
    let mut holding: HashSet<Id> = HashSet::new();
    let mut most = 0;
    for event in &ada.events {
        if let Change::RunUpdated { run, .. } = &event.change
            && run.job_id == gpu
        {
            if matches!(run.status, RunStatus::Assigned | RunStatus::Running) {
                holding.insert(run.id.clone());
            } else {
                holding.remove(&run.id);
            }
            most = most.max(holding.len());
        }
    }
    assert!(most <= 2, "{most} gpu runs at once; the job allows 2");
    assert!(most >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_worker_loses_its_run_which_is_queued_again_while_retries_last() {
    let mut server =
        Server::start_with(&["--worker-lease-secs", "2", "--worker-heartbeat-secs", "1"]).await;
    server.kill_9().await;
    let w1_token = server.add_member("w1", "bot").await;
    let w2_token = server.add_member("w2", "bot").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    ada.subscribe(None).await;
    let mut flaky = job("flaky", vec![], &[]);
    if let Command::CreateJob { retries, .. } = &mut flaky {
        *retries = 1;
    }
    let flaky = create_job(&mut ada, flaky).await;

    let mut w1 = connect_hello(server.addr, &w1_token).await;
    let held = worker_hello(&mut w1, &[], 1, &[]).await;
    assert!(held.is_empty());
    let run = start_run(&mut ada, start(&flaky, &[], None)).await;
    let (assigned, _) = nth_assign(&mut w1, 1).await;
    assert_eq!(assigned.id, run.id);
    report_started(&mut w1, &run.id).await;
    // w1 now stays silent: no heartbeat. Within the lease (2 s) and a tick it loses the run.
    ada.expect_until("the run queued again", |c| {
        latest(c, &run.id).is_some_and(|r| r.status == RunStatus::Queued && r.attempt == 2)
    })
    .await;
    let again = latest(&ada, &run.id).expect("seen");
    assert_eq!(again.worker_id, None);
    assert!(
        again
            .not_before
            .is_some_and(|t| t > again.queued_at.unwrap_or(0))
    );
    assert!(
        again
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("silent")),
        "{again:?}"
    );
    w1.expect_until("cancel_run to the silent worker", |c| {
        cancels(c).contains(&run.id)
    })
    .await;
    let QueryResult::Workers { workers } = ada.query(&Query::Workers).await else {
        panic!("workers")
    };
    let w1_info = workers.iter().find(|w| w.name == "w1").expect("w1 listed");
    assert_eq!(w1_info.state, WorkerState::Offline, "silent past its lease");

    // w2 heartbeats until the run (after its backoff) is assigned to it, then falls silent:
    // no retries are left, so the run is lost.
    let mut w2 = connect_hello(server.addr, &w2_token).await;
    worker_hello(&mut w2, &[], 1, &[]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while assigns(&w2).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never assigned to w2"
        );
        w2.send_json(&serde_json::json!({"type": "heartbeat"}))
            .await
            .expect("heartbeat");
        let _ = w2
            .read_until(Duration::from_millis(500), |c| !assigns(c).is_empty())
            .await;
    }
    let (second, _) = nth_assign(&mut w2, 1).await;
    assert_eq!((second.id.clone(), second.attempt), (run.id.clone(), 2));
    let lost = until_status(&mut ada, &run.id, RunStatus::Lost).await;
    assert!(lost.finished_at.is_some());
    assert!(
        lost.reason
            .as_deref()
            .is_some_and(|r| r.contains("silent") && r.contains("retry r1")),
        "{lost:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_kill_a_running_run_keeps_its_worker_and_lost_secrets_fail_a_run() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let bot_token = server.add_member("ci", "bot").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let long = create_job(&mut ada, job("long", vec![], &[])).await;
    let secretive = create_job(
        &mut ada,
        job(
            "secretive",
            vec![param("token", ParamKind::Secret, &[], None)],
            &["later"],
        ),
    )
    .await;
    let mut bot = connect_hello(server.addr, &bot_token).await;
    worker_hello(&mut bot, &[], 2, &[]).await;
    let running = start_run(&mut ada, start(&long, &[], None)).await;
    nth_assign(&mut bot, 1).await;
    report_started(&mut bot, &running.id).await;
    let waiting = start_run(
        &mut ada,
        start(&secretive, &[("token", "t0p-s3cret")], None),
    )
    .await;
    assert_eq!(waiting.status, RunStatus::Queued);

    server.kill_9().await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    ada.subscribe(None).await;
    let QueryResult::Run { run, .. } = ada
        .query(&Query::Run {
            number: running.number,
        })
        .await
    else {
        panic!("run")
    };
    assert_eq!(run.status, RunStatus::Running, "a restart loses no run");
    let mut bot = connect_hello(server.addr, &bot_token).await;
    let stranger = Id::from_random("run", [9; 10]);
    let held = worker_hello(
        &mut bot,
        &["later"],
        2,
        &[
            HeldRun {
                run_id: running.id.clone(),
                next_chunk: 0,
            },
            HeldRun {
                run_id: stranger.clone(),
                next_chunk: 3,
            },
        ],
    )
    .await;
    let mine = held
        .iter()
        .find(|h| h.run_id == running.id)
        .expect("held state");
    assert!(!mine.stop, "the run is still this worker's");
    assert_eq!(mine.acked_chunks, 0);
    assert!(
        held.iter().any(|h| h.run_id == stranger && h.stop),
        "{held:?}"
    );

    // The queued run's secret died with the server: it fails, saying what to do.
    let failed = until_status(&mut ada, &waiting.id, RunStatus::Failed).await;
    assert!(
        failed
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("start it again")),
        "{failed:?}"
    );
    assert!(
        assigns(&bot).iter().all(|(r, _)| r.id != waiting.id),
        "no assign without its secret"
    );

    bot.command(&finished(&running.id, RunEnd::Failed, Some(2)))
        .await;
    let done = until_status(&mut ada, &running.id, RunStatus::Failed).await;
    assert_eq!(done.exit_code, Some(2));
    assert_eq!(done.worker_id, bot.user.as_ref().map(|u| u.user_id.clone()));
    server.kill_9().await;
    server.assert_store_checks_out().await;
}
