//! Agents against a real language model (issue 9): llama.cpp's OpenAI-compatible server serving
//! SmolLM2-135M-Instruct (`support/llm.rs`), a real `warren-server`, a real `warren worker`
//! running the agent loop at temperature 0, the real CLI, and a second client watching the room
//! over a real WebSocket. Covered: `@name` in a room streams the model's reply to the second
//! client as `agent_delta` frames and the finished reply is posted in the room with the same
//! text; a forced tool call (`agent ask --tool card.create`, which sends `tool_choice` naming it:
//! this small model does not choose tools by itself) waits for approval and, once approved,
//! creates a card as the agent; `run cancel`
//! interrupts a turn mid-stream and the step keeps its partial text.
//!
//! Skips (prints `SKIPPED …`) when `tests/llm/setup` has not been run, unless
//! `WARREN_LLM_REQUIRED=1` (`.ci/run`).

#[path = "support/llm.rs"]
mod llm;
#[path = "support/real_runs.rs"]
mod real_runs;

use std::time::Duration;

use real_runs::{Setup, Worker, wait_status};
use warren_e2e::client::Client;
use warren_protocol::ServerMessage;

/// One test at a time on the shared model server (requests queue there anyway).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server, an agent worker (greedy: temperature 0), the model as provider `local` and agent
/// `bot` with `agent_args`.
async fn setup(model: &llm::LlamaServer, agent_args: &[&str]) -> (Setup, Worker) {
    let s = Setup::start(&[]).await;
    let worker = s
        .worker_with("agents", "linux", &[("WARREN_AGENT_TEMPERATURE", "0")])
        .await;
    s.cli
        .run(&[
            "provider",
            "add",
            "local",
            "--kind",
            "openai",
            "--base-url",
            &model.base_url(),
            "--model",
            model.model(),
            "--context",
            "2048",
        ])
        .await
        .ok();
    let mut args = vec!["agent", "add", "bot", "--provider", "local"];
    args.extend_from_slice(agent_args);
    s.cli.run(&args).await.ok();
    (s, worker)
}

