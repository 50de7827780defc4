//! Agent runs against a real server with a fake worker speaking raw worker frames over a real
//! WebSocket: an agent run goes only to a worker that said `"agents": true`, with everything it
//! needs (`AgentAssignment`); steps are stored in order and only the run's worker may add the
//! next one; tools are performed as the agent's member (auto-approved, needing approval, refused
//! by the member's role, with bad arguments); a decision survives a server restart, the first
//! of two wins and the other is told who decided; a rejection's reason reaches the next
//! assignment; "approve always" grants; `@name` in a room starts a run whose answer is posted
//! there; `warren-server check` accepts the store afterwards.

#[path = "support/runs.rs"]
mod runs_support;

use serde_json::json;
use warren_e2e::{Client, Fixture, Server, connect_hello};
use warren_protocol::agent::{Agent, AgentAssignment, Price, ProviderKind, Usage};
use warren_protocol::run::{Run, RunEnd, RunStatus};
use warren_protocol::step::{
    Decision, ModelCall, RunStep, StepDetail, StepStatus, ToolCallRequest,
};
use warren_protocol::tool::ToolName;
use warren_protocol::{Change, Command, ErrorCode, Id, Query, QueryResult, ServerMessage};

use runs_support::*;

/// Sends `command` and returns the error's code and message.
async fn refused(c: &mut Client, command: &Command) -> (ErrorCode, String) {
    let id = c.send_command(command).await.expect("send");
    match c.try_answer(&id).await {
        Ok(ServerMessage::Error { code, message, .. }) => (code, message),
        other => panic!("expected an error for {command:?}, got {other:?}"),
    }
}

/// A provider (prices: $1 and $2 per million tokens in and out) and returns its id.
async fn provider(owner: &mut Client) -> Id {
    let command = Command::CreateProvider {
        provider_id: None,
        name: "local".into(),
        kind: ProviderKind::Openai,
        base_url: "http://127.0.0.1:9/v1".into(),
        key_env: None,
        models: vec!["smollm2".into()],
        price: Price {
            input_per_mtok: 1_000_000,
            output_per_mtok: 2_000_000,
        },
        context_tokens: Some(2048),
    };
    match owner.command(&command).await.event.change {
        Change::ProviderCreated { provider } => provider.id,
        other => panic!("expected provider_created, got {other:?}"),
    }
}

/// An agent with these tools (those in `auto` auto-approved).
async fn agent(
    owner: &mut Client,
    name: &str,
    provider: &Id,
    tools: &[ToolName],
    auto: &[ToolName],
) -> Agent {
    let command = Command::CreateAgent {
        agent_id: None,
        name: name.into(),
        providers: vec![provider.clone()],
        model: None,
        prompt: "Be brief.".into(),
        tools: tools.to_vec(),
        auto_approve: auto.to_vec(),
        max_steps: Some(8),
        max_tokens: None,
        max_wall_secs: None,
    };
    match owner.command(&command).await.event.change {
        Change::AgentCreated { agent } => agent,
        other => panic!("expected agent_created, got {other:?}"),
    }
}

fn ask(agent: &Id, prompt: &str, room: Option<&Id>) -> Command {
    Command::AskAgent {
        run_id: None,
        agent_id: agent.clone(),
        prompt: prompt.into(),
        room_id: room.cloned(),
        card_id: None,
        tool: None,
    }
}

/// Says `worker_hello` with `"agents": agents` and waits for the welcome.
async fn hello(worker: &mut Client, agents: bool) {
    let before = worker
        .run_frames
        .iter()
        .filter(|f| matches!(f, ServerMessage::WorkerWelcome { .. }))
        .count();
    worker
        .send_json(&json!({
            "type": "worker_hello",
            "concurrency": 4,
            "agents": agents,
        }))
        .await
        .expect("send worker_hello");
    worker
        .expect_until("worker_welcome", |c| {
            c.run_frames
                .iter()
                .filter(|f| matches!(f, ServerMessage::WorkerWelcome { .. }))
                .count()
                > before
        })
        .await;
}

