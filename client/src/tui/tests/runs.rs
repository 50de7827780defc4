//! The Runs screen: runs arrive with the snapshot and live events; the list shows status, number,
//! job, who, when and how long; enter opens a run with its header and its log, fed from the
//! server (the live tail subscribed, older pages asked for as the viewer needs them); the run
//! keys cancel (after a question), approve, reject (with a reason) and retry; the log viewer's
//! own keys work inside; hostile text never reaches the terminal.

use crossterm::event::KeyCode;
use warren_protocol::run::{LogLine, LogStream, Run, RunParam, RunStatus};
use warren_protocol::{Change, Command, ServerMessage};

use super::fixture::{draw, event, id, key, me, other, press, sample_app};
use crate::tui::app::App;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::screens::Tab;
use crate::tui::screens::runs::remote::Page;
use crate::tui::state::Overlay;

const T0: i64 = 1_764_000_000_000;

fn run(n: u8, status: RunStatus) -> Run {
    Run {
        id: id("run", n),
        number: u64::from(n),
        job_id: id("job", 1),
        job_name: "deploy".into(),
        params: vec![
            RunParam {
                name: "env".into(),
                value: "staging".into(),
                secret: false,
            },
            RunParam {
                name: "api_key".into(),
                value: "***".into(),
                secret: true,
            },
        ],
        status,
        requested_by: me().user_id,
        card_id: None,
        room_id: None,
        retry_of: None,
        attempt: 1,
        worker_id: Some(other().user_id),
        decided_by: None,
        created_at: T0 + i64::from(n) * 60_000,
        queued_at: Some(T0 + i64::from(n) * 60_000),
        not_before: None,
        started_at: (status != RunStatus::Queued && status != RunStatus::AwaitingApproval)
            .then_some(T0 + i64::from(n) * 60_000 + 1_000),
        finished_at: status
            .is_final()
            .then_some(T0 + i64::from(n) * 60_000 + 1_000 + i64::from(n) * 7_000),
        exit_code: match status {
            RunStatus::Succeeded => Some(0),
            RunStatus::Failed => Some(2),
            _ => None,
        },
        reason: (status == RunStatus::Failed).then(|| "exited with code 2".to_owned()),
        lines: 3,
        log_bytes: 60,
    }
}

/// An app on the Runs tab with four runs of one job, brought by events.
fn runs_app() -> App {
    let mut app = sample_app();
    app.runs.frozen_now = Some(T0 + 10 * 60_000);
    for (n, status) in [
        (1, RunStatus::Succeeded),
        (2, RunStatus::Failed),
        (3, RunStatus::Succeeded),
        (4, RunStatus::Running),
        (5, RunStatus::AwaitingApproval),
    ] {
        let e = event(
            &app,
            &me(),
            Change::RunCreated {
                run: run(n, status),
            },
        );
        app.on_net(e);
    }
    press(&mut app, "3");
    app.outbound.clear();
    app
}

fn line(n: u64, stream: LogStream, text: &str) -> LogLine {
    LogLine {
        n,
        ts: T0 + n as i64,
        stream,
        text: text.into(),
        continued: false,
    }
}

#[test]
fn the_list_shows_runs_newest_first_with_status_words() {
    let app = runs_app();
    assert_eq!(app.tab, Tab::Runs);
    let terminal = draw(&app, 100, 12);
    insta::assert_snapshot!(terminal.backend());
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(
        screen.contains("Runs (2)"),
        "two unfinished runs in the tab"
    );
    assert!(screen.contains("awaiting approval"));
}

#[test]
fn a_status_change_moves_the_run_in_place() {
    let mut app = runs_app();
    let mut done = run(4, RunStatus::Succeeded);
    done.exit_code = Some(0);
    let e = event(
        &app,
        &other(),
        Change::RunUpdated {
            run: done,
            from: RunStatus::Running,
        },
    );
    app.on_net(e);
    let runs = &app.view().runs;
    assert_eq!(runs.len(), 5);
    assert_eq!(runs[1].status, RunStatus::Succeeded);
    assert_eq!(
        runs.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![5, 4, 3, 2, 1]
    );
}

