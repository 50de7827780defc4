//! Agents in the full-screen client (issue 9): a reply streaming into the room (committed per
//! line or full row, escape sequences dropped, duplicates and gaps in the deltas), the stored
//! reply taking its place, the run line under the question, the agent run view (steps, tool calls
//! folded and opened, the streaming step, the status line), the approval prompt (in the room and
//! the run, answered by y/a/n, never by a key within 300 ms of its appearing, only for members
//! who may decide), esc interrupting a turn, and the Stats tab with and without usage.

use std::time::Duration;

use crossterm::event::KeyCode;
use tokio::time::Instant;
use warren_protocol::agent::{Agent, AgentRun, Price, Provider, ProviderKind, Usage};
use warren_protocol::budget::{Budget, BudgetPeriod, BudgetScope, UsageRow};
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::ApprovalGrant;
use warren_protocol::step::{
    Approval, Decision, ModelCall, RunStep, StepDetail, StepStatus, StreamPartial, ToolCallStep,
};
use warren_protocol::tool::ToolName;
use warren_protocol::{Change, Command, Id, Member, Role, ServerMessage};

use super::fixture::{
    app_with, draw, event, id, key, me, message, press, room, sample_cards, state,
};
use crate::tui::app::App;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::screens::Tab;
use crate::tui::state::Overlay;

const T0: i64 = super::fixture::T0;

fn reviewer() -> Member {
    Member {
        user_id: id("usr", 9),
        name: "reviewer".into(),
        role: Role::Member,
    }
}

fn provider() -> Provider {
    Provider {
        id: id("prov", 1),
        name: "local".into(),
        kind: ProviderKind::Openai,
        base_url: "http://127.0.0.1:8080/v1".into(),
        key_env: None,
        models: vec!["smollm2".into()],
        price: Price {
            input_per_mtok: 150_000,
            output_per_mtok: 600_000,
        },
        context_tokens: Some(2048),
        health: None,
        created_by: me().user_id,
        created_at: T0,
        updated_at: T0,
    }
}

fn agent() -> Agent {
    Agent {
        id: id("agent", 1),
        name: "reviewer".into(),
        member_id: reviewer().user_id,
        providers: vec![id("prov", 1)],
        model: None,
        prompt: "Be brief.".into(),
        tools: vec![ToolName::CardCreate],
        auto_approve: vec![],
        max_steps: 20,
        max_tokens: None,
        max_wall_secs: 600,
        disabled: false,
        created_by: me().user_id,
        created_at: T0,
        updated_at: T0,
    }
}

fn agent_run(status: RunStatus) -> Run {
    Run {
        id: id("run", 9),
        number: 9,
        job_id: id("agent", 1),
        job_name: "reviewer".into(),
        params: vec![],
        status,
        requested_by: me().user_id,
        card_id: None,
        room_id: Some(id("room", 1)),
        retry_of: None,
        attempt: 1,
        worker_id: None,
        decided_by: None,
        created_at: T0 + 60_000,
        queued_at: Some(T0 + 60_000),
        not_before: None,
        started_at: Some(T0 + 61_000),
        finished_at: status.is_final().then_some(T0 + 75_000),
        exit_code: None,
        reason: None,
        lines: 0,
        log_bytes: 0,
        parent_run_id: None,
        agent: Some(Box::new(AgentRun {
            agent_id: id("agent", 1),
            prompt: "what blocks the release?".into(),
            message_id: Some(id("msg", 1)),
            reply_message_id: None,
            probe_provider_id: None,
            steps: 2,
            usage: Usage {
                input_tokens: 812,
                output_tokens: 64,
                counted: false,
            },
            cost: 161,
            paused_reason: None,
            force_tool: None,
        })),
    }
}

fn model_step(n: u32, status: StepStatus, text: &str) -> RunStep {
    RunStep {
        run_id: id("run", 9),
        n,
        status,
        started_at: T0 + 61_000,
        finished_at: status.is_final().then_some(T0 + 62_400),
        detail: StepDetail::ModelCall(ModelCall {
            provider_id: id("prov", 1),
            provider: "local".into(),
            model: "smollm2".into(),
            usage: if status.is_final() {
                Usage {
                    input_tokens: 812,
                    output_tokens: 64,
                    counted: false,
                }
            } else {
                Usage::default()
            },
            cost: if status.is_final() { 161 } else { 0 },
            latency_ms: 1400,
            first_token_ms: Some(180),
            attempts: vec![],
            text: text.into(),
            partial: false,
            tool_calls: vec![],
            finish_reason: None,
            error: None,
        }),
    }
}

