//! The runs service against a real server over real WebSockets: job validation, the run state
//! machine through every command and who may send it, protected jobs, a fake worker (raw worker
//! frames with a bot token) that receives its secret while no other client and not the store
//! file ever see it, room lines, and queries.

#[path = "support/runs.rs"]
mod runs_support;

use warren_e2e::{Server, connect_hello};
use warren_protocol::run::{MASK, ParamKind, RunEnd, RunStatus};
use warren_protocol::{Change, Command, ErrorCode, Query, QueryResult, ServerMessage};

use runs_support::*;

const SECRET: &str = "sk-live-7f3a9c1e-do-not-leak";

/// Sends `command` and returns the error's code and message.
async fn refused(c: &mut warren_e2e::Client, command: &Command) -> (ErrorCode, String) {
    let id = c.send_command(command).await.expect("send");
    match c.try_answer(&id).await {
        Ok(ServerMessage::Error { code, message, .. }) => (code, message),
        other => panic!("expected an error for {command:?}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_validated_with_errors_that_say_what_to_do() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira = server.add_member("mira", "member").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let mut mira = connect_hello(server.addr, &mira).await;

    let mut bad = Vec::new();
    let mut with = |f: &dyn Fn(&mut Command)| {
        let mut c = job("deploy", vec![], &[]);
        f(&mut c);
        bad.push(c);
    };
    with(&|c| {
        if let Command::CreateJob { command, .. } = c {
            *command = "  ".into();
        }
    });
    with(&|c| {
        if let Command::CreateJob { name, .. } = c {
            *name = "bad\u{7}name".into();
        }
    });
    with(&|c| {
        if let Command::CreateJob { params, .. } = c {
            *params = vec![param("9lives", ParamKind::String, &[], None)];
        }
    });
    with(&|c| {
        if let Command::CreateJob { params, .. } = c {
            *params = vec![
                param("env", ParamKind::String, &[], None),
                param("ENV", ParamKind::String, &[], None),
            ];
        }
    });
    with(&|c| {
        if let Command::CreateJob { params, .. } = c {
            *params = vec![param("env", ParamKind::Choice, &[], None)];
        }
    });
    with(&|c| {
        if let Command::CreateJob { params, .. } = c {
            *params = vec![param("key", ParamKind::Secret, &[], Some("x"))];
        }
    });
    with(&|c| {
        if let Command::CreateJob { params, .. } = c {
            *params = vec![param("n", ParamKind::Int, &[], Some("three"))];
        }
    });
    with(&|c| {
        if let Command::CreateJob { timeout_secs, .. } = c {
            *timeout_secs = Some(8 * 24 * 3600);
        }
    });
    with(&|c| {
        if let Command::CreateJob { retries, .. } = c {
            *retries = 11;
        }
    });
    with(&|c| {
        if let Command::CreateJob { concurrency, .. } = c {
            *concurrency = Some(0);
        }
    });
    for command in &bad {
        let (code, message) = refused(&mut ada, command).await;
        assert_eq!(code, ErrorCode::Validation, "{command:?}: {message}");
        assert!(message.len() > 20, "a message that explains: {message}");
    }
    let job_id = create_job(&mut ada, job("Deploy", vec![], &["linux"])).await;
    let (code, message) = refused(&mut ada, &job("deploy", vec![], &[])).await;
    assert_eq!(code, ErrorCode::Conflict);
    assert!(message.contains("already exists"), "{message}");
    let (code, message) = refused(&mut mira, &job("build", vec![], &[])).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("job:manage"), "{message}");

    let ack = ada
        .command(&Command::UpdateJob {
            job_id: job_id.clone(),
            name: None,
            command: Some("make deploy".into()),
            description: None,
            params: None,
            timeout_secs: Some(60),
            retries: None,
            tags: None,
            protected: Some(true),
            concurrency: Some(Some(2)),
        })
        .await;
    let Change::JobUpdated { job } = ack.event.change else {
        panic!("{:?}", ack.event.change)
    };
    assert_eq!(
        (
            job.command.as_str(),
            job.timeout_secs,
            job.protected,
            job.concurrency
        ),
        ("make deploy", 60, true, Some(2))
    );
    let QueryResult::Jobs { jobs } = ada.query(&Query::Jobs).await else {
        panic!("jobs")
    };
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0], job);
    let snapshot = ada.snapshot().await;
    assert_eq!(snapshot.jobs, vec![job]);
    ada.command(&Command::DeleteJob { job_id }).await;
    let QueryResult::Jobs { jobs } = ada.query(&Query::Jobs).await else {
        panic!("jobs")
    };
    assert!(jobs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_goes_through_its_life_and_only_its_worker_learns_the_secret() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    let vic_token = server.add_member("vic", "viewer").await;
    let bot_token = server.add_member("ci", "bot").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let mut mira = connect_hello(server.addr, &mira_token).await;
    let mut vic = connect_hello(server.addr, &vic_token).await;
    vic.subscribe(None).await;
    mira.subscribe(None).await;
    let room = ada.snapshot().await.rooms[0].id.clone();

    let params = vec![
        param(
            "env",
            ParamKind::Choice,
            &["staging", "prod"],
            Some("staging"),
        ),
        param("api_key", ParamKind::Secret, &[], None),
    ];
    let deploy = create_job(&mut ada, job("deploy", params, &["linux"])).await;

    // Parameters are checked against the job.
    let (code, message) = refused(&mut mira, &start(&deploy, &[("nope", "1")], None)).await;
    assert_eq!(code, ErrorCode::Validation);
    assert!(message.contains("no parameter nope"), "{message}");
    let (code, message) = refused(&mut mira, &start(&deploy, &[], None)).await;
    assert_eq!(code, ErrorCode::Validation);
    assert!(message.contains("api_key"), "{message}");
    let (code, message) = refused(
        &mut mira,
        &start(&deploy, &[("env", "dev"), ("api_key", "k")], None),
    )
    .await;
    assert_eq!(code, ErrorCode::Validation);
    assert!(message.contains("staging|prod"), "{message}");
    let (code, _) = refused(&mut vic, &start(&deploy, &[("api_key", "k")], None)).await;
    assert_eq!(code, ErrorCode::Forbidden);

    let run = start_run(
        &mut mira,
        start(&deploy, &[("api_key", SECRET)], Some(&room)),
    )
    .await;
    assert_eq!(run.status, RunStatus::Queued);
    assert_eq!(run.number, 1);
    assert_eq!(run.attempt, 1);
    let key = run
        .params
        .iter()
        .find(|p| p.name == "api_key")
        .expect("api_key");
    assert!(key.secret && key.value == MASK);

    // The worker: a bot with run:execute; people may not say worker_hello.
    mira.send_json(&serde_json::json!({"type": "worker_hello", "concurrency": 1}))
        .await
        .expect("send");
    let refusal = mira
        .read_until(std::time::Duration::from_secs(20), |c| {
            c.loose_errors
                .iter()
                .any(|(code, m)| *code == ErrorCode::Forbidden && m.contains("run:execute"))
        })
        .await;
    assert!(
        refusal.is_ok(),
        "worker_hello from a member: {:?}",
        mira.loose_errors
    );
    let mut bot = connect_hello(server.addr, &bot_token).await;
    let held = worker_hello(&mut bot, &["linux", "docker"], 2, &[]).await;
    assert!(held.is_empty());
    let (assigned, given) = nth_assign(&mut bot, 1).await;
    assert_eq!(assigned.id, run.id);
    assert_eq!(assigned.status, RunStatus::Assigned);
    let value = given
        .iter()
        .find(|p| p.name == "api_key")
        .expect("the secret");
    assert_eq!(
        value.value, SECRET,
        "the assigned worker gets the real value"
    );
    assert!(
        given
            .iter()
            .any(|p| p.name == "env" && p.value == "staging")
    );
    let assigned_event = until_status(&mut vic, &run.id, RunStatus::Assigned).await;
    assert_eq!(
        assigned_event.worker_id,
        bot.user.as_ref().map(|u| u.user_id.clone())
    );

    // Only the run's worker reports, and a finish waits for its log lines.
    let (code, _) = refused(
        &mut mira,
        &Command::ReportRunStarted {
            run_id: run.id.clone(),
        },
    )
    .await;
    assert_eq!(code, ErrorCode::Forbidden);
    report_started(&mut bot, &run.id).await;
    let running = until_status(&mut vic, &run.id, RunStatus::Running).await;
    assert!(running.started_at.is_some());
    let mut early = finished(&run.id, RunEnd::Succeeded, Some(0));
    if let Command::ReportRunFinished { lines, .. } = &mut early {
        *lines = 5;
    }
    let (code, message) = refused(&mut bot, &early).await;
    assert_eq!(code, ErrorCode::Conflict);
    assert!(message.contains("0 of 5 log lines"), "{message}");
    bot.command(&finished(&run.id, RunEnd::Succeeded, Some(0)))
        .await;
    let done = until_status(&mut vic, &run.id, RunStatus::Succeeded).await;
    assert_eq!(done.exit_code, Some(0));
    assert!(done.finished_at.is_some());
    let (code, _) = refused(&mut bot, &finished(&run.id, RunEnd::Failed, Some(1))).await;
    assert_eq!(code, ErrorCode::Conflict, "a finished run stays finished");

    // The room heard one line at the start and one at the end, from mira.
    let posted = |c: &warren_e2e::Client| {
        c.events
            .iter()
            .filter(|e| matches!(&e.change, Change::MessagePosted { message } if message.room_id == room))
            .count()
    };
    vic.expect_until("the run's two room lines", |c| posted(c) >= 2)
        .await;
    let lines: Vec<(String, String)> = vic
        .events
        .iter()
        .filter_map(|e| match &e.change {
            Change::MessagePosted { message } if message.room_id == room => {
                Some((message.body.clone(), e.actor.to_string()))
            }
            _ => None,
        })
        .collect();
    let mira_id = mira
        .user
        .as_ref()
        .map(|u| u.user_id.to_string())
        .unwrap_or_default();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0].0, "▶ r1 deploy started");
    assert!(
        lines[1].0.starts_with("✓ r1 deploy succeeded in "),
        "{lines:?}"
    );
    assert!(lines.iter().all(|(_, who)| *who == mira_id));

    // Queries.
    let QueryResult::Run { run: shown, .. } = mira.query(&Query::Run { number: 1 }).await else {
        panic!("run")
    };
    assert_eq!(shown.status, RunStatus::Succeeded);
    let id = mira.next_request_id();
    mira.send_json(&serde_json::json!({"type": "query", "request_id": id, "query": {"type": "run", "number": 99}}))
        .await
        .expect("send");
    assert_eq!(mira.error_code(&id).await, ErrorCode::NotFound);
    let QueryResult::Workers { workers } = vic.query(&Query::Workers).await else {
        panic!("workers")
    };
    assert_eq!(workers.len(), 1);
    assert_eq!(workers[0].name, "ci");
    assert_eq!(
        workers[0].tags,
        vec!["docker".to_owned(), "linux".to_owned()]
    );
    assert_eq!(workers[0].state, warren_protocol::run::WorkerState::Idle);

    // Cancel: own runs with run:start, anyone's with run:manage; a running run's worker is told.
    let second = start_run(&mut ada, start(&deploy, &[("api_key", SECRET)], None)).await;
    let (assigned, _) = nth_assign(&mut bot, 2).await;
    assert_eq!(assigned.id, second.id);
    report_started(&mut bot, &second.id).await;
    let cancel = Command::CancelRun {
        run_id: second.id.clone(),
        reason: Some("wrong branch".into()),
    };
    let (code, message) = refused(&mut mira, &cancel).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("run:manage"), "{message}");
    ada.command(&cancel).await;
    let cancelled = until_status(&mut vic, &second.id, RunStatus::Cancelled).await;
    assert_eq!(
        cancelled.decided_by,
        ada.user.as_ref().map(|u| u.user_id.clone())
    );
    assert_eq!(cancelled.reason.as_deref(), Some("cancelled: wrong branch"));
    bot.expect_until("cancel_run", |c| cancels(c).contains(&second.id))
        .await;
    // The worker's late report is taken without another transition.
    let ack = bot
        .command(&finished(&second.id, RunEnd::Cancelled, None))
        .await;
    let Change::RunUpdated { run: after, from } = ack.event.change else {
        panic!("{:?}", ack.event.change)
    };
    assert_eq!(
        (from, after.status),
        (RunStatus::Cancelled, RunStatus::Cancelled)
    );

    // Retry: secrets are never kept, so they must be given again.
    let retry = Command::RetryRun {
        run_id: run.id.clone(),
        new_run_id: None,
        params: Default::default(),
    };
    let (code, message) = refused(&mut mira, &retry).await;
    assert_eq!(code, ErrorCode::Validation);
    assert!(
        message.contains("api_key") && message.contains("retry r1"),
        "{message}"
    );
    let retried = start_run(
        &mut mira,
        Command::RetryRun {
            run_id: run.id.clone(),
            new_run_id: None,
            params: [("api_key".to_owned(), SECRET.to_owned())].into(),
        },
    )
    .await;
    assert_eq!(retried.retry_of.as_ref(), Some(&run.id));
    assert_eq!(retried.number, 3);
    let (code, _) = refused(
        &mut vic,
        &Command::CancelRun {
            run_id: retried.id.clone(),
            reason: None,
        },
    )
    .await;
    assert_eq!(code, ErrorCode::Forbidden);
    // Mira cancels her own (it may have been assigned meanwhile: the worker is told then).
    mira.command(&Command::CancelRun {
        run_id: retried.id.clone(),
        reason: None,
    })
    .await;
    until_status(&mut vic, &retried.id, RunStatus::Cancelled).await;

    // Nobody but the worker ever saw the secret: not in any frame, not in the store file.
    for (who, client) in [("vic", &vic), ("mira", &mira), ("ada", &ada)] {
        assert!(!everything(client).contains(SECRET), "{who} saw the secret");
    }
    let QueryResult::Runs { runs, has_more } = ada
        .query(&Query::Runs {
            status: None,
            job: Some("DEPLOY".into()),
            since: None,
            before: None,
            limit: 2,
        })
        .await
    else {
        panic!("runs")
    };
    assert_eq!(
        runs.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![3, 2]
    );
    assert!(has_more);
    let QueryResult::Runs { runs, has_more } = ada
        .query(&Query::Runs {
            status: Some(RunStatus::Succeeded),
            job: None,
            since: None,
            before: None,
            limit: 10,
        })
        .await
    else {
        panic!("runs")
    };
    assert_eq!((runs.len(), has_more), (1, false));
    assert!(
        !serde_json::to_string(&runs)
            .unwrap_or_default()
            .contains(SECRET)
    );
    server.kill_9().await;
    let store = std::fs::read(server.data_dir().join("warren.redb")).expect("the store file");
    assert!(
        !store.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the secret is in the redb file"
    );
    server.assert_store_checks_out().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_job_waits_for_an_approval() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    let ops_token = server.add_member("ops", "admin").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let mut mira = connect_hello(server.addr, &mira_token).await;
    let mut ops = connect_hello(server.addr, &ops_token).await;
    let mut command = job("release", vec![], &["nowhere"]);
    if let Command::CreateJob { protected, .. } = &mut command {
        *protected = true;
    }
    let release = create_job(&mut ada, command).await;
    let first = start_run(&mut mira, start(&release, &[], None)).await;
    assert_eq!(first.status, RunStatus::AwaitingApproval);
    assert_eq!(first.queued_at, None);
    let (code, message) = refused(
        &mut mira,
        &Command::ApproveRun {
            run_id: first.id.clone(),
        },
    )
    .await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("run:approve"), "{message}");
    let ack = ops
        .command(&Command::ApproveRun {
            run_id: first.id.clone(),
        })
        .await;
    let Change::RunUpdated { run, from } = ack.event.change else {
        panic!()
    };
    assert_eq!(
        (from, run.status),
        (RunStatus::AwaitingApproval, RunStatus::Queued)
    );
    assert_eq!(run.decided_by, ops.user.as_ref().map(|u| u.user_id.clone()));
    let (code, message) = refused(
        &mut ops,
        &Command::RejectRun {
            run_id: first.id.clone(),
            reason: None,
        },
    )
    .await;
    assert_eq!(code, ErrorCode::Conflict, "{message}");

    let second = start_run(&mut mira, start(&release, &[], None)).await;
    let ack = ada
        .command(&Command::RejectRun {
            run_id: second.id.clone(),
            reason: Some("not on a Friday".into()),
        })
        .await;
    let Change::RunUpdated { run, from } = ack.event.change else {
        panic!()
    };
    assert_eq!(
        (from, run.status),
        (RunStatus::AwaitingApproval, RunStatus::Rejected)
    );
    assert_eq!(run.reason.as_deref(), Some("rejected: not on a Friday"));
    assert!(run.finished_at.is_some());
    // A run waiting for approval can be cancelled by whoever started it.
    let third = start_run(&mut mira, start(&release, &[], None)).await;
    let ack = mira
        .command(&Command::CancelRun {
            run_id: third.id.clone(),
            reason: None,
        })
        .await;
    let Change::RunUpdated { run, .. } = ack.event.change else {
        panic!()
    };
    assert_eq!(run.status, RunStatus::Cancelled);
}