#[test]
fn approve_reject_and_cancel_send_their_commands() {
    let mut app = runs_app();
    // The newest run waits for an approval.
    press(&mut app, "A");
    // Then reject it, with a reason typed into the prompt.
    press(&mut app, "X");
    assert!(matches!(app.overlay, Some(Overlay::Prompt(_))));
    press(&mut app, "not today\n");
    // Cancel the running one: a question first.
    press(&mut app, "j");
    press(&mut app, "C");
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
    press(&mut app, "y");
    let sent: Vec<Command> = app
        .outbound
        .iter()
        .filter_map(|r| match r {
            NetRequest::Command { command, .. } => Some(command.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        vec![
            Command::ApproveRun {
                run_id: id("run", 5)
            },
            Command::RejectRun {
                run_id: id("run", 5),
                reason: Some("not today".into())
            },
            Command::CancelRun {
                run_id: id("run", 4),
                reason: None
            },
        ]
    );
}

#[test]
fn retry_is_for_finished_runs_only() {
    let mut app = runs_app();
    press(&mut app, "j");
    press(&mut app, "R");
    assert!(app.outbound.is_empty(), "r4 is still running");
    press(&mut app, "j");
    press(&mut app, "R");
    assert!(matches!(
        app.outbound.last(),
        Some(NetRequest::Command {
            command: Command::RetryRun { run_id, .. },
            ..
        }) if *run_id == id("run", 3)
    ));
}

#[test]
fn an_open_run_follows_its_log_and_pages_what_the_viewer_needs() {
    let mut app = runs_app();
    press(&mut app, "jjj");
    press(&mut app, "\n");
    assert!(app.runs.open.is_some());
    assert!(matches!(
        app.outbound.as_slice(),
        [NetRequest::LogFollow { run_id, tail: 200 }] if *run_id == id("run", 2)
    ));
    app.outbound.clear();
    // Drawing shows the viewer lacks lines 1..3: one page is asked for.
    draw(&app, 80, 24);
    app.request_log_pages();
    let page = match app.outbound.as_slice() {
        [NetRequest::LogPage(page)] => page.clone(),
        other => panic!("expected one page request, got {other:?}"),
    };
    assert_eq!((page.from, page.filter.clone()), (1, None));
    app.on_net(NetEvent::LogPage(
        page,
        Ok(Page {
            generation: 0,
            lines: vec![
                line(1, LogStream::Sys, "started on build-1"),
                line(
                    2,
                    LogStream::Out,
                    "\u{1b}[32mok\u{1b}[0m compiled \u{1b}]0;pwned\u{7}x",
                ),
                line(3, LogStream::Err, "error: disk quota exceeded"),
            ],
            next: None,
            stored: 3,
            finished: true,
        }),
    ));
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("api_key=***"));
    assert!(
        !screen.contains("pwned"),
        "an OSC title never reaches the screen"
    );
    // The viewer's keys work inside (e jumps to the error), q goes back to the list.
    press(&mut app, "g");
    press(&mut app, "e");
    press(&mut app, "q");
    assert!(app.runs.open.is_none());
    assert!(matches!(
        app.outbound.last(),
        Some(NetRequest::LogUnfollow { run_id }) if *run_id == id("run", 2)
    ));
}

#[test]
fn live_lines_of_the_open_run_arrive_and_others_are_ignored() {
    let mut app = runs_app();
    press(&mut app, "j\n");
    app.on_net(NetEvent::Push(Box::new(ServerMessage::LogLines {
        run_id: id("run", 4),
        lines: (1..=5)
            .map(|n| line(n, LogStream::Out, &format!("step {n}")))
            .collect(),
    })));
    app.on_net(NetEvent::Push(Box::new(ServerMessage::LogLines {
        run_id: id("run", 9),
        lines: vec![line(1, LogStream::Out, "someone else's")],
    })));
    let open = app.runs.open.as_ref().map(|o| o.log.source().stored());
    assert_eq!(open, Some(5));
    let terminal = draw(&app, 80, 20);
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("step 5"));
    assert!(!screen.contains("someone else"));
    // Esc in the log is the viewer's (clears a search), not "leave".
    app.on_key(key(KeyCode::Esc));
    assert!(app.runs.open.is_some());
}

