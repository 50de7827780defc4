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
        agent: None,
        parent_run_id: None,
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
fn at_80_columns_the_list_shows_only_columns_that_fit_whole() {
    let app = runs_app();
    let terminal = draw(&app, 80, 12);
    insta::assert_snapshot!(terminal.backend());
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("TOOK"), "{screen}");
    assert!(
        !screen.contains('…') && !screen.contains("WORKER"),
        "no column cut off at the edge: {screen}"
    );
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

/// Opens r2 of `runs_app` and gives its log lines `numbers` (live), line `n` saying `text(n)`.
fn open_with_lines(
    app: &mut App,
    numbers: std::ops::RangeInclusive<u64>,
    text: impl Fn(u64) -> String,
) {
    press(app, "jjj\n");
    assert!(app.runs.open.is_some());
    app.on_net(NetEvent::Push(Box::new(ServerMessage::LogLines {
        run_id: id("run", 2),
        lines: numbers.map(|n| line(n, LogStream::Out, &text(n))).collect(),
    })));
    app.outbound.clear();
}

fn quota(n: u64) -> String {
    if n == 25 {
        "error: disk quota exceeded".to_owned()
    } else {
        format!("step {n} ok")
    }
}

fn log_top(app: &App) -> Option<(u64, bool)> {
    app.runs
        .open
        .as_ref()
        .map(|o| (o.log.top(), o.log.following()))
}

#[test]
fn the_log_search_moves_as_it_is_typed_and_its_letters_are_text_not_keys() {
    let mut app = runs_app();
    open_with_lines(&mut app, 1..=60, quota);
    assert_eq!(log_top(&app), Some((40, true)));
    // q, C, A, X, R and ? are run keys in the log: in the prompt they are typed.
    press(&mut app, "/quota|CAXR?");
    assert!(app.runs.open.is_some(), "q did not close the run");
    assert!(app.overlay.is_none(), "? did not open help");
    assert!(app.outbound.is_empty(), "no run command, no server query");
    for _ in 0.."|CAXR?".len() {
        app.on_key(key(KeyCode::Backspace));
    }
    assert_eq!(app.context(), crate::keymap::Context::LogPrompt);
    // Nothing matches below the tail: the view stays; at the top it finds line 25.
    app.on_key(key(KeyCode::Esc));
    assert_eq!(log_top(&app), Some((40, true)), "esc: following again");
    press(&mut app, "g/quota");
    assert_eq!(log_top(&app), Some((24, false)));
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("/quota▏  match 1 of 1"), "{screen}");
    press(&mut app, "\n");
    assert_eq!(app.context(), crate::keymap::Context::Log);
    assert_eq!(log_top(&app), Some((24, false)), "enter keeps the place");
    assert!(
        app.outbound.is_empty(),
        "found in the lines held: nothing asked"
    );
}

#[test]
fn enter_asks_the_server_when_nothing_held_matches() {
    let mut app = runs_app();
    open_with_lines(&mut app, 901..=1_000, |n| format!("fine {n}"));
    press(&mut app, "g/boom");
    app.request_log_pages();
    assert!(
        !app.outbound.iter().any(|r| matches!(
            r,
            NetRequest::LogPage(p) if p.purpose == crate::tui::screens::runs::remote::Purpose::Search
        )),
        "no server search per keystroke: {:?}",
        app.outbound
    );
    let screen = format!("{:?}", draw(&app, 80, 24).backend().buffer());
    assert!(screen.contains("enter searches the whole log"), "{screen}");
    press(&mut app, "\n");
    app.request_log_pages();
    let searches: Vec<_> = app
        .outbound
        .iter()
        .filter_map(|r| match r {
            NetRequest::LogPage(p)
                if p.purpose == crate::tui::screens::runs::remote::Purpose::Search =>
            {
                Some(p.filter.as_ref().map(|f| f.pattern.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(searches, vec![Some("(?i)boom".to_owned())]);
}

#[test]
fn a_rebound_log_key_does_the_action_and_the_old_key_no_longer_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(crate::keymap::USER_FILE);
    let file = "[log]\n\"x\" = \"log_next_error\"\n\"e\" = \"none\"\n\
                \"f\" = \"log_follow\"\n\"F\" = \"none\"\n";
    std::fs::write(&path, file).expect("write keymap");
    let (keymap, errors) = crate::keymap::Keymap::load("default", Some(&path));
    assert!(errors.is_empty(), "{errors:?}");
    let mut app = runs_app();
    app.keymap = keymap;
    open_with_lines(&mut app, 1..=60, quota);
    press(&mut app, "g");
    press(&mut app, "e");
    assert_eq!(log_top(&app), Some((0, false)), "e no longer jumps");
    press(&mut app, "x");
    assert_eq!(log_top(&app), Some((24, false)), "x jumps to the error");
    // The words on screen name the keys as rebound.
    let screen = format!("{}", draw(&app, 80, 24).backend());
    assert!(screen.contains("x/E errors  f follow"), "{screen}");
    assert!(screen.contains("25/60 (f follows)"), "{screen}");
    press(&mut app, "F");
    assert_eq!(log_top(&app), Some((24, false)), "F no longer follows");
    press(&mut app, "f");
    assert_eq!(log_top(&app), Some((40, true)));
    // The help window lists the new key under the log's heading.
    press(&mut app, "?");
    let screen = format!("{}", draw(&app, 100, 60).backend());
    assert!(
        screen
            .lines()
            .any(|l| l.contains(" x ") && l.contains("Next error line")),
        "{screen}"
    );
}

#[test]
fn the_log_search_in_16_colours_shows_its_prompt_count_and_matches() {
    use crate::theme::ColorSupport;
    use ratatui::style::Color;
    let mut app = runs_app();
    app.theme = app.theme.resolve(ColorSupport::Ansi16);
    open_with_lines(&mut app, 1..=60, |n| format!("step {n} ok"));
    press(&mut app, "g/step 1");
    let terminal = draw(&app, 80, 24);
    let buffer = terminal.backend().buffer();
    let rows: Vec<String> = (0..24u16)
        .map(|y| (0..80u16).map(|x| buffer[(x, y)].symbol()).collect())
        .collect();
    let prompt = rows.iter().position(|r| r.starts_with("/step 1▏"));
    let Some(prompt) = prompt else {
        panic!("no prompt row: {rows:#?}");
    };
    // Lines 1 and 10..=19 match; the view is on line 1.
    assert!(rows[prompt].contains("match 1 of 11"), "{}", rows[prompt]);
    let matched = app.theme.style("ui.match");
    let row_of = |text: &str| rows.iter().position(|r| r.contains(text));
    for (text, marked) in [
        ("step 1 ok", true),
        ("step 10 ok", true),
        ("step 2 ok", false),
    ] {
        let Some(y) = row_of(text) else {
            panic!("{text} is not on screen: {rows:#?}");
        };
        let x = rows[y]
            .find("step")
            .map_or(0, |x| rows[y][..x].chars().count()) as u16;
        let style = buffer[(x, y as u16)].style();
        assert_eq!(style.fg == matched.fg, marked, "{text}: {style:?}");
    }
    for cell in buffer.content() {
        for c in [cell.fg, cell.bg] {
            assert!(!matches!(c, Color::Rgb(..) | Color::Indexed(_)), "{c:?}");
        }
    }
}
