//! The agents' tables, the steps of `run show`, the Markdown export and `stats`, from sample
//! records like the ones in docs/protocol.md §19 (times at the epoch; tests run in UTC).

use warren_protocol::agent::{
    AgentRun, HealthState, Price, ProviderErrorClass, ProviderHealth, ProviderKind, Usage,
};
use warren_protocol::budget::{BudgetPeriod, UsageRow};
use warren_protocol::run::RunStatus;
use warren_protocol::step::{
    Approval, ModelCall, ProviderAttempt, RunStep, StepDetail, StepError, ToolCallRequest,
    ToolCallStep,
};
use warren_protocol::tool::ToolName;

use super::export::{fenced, markdown};
use super::stats::{GroupBy, format_stats, group};
use super::steps::format_agent_run;
use super::*;

fn id(s: &str) -> Id {
    Id::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn provider(name: &str, id_: &str) -> Provider {
    Provider {
        id: id(id_),
        name: name.into(),
        kind: ProviderKind::Openai,
        base_url: "https://api.openai.com/v1".into(),
        key_env: Some("OPENAI_API_KEY".into()),
        models: vec!["gpt-4o-mini".into(), "gpt-4o".into()],
        price: Price {
            input_per_mtok: 150_000,
            output_per_mtok: 600_000,
        },
        context_tokens: Some(128_000),
        health: None,
        created_by: id("user_ann"),
        created_at: 0,
        updated_at: 0,
    }
}

pub(crate) fn agent() -> Agent {
    Agent {
        id: id("agent_reviewer"),
        name: "reviewer".into(),
        member_id: id("user_reviewer"),
        providers: vec![id("prov_openai"), id("prov_local")],
        model: None,
        prompt: "You review release plans.\nBe brief.".into(),
        tools: vec![ToolName::CardCreate, ToolName::Search],
        auto_approve: vec![],
        max_steps: 20,
        max_tokens: Some(50_000),
        max_wall_secs: 600,
        disabled: false,
        created_by: id("user_ann"),
        created_at: 0,
        updated_at: 0,
    }
}

fn names() -> AgentNames {
    let mut state = crate::resolve::tests::state();
    state.providers = vec![
        provider("openai", "prov_openai"),
        provider("local", "prov_local"),
    ];
    state.agents = vec![agent()];
    AgentNames::from_state(&state)
}

pub(crate) fn agent_run(status: RunStatus) -> warren_protocol::run::Run {
    let mut run = crate::run_output::tests::run(9, status, 3);
    run.job_id = id("agent_reviewer");
    run.job_name = "reviewer".into();
    run.params = Vec::new();
    run.agent = Some(Box::new(AgentRun {
        agent_id: id("agent_reviewer"),
        prompt: "what blocks the release?".into(),
        message_id: None,
        reply_message_id: None,
        probe_provider_id: None,
        steps: 2,
        usage: Usage {
            input_tokens: 812,
            output_tokens: 64,
            counted: true,
        },
        cost: 161,
        paused_reason: None,
        force_tool: None,
    }));
    run
}

pub(crate) fn steps() -> Vec<RunStep> {
    vec![
        RunStep {
            run_id: id("run_n9"),
            n: 1,
            status: warren_protocol::step::StepStatus::Done,
            started_at: 1_000,
            finished_at: Some(2_400),
            detail: StepDetail::ModelCall(ModelCall {
                provider_id: id("prov_local"),
                provider: "local".into(),
                model: "smollm2".into(),
                usage: Usage {
                    input_tokens: 812,
                    output_tokens: 64,
                    counted: true,
                },
                cost: 0,
                latency_ms: 1400,
                first_token_ms: Some(180),
                attempts: vec![ProviderAttempt {
                    provider_id: id("prov_openai"),
                    provider: "openai".into(),
                    model: "gpt-4o-mini".into(),
                    class: ProviderErrorClass::RateLimit,
                    message: "circuit open".into(),
                    after_ms: 0,
                }],
                text: "Card #12 is not done yet.\u{1b}[2J ```rm``` ".into(),
                partial: false,
                tool_calls: vec![ToolCallRequest {
                    id: "call_0".into(),
                    name: "card_create".into(),
                    arguments: r#"{"title":"Finish the protocol docs"}"#.into(),
                }],
                finish_reason: Some("tool_calls".into()),
                error: None,
            }),
        },
        RunStep {
            run_id: id("run_n9"),
            n: 2,
            status: warren_protocol::step::StepStatus::Rejected,
            started_at: 2_400,
            finished_at: Some(4_000),
            detail: StepDetail::ToolCall(ToolCallStep {
                call_id: "call_0".into(),
                tool: Some(ToolName::CardCreate),
                name: "card_create".into(),
                arguments: r#"{"title":"Finish the protocol docs"}"#.into(),
                result: Some("rejected by ann: there is a card for that already (#12)".into()),
                is_error: true,
                child_run_id: None,
                approval: Some(Approval {
                    requested_at: 2_400,
                    decision: Some(warren_protocol::step::Decision::Reject),
                    decided_by: Some(id("user_ann")),
                    decided_at: Some(4_000),
                    reason: Some("there is a card for that already (#12)".into()),
                    grant_id: None,
                }),
            }),
        },
    ]
}

#[test]
fn provider_list_shows_health_and_the_key_variable_never_a_key() {
    let mut p = provider("openai", "prov_openai");
    p.health = Some(ProviderHealth {
        state: HealthState::CircuitOpen,
        last_error: Some(ProviderErrorClass::RateLimit),
        message: Some("HTTP 429 Too Many Requests\u{1b}[31m".into()),
        at: 60_000,
        worker_id: id("user_builder"),
    });
    let mut local = provider("local", "prov_local");
    local.key_env = None;
    local.price = Price::default();
    let text = format_providers(&[p, local], 120_000);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("PROVIDER  KIND"), "{text}");
    assert!(
        lines[1].contains("circuit open")
            && lines[1].contains("rate limit: HTTP 429 Too Many Requests")
            && lines[1].contains("1m00s ago")
            && lines[1].contains("$OPENAI_API_KEY")
            && lines[1].contains("$0.15 in / $0.60 out"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(
        lines[2].contains("free") && lines[2].contains(" - "),
        "{text}"
    );
    assert!(format_providers(&[], 0).contains("warren provider add"));
}

#[test]
fn agent_list_and_show_name_the_chain_tools_approvals_and_limits() {
    let names = names();
    let mut auto = agent();
    auto.name = "auto".into();
    auto.auto_approve = vec![ToolName::CardCreate];
    auto.disabled = true;
    let text = format_agents(&[agent(), auto.clone()], &names);
    assert!(
        text.contains("@reviewer  enabled   openai,local  (default)  card.create,search  ask"),
        "{text}"
    );
    assert!(
        text.contains("@auto      disabled  openai,local") && text.contains("  auto  "),
        "{text}"
    );
    assert!(text.contains("20 steps, 10m, 50000 tokens"), "{text}");
    auto.tools.push(ToolName::CardMove);
    assert_eq!(approve_summary(&auto), "auto: card.create");

    let budget = Budget {
        scope: BudgetScope::Agent {
            agent_id: id("agent_reviewer"),
        },
        limit: 5_000_000,
        period: BudgetPeriod::Month,
        spent: 3_812_400,
        period_start: 0,
        set_by: id("user_ann"),
        updated_at: 0,
    };
    let detail = format_agent_detail(&agent(), &names, &[budget]);
    assert!(detail.contains("  providers  openai,local"), "{detail}");
    assert!(
        detail.contains("  budget     $3.81 of $5.00 per month (76%, $1.19 left)"),
        "{detail}"
    );
    assert!(
        detail.contains("    You review release plans.\n    Be brief.\n"),
        "{detail}"
    );
}

#[test]
fn run_show_lists_model_calls_tool_calls_and_approvals() {
    let names = names();
    let text = format_agent_run(&agent_run(RunStatus::Running), &steps(), &names, 10_000);
    assert!(text.starts_with("r9 @reviewer  "), "{text}");
    assert!(
        text.contains("  asked      what blocks the release?"),
        "{text}"
    );
    assert!(
        text.contains("~812 in / ~64 out in 2 step(s), $0.0002"),
        "{text}"
    );
    // The model call: provider, model, counted tokens, cost, latency, the skipped provider.
    assert!(
        text.contains("✓ 1. model call  local / smollm2  done, 1s"),
        "{text}"
    );
    assert!(
        text.contains("tokens ~812 in / ~64 out, $0, 1400 ms, first token 180 ms"),
        "{text}"
    );
    assert!(
        text.contains("skipped openai / gpt-4o-mini after 0 ms: rate limit: circuit open"),
        "{text}"
    );
    assert!(
        text.contains("asks for card_create {\"title\":\"Finish the protocol docs\"}"),
        "{text}"
    );
    // The tool call: arguments, the decision with who and why, the result.
    assert!(
        text.contains("⊗ 2. tool call   card.create  rejected, 1s"),
        "{text}"
    );
    assert!(
        text.contains(
            "rejected by Ann at 1970-01-01 00:00: there is a card for that already (#12)"
        ),
        "{text}"
    );
    assert!(
        text.contains("error rejected by ann: there is a card"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "model text is sanitised: {text}");
    assert!(!text.contains("waits for a decision"), "{text}");
}

#[test]
fn a_waiting_step_says_how_to_decide() {
    let names = names();
    let mut steps = steps();
    if let StepDetail::ToolCall(t) = &mut steps[1].detail {
        t.result = None;
        t.is_error = false;
        t.approval = Some(Approval {
            requested_at: 2_400,
            decision: None,
            decided_by: None,
            decided_at: None,
            reason: None,
            grant_id: None,
        });
    }
    steps[1].status = warren_protocol::step::StepStatus::AwaitingApproval;
    steps[1].finished_at = None;
    let text = format_agent_run(
        &agent_run(RunStatus::AwaitingApproval),
        &steps,
        &names,
        10_000,
    );
    assert!(
        text.contains("◇ 2. tool call   card.create  awaiting_approval\n"),
        "{text}"
    );
    assert!(
        text.contains("waiting for a decision since 1970-01-01 00:00"),
        "{text}"
    );
    assert!(
        text.contains("step 2 waits for a decision: 'warren run approve r9' (add --always")
            && text.contains("'warren run reject r9 --reason WHY'"),
        "{text}"
    );
}

#[test]
fn a_failed_partial_call_shows_its_error_and_marks_the_text() {
    let names = names();
    let mut steps = steps();
    steps.truncate(1);
    steps[0].status = warren_protocol::step::StepStatus::Failed;
    if let StepDetail::ModelCall(c) = &mut steps[0].detail {
        c.partial = true;
        c.text = "The release".into();
        c.error = Some(StepError {
            class: Some(ProviderErrorClass::Network),
            message: "the stream ended early".into(),
        });
    }
    let text = format_agent_run(&agent_run(RunStatus::Failed), &steps, &names, 10_000);
    assert!(
        text.contains("error network: the stream ended early"),
        "{text}"
    );
    assert!(
        text.contains("text (partial):\n         The release\n"),
        "{text}"
    );
}

#[test]
fn markdown_export_holds_the_run_and_every_step_safely() {
    let names = names();
    let md = markdown(&agent_run(RunStatus::Succeeded), &steps(), &names, 10_000);
    assert!(
        md.starts_with("# r9 @reviewer — succeeded\n\n- **run:** `run_n9`\n"),
        "{md}"
    );
    assert!(
        md.contains("- **usage:** ~812 in / ~64 out tokens in 2 step(s), $0.0002"),
        "{md}"
    );
    assert!(
        md.contains("figures marked ~ were counted by warren"),
        "{md}"
    );
    assert!(
        md.contains("## Question\n\n```text\nwhat blocks the release?\n```\n"),
        "{md}"
    );
    assert!(
        md.contains("### 1. Model call: local / smollm2 (done, 1s)"),
        "{md}"
    );
    assert!(
        md.contains("- **latency:** 1400 ms (first token 180 ms)"),
        "{md}"
    );
    assert!(
        md.contains("- **skipped** openai / gpt-4o-mini after 0 ms: rate limit: circuit open"),
        "{md}"
    );
    // The model's text contains a triple backtick: its fence is longer, so it cannot close it.
    assert!(
        md.contains("````text\nCard #12 is not done yet. ```rm``` \n````\n"),
        "{md}"
    );
    assert!(
        md.contains("### 2. Tool call: card.create (rejected, 1s)"),
        "{md}"
    );
    assert!(
        md.contains("```json\n{\"title\":\"Finish the protocol docs\"}\n```"),
        "{md}"
    );
    assert!(
        md.contains("- **approval:** rejected by Ann at 1970-01-01 00:00: there is a card for that already (\\#12)"),
        "{md}"
    );
    assert!(md.contains("Error:\n\n```text\nrejected by ann"), "{md}");
    assert!(!md.contains('\u{1b}'), "{md}");
    // A job run says where its output is.
    let job_run = crate::run_output::tests::run(7, RunStatus::Failed, 5);
    let md = markdown(&job_run, &[], &names, 10_000);
    assert!(
        md.contains("`warren log r7`") && !md.contains("## Steps"),
        "{md}"
    );
}

#[test]
fn fences_outgrow_the_backticks_inside() {
    assert_eq!(fenced("plain", "text"), "```text\nplain\n```\n");
    assert_eq!(fenced("a ```` b\n", ""), "`````\na ```` b\n`````\n");
}

fn usage_row(
    day: &str,
    agent: &str,
    provider: &str,
    room: Option<&str>,
    cost: u64,
    counted: bool,
) -> UsageRow {
    UsageRow {
        day: day.into(),
        agent_id: id(agent),
        provider_id: id(provider),
        room_id: room.map(id),
        usage: Usage {
            input_tokens: 1000,
            output_tokens: 100,
            counted,
        },
        cost,
        calls: 2,
    }
}

#[test]
fn stats_group_rows_and_total_them() {
    let names = names();
    let rows = vec![
        usage_row(
            "2026-12-04",
            "agent_reviewer",
            "prov_openai",
            Some("room_gen"),
            500,
            false,
        ),
        usage_row("2026-12-05", "agent_reviewer", "prov_local", None, 0, true),
        usage_row(
            "2026-12-05",
            "agent_other",
            "prov_openai",
            Some("room_gen"),
            900,
            false,
        ),
    ];
    let (list, total) = group(&rows, GroupBy::Agent, &names);
    assert_eq!(list.len(), 2);
    // Highest cost first; an agent that is gone shows its id.
    assert_eq!((list[0].key.as_str(), list[0].cost), ("agent_other", 900));
    assert_eq!(list[1].key, "reviewer");
    assert_eq!(
        (list[1].calls, list[1].input_tokens, list[1].counted),
        (4, 2000, true)
    );
    assert_eq!(
        (
            total.calls,
            total.input_tokens,
            total.output_tokens,
            total.cost
        ),
        (6, 3000, 300, 1400)
    );

    let (days, _) = group(&rows, GroupBy::Day, &names);
    let keys: Vec<&str> = days.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["2026-12-04", "2026-12-05"]);
    let (rooms, _) = group(&rows, GroupBy::Room, &names);
    assert!(rooms.iter().any(|r| r.key == "(no room)"));
    assert!(
        rooms.iter().any(|r| r.key == "#general" && r.calls == 4),
        "{rooms:?}"
    );

    let text = format_stats(&list, &total, GroupBy::Agent, "2026-11-05");
    assert!(
        text.contains("AGENT        CALLS  TOKENS IN  TOKENS OUT  COST"),
        "{text}"
    );
    assert!(
        text.contains("reviewer     4      ~2000      ~200        $0.0005"),
        "{text}"
    );
    assert!(
        text.contains("TOTAL        6      ~3000      ~300        $0.0014"),
        "{text}"
    );
    assert!(
        text.ends_with("~ counted by warren: the provider reported no usage\n"),
        "{text}"
    );
    assert_eq!(
        format_stats(&[], &total, GroupBy::Day, "yesterday"),
        "no model calls since yesterday\n"
    );
    assert_eq!(GroupBy::parse("Providers"), Ok(GroupBy::Provider));
    assert!(GroupBy::parse("team").is_err());
}

#[test]
fn budgets_and_grants_list_scope_money_and_who() {
    let names = names();
    let budget = Budget {
        scope: BudgetScope::Room {
            room_id: id("room_gen"),
        },
        limit: 20_000_000,
        period: BudgetPeriod::Month,
        spent: 21_000_000,
        period_start: 0,
        set_by: id("user_ann"),
        updated_at: 0,
    };
    let text = format_budgets(&[budget], &names);
    assert!(
        text.contains("room #general  $20.00  $21.00  $0    105% exhausted  month"),
        "{text}"
    );
    let grant = ApprovalGrant {
        id: id("grant_1"),
        agent_id: id("agent_reviewer"),
        tool: ToolName::CardCreate,
        granted_by: id("user_ann"),
        granted_at: 0,
        run_id: Some(id("run_n9")),
    };
    let text = format_grants(&[grant], &names);
    assert!(
        text.contains("grant_1  @reviewer  card.create  Ann  1970-01-01 00:00  run_n9"),
        "{text}"
    );
}
