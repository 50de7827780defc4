//! Agents end to end (issue 9) with every part real except the model: a real `warren-server`, a
//! real `warren worker` running agent runs, the real CLI, and the in-repo fake provider
//! (`tests/src/fake_provider.rs`) scripted per test. Covered: `agent ask --follow` streams the
//! answer to stdout after an auto-approved tool created a card as the agent; a tool that needs
//! approval waits until `run approve`, then the card exists; `@name` in a room gets the answer
//! posted there; a budget stops the third run (`paused`, "budget exhausted") after alerts at
//! 50% and 100% in the room, and raising it lets the run finish; "approve always" is a grant
//! (`approvals list`) that spares the next question until revoked; `stats` counts every model
//! call; `agent ask --tool` forces the first model call only (`tool_choice`), not the resumed
//! run's nor a mention's, and a tool the agent lacks is refused naming its tools; a reply cut off
//! by `run cancel` stays in the room marked as cut short; the provider
//! key appears in no output, no `--json`, and not in the store file;
//! `provider test --follow` prints the probe's answer and exits 0, or says what to fix (a key
//! variable unset on the worker, a key the provider refuses) and exits 1, prints JSON lines
//! with `--json`, and `provider list` shows each provider's health afterwards.

#[path = "support/real_runs.rs"]
mod real_runs;

use std::time::Duration;

use real_runs::{Setup, wait_status};
use warren_e2e::fake_provider::{Behaviour, FakeProvider};
use warren_protocol::ServerMessage;

/// The provider key the worker reads from its environment (and nothing else may show).
const KEY: &str = "sk-fake-0123456789abcdef-never-shown";

/// A server, a worker that runs agents with `FAKE_KEY` set, and a fake provider named `fake`
/// (prices: $1 per million input tokens, $2 per million output tokens).
async fn setup() -> (Setup, real_runs::Worker, FakeProvider) {
    let s = Setup::start(&[]).await;
    let fake = FakeProvider::start()
        .await
        .expect("the fake provider starts");
    let worker = s.worker_with("agents", "linux", &[("FAKE_KEY", KEY)]).await;
    s.cli
        .run(&[
            "provider",
            "add",
            "fake",
            "--kind",
            "openai",
            "--base-url",
            &fake.openai_url(),
            "--key-env",
            "FAKE_KEY",
            "--model",
            "m1",
            "--price-in",
            "1",
            "--price-out",
            "2",
        ])
        .await
        .ok();
    (s, worker, fake)
}

/// Card titles on every board.
async fn card_titles(s: &Setup) -> Vec<String> {
    let cards = s.cli.run(&["card", "list", "--json"]).await.ok();
    cards
        .json_lines()
        .iter()
        .flat_map(|v| match v.as_array() {
            Some(all) => all.clone(),
            None => vec![v.clone()],
        })
        .filter_map(|c| c["title"].as_str().map(str::to_owned))
        .collect()
}