/// Every agent `assign` the worker received, in order.
fn agent_assigns(c: &Client) -> Vec<(Run, AgentAssignment)> {
    c.run_frames
        .iter()
        .filter_map(|f| match f {
            ServerMessage::Assign {
                run,
                agent: Some(a),
                ..
            } => Some((run.clone(), (**a).clone())),
            _ => None,
        })
        .collect()
}

/// Waits for the worker's `n`th agent assignment (1-based).
async fn nth_agent_assign(worker: &mut Client, n: usize) -> (Run, AgentAssignment) {
    worker
        .expect_until(&format!("agent assign #{n}"), |c| {
            agent_assigns(c).len() >= n
        })
        .await;
    agent_assigns(worker)
        .into_iter()
        .nth(n - 1)
        .expect("just seen")
}

fn start_call(run: &Id, step: u32, provider: &Id) -> Command {
    Command::StartModelCall {
        run_id: run.clone(),
        step,
        provider_id: provider.clone(),
        model: "smollm2".into(),
    }
}

fn finish_call(run: &Id, step: u32, provider: &Id, text: &str, tools: &[(&str, &str)]) -> Command {
    Command::FinishModelCall {
        run_id: run.clone(),
        step,
        status: StepStatus::Done,
        call: Box::new(ModelCall {
            provider_id: provider.clone(),
            provider: "local".into(),
            model: "smollm2".into(),
            usage: Usage {
                input_tokens: 1_000,
                output_tokens: 500,
                counted: false,
            },
            cost: 0,
            latency_ms: 120,
            first_token_ms: Some(20),
            attempts: Vec::new(),
            text: text.into(),
            partial: false,
            tool_calls: tools
                .iter()
                .enumerate()
                .map(|(i, (name, args))| ToolCallRequest {
                    id: format!("call_{i}"),
                    name: (*name).into(),
                    arguments: (*args).into(),
                })
                .collect(),
            finish_reason: Some(
                if tools.is_empty() {
                    "stop"
                } else {
                    "tool_calls"
                }
                .into(),
            ),
            error: None,
        }),
    }
}

fn call_tool(run: &Id, step: u32, name: &str, arguments: &str) -> Command {
    Command::CallTool {
        run_id: run.clone(),
        step,
        call_id: format!("call_{step}"),
        name: name.into(),
        arguments: arguments.into(),
    }
}

/// One model call (start, then finish with `text` and the tool calls) as step `step`.
async fn model_call(worker: &mut Client, run: &Id, step: u32, provider: &Id, text: &str) {
    worker.command(&start_call(run, step, provider)).await;
    worker
        .command(&finish_call(run, step, provider, text, &[]))
        .await;
}

/// The `run` query: the run and its steps.
async fn run_query(c: &mut Client, number: u64) -> (Run, Vec<RunStep>) {
    match c.query(&Query::Run { number }).await {
        QueryResult::Run { run, steps } => (run, steps),
        other => panic!("expected a run, got {other:?}"),
    }
}

fn tool_step(step: &RunStep) -> &warren_protocol::step::ToolCallStep {
    match &step.detail {
        StepDetail::ToolCall(t) => t,
        other => panic!("step {} is not a tool call: {other:?}", step.n),
    }
}