fn tool_step(n: u32, status: StepStatus) -> RunStep {
    RunStep {
        run_id: id("run", 9),
        n,
        status,
        started_at: T0 + 62_400,
        finished_at: status.is_final().then_some(T0 + 64_000),
        detail: StepDetail::ToolCall(ToolCallStep {
            call_id: "call_0".into(),
            tool: Some(ToolName::CardCreate),
            name: "card_create".into(),
            arguments: "{\"title\":\"Finish the protocol docs\"}".into(),
            result: status
                .is_final()
                .then(|| "rejected by mira: there is a card for that already (#12)".to_owned()),
            is_error: status == StepStatus::Rejected,
            child_run_id: None,
            approval: Some(Approval {
                requested_at: T0 + 62_400,
                decision: (status == StepStatus::Rejected).then_some(Decision::Reject),
                decided_by: (status == StepStatus::Rejected).then(|| id("usr", 2)),
                decided_at: None,
                reason: (status == StepStatus::Rejected)
                    .then(|| "there is a card for that already (#12)".to_owned()),
                grant_id: None,
            }),
        }),
    }
}

/// An app in a workspace with one agent, on the chat tab of #general, where ada asked
/// @reviewer and the run is `status`.
fn agent_app_as(role: Role, status: RunStatus) -> App {
    let mut s = state(sample_cards(), vec![room(1, "general"), room(2, "design")]);
    s.members[0].role = role;
    s.members.push(reviewer());
    s.providers = vec![provider()];
    s.agents = vec![agent()];
    s.runs = vec![agent_run(status)];
    let mut app = app_with(s);
    app.runs.frozen_now = Some(T0 + 70_000);
    app.on_net(NetEvent::Page {
        room_id: id("room", 1),
        messages: vec![message(
            1,
            &id("room", 1),
            &me(),
            5,
            "@reviewer what blocks the release?",
        )],
        has_more: false,
    });
    press(&mut app, "2");
    app
}

fn agent_app(status: RunStatus) -> App {
    agent_app_as(Role::Owner, status)
}

fn push(app: &mut App, message: ServerMessage) {
    app.on_net(NetEvent::Push(Box::new(message)));
}

fn delta(app: &mut App, step: u32, offset: u64, text: &str) {
    push(
        app,
        ServerMessage::AgentDelta {
            run_id: id("run", 9),
            step,
            offset,
            text: text.into(),
        },
    );
}

fn step_event(app: &mut App, step: RunStep) {
    let e = event(app, &reviewer(), Change::RunStep { step });
    app.on_net(e);
}

fn sent_commands(app: &App) -> Vec<Command> {
    app.outbound
        .iter()
        .filter_map(|r| match r {
            NetRequest::Command { command, .. } => Some(command.clone()),
            _ => None,
        })
        .collect()
}

fn screen(app: &App, w: u16, h: u16) -> String {
    format!("{}", draw(app, w, h).backend())
}