/// Waits (bounded) until the room's latest messages contain `needle`; returns them.
async fn wait_message(s: &Setup, room: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let out = s.cli.run(&["chat", "tail", room]).await;
        if out.stdout.contains(needle) {
            return out.stdout;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{needle:?} never appeared in #{room}:\n{}",
            out.stdout
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_follow_streams_the_answer_after_an_auto_approved_tool_and_no_key_leaks() {
    let (s, worker, fake) = setup().await;
    fake.script(
        "m1",
        [
            Behaviour::tool_call("card_create", r#"{"title":"Ship the agents"}"#),
            Behaviour::tokens(["Done", ": the card ", "is on the board."]),
        ],
    );
    s.cli
        .run(&[
            "agent",
            "add",
            "helper",
            "--provider",
            "fake",
            "--model",
            "m1",
            "--tools",
            "card.create",
            "--approve",
            "auto",
        ])
        .await
        .ok();
    let asked = s
        .cli
        .run(&["agent", "ask", "helper", "make a card", "--follow"])
        .await;
    assert_eq!(asked.code, 0, "{}\n{}", asked.stdout, asked.stderr);
    assert!(
        asked.stdout.contains("Done: the card is on the board."),
        "the streamed answer: {:?}",
        asked.stdout
    );
    assert!(
        card_titles(&s)
            .await
            .contains(&"Ship the agents".to_owned()),
        "the tool created the card"
    );
    // The second model call saw the tool's result.
    let second = fake
        .requests_for("m1")
        .into_iter()
        .nth(1)
        .expect("two calls");
    let body = second.body.to_string();
    assert!(
        body.contains("Ship the agents") && body.contains("\"tool\""),
        "the tool result went back to the model: {body}"
    );
    assert_eq!(
        second.header("authorization"),
        Some(format!("Bearer {KEY}").as_str()),
        "the key reached the provider"
    );
    // The steps: model call, tool call, model call; tokens and cost counted.
    let show = s.cli.run(&["run", "show", "r1", "--json"]).await.ok();
    let lines = show.json_lines();
    let kinds: Vec<String> = lines
        .iter()
        .filter_map(|l| l["detail"]["kind"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        kinds,
        ["model_call", "tool_call", "model_call"],
        "{}",
        show.stdout
    );
    assert_eq!(lines[0]["status"], "succeeded", "{}", show.stdout);
    // No key anywhere: CLI output, the worker's log, the store file.
    let export = s
        .cli
        .run(&["run", "export", "r1", "--format", "json"])
        .await;
    for text in [&asked.stdout, &asked.stderr, &show.stdout, &export.stdout] {
        assert!(!text.contains(KEY), "the key leaked: {text}");
    }
    assert!(
        !worker.output().contains(KEY),
        "the key is in the worker's log"
    );
    let store = std::fs::read(s.server.data_dir().join("warren.redb")).unwrap_or_default();
    assert!(
        !store.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
        "the key is in the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_waits_for_approval_and_a_mention_gets_its_answer_in_the_room() {
    let (s, _worker, fake) = setup().await;
    fake.script(
        "m1",
        [
            Behaviour::tool_call("card_create", r#"{"title":"Approved card"}"#),
            Behaviour::tokens(["Created ", "it."]),
        ],
    );
    s.cli
        .run(&[
            "agent",
            "add",
            "helper",
            "--provider",
            "fake",
            "--model",
            "m1",
            "--tools",
            "card.create",
        ])
        .await
        .ok();
    s.cli
        .run(&["chat", "send", "general", "@helper please add a card"])
        .await
        .ok();
    wait_status(&s.cli, "r1", "awaiting_approval").await;
    assert!(
        !card_titles(&s).await.contains(&"Approved card".to_owned()),
        "nothing happens before the decision"
    );
    s.cli.run(&["run", "approve", "r1"]).await.ok();
    wait_status(&s.cli, "r1", "succeeded").await;
    assert!(card_titles(&s).await.contains(&"Approved card".to_owned()));
    wait_message(&s, "general", "Created it.").await;
    // A second decision is told the first one won.
    let late = s.cli.run(&["run", "approve", "r1"]).await;
    assert_ne!(late.code, 0, "a decided call cannot be decided again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_alerts_then_pauses_the_run_and_raising_it_lets_the_run_finish() {
    let (s, _worker, fake) = setup().await;
    // Each answer: 400,000 tokens in ($0.40) and 100,000 out ($0.20) = $0.60.
    fake.always("m1", Behaviour::tokens(["Fine."]).usage(400_000, 100_000));
    s.cli
        .run(&[
            "agent",
            "add",
            "spender",
            "--provider",
            "fake",
            "--model",
            "m1",
            "--budget",
            "1usd/month",
        ])
        .await
        .ok();
    for n in ["r1", "r2"] {
        s.cli
            .run(&["agent", "ask", "spender", "hello", "--room", "general"])
            .await
            .ok();
        wait_status(&s.cli, n, "succeeded").await;
    }
    wait_message(&s, "general", "50%").await;
    wait_message(&s, "general", "exhausted").await;
    s.cli
        .run(&["agent", "ask", "spender", "again", "--room", "general"])
        .await
        .ok();
    let paused = wait_status(&s.cli, "r3", "paused").await;
    assert!(
        paused.to_string().contains("budget exhausted"),
        "the reason is shown: {paused}"
    );
    let calls = fake.requests_for("m1").len();
    assert_eq!(calls, 2, "the third call never reached the provider");
    s.cli
        .run(&["budget", "set", "--agent", "spender", "5usd/month"])
        .await
        .ok();
    wait_status(&s.cli, "r3", "succeeded").await;
    let budgets = s.cli.run(&["budget", "list", "--json"]).await.ok();
    assert!(
        budgets.stdout.contains("1800000"),
        "three calls spent $1.80: {}",
        budgets.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_always_is_a_grant_until_revoked_and_stats_count_every_call() {
    let (s, _worker, fake) = setup().await;
    for title in ["One", "Two", "Three"] {
        fake.script(
            "m1",
            [
                Behaviour::tool_call("card_create", &format!(r#"{{"title":"{title}"}}"#)),
                Behaviour::tokens(["ok"]).usage(1_000, 10),
            ],
        );
    }
    s.cli
        .run(&[
            "agent",
            "add",
            "helper",
            "--provider",
            "fake",
            "--model",
            "m1",
            "--tools",
            "card.create",
        ])
        .await
        .ok();
    s.cli.run(&["agent", "ask", "helper", "one"]).await.ok();
    wait_status(&s.cli, "r1", "awaiting_approval").await;
    s.cli.run(&["run", "approve", "r1", "--always"]).await.ok();
    wait_status(&s.cli, "r1", "succeeded").await;
    let grants = s
        .cli
        .run(&["approvals", "list", "--json"])
        .await
        .ok()
        .json_lines();
    assert_eq!(grants.len(), 1, "one grant: {grants:?}");
    assert_eq!(grants[0]["tool"], "card.create");
    let grant = grants[0]["id"].as_str().expect("a grant id").to_owned();

    // Covered by the grant: no question asked.
    s.cli.run(&["agent", "ask", "helper", "two"]).await.ok();
    wait_status(&s.cli, "r2", "succeeded").await;
    s.cli.run(&["approvals", "revoke", &grant]).await.ok();
    let left = s.cli.run(&["approvals", "list", "--json"]).await.ok();
    assert!(left.stdout.trim().is_empty(), "revoked: {}", left.stdout);
    // Asked again once revoked.
    s.cli.run(&["agent", "ask", "helper", "three"]).await.ok();
    wait_status(&s.cli, "r3", "awaiting_approval").await;
    let titles = card_titles(&s).await;
    assert!(
        titles.contains(&"One".to_owned())
            && titles.contains(&"Two".to_owned())
            && !titles.contains(&"Three".to_owned()),
        "{titles:?}"
    );

    // Five model calls so far (two per finished run, one for the waiting one).
    let stats = s
        .cli
        .run(&["stats", "--by", "agent", "--json"])
        .await
        .ok()
        .json_lines();
    let helper = stats
        .iter()
        .find(|r| r["key"] == "helper")
        .unwrap_or_else(|| panic!("a row for the agent: {stats:?}"));
    assert_eq!(helper["calls"], 5, "{stats:?}");
    let total = stats.last().expect("a total row");
    assert_eq!(total["key"], "total");
    assert_eq!(total["calls"], 5, "{stats:?}");
}

/// A reply cut off mid-stream by `run cancel` stays in the room: the text so far is posted as
/// the agent's message, marked as cut short.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_reply_keeps_its_text_in_the_room_marked_cut_short() {
    let (s, worker, fake) = setup().await;
    let mut words = vec!["The release ".to_owned(), "waits on ".to_owned()];
    words.extend((0..200).map(|i| format!("word{i} ")));
    fake.always(
        "m1",
        Behaviour::tokens(words).token_delay(Duration::from_millis(100)),
    );
    s.cli
        .run(&[
            "agent",
            "add",
            "slow",
            "--provider",
            "fake",
            "--model",
            "m1",
        ])
        .await
        .ok();
    let (mut watcher, _) = s.room_watcher("general").await;
    s.cli
        .run(&["chat", "send", "general", "@slow what blocks the release?"])
        .await
        .ok();
    // Cancel once the reply has begun to stream: a client watching the room sees its deltas.
    watcher
        .expect_until("the reply streams", |c| {
            c.run_frames
                .iter()
                .any(|f| matches!(f, ServerMessage::AgentDelta { offset, .. } if *offset >= 20))
        })
        .await;
    s.cli.run(&["run", "cancel", "r1"]).await.ok();
    wait_status(&s.cli, "r1", "cancelled").await;
    let room = wait_message(&s, "general", "cut short").await;
    assert!(room.contains("The release waits on"), "{room}");
    assert!(!room.contains("word199"), "the reply was cut: {room}");
    drop(worker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_tool_forces_only_the_first_call_and_a_tool_the_agent_lacks_is_refused() {
    let (s, _worker, fake) = setup().await;
    fake.script(
        "m1",
        [
            Behaviour::tool_call("card_create", r#"{"title":"Forced card"}"#),
            Behaviour::tokens(["Made ", "it."]),
            Behaviour::tokens(["Hello."]),
        ],
    );
    s.cli
        .run(&[
            "agent",
            "add",
            "helper",
            "--provider",
            "fake",
            "--model",
            "m1",
            "--tools",
            "card.create,search",
        ])
        .await
        .ok();
    // Not one of its tools, or no tool at all: refused before any run exists, naming its tools.
    for wrong in ["card.move", "card.crate"] {
        let refused = s
            .cli
            .run(&["agent", "ask", "helper", "make a card", "--tool", wrong])
            .await;
        assert_ne!(refused.code, 0, "--tool {wrong} was accepted");
        assert!(
            refused.stderr.contains(wrong) && refused.stderr.contains("card.create, search"),
            "the refusal names the tool and the agent's tools: {}",
            refused.stderr
        );
    }

    // The refused asks made no run: r1 is the forced one.
    s.cli
        .run(&[
            "agent",
            "ask",
            "helper",
            "make a card",
            "--tool",
            "card.create",
        ])
        .await
        .ok();
    let waiting = wait_status(&s.cli, "r1", "awaiting_approval").await;
    assert_eq!(waiting["agent"]["force_tool"], "card.create", "{waiting}");
    // Approved, the run resumes on a worker: its second call chooses freely.
    s.cli.run(&["run", "approve", "r1"]).await.ok();
    wait_status(&s.cli, "r1", "succeeded").await;
    assert!(card_titles(&s).await.contains(&"Forced card".to_owned()));
    // A mention never forces.
    s.cli
        .run(&["chat", "send", "general", "@helper say hello"])
        .await
        .ok();
    wait_status(&s.cli, "r2", "succeeded").await;

    let choices: Vec<serde_json::Value> = fake
        .requests_for("m1")
        .iter()
        .map(|r| r.body["tool_choice"].clone())
        .collect();
    assert_eq!(
        choices,
        [
            serde_json::json!({"type": "function", "function": {"name": "card_create"}}),
            serde_json::json!("auto"),
            serde_json::json!("auto"),
        ],
        "the first call is forced, the resumed run's and the mention's are not"
    );
}

/// The stdout lines of `out` that are not JSON (each must be one JSON value).
fn not_json(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
        .collect()
}

/// `provider list --json`'s record of `name`.
async fn provider_record(s: &Setup, name: &str) -> serde_json::Value {
    let list = s.cli.run(&["provider", "list", "--json"]).await.ok();
    list.json_lines()
        .into_iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("provider {name} is listed: {}", list.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_test_follow_reports_the_answer_or_what_to_fix_and_list_shows_health() {
    let (s, worker, fake) = setup().await;
    fake.always("m1", Behaviour::tokens(["Hel", "lo!"]));
    fake.always("denied", Behaviour::status(401).message("invalid api key"));
    for (name, model, key_env) in [
        ("nokey", "m1", "WARREN_TEST_UNSET_KEY"),
        ("denied", "denied", "FAKE_KEY"),
    ] {
        let url = fake.openai_url();
        let args = [
            "provider",
            "add",
            name,
            "--kind",
            "openai",
            "--base-url",
            url.as_str(),
            "--key-env",
            key_env,
            "--model",
            model,
        ];
        s.cli.run(&args).await.ok();
    }

    // A healthy provider: the reply, how long it took, exit 0.
    let ok = s.cli.run(&["provider", "test", "fake", "--follow"]).await;
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.contains("fake / m1 answered in") && ok.stdout.contains("Hello!"),
        "the probe's answer: {:?}",
        ok.stdout
    );
    assert!(
        ok.stderr.contains("r1") && ok.stderr.contains("testing provider fake"),
        "the run's number goes to stderr: {:?}",
        ok.stderr
    );
    let healthy = provider_record(&s, "fake").await;
    assert_eq!(healthy["health"]["state"], "ok", "{healthy}");

    // The key's variable is unset where the worker runs: the variable is named, with the fix.
    let unset = s.cli.run(&["provider", "test", "nokey", "--follow"]).await;
    assert_eq!(unset.code, 1, "{}\n{}", unset.stdout, unset.stderr);
    let said = format!("{}{}", unset.stdout, unset.stderr);
    assert!(
        said.contains("WARREN_TEST_UNSET_KEY") && said.contains("restart the worker"),
        "says which variable to set and what to do: {said}"
    );

    // The provider refuses the key (401): an auth failure, not retried, with what to do.
    let denied = s.cli.run(&["provider", "test", "denied", "--follow"]).await;
    assert_eq!(denied.code, 1, "{}\n{}", denied.stdout, denied.stderr);
    let said = format!("{}{}", denied.stdout, denied.stderr);
    assert!(said.contains("auth"), "classified as auth: {said}");
    assert!(
        said.contains("FAKE_KEY"),
        "names the variable to check: {said}"
    );
    assert_eq!(
        fake.requests_for("denied").len(),
        1,
        "an auth error is not retried"
    );

    // `provider list` shows each one's health, the last error and when.
    for name in ["nokey", "denied"] {
        let record = provider_record(&s, name).await;
        assert_ne!(record["health"]["state"], "ok", "{record}");
        assert_eq!(record["health"]["last_error"], "auth", "{record}");
        assert!(record["health"]["at"].as_i64().is_some(), "{record}");
    }
    let table = s.cli.run(&["provider", "list"]).await.ok();
    let row = |name: &str| {
        table
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        row("fake ").contains(" ok ") && row("fake ").contains("ago"),
        "{}",
        table.stdout
    );
    assert!(
        row("denied").contains("auth") && row("denied").contains("ago"),
        "{}",
        table.stdout
    );

    // --json: JSON lines only — the run, its step, the run at its end.
    let json = s
        .cli
        .run(&["provider", "test", "fake", "--follow", "--json"])
        .await;
    assert_eq!(json.code, 0, "{}\n{}", json.stdout, json.stderr);
    assert_eq!(
        not_json(&json.stdout),
        Vec::<&str>::new(),
        "{}",
        json.stdout
    );
    let lines = json.json_lines();
    assert!(lines.len() >= 3, "{}", json.stdout);
    assert_eq!(lines[0]["status"], "queued", "{}", json.stdout);
    let last = lines.last().cloned().unwrap_or_default();
    assert_eq!(last["status"], "succeeded", "{}", json.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l["detail"]["kind"] == "model_call" && l["detail"]["text"] == "Hello!"),
        "{}",
        json.stdout
    );
    let failed = s
        .cli
        .run(&["provider", "test", "denied", "--follow", "--json"])
        .await;
    assert_eq!(failed.code, 1, "{}\n{}", failed.stdout, failed.stderr);
    assert_eq!(
        not_json(&failed.stdout),
        Vec::<&str>::new(),
        "{}",
        failed.stdout
    );
    for text in [
        &ok.stdout,
        &ok.stderr,
        &unset.stderr,
        &denied.stderr,
        &json.stdout,
    ] {
        assert!(!text.contains(KEY), "the key leaked: {text}");
    }
    assert!(
        !worker.output().contains(KEY),
        "the key is in the worker's log"
    );
}