/// The text of step `step` from the deltas `c` received, checked gap-free.
fn streamed(c: &Client, step: u32) -> String {
    let mut text = String::new();
    for frame in &c.run_frames {
        if let ServerMessage::AgentDelta {
            step: s,
            offset,
            text: piece,
            ..
        } = frame
            && *s == step
        {
            assert_eq!(*offset, text.len() as u64, "a gap in the deltas");
            text.push_str(piece);
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_streams_the_reply_to_a_second_client_and_cancel_interrupts_a_turn() {
    let Some(model) = llm::shared("agents_real::mention").await else {
        return;
    };
    let _turn = TURN.lock().await;
    let (s, worker) = setup(model, &[]).await;
    let (mut watcher, room) = s.room_watcher("general").await;
    s.cli
        .run(&["chat", "send", "general", "@bot Say hello to the team."])
        .await
        .ok();
    let first = wait_status(&s.cli, "r1", "succeeded").await;
    let first_id = first["id"].as_str().expect("the run's id").to_owned();
    let messages = watcher.all_messages(&room).await;
    let reply = messages.last().expect("the reply is posted").body.clone();
    // Every delta of the reply has arrived once the run succeeded (they are relayed before the
    // step is stored); read what is in flight.
    let _ = watcher
        .read_until(Duration::from_secs(5), |c| !streamed(c, 1).is_empty())
        .await;
    let live = streamed(&watcher, 1);
    assert!(
        !live.trim().is_empty(),
        "the second client saw the reply stream"
    );
    let first_line = live.trim().lines().next().unwrap_or_default().trim();
    assert!(
        reply.contains(first_line),
        "the posted reply {reply:?} is the streamed text {live:?}"
    );

    // A long answer, cancelled once it streams.
    s.cli
        .run(&[
            "agent",
            "ask",
            "bot",
            "Write a very long story about a fox, at least five hundred words.",
            "--room",
            "general",
        ])
        .await
        .ok();
    watcher
        .expect_until("the story streams", |c| {
            c.run_frames.iter().any(|f| {
                matches!(f, ServerMessage::AgentDelta { run_id, offset, .. }
                    if run_id.as_str() != first_id && *offset > 20)
            })
        })
        .await;
    s.cli.run(&["run", "cancel", "r2"]).await.ok();
    wait_status(&s.cli, "r2", "cancelled").await;
    let shown = s.cli.run(&["run", "show", "r2", "--json"]).await.ok();
    let steps = shown.json_lines();
    let call = steps
        .iter()
        .find(|l| l["detail"]["kind"] == "model_call")
        .unwrap_or_else(|| panic!("a model call step: {}", shown.stdout));
    assert_eq!(call["status"], "cancelled", "{}", shown.stdout);
    assert!(
        call["detail"]["text"]
            .as_str()
            .is_some_and(|t| t.len() > 20),
        "the partial text is kept: {}",
        shown.stdout
    );
    // The room keeps what it watched stream in: the partial reply, posted as the agent's
    // message and marked as cut short.
    let partial = call["detail"]["text"].as_str().unwrap_or_default().trim();
    let start: String = partial.chars().take(20).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let messages = watcher.all_messages(&room).await;
        if messages
            .iter()
            .any(|m| m.body.starts_with(&start) && m.body.contains("*(cut short:"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no cut reply starting {start:?} in {:#?}",
            messages.iter().map(|m| &m.body).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(worker);
}

/// Waits (bounded) until `run` waits for a decision; fails with its steps if it ends or runs on
/// instead.
async fn wait_decided(s: &Setup, run: &str) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let shown = s.cli.run(&["run", "show", run, "--json"]).await;
        let lines = shown.json_lines();
        let status = lines
            .first()
            .map(|r| r["status"].clone())
            .unwrap_or_default();
        if status == "awaiting_approval" {
            return lines[0].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline
                && !matches!(status.as_str(), Some("succeeded" | "failed" | "cancelled")),
            "{run} never waited for approval:\n{}",
            shown.stdout
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_tool_call_waits_for_approval_and_creates_a_card() {
    let Some(model) = llm::shared("agents_real::tool").await else {
        return;
    };
    let _turn = TURN.lock().await;
    let (s, _worker) = setup(model, &["--tools", "card.create"]).await;
    let before = s.cli.run(&["card", "list", "--json"]).await.ok().stdout;
    s.cli
        .run(&[
            "agent",
            "ask",
            "bot",
            "Create a card titled Release notes.",
            "--room",
            "general",
            "--tool",
            "card.create",
        ])
        .await
        .ok();
    let waiting = wait_decided(&s, "r1").await;
    assert_eq!(waiting["agent"]["force_tool"], "card.create", "{waiting}");
    assert_eq!(
        s.cli.run(&["card", "list", "--json"]).await.ok().stdout,
        before,
        "no card before the decision: {waiting}"
    );
    s.cli.run(&["run", "approve", "r1"]).await.ok();
    wait_status(&s.cli, "r1", "succeeded").await;
    let shown = s.cli.run(&["run", "show", "r1", "--json"]).await.ok();
    let tool = shown
        .json_lines()
        .into_iter()
        .find(|l| l["detail"]["kind"] == "tool_call")
        .unwrap_or_else(|| panic!("a tool step: {}", shown.stdout));
    assert_eq!(tool["status"], "done", "{}", shown.stdout);
    assert_ne!(tool["detail"]["is_error"], true, "{}", shown.stdout);
    assert!(
        tool["detail"]["approval"]["decision"] == "approve_once",
        "{}",
        shown.stdout
    );
    let after = s.cli.run(&["card", "list", "--json"]).await.ok().stdout;
    assert_ne!(after, before, "the approved call created a card");
}