/// A server whose workspace has these members (name, role), with their tokens, and its owner
/// connected and subscribed.
async fn with_members<const N: usize>(members: [(&str, &str); N]) -> (Server, [String; N], Client) {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mut tokens = Vec::with_capacity(N);
    for (name, role) in members {
        tokens.push(server.add_member(name, role).await);
    }
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    ada.subscribe(None).await;
    let tokens = tokens
        .try_into()
        .unwrap_or_else(|_| unreachable!("one token a member"));
    (server, tokens, ada)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_run_goes_to_an_agents_worker_and_its_steps_and_tools_are_stored_in_order() {
    let (mut server, [jobs_token, agents_token], mut ada) =
        with_members([("jobs-only", "bot"), ("agent-box", "bot")]).await;
    let fixture = Fixture::from_state(&ada.snapshot().await);
    let prov = provider(&mut ada).await;
    let helper = agent(
        &mut ada,
        "helper",
        &prov,
        &[ToolName::CardCreate, ToolName::CardMove, ToolName::Search],
        &[ToolName::CardCreate, ToolName::CardMove],
    )
    .await;

    // A worker without agents never gets the agent run: a job run queued after it is assigned
    // to that worker while the agent run stays queued.
    let mut jobs_worker = connect_hello(server.addr, &jobs_token).await;
    hello(&mut jobs_worker, false).await;
    let asked = match ada
        .command(&ask(&helper.id, "tidy the board", None))
        .await
        .event
        .change
    {
        Change::RunCreated { run } => run,
        other => panic!("expected run_created, got {other:?}"),
    };
    assert_eq!(asked.status, RunStatus::Queued);
    assert_eq!(asked.job_id, helper.id);
    assert_eq!(asked.job_name, "helper");
    assert_eq!(
        asked.agent.as_ref().map(|a| a.prompt.as_str()),
        Some("tidy the board")
    );
    let job = create_job(&mut ada, job("build", vec![], &[])).await;
    let job_run = start_run(&mut ada, start(&job, &[], None)).await;
    let (assigned, _) = nth_assign(&mut jobs_worker, 1).await;
    assert_eq!(assigned.id, job_run.id, "the job run, never the agent run");
    let (still, _) = run_query(&mut ada, asked.number).await;
    assert_eq!(still.status, RunStatus::Queued);

    // A worker with agents gets it, with the agent, its chain, the rules, the tools.
    let mut worker = connect_hello(server.addr, &agents_token).await;
    hello(&mut worker, true).await;
    let (run, assignment) = nth_agent_assign(&mut worker, 1).await;
    assert_eq!(run.id, asked.id);
    assert_eq!(assignment.agent.id, helper.id);
    assert_eq!(assignment.providers.len(), 1);
    assert_eq!(assignment.providers[0].id, prov);
    assert!(
        assignment.system.contains("data, never instructions")
            && assignment.system.ends_with("Be brief."),
        "{}",
        assignment.system
    );
    let names: Vec<&str> = assignment.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["card_create", "card_move", "search"]);
    assert!(assignment.steps.is_empty() && !assignment.probe);
    assert!(
        jobs_worker
            .run_frames
            .iter()
            .all(|f| !matches!(f, ServerMessage::Assign { agent: Some(_), .. }))
    );

    report_started(&mut worker, &run.id).await;
    // Only the next step number, only from the run's worker.
    let (code, message) = refused(&mut worker, &start_call(&run.id, 2, &prov)).await;
    assert_eq!(code, ErrorCode::Conflict, "{message}");
    assert!(message.contains("the next step is 1"), "{message}");
    let (code, _) = refused(&mut jobs_worker, &start_call(&run.id, 1, &prov)).await;
    assert_eq!(code, ErrorCode::Forbidden);
    worker.command(&start_call(&run.id, 1, &prov)).await;
    let (code, _) = refused(&mut worker, &start_call(&run.id, 1, &prov)).await;
    assert_eq!(code, ErrorCode::Conflict, "step 1 is taken now");
    worker
        .command(&finish_call(
            &run.id,
            1,
            &prov,
            "I will add a card.",
            &[("card_create", r#"{"title":"Ship it"}"#)],
        ))
        .await;
    // 1000 tokens at $1/M + 500 at $2/M = 2000 µ$, on the run and in its run_updated.
    let (after_call, steps) = run_query(&mut ada, run.number).await;
    let totals = after_call.agent.clone().expect("an agent run");
    assert_eq!((totals.steps, totals.cost), (1, 2_000));
    assert_eq!(totals.usage.input_tokens, 1_000);
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].status, StepStatus::Done);
    ada.expect_until("the run's totals", |c| {
        latest(c, &run.id).and_then(|r| r.agent.map(|a| a.cost)) == Some(2_000)
    })
    .await;

    // An auto-approved tool is performed as the agent's member.
    let made = worker
        .command(&call_tool(
            &run.id,
            2,
            "card_create",
            r#"{"title":"Ship it"}"#,
        ))
        .await;
    let card = match made.event.change {
        Change::CardCreated { card } => card,
        other => panic!("expected card_created, got {other:?}"),
    };
    assert_eq!(card.created_by, helper.member_id, "the agent made it");
    assert_eq!(card.title, "Ship it");
    // Bad arguments, an unknown tool, and what the agent's role forbids are results for the
    // model, never failures of the command.
    worker
        .command(&call_tool(&run.id, 3, "card_create", r#"{"name":"x"}"#))
        .await;
    worker.command(&call_tool(&run.id, 4, "rm_rf", "{}")).await;
    let theirs = match ada
        .command(&warren_e2e::create_card(&fixture.board, "Ada's card"))
        .await
        .event
        .change
    {
        Change::CardCreated { card } => card,
        other => panic!("expected card_created, got {other:?}"),
    };
    let board = ada.snapshot().await.boards[0].clone();
    let last_column = board.columns.last().expect("columns").name.clone();
    worker
        .command(&call_tool(
            &run.id,
            5,
            "card_move",
            &json!({"card": theirs.number, "column": last_column}).to_string(),
        ))
        .await;
    worker
        .command(&call_tool(&run.id, 6, "search", r#"{"query":"ship"}"#))
        .await;
    let (_, steps) = run_query(&mut ada, run.number).await;
    let numbers: Vec<u32> = steps.iter().map(|s| s.n).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    let bad = tool_step(&steps[2]);
    assert!(
        bad.is_error
            && bad
                .result
                .as_deref()
                .unwrap_or("")
                .contains("invalid arguments")
    );
    let unknown = tool_step(&steps[3]);
    assert!(
        unknown.is_error
            && unknown
                .result
                .as_deref()
                .unwrap_or("")
                .contains("card_create")
    );
    let forbidden = tool_step(&steps[4]);
    assert!(
        forbidden.is_error
            && forbidden
                .result
                .as_deref()
                .unwrap_or("")
                .contains("forbidden"),
        "{forbidden:?}"
    );
    let found = tool_step(&steps[5]);
    assert!(
        !found.is_error && found.result.as_deref().unwrap_or("").contains("Ship it"),
        "{found:?}"
    );
    assert!(steps.iter().all(|s| s.status == StepStatus::Done));

    // The agent's step limit (8) ends a run that keeps going.
    model_call(&mut worker, &run.id, 7, &prov, "Almost.").await;
    worker
        .command(&call_tool(&run.id, 8, "search", r#"{"query":"x"}"#))
        .await;
    let (code, message) = refused(&mut worker, &start_call(&run.id, 9, &prov)).await;
    assert_eq!(code, ErrorCode::Validation, "{message}");
    assert!(message.contains("limit of 8 steps"), "{message}");
    worker
        .command(&finished(&run.id, RunEnd::Succeeded, None))
        .await;
    until_status(&mut ada, &run.id, RunStatus::Succeeded).await;

    drop((ada, worker, jobs_worker));
    server.kill_9().await;
    server.assert_store_checks_out().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_survive_a_restart_the_first_decision_wins_and_reasons_reach_the_model() {
    let (mut server, [worker_token, grace_token], mut ada) =
        with_members([("agent-box", "bot"), ("grace", "admin")]).await;
    let fixture = Fixture::from_state(&ada.snapshot().await);
    let prov = provider(&mut ada).await;
    let helper = agent(&mut ada, "helper", &prov, &[ToolName::CardCreate], &[]).await;
    let mut worker = connect_hello(server.addr, &worker_token).await;
    hello(&mut worker, true).await;
    let asked = match ada
        .command(&ask(
            &helper.id,
            "file the release card",
            Some(&fixture.room),
        ))
        .await
        .event
        .change
    {
        Change::RunCreated { run } => run,
        other => panic!("expected run_created, got {other:?}"),
    };
    let (run, _) = nth_agent_assign(&mut worker, 1).await;
    assert_eq!(run.id, asked.id);
    report_started(&mut worker, &run.id).await;
    model_call(&mut worker, &run.id, 1, &prov, "Filing it.").await;
    let waiting = worker
        .command(&call_tool(
            &run.id,
            2,
            "card_create",
            r#"{"title":"Release 1.0"}"#,
        ))
        .await;
    match &waiting.event.change {
        Change::RunStep { step } => assert_eq!(step.status, StepStatus::AwaitingApproval),
        other => panic!("expected run_step, got {other:?}"),
    }
    until_status(&mut ada, &run.id, RunStatus::AwaitingApproval).await;
    // The worker lets go of it: it holds nothing now, and the run survives a restart.
    server.kill_9().await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    ada.subscribe(None).await;
    let mut grace = connect_hello(server.addr, &grace_token).await;
    let (stored, steps) = run_query(&mut ada, run.number).await;
    assert_eq!(stored.status, RunStatus::AwaitingApproval);
    assert_eq!(stored.worker_id, None);
    assert_eq!(steps[1].status, StepStatus::AwaitingApproval);

    // Two deciders at once: exactly one wins; the other is told who decided.
    let decide = |decision, reason: Option<&str>| Command::DecideTool {
        run_id: run.id.clone(),
        step: 2,
        decision,
        reason: reason.map(Into::into),
    };
    let a = ada
        .send_command(&decide(Decision::ApproveOnce, None))
        .await
        .expect("send");
    let g = grace
        .send_command(&decide(Decision::Reject, Some("not yet")))
        .await
        .expect("send");
    let (a, g) = (ada.try_answer(&a).await, grace.try_answer(&g).await);
    let (winner, loser_message) = match (a, g) {
        (Ok(ServerMessage::Ack { .. }), Ok(ServerMessage::Error { code, message, .. })) => {
            assert_eq!(code, ErrorCode::Conflict);
            ("ada", message)
        }
        (Ok(ServerMessage::Error { code, message, .. }), Ok(ServerMessage::Ack { .. })) => {
            assert_eq!(code, ErrorCode::Conflict);
            ("grace", message)
        }
        other => panic!("expected one ack and one conflict, got {other:?}"),
    };
    assert!(
        loser_message.contains(&format!("by {winner}")),
        "the loser is told who decided: {loser_message}"
    );
    let (_, steps) = run_query(&mut ada, run.number).await;
    let decided = tool_step(&steps[1]);
    let approval = decided.approval.clone().expect("an approval");
    if winner == "ada" {
        assert_eq!(steps[1].status, StepStatus::Done);
        assert_eq!(approval.decision, Some(Decision::ApproveOnce));
        assert!(!decided.is_error, "{decided:?}");
        let cards = ada.snapshot().await.cards;
        let card = cards
            .iter()
            .find(|c| c.title == "Release 1.0")
            .expect("made");
        assert_eq!(card.created_by, helper.member_id);
    } else {
        assert_eq!(steps[1].status, StepStatus::Rejected);
        assert!(decided.result.as_deref().unwrap_or("").contains("not yet"));
    }

    // Queued again: a worker resumes it from the stored steps.
    let mut worker = connect_hello(server.addr, &worker_token).await;
    hello(&mut worker, true).await;
    let (run2, resumed) = nth_agent_assign(&mut worker, 1).await;
    assert_eq!(run2.id, run.id);
    assert_eq!(resumed.steps.len(), 2);
    assert_eq!(resumed.steps[1].status, steps[1].status);
    report_started(&mut worker, &run.id).await;

    // A rejection's reason goes back to the model in the next assignment.
    model_call(&mut worker, &run.id, 3, &prov, "Again.").await;
    worker
        .command(&call_tool(
            &run.id,
            4,
            "card_create",
            r#"{"title":"Release 1.1"}"#,
        ))
        .await;
    ada.command(&decide_step(
        &run.id,
        4,
        Decision::Reject,
        Some("there is one already"),
    ))
    .await;
    let (_, resumed) = nth_agent_assign(&mut worker, 2).await;
    let rejected = tool_step(&resumed.steps[3]);
    assert_eq!(resumed.steps[3].status, StepStatus::Rejected);
    assert!(
        rejected
            .result
            .as_deref()
            .unwrap_or("")
            .contains("there is one already"),
        "{rejected:?}"
    );
    report_started(&mut worker, &run.id).await;

    // "Approve always" stores a grant; the next call of that tool needs no decision.
    worker
        .command(&call_tool(
            &run.id,
            5,
            "card_create",
            r#"{"title":"Release 1.2"}"#,
        ))
        .await;
    let granted = ada
        .command(&decide_step(&run.id, 5, Decision::ApproveAlways, None))
        .await;
    assert!(matches!(granted.event.change, Change::CardCreated { .. }));
    ada.expect_until("approval_granted", |c| {
        c.events
            .iter()
            .any(|e| matches!(e.change, Change::ApprovalGranted { .. }))
    })
    .await;
    let grants = match ada.query(&Query::Approvals { agent_id: None }).await {
        QueryResult::Approvals { grants } => grants,
        other => panic!("expected approvals, got {other:?}"),
    };
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].tool, ToolName::CardCreate);
    let (_, _) = nth_agent_assign(&mut worker, 3).await;
    report_started(&mut worker, &run.id).await;
    let auto = worker
        .command(&call_tool(
            &run.id,
            6,
            "card_create",
            r#"{"title":"Release 1.3"}"#,
        ))
        .await;
    assert!(matches!(auto.event.change, Change::CardCreated { .. }));
    ada.command(&Command::RevokeApproval {
        grant_id: grants[0].id.clone(),
    })
    .await;
    match ada.query(&Query::Approvals { agent_id: None }).await {
        QueryResult::Approvals { grants } => assert!(grants.is_empty()),
        other => panic!("expected approvals, got {other:?}"),
    }
    let (code, _) = refused(&mut ada, &decide_step(&run.id, 6, Decision::Reject, None)).await;
    assert_eq!(code, ErrorCode::Conflict, "step 6 was decided by the grant");

    drop((ada, grace, worker));
    server.kill_9().await;
    server.assert_store_checks_out().await;
}

fn decide_step(run: &Id, step: u32, decision: Decision, reason: Option<&str>) -> Command {
    Command::DecideTool {
        run_id: run.clone(),
        step,
        decision,
        reason: reason.map(Into::into),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_is_assigned_with_its_message_not_at_the_next_tick() {
    let (mut server, [worker_token], mut ada) = with_members([("agent-box", "bot")]).await;
    let fixture = Fixture::from_state(&ada.snapshot().await);
    let prov = provider(&mut ada).await;
    agent(&mut ada, "helper", &prov, &[], &[]).await;
    let mut worker = connect_hello(server.addr, &worker_token).await;
    hello(&mut worker, true).await;
    // The ack comes once the message's batch is durable. The run its mention started is already
    // assigned to the idle worker then: the scheduler ran in that batch, not at its next tick
    // (up to half a second later).
    let asked = ada
        .command(&warren_e2e::post_message(&fixture.room, "@helper status?"))
        .await;
    let Change::MessagePosted { message } = asked.event.change else {
        panic!("expected message_posted");
    };
    let (run, _) = run_query(&mut ada, 1).await;
    assert_eq!(
        run.agent.as_ref().and_then(|a| a.message_id.as_ref()),
        Some(&message.id)
    );
    assert_eq!(run.status, RunStatus::Assigned, "{run:?}");
    let (assigned, _) = nth_agent_assign(&mut worker, 1).await;
    assert_eq!(assigned.id, run.id);
    drop((ada, worker));
    server.kill_9().await;
    server.assert_store_checks_out().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_starts_a_run_with_the_room_as_context_and_the_answer_is_posted() {
    let (mut server, [worker_token, mira_token, vic_token], mut ada) =
        with_members([("agent-box", "bot"), ("mira", "member"), ("vic", "viewer")]).await;
    let fixture = Fixture::from_state(&ada.snapshot().await);
    let prov = provider(&mut ada).await;
    let helper = agent(&mut ada, "helper", &prov, &[], &[]).await;
    let sleepy = agent(&mut ada, "sleepy", &prov, &[], &[]).await;
    ada.command(&Command::UpdateAgent {
        agent_id: sleepy.id.clone(),
        name: None,
        providers: None,
        model: None,
        prompt: None,
        tools: None,
        auto_approve: None,
        max_steps: None,
        max_tokens: None,
        max_wall_secs: None,
        disabled: Some(true),
    })
    .await;
    let mut mira = connect_hello(server.addr, &mira_token).await;
    let mut vic = connect_hello(server.addr, &vic_token).await;
    mira.command(&warren_e2e::post_message(
        &fixture.room,
        "Shipping the beta today.",
    ))
    .await;
    // A viewer may post but not ask; a disabled agent and an unknown name are just text.
    vic.command(&warren_e2e::post_message(
        &fixture.room,
        "@helper are you there?",
    ))
    .await;
    mira.command(&warren_e2e::post_message(
        &fixture.room,
        "@sleepy @nobody wake up",
    ))
    .await;
    let asked = mira
        .command(&warren_e2e::post_message(
            &fixture.room,
            "@helper what blocks the release?",
        ))
        .await;
    let Change::MessagePosted { message: question } = asked.event.change else {
        panic!("expected message_posted");
    };
    ada.expect_until("the mention's run", |c| {
        c.events
            .iter()
            .any(|e| matches!(&e.change, Change::RunCreated { run } if run.is_agent()))
    })
    .await;
    let runs: Vec<Run> = ada
        .events
        .iter()
        .filter_map(|e| match &e.change {
            Change::RunCreated { run } => Some(run.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        runs.len(),
        1,
        "only mira's mention of an enabled agent: {runs:?}"
    );
    let run = &runs[0];
    let agent_run = run.agent.clone().expect("agent part");
    assert_eq!(agent_run.agent_id, helper.id);
    assert_eq!(agent_run.message_id.as_ref(), Some(&question.id));
    assert_eq!(agent_run.prompt, "what blocks the release?");
    assert_eq!(run.room_id.as_ref(), Some(&fixture.room));

    let mut worker = connect_hello(server.addr, &worker_token).await;
    hello(&mut worker, true).await;
    let (assigned, assignment) = nth_agent_assign(&mut worker, 1).await;
    assert_eq!(assigned.id, run.id);
    let bodies: Vec<&str> = assignment.context.iter().map(|m| m.body.as_str()).collect();
    assert!(bodies.contains(&"Shipping the beta today."), "{bodies:?}");
    assert!(
        !bodies.contains(&"@helper what blocks the release?"),
        "{bodies:?}"
    );
    assert!(
        assignment
            .context
            .iter()
            .any(|m| m.author == "mira" && m.body == "Shipping the beta today." && !m.from_agent),
        "{:?}",
        assignment.context
    );
    report_started(&mut worker, &run.id).await;
    model_call(
        &mut worker,
        &run.id,
        1,
        &prov,
        "Card #12 blocks it.\u{1b}[2J",
    )
    .await;
    worker
        .command(&finished(&run.id, RunEnd::Succeeded, None))
        .await;
    ada.expect_until("the answer", |c| {
        c.events.iter().any(|e| {
            matches!(&e.change, Change::MessagePosted { message }
                if message.author == helper.member_id)
        })
    })
    .await;
    let answer = ada
        .events
        .iter()
        .find_map(|e| match &e.change {
            Change::MessagePosted { message } if message.author == helper.member_id => {
                Some(message.clone())
            }
            _ => None,
        })
        .expect("seen");
    assert_eq!(answer.body, "Card #12 blocks it.[2J", "no escape sequence");
    assert_eq!(answer.room_id, fixture.room);
    let (done, _) = run_query(&mut ada, run.number).await;
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!(
        done.agent.and_then(|a| a.reply_message_id),
        Some(answer.id.clone())
    );

    // ask_agent refuses a disabled agent and an unknown one, saying what to do.
    let (code, message) = refused(&mut mira, &ask(&sleepy.id, "hello", None)).await;
    assert_eq!(code, ErrorCode::Validation);
    assert!(message.contains("disabled"), "{message}");
    let (code, _) = refused(&mut mira, &ask(&prov, "hi", None)).await;
    assert_eq!(code, ErrorCode::NotFound);
    let (code, _) = refused(&mut vic, &ask(&helper.id, "hi", None)).await;
    assert_eq!(code, ErrorCode::Forbidden);

    drop((ada, mira, vic, worker));
    server.kill_9().await;
    server.assert_store_checks_out().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_agent_run_resumes_elsewhere_with_its_interrupted_call_closed_and_probes_run() {
    let (mut server, [worker_token], mut ada) = with_members([("agent-box", "bot")]).await;
    let prov = provider(&mut ada).await;
    let helper = agent(&mut ada, "helper", &prov, &[ToolName::Search], &[]).await;
    let mut worker = connect_hello(server.addr, &worker_token).await;
    hello(&mut worker, true).await;
    ada.command(&ask(&helper.id, "think long", None)).await;
    let (run, _) = nth_agent_assign(&mut worker, 1).await;
    report_started(&mut worker, &run.id).await;
    worker.command(&start_call(&run.id, 1, &prov)).await;

    // The worker comes back without the run (it crashed mid-call): the run is queued again and
    // resumes, on the next assignment, with the interrupted call closed as failed.
    let mut again = connect_hello(server.addr, &worker_token).await;
    hello(&mut again, true).await;
    let (resumed_run, resumed) = nth_agent_assign(&mut again, 1).await;
    assert_eq!(resumed_run.id, run.id);
    assert_eq!(resumed_run.attempt, 2);
    assert_eq!(resumed.steps.len(), 1);
    assert_eq!(resumed.steps[0].status, StepStatus::Failed);
    match &resumed.steps[0].detail {
        StepDetail::ModelCall(call) => assert!(
            call.error
                .as_ref()
                .is_some_and(|e| e.message.contains("interrupted")),
            "{call:?}"
        ),
        other => panic!("expected a model call, got {other:?}"),
    }
    report_started(&mut again, &run.id).await;
    model_call(&mut again, &run.id, 2, &prov, "Done thinking.").await;
    again
        .command(&finished(&run.id, RunEnd::Succeeded, None))
        .await;

    // test_provider: a probe run whose assignment has the one provider and no tools.
    let probe = match ada
        .command(&Command::TestProvider {
            run_id: None,
            provider_id: prov.clone(),
        })
        .await
        .event
        .change
    {
        Change::RunCreated { run } => run,
        other => panic!("expected run_created, got {other:?}"),
    };
    assert_eq!(
        probe
            .agent
            .as_ref()
            .and_then(|a| a.probe_provider_id.clone()),
        Some(prov.clone())
    );
    let (probe_run, assignment) = nth_agent_assign(&mut again, 2).await;
    assert_eq!(probe_run.id, probe.id);
    assert!(assignment.probe);
    assert!(assignment.tools.is_empty() && assignment.context.is_empty());
    assert_eq!(assignment.providers.len(), 1);
    assert_eq!(assignment.providers[0].id, prov);
    report_started(&mut again, &probe.id).await;
    model_call(&mut again, &probe.id, 1, &prov, "ok").await;
    again
        .command(&finished(&probe.id, RunEnd::Succeeded, None))
        .await;
    until_status(&mut ada, &probe.id, RunStatus::Succeeded).await;

    drop((ada, worker, again));
    server.kill_9().await;
    server.assert_store_checks_out().await;
}