#[test]
fn the_runs_screen_fits_80x24_and_says_what_to_do_when_empty() {
    let mut app = sample_app();
    press(&mut app, "3");
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
}

fn job() -> warren_protocol::run::Job {
    warren_protocol::run::Job {
        id: id("job", 1),
        name: "deploy".into(),
        command: "./deploy.sh".into(),
        description: String::new(),
        params: vec![],
        timeout_secs: 1800,
        retries: 0,
        tags: vec![],
        protected: false,
        concurrency: None,
        created_by: me().user_id,
        created_at: T0,
        updated_at: T0,
    }
}

#[test]
fn slash_run_in_a_room_starts_the_job_for_that_room_and_a_typo_keeps_the_text() {
    let mut app = sample_app();
    let e = event(&app, &me(), Change::JobCreated { job: job() });
    app.on_net(e);
    press(&mut app, "2\n");
    press(&mut app, "/run deplo env=prod\n");
    app.outbound
        .retain(|r| matches!(r, NetRequest::Command { .. }));
    assert!(app.outbound.is_empty(), "no job named deplo: nothing sent");
    assert_eq!(app.chat.compose.lines().join("\n"), "/run deplo env=prod");
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("jobs: deploy")),
        "{:?}",
        app.notice
    );
    app.chat.compose = crate::tui::screens::chat::new_compose();
    press(&mut app, "/run DEPLOY env=prod\n");
    app.outbound
        .retain(|r| matches!(r, NetRequest::Command { .. }));
    let room = app.current_room();
    match app.outbound.as_slice() {
        [
            NetRequest::Command {
                command:
                    Command::StartRun {
                        job_id,
                        params,
                        room_id,
                        ..
                    },
                ..
            },
        ] => {
            assert_eq!(job_id, &id("job", 1));
            assert_eq!(params.get("env").map(String::as_str), Some("prod"));
            assert_eq!(room_id, &room);
        }
        other => panic!("expected one start_run, got {other:?}"),
    }
}

#[test]
fn n_starts_a_run_for_a_job_and_opens_it_once_the_server_has_it() {
    let mut app = runs_app();
    let e = event(&app, &me(), Change::JobCreated { job: job() });
    app.on_net(e);
    press(&mut app, "n");
    assert!(matches!(app.overlay, Some(Overlay::Prompt(_))));
    press(&mut app, "nope\n");
    assert!(
        matches!(&app.overlay, Some(Overlay::Prompt(p)) if p.error.as_deref() == Some("no job named “nope”")),
        "an unknown job keeps the prompt open with why"
    );
    if let Some(Overlay::Prompt(p)) = app.overlay.as_mut() {
        p.input = crate::tui::prompt::Prompt::new("", "", p.purpose.clone()).input;
    }
    press(&mut app, "deploy env=prod\n");
    assert!(app.overlay.is_none());
    let started = app.outbound.iter().find_map(|r| match r {
        NetRequest::Command {
            command: Command::StartRun { run_id, params, .. },
            ..
        } => Some((run_id.clone(), params.clone())),
        _ => None,
    });
    let Some((Some(run_id), params)) = started else {
        panic!(
            "expected a start_run with a client-made id: {:?}",
            app.outbound
        );
    };
    assert_eq!(params.get("env").map(String::as_str), Some("prod"));
    // The server confirms it: the run opens.
    let mut created = run(6, RunStatus::Queued);
    created.id = run_id.clone();
    let e = event(&app, &me(), Change::RunCreated { run: created });
    app.on_net(e);
    assert_eq!(app.runs.open.as_ref().map(|o| &o.run_id), Some(&run_id));
}

#[test]
fn r_on_a_card_starts_a_run_for_that_card() {
    let mut app = sample_app();
    let e = event(&app, &me(), Change::JobCreated { job: job() });
    app.on_net(e);
    let card = app.selected_card().map(|c| c.id);
    assert!(card.is_some());
    press(&mut app, "r");
    press(&mut app, "deploy\n");
    let for_card = app.outbound.iter().find_map(|r| match r {
        NetRequest::Command {
            command: Command::StartRun { card_id, .. },
            ..
        } => Some(card_id.clone()),
        _ => None,
    });
    assert_eq!(for_card, Some(card));
    assert_eq!(app.tab, Tab::Runs);
}