#[test]
fn the_room_on_screen_is_watched_and_unwatched_when_left() {
    let mut app = agent_app(RunStatus::Running);
    let watched: Vec<_> = app
        .outbound
        .iter()
        .filter_map(|r| match r {
            NetRequest::Watch { room_id, .. } => room_id.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(watched, vec![id("room", 1)]);
    app.outbound.clear();
    press(&mut app, "]");
    assert!(app.outbound.iter().any(|r| matches!(r,
        NetRequest::Unwatch { room_id: Some(r), .. } if r == &id("room", 1))));
    assert!(app.outbound.iter().any(|r| matches!(r,
        NetRequest::Watch { room_id: Some(r), .. } if r == &id("room", 2))));
    app.outbound.clear();
    press(&mut app, "1");
    assert!(app.outbound.iter().any(|r| matches!(r,
        NetRequest::Unwatch { room_id: Some(r), .. } if r == &id("room", 2))));
}

#[test]
fn a_server_refusing_run_watch_shows_no_error() {
    let mut app = agent_app(RunStatus::Running);
    let request_id = app
        .outbound
        .iter()
        .find_map(|r| match r {
            NetRequest::Watch { request_id, .. } => Some(request_id.clone()),
            _ => None,
        })
        .expect("a watch was sent");
    push(
        &mut app,
        ServerMessage::Error {
            request_id: Some(request_id),
            code: warren_protocol::ErrorCode::UnknownType,
            message: "agents are not served by this server yet".into(),
            retry_after_ms: None,
        },
    );
    assert!(app.notice.is_none(), "{:?}", app.notice);
}

#[test]
fn a_streaming_reply_shows_committed_text_and_never_escape_sequences() {
    let mut app = agent_app(RunStatus::Running);
    step_event(&mut app, model_step(1, StepStatus::Running, ""));
    push(
        &mut app,
        ServerMessage::RunWatching {
            request_id: warren_protocol::RequestId::parse("req-01-7f3a").expect("id"),
            partials: vec![StreamPartial {
                run_id: id("run", 9),
                step: 1,
                text: "The release waits on card #12.\nIt is \u{1b}[31mnot".into(),
            }],
        },
    );
    // The same delta twice: shown once.
    delta(&mut app, 1, 45, " done yet");
    delta(&mut app, 1, 45, " done yet");
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("agent_reply_streaming_80x24", text);
    assert!(text.contains("writing…"), "{text}");
    assert!(text.contains("The release waits on card #12."), "{text}");
    // The unfinished line waits for its newline or a full row.
    assert!(!text.contains("It is"), "{text}");
    assert!(!text.contains("[31m"), "{text}");
    delta(&mut app, 1, 54, ".\n");
    let text = screen(&app, 120, 40);
    insta::assert_snapshot!("agent_reply_streaming_120x40", text);
    assert!(text.contains("It is not done yet."), "{text}");
    assert!(
        !text.contains("done yet. done yet"),
        "duplicate shown: {text}"
    );
    assert!(!format!("{:?}", draw(&app, 80, 24).backend().buffer()).contains('\u{1b}'));
}

#[test]
fn a_reply_in_progress_stops_its_spinner_and_says_so_while_not_connected() {
    let mut app = agent_app(RunStatus::Running);
    delta(&mut app, 1, 0, "Card #12 blocks it.\n");
    let text = screen(&app, 80, 24);
    assert!(text.contains("⠋ writing…"), "{text}");
    app.on_net(NetEvent::Disconnected {
        reason: "down".into(),
        retry_at: None,
    });
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("reviewer  writing… (not connected)"),
        "{text}"
    );
    assert!(
        !crate::tui::screens::chat::stream::lines(&app, &id("room", 1), 60)
            .iter()
            .any(|l| l.spans.iter().any(|s| s.content.contains('⠋'))),
        "no spinner while not connected"
    );
    // What was streamed stays.
    assert!(text.contains("Card #12 blocks it."), "{text}");
}

#[test]
fn a_run_with_nothing_counted_yet_shows_no_token_count() {
    let mut app = agent_app(RunStatus::Running);
    let mut fresh = agent_run(RunStatus::Running);
    if let Some(a) = fresh.agent.as_mut() {
        a.usage = Usage::default();
        a.cost = 0;
    }
    let e = event(
        &app,
        &reviewer(),
        Change::RunUpdated {
            run: fresh.clone(),
            from: RunStatus::Running,
        },
    );
    app.on_net(e);
    let text = screen(&app, 80, 24);
    assert!(text.contains("● r9 running · enter opens"), "{text}");
    assert!(!text.contains("0 tokens"), "{text}");
    // A run that ended without a model call says so: 0 tokens is then the answer.
    let mut failed = fresh;
    failed.status = RunStatus::Failed;
    let e = event(
        &app,
        &reviewer(),
        Change::RunUpdated {
            run: failed,
            from: RunStatus::Running,
        },
    );
    app.on_net(e);
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("✗ r9 failed · 0 tokens · $0 · enter opens"),
        "{text}"
    );
}

#[test]
fn a_stream_without_newlines_is_committed_row_by_row() {
    let mut app = agent_app(RunStatus::Running);
    let long = "word ".repeat(40); // 200 characters, no newline
    delta(&mut app, 1, 0, &long);
    let text = screen(&app, 80, 24);
    // The history is 80 - 20 (rooms) columns wide: whole rows of its width show.
    assert!(text.contains("word word word"), "{text}");
}

#[test]
fn a_gap_in_the_deltas_drops_the_partial_until_the_step_is_stored() {
    let mut app = agent_app(RunStatus::Running);
    step_event(&mut app, model_step(1, StepStatus::Running, ""));
    delta(&mut app, 1, 0, "First line.\n");
    delta(&mut app, 1, 40, "lost the middle\n");
    let text = screen(&app, 80, 24);
    assert!(!text.contains("First line."), "{text}");
    assert!(!text.contains("lost the middle"), "{text}");
    step_event(
        &mut app,
        model_step(1, StepStatus::Done, "First line.\nSecond.\nlost the middle"),
    );
    // The run view shows the stored text of the finished step.
    app.open_agent_run(&id("run", 9));
    let text = screen(&app, 80, 24);
    assert!(text.contains("Second."), "{text}");
}

#[test]
fn the_stored_reply_replaces_the_reply_in_progress() {
    let mut app = agent_app(RunStatus::Running);
    delta(&mut app, 1, 0, "Card #12 blocks it.\n");
    assert!(screen(&app, 80, 24).contains("writing…"));
    let mut done = agent_run(RunStatus::Succeeded);
    if let Some(a) = done.agent.as_mut() {
        a.reply_message_id = Some(id("msg", 2));
    }
    let reply = message(
        2,
        &id("room", 1),
        &reviewer(),
        11,
        "Card **#12** blocks it.",
    );
    let e = event(&app, &reviewer(), Change::MessagePosted { message: reply });
    app.on_net(e);
    let e = event(
        &app,
        &reviewer(),
        Change::RunUpdated {
            run: done,
            from: RunStatus::Running,
        },
    );
    app.on_net(e);
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("agent_reply_finished_80x24", text);
    assert!(!text.contains("writing…"), "{text}");
    assert!(text.contains("Card #12 blocks it."), "{text}");
    assert!(
        text.contains("✓ r9 succeeded"),
        "the reply shows its run: {text}"
    );
    assert!(text.contains("876 tokens · $0.0002"), "{text}");
    // Enter on the question opens the run.
    press(&mut app, "k");
    press(&mut app, "k");
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.tab, Tab::Runs);
    assert!(app.runs.open.as_ref().is_some_and(|o| o.agent.is_some()));
    assert!(
        app.outbound
            .iter()
            .any(|r| matches!(r, NetRequest::RunSteps { number: 9 })),
        "the steps are asked for"
    );
    assert!(
        !app.outbound
            .iter()
            .any(|r| matches!(r, NetRequest::LogFollow { .. })),
        "an agent run has no log to follow"
    );
}

pub(super) fn awaiting_app(role: Role) -> App {
    let mut app = agent_app_as(role, RunStatus::Running);
    step_event(
        &mut app,
        model_step(1, StepStatus::Done, "I will add a card."),
    );
    let e = event(
        &app,
        &reviewer(),
        Change::RunUpdated {
            run: agent_run(RunStatus::AwaitingApproval),
            from: RunStatus::Running,
        },
    );
    app.on_net(e);
    step_event(&mut app, tool_step(2, StepStatus::AwaitingApproval));
    app.outbound.clear();
    app
}

#[tokio::test(start_paused = true)]
async fn a_key_within_300_ms_of_the_prompt_does_not_answer_it() {
    let mut app = awaiting_app(Role::Admin);
    let appeared = Instant::now();
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("agent_approval_in_room_80x24", text);
    assert!(text.contains("@reviewer asks to run card.create"), "{text}");
    assert!(
        text.contains("always allow @reviewer to card.create in this workspace"),
        "{text}"
    );
    let y = key(KeyCode::Char('y'));
    app.on_key_at(y, appeared + Duration::from_millis(100));
    app.on_key_at(y, appeared + Duration::from_millis(299));
    assert!(sent_commands(&app).is_empty(), "too soon: not an answer");
    assert!(
        app.overlay.is_none(),
        "nor anything else (y copies in chat)"
    );
    let told = screen(&app, 80, 24);
    assert!(
        told.contains("y came too soon after the approval prompt appeared"),
        "the dropped key is not lost silently:\n{told}"
    );
    app.on_key_at(y, appeared + Duration::from_millis(300));
    assert_eq!(
        sent_commands(&app),
        vec![Command::DecideTool {
            run_id: id("run", 9),
            step: 2,
            decision: Decision::ApproveOnce,
            reason: None,
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn always_and_reject_with_a_reason_send_their_decisions() {
    let mut app = awaiting_app(Role::Admin);
    let t = Instant::now() + Duration::from_secs(1);
    app.on_key_at(key(KeyCode::Char('a')), t);
    app.on_key_at(key(KeyCode::Char('n')), t);
    assert!(matches!(app.overlay, Some(Overlay::Prompt(_))));
    for c in "not on Fridays".chars() {
        app.on_key_at(key(KeyCode::Char(c)), t);
    }
    app.on_key_at(key(KeyCode::Enter), t);
    assert_eq!(
        sent_commands(&app),
        vec![
            Command::DecideTool {
                run_id: id("run", 9),
                step: 2,
                decision: Decision::ApproveAlways,
                reason: None,
            },
            Command::DecideTool {
                run_id: id("run", 9),
                step: 2,
                decision: Decision::Reject,
                reason: Some("not on Fridays".into()),
            },
        ]
    );
}

#[test]
fn a_conflict_says_who_decided() {
    let mut app = awaiting_app(Role::Owner);
    app.submit(Command::DecideTool {
        run_id: id("run", 9),
        step: 2,
        decision: Decision::ApproveOnce,
        reason: None,
    });
    let request_id = app
        .outbound
        .iter()
        .find_map(|r| match r {
            NetRequest::Command { request_id, .. } => Some(request_id.clone()),
            _ => None,
        })
        .expect("sent");
    app.on_net(NetEvent::Rejected(
        request_id,
        warren_protocol::WireError {
            code: warren_protocol::ErrorCode::Conflict,
            message: "already decided by mira: reject".into(),
            retry_after_ms: None,
        },
    ));
    let notice = app
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(notice.contains("decided by mira"), "{notice}");
}

#[test]
fn members_who_may_not_decide_see_no_prompt() {
    let app = awaiting_app(Role::Member);
    assert_eq!(app.shown_approval(), None);
    let text = screen(&app, 80, 24);
    assert!(!text.contains("asks to run"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn the_run_view_shows_steps_the_prompt_and_the_status_line() {
    let mut app = awaiting_app(Role::Owner);
    let e = event(
        &app,
        &me(),
        Change::BudgetSet {
            budget: budget(BudgetScope::Agent {
                agent_id: id("agent", 1),
            }),
        },
    );
    app.on_net(e);
    app.on_net(NetEvent::Budgets(Ok(vec![budget(BudgetScope::Agent {
        agent_id: id("agent", 1),
    })])));
    app.open_agent_run(&id("run", 9));
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("agent_run_view_awaiting_80x24", text);
    assert!(text.contains("1 ✓ model local/smollm2"), "{text}");
    assert!(text.contains("2 ⏸ tool card.create ▸"), "{text}");
    assert!(text.contains("tokens 812 in / 64 out"), "{text}");
    assert!(text.contains("context 42% of 2,048"), "{text}");
    assert!(text.contains("budget left $1.19 of $5.00"), "{text}");
    assert!(text.contains("@reviewer asks to run card.create"), "{text}");
    // Open the tool call.
    press(&mut app, "j");
    app.on_key_at(key(KeyCode::Enter), Instant::now());
    let text = screen(&app, 120, 40);
    insta::assert_snapshot!("agent_run_view_unfolded_120x40", text);
    assert!(
        text.contains("\"title\": \"Finish the protocol docs\""),
        "{text}"
    );
    // The decision arrives: the prompt goes, the result and who decided show.
    step_event(&mut app, tool_step(2, StepStatus::Rejected));
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("agent_run_view_rejected_80x24", text);
    assert!(!text.contains("asks to run"), "{text}");
    assert!(text.contains("rejected by mira: there is a card"), "{text}");
    // Fold it again.
    app.on_key_at(key(KeyCode::Enter), Instant::now());
    assert!(!screen(&app, 80, 24).contains("arguments:"));
}

fn budget(scope: BudgetScope) -> Budget {
    Budget {
        scope,
        limit: 5_000_000,
        period: BudgetPeriod::Month,
        spent: 3_812_400,
        period_start: T0,
        set_by: me().user_id,
        updated_at: T0,
    }
}

#[test]
fn the_run_view_streams_the_step_in_progress_and_esc_interrupts() {
    let mut app = agent_app(RunStatus::Running);
    step_event(&mut app, model_step(1, StepStatus::Running, ""));
    app.open_agent_run(&id("run", 9));
    delta(&mut app, 1, 0, "Looking at the board.\nCard #12 is");
    assert!(
        app.outbound.iter().any(|r| matches!(r,
            NetRequest::Watch { run_id: Some(r), .. } if r == &id("run", 9))),
        "the open run is watched"
    );
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("agent_run_view_streaming_80x24", text);
    assert!(text.contains("Looking at the board."), "{text}");
    assert!(!text.contains("Card #12 is"), "the open line waits: {text}");
    app.outbound.clear();
    app.on_key(key(KeyCode::Esc));
    assert_eq!(
        sent_commands(&app),
        vec![Command::CancelRun {
            run_id: id("run", 9),
            reason: Some("interrupted from the run view".into()),
        }]
    );
    // q goes back to the list and stops watching the run.
    press(&mut app, "q");
    assert!(app.runs.open.is_none());
    assert!(app.outbound.iter().any(|r| matches!(r,
        NetRequest::Unwatch { run_id: Some(r), .. } if r == &id("run", 9))));
}

fn usage_row(day: &str, agent: u8, tokens: u64, cost: u64) -> UsageRow {
    UsageRow {
        day: day.into(),
        agent_id: id("agent", agent),
        provider_id: id("prov", 1),
        room_id: Some(id("room", 1)),
        usage: Usage {
            input_tokens: tokens,
            output_tokens: tokens / 10,
            counted: false,
        },
        cost,
        calls: 3,
    }
}

pub(super) fn stats_app() -> App {
    let mut app = agent_app(RunStatus::Succeeded);
    // 2026-12-05T10:00Z
    app.runs.frozen_now = Some(1_796_464_800_000);
    press(&mut app, "4");
    assert_eq!(app.tab, Tab::Stats);
    assert!(
        app.outbound
            .iter()
            .any(|r| matches!(r, NetRequest::Usage { .. })),
        "usage is asked for"
    );
    app
}

#[test]
fn stats_without_usage_say_what_to_do() {
    let mut app = stats_app();
    app.on_net(NetEvent::Usage(Ok(vec![])));
    app.on_net(NetEvent::Budgets(Ok(vec![])));
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("stats_empty_80x24", text);
    assert!(
        text.contains("no model calls yet — ask an agent with @name in a room"),
        "{text}"
    );
}

#[test]
fn stats_draw_days_agents_providers_and_budgets() {
    let mut app = stats_app();
    feed_stats(&mut app);
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("stats_80x24", text);
    assert!(text.contains("cost per day"), "{text}");
    assert!(text.contains("@reviewer"), "{text}");
    assert!(text.contains("local"), "{text}");
    assert!(text.contains("$3.81 of $5.00"), "{text}");
    assert!(text.contains("102%"), "{text}");
    let text = screen(&app, 120, 40);
    insta::assert_snapshot!("stats_120x40", text);
    // An exhausted budget is drawn in the error colour.
    let terminal = draw(&app, 80, 24);
    let buffer = terminal.backend().buffer();
    let error = app.theme.style("ui.error").fg;
    let found = (0..buffer.area.height).any(|y| {
        let row: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_owned())
            .collect();
        row.contains("102%")
            && (0..buffer.area.width).any(|x| {
                buffer[(x, y)].symbol() == "1" && buffer[(x, y)].fg == error.unwrap_or_default()
            })
    });
    assert!(found, "the 102% budget is in the error colour");
}

/// Usage on three days by two agents, and two budgets (one exhausted).
pub(super) fn feed_stats(app: &mut App) {
    app.on_net(NetEvent::Usage(Ok(vec![
        usage_row("2026-12-01", 1, 12_000, 4_000),
        usage_row("2026-12-03", 1, 3_000, 1_000),
        usage_row("2026-12-05", 1, 24_310, 9_000),
        usage_row("2026-12-05", 2, 1_000, 500),
    ])));
    app.on_net(NetEvent::Budgets(Ok(vec![
        budget(BudgetScope::Workspace),
        Budget {
            spent: 5_100_000,
            ..budget(BudgetScope::Agent {
                agent_id: id("agent", 1),
            })
        },
    ])));
}

#[test]
fn stats_say_when_the_server_has_no_usage() {
    let mut app = stats_app();
    app.on_net(NetEvent::Usage(Err(
        "unknown_type: agents are not served".into()
    )));
    let text = screen(&app, 80, 24);
    assert!(text.contains("Usage is not available"), "{text}");
    assert!(text.contains("press r to try again"), "{text}");
}

#[test]
fn at_completion_offers_agents_as_members() {
    let mut app = agent_app(RunStatus::Succeeded);
    press(&mut app, "i");
    press(&mut app, "hey @rev");
    app.on_key(key(KeyCode::Tab));
    assert_eq!(app.chat.compose.lines().join("\n"), "hey @reviewer ");
}

#[test]
fn a_run_already_waiting_in_the_room_gets_its_steps_and_its_prompt() {
    let mut app = agent_app(RunStatus::AwaitingApproval);
    let asked = app
        .outbound
        .iter()
        .filter(|r| matches!(r, NetRequest::RunSteps { number: 9 }))
        .count();
    assert_eq!(asked, 1, "the waiting run's steps are asked for once");
    assert_eq!(app.shown_approval(), None, "no step known yet");
    app.outbound.clear();
    app.on_net(NetEvent::RunSteps(
        9,
        Ok((
            agent_run(RunStatus::AwaitingApproval),
            vec![
                model_step(1, StepStatus::Done, "I will add a card."),
                tool_step(2, StepStatus::AwaitingApproval),
            ],
        )),
    ));
    assert_eq!(app.shown_approval(), Some((id("run", 9), 2)));
    assert!(screen(&app, 80, 24).contains("@reviewer asks to run card.create"));
    assert!(
        !app.outbound
            .iter()
            .any(|r| matches!(r, NetRequest::RunSteps { .. })),
        "not asked again"
    );
}

#[test]
fn the_spinner_turns_only_while_an_agent_writes_on_screen() {
    let app = agent_app(RunStatus::Running);
    assert!(app.animating());
    let now = Instant::now();
    let wake = crate::tui::run::next_wakeup(&app, now);
    assert!(wake.is_some_and(|w| w <= now + Duration::from_millis(100)));
    let app = agent_app(RunStatus::Succeeded);
    assert!(!app.animating());
}

fn usage_asks(app: &App) -> usize {
    app.outbound
        .iter()
        .filter(|r| matches!(r, NetRequest::Usage { .. }))
        .count()
}

#[test]
fn stats_are_asked_again_when_shown_and_after_a_finished_step_in_front() {
    let mut app = stats_app();
    app.on_net(NetEvent::Usage(Ok(vec![])));
    app.on_net(NetEvent::Budgets(Ok(vec![])));
    assert_eq!(usage_asks(&app), 1);
    // A model call finishing while Stats is in front: asked again.
    step_event(&mut app, model_step(1, StepStatus::Done, "done"));
    assert_eq!(usage_asks(&app), 2);
    app.on_net(NetEvent::Usage(Ok(vec![])));
    // Elsewhere, a finished step asks nothing; coming back to Stats asks again.
    press(&mut app, "2");
    step_event(&mut app, model_step(2, StepStatus::Done, "more"));
    assert_eq!(usage_asks(&app), 2);
    press(&mut app, "4");
    assert_eq!(usage_asks(&app), 3);
}

fn grant(n: u8, tool: ToolName, at: i64) -> ApprovalGrant {
    ApprovalGrant {
        id: id("grant", n),
        agent_id: id("agent", 1),
        tool,
        granted_by: me().user_id,
        granted_at: at,
        run_id: Some(id("run", 9)),
    }
}

fn approvals_asked(app: &App) -> usize {
    app.outbound
        .iter()
        .filter(|r| matches!(r, NetRequest::Approvals))
        .count()
}

#[test]
fn the_grants_window_lists_follows_and_revokes_standing_approvals() {
    let mut app = agent_app(RunStatus::Running);
    press(&mut app, "4");
    app.outbound.clear();
    press(&mut app, "g");
    assert_eq!(approvals_asked(&app), 1, "one approvals query");
    assert!(screen(&app, 80, 24).contains("Loading…"));
    app.on_net(NetEvent::Approvals(Ok(vec![
        grant(1, ToolName::CardCreate, T0),
        grant(2, ToolName::MessagePost, T0 + 60_000),
    ])));
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("grants_window_80x24", text);
    // Newest first, with the agent's name and who gave it.
    let post = text
        .find("reviewer may message.post")
        .expect("the newer grant");
    let create = text
        .find("reviewer may card.create")
        .expect("the older grant");
    assert!(post < create, "{text}");
    assert!(text.contains("by ada"), "{text}");

    // A grant given meanwhile comes in on top; the selection stays on its grant.
    press(&mut app, "j");
    let e = event(
        &app,
        &me(),
        Change::ApprovalGranted {
            grant: grant(3, ToolName::CardMove, T0 + 120_000),
        },
    );
    app.on_net(e);
    assert_eq!(app.grants_listed()[0].id, id("grant", 3));
    press(&mut app, "d");
    let Some(Overlay::Confirm { prompt, .. }) = &app.overlay else {
        panic!("revoking asks first: {:?}", app.overlay);
    };
    assert!(
        prompt.contains("reviewer's standing approval of card.create"),
        "{prompt}"
    );
    app.outbound.clear();
    press(&mut app, "y");
    assert_eq!(
        sent_commands(&app),
        vec![Command::RevokeApproval {
            grant_id: id("grant", 1)
        }]
    );
    assert_eq!(approvals_asked(&app), 1, "the window opens again, current");

    // A refusal is said in the window, in plain words and safely.
    app.on_net(NetEvent::Approvals(Err(
        "you need agent:approve\u{1b}[2J".into()
    )));
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("Cannot list the grants: you need agent:approve"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'));

    // Revoked elsewhere: the row goes.
    app.on_net(NetEvent::Approvals(Ok(vec![
        grant(2, ToolName::MessagePost, T0 + 60_000),
        grant(3, ToolName::CardMove, T0 + 120_000),
    ])));
    let e = event(
        &app,
        &me(),
        Change::ApprovalRevoked {
            grant_id: id("grant", 3),
        },
    );
    app.on_net(e);
    let listed: Vec<Id> = app.grants_listed().iter().map(|g| g.id.clone()).collect();
    assert_eq!(listed, vec![id("grant", 2)]);
    press(&mut app, "q");
    assert!(app.overlay.is_none());
}

/// The window re-asks for the grants as it sends a revocation: the answer may have been read
/// before the revocation was stored, and its event may come before the answer. What came while
/// the window waited still counts.
#[test]
fn grants_given_and_revoked_while_the_window_loads_apply_to_its_answer() {
    let mut app = agent_app(RunStatus::Running);
    press(&mut app, "4");
    press(&mut app, "g");
    for change in [
        Change::ApprovalRevoked {
            grant_id: id("grant", 1),
        },
        Change::ApprovalGranted {
            grant: grant(3, ToolName::CardMove, T0 + 120_000),
        },
    ] {
        let e = event(&app, &me(), change);
        app.on_net(e);
    }
    // Read before both.
    app.on_net(NetEvent::Approvals(Ok(vec![
        grant(1, ToolName::CardCreate, T0),
        grant(2, ToolName::MessagePost, T0 + 60_000),
    ])));
    let listed: Vec<Id> = app.grants_listed().iter().map(|g| g.id.clone()).collect();
    assert_eq!(listed, vec![id("grant", 3), id("grant", 2)]);
}

#[test]
fn the_palette_offers_the_grants_and_an_empty_list_says_how_one_is_made() {
    let mut app = agent_app(RunStatus::Running);
    press(&mut app, ":");
    press(&mut app, "grants");
    assert_eq!(
        app.palette_entries().first().map(|e| e.label.as_str()),
        Some("Agent grants")
    );
    app.on_key(key(KeyCode::Enter));
    assert!(matches!(app.overlay, Some(Overlay::Grants { .. })));
    app.on_net(NetEvent::Approvals(Ok(Vec::new())));
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("every tool call that needs approval asks"),
        "{text}"
    );
}
