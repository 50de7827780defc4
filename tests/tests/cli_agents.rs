//! The `warren` CLI for providers and agents (issue 9) against a real server: `provider add |
//! list | edit | rm` and `agent add | list | show | edit | disable | enable | rm | export |
//! import`, their `--json` shapes (the protocol's own types), exact prices from decimal text,
//! errors that say what to do next, and keys that are never printed (`--key-env` takes a
//! variable's name; a value that looks like a key is refused without being repeated), and
//! budget scopes (`budget set workspace|agent A|room R AMOUNT/PERIOD`, the `--agent`/`--room`
//! flags, and the global `--workspace NAME` that still picks the workspace).
//!
//! Asking agents, steps, approvals, budgets and usage are served by the agent runs and budgets
//! services; their commands' pure parts are unit tests in the client (`agent_output`, `money`,
//! `stream_text`).

use warren_e2e::Server;
use warren_e2e::cli::{Cli, Output};

/// A key value the CLI's environment holds; it must never appear in any output.
const KEY_VALUE: &str = "sk-live-DO-NOT-PRINT-4f9a2c";

fn never_shows_the_key(out: &Output) {
    assert!(
        !out.stdout.contains(KEY_VALUE) && !out.stderr.contains(KEY_VALUE),
        "the key leaked: {out:#?}"
    );
}

async fn start() -> (Server, Cli) {
    let server = Server::start().await;
    let cli = Cli::new(&server.http_url(), &server.token).with_env("OPENAI_API_KEY", KEY_VALUE);
    (server, cli)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_are_added_listed_edited_and_removed_with_exact_prices() {
    let (_server, cli) = start().await;
    let out = cli
        .run(&[
            "provider",
            "add",
            "openai",
            "--kind",
            "openai",
            "--base-url",
            "https://api.openai.com/v1",
            "--key-env",
            "OPENAI_API_KEY",
            "--model",
            "gpt-4o-mini",
            "--model",
            "gpt-4o",
            "--price-in",
            "0.15",
            "--price-out",
            "0.29",
            "--context",
            "128000",
            "--json",
        ])
        .await
        .ok();
    never_shows_the_key(&out);
    let p = out.json();
    assert_eq!(p["name"], "openai");
    assert_eq!(p["kind"], "openai");
    assert_eq!(p["key_env"], "OPENAI_API_KEY");
    assert_eq!(p["models"], serde_json::json!(["gpt-4o-mini", "gpt-4o"]));
    // Decimal text, not floats: 0.29 is exactly 290000 micro-dollars.
    assert_eq!(
        p["price"],
        serde_json::json!({"input_per_mtok": 150000, "output_per_mtok": 290000})
    );
    assert_eq!(p["context_tokens"], 128000);
    assert!(
        p["id"].as_str().is_some_and(|id| id.starts_with("prov_")),
        "{p}"
    );

    let out = cli
        .run(&[
            "provider",
            "add",
            "local",
            "--kind",
            "openai",
            "--base-url",
            "http://127.0.0.1:8080/v1",
            "--model",
            "smollm2",
        ])
        .await
        .ok();
    assert!(
        out.stdout
            .contains("added provider local (openai, free) (no key)")
            && out.stdout.contains("'warren provider test local --follow'"),
        "{out:#?}"
    );

    // The list: one JSON value per provider, and a table that names the key's variable.
    let out = cli.run(&["provider", "list", "--json"]).await.ok();
    let names: Vec<String> = out
        .json_lines()
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["local", "openai"]);
    let out = cli.run(&["provider", "list"]).await.ok();
    never_shows_the_key(&out);
    let openai_row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("openai"))
        .unwrap_or_default();
    assert!(
        openai_row.contains("$OPENAI_API_KEY") && openai_row.contains("$0.15 in / $0.29 out"),
        "{out:#?}"
    );
    assert!(out.stdout.starts_with("PROVIDER  KIND"), "{out:#?}");

    // Editing one price keeps the other; --no-key-env forgets the variable.
    let out = cli
        .run(&[
            "provider",
            "edit",
            "OpenAI",
            "--price-out",
            "1.25",
            "--no-key-env",
            "--json",
        ])
        .await
        .ok();
    let p = out.json();
    assert_eq!(
        p["price"],
        serde_json::json!({"input_per_mtok": 150000, "output_per_mtok": 1250000})
    );
    assert!(p.get("key_env").is_none(), "{p}");
    let out = cli.run(&["provider", "edit", "openai"]).await;
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stderr.contains("nothing to change: pass --name"),
        "{out:#?}"
    );

    // Removed by name; a name that does not exist says which do.
    cli.run(&["provider", "rm", "local"]).await.ok();
    let out = cli.run(&["provider", "rm", "local"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr
            .contains("no provider \"local\" (providers: openai)")
            && out.stderr.contains("warren provider add"),
        "{out:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_provider_input_is_refused_with_what_to_do_and_keys_are_never_echoed() {
    let (_server, cli) = start().await;
    let add = |extra: &[&str]| {
        let mut args = vec![
            "provider",
            "add",
            "openai",
            "--kind",
            "openai",
            "--base-url",
            "https://api.openai.com/v1",
            "--model",
            "gpt-4o-mini",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    // The key itself passed as --key-env: refused here, never repeated, never sent.
    let args = add(&["--key-env", KEY_VALUE]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli.run(&refs).await;
    assert_eq!(out.code, 1, "{out:#?}");
    never_shows_the_key(&out);
    assert!(
        out.stderr
            .contains("--key-env takes the NAME of the environment variable"),
        "{out:#?}"
    );
    let listed = cli.run(&["provider", "list", "--json"]).await.ok();
    assert!(
        listed.stdout.trim().is_empty(),
        "nothing was created: {listed:#?}"
    );

    // A price that is not decimal dollars, a price without its pair, an unknown kind.
    for (extra, says) in [
        (
            vec!["--price-in", "1e-3", "--price-out", "1"],
            "like 3, 0.15",
        ),
        (
            vec!["--price-in", "0.0000001", "--price-out", "1"],
            "six decimals",
        ),
        (vec!["--price-in", "1"], "--price-out"),
    ] {
        let args = add(&extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cli.run(&refs).await;
        assert_eq!(out.code, 1, "usage errors exit 1: {out:#?}");
        assert!(out.stderr.contains(says), "{says}: {out:#?}");
    }
    let out = cli
        .run(&[
            "provider",
            "add",
            "x",
            "--kind",
            "mistral",
            "--base-url",
            "http://h",
            "--model",
            "m",
        ])
        .await;
    assert!(
        out.stderr.contains("anthropic, gemini or ollama"),
        "{out:#?}"
    );

    // The server's own checks come back whole: a URL without a scheme, a duplicate name.
    let out = cli
        .run(&[
            "provider",
            "add",
            "p",
            "--kind",
            "openai",
            "--base-url",
            "api.openai.com",
            "--model",
            "m",
        ])
        .await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr.contains("must start with http:// or https://"),
        "{out:#?}"
    );
    let args = add(&[]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    cli.run(&refs).await.ok();
    let out = cli.run(&refs).await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr.contains("already exists") && out.stderr.contains("warren provider edit"),
        "{out:#?}"
    );
}

async fn add_two_providers(cli: &Cli) {
    for (name, url) in [
        ("main", "https://api.openai.com/v1"),
        ("backup", "http://127.0.0.1:8080/v1"),
    ] {
        cli.run(&[
            "provider",
            "add",
            name,
            "--kind",
            "openai",
            "--base-url",
            url,
            "--key-env",
            "OPENAI_API_KEY",
            "--model",
            "gpt-4o-mini",
        ])
        .await
        .ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_are_added_shown_edited_disabled_and_removed() {
    let (_server, cli) = start().await;
    add_two_providers(&cli).await;
    let providers = cli
        .run(&["provider", "list", "--json"])
        .await
        .ok()
        .json_lines();
    let id_of = |name: &str| {
        providers
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["id"].clone())
            .unwrap_or_default()
    };
    let prompt_file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(prompt_file.path(), "You review release plans.\nBe brief.\n").expect("write");
    let prompt_path = prompt_file.path().to_string_lossy().into_owned();
    let out = cli
        .run(&[
            "agent",
            "add",
            "reviewer",
            "--provider",
            "main,backup",
            "--prompt-file",
            &prompt_path,
            "--tools",
            "card.create,search,card.move",
            "--approve",
            "card.create",
            "--max-steps",
            "12",
            "--max-wall",
            "5m",
            "--json",
        ])
        .await
        .ok();
    let a = out.json();
    assert_eq!(a["name"], "reviewer");
    assert_eq!(
        a["providers"],
        serde_json::json!([id_of("main"), id_of("backup")])
    );
    assert_eq!(
        a["tools"],
        serde_json::json!(["card.create", "search", "card.move"])
    );
    assert_eq!(a["auto_approve"], serde_json::json!(["card.create"]));
    assert_eq!(
        (a["max_steps"].as_u64(), a["max_wall_secs"].as_u64()),
        (Some(12), Some(300))
    );
    assert_eq!(a["prompt"], "You review release plans.\nBe brief.");

    // It is a member (so @reviewer reaches it).
    let members = cli.run(&["member", "list"]).await.ok();
    assert!(members.stdout.contains("reviewer"), "{members:#?}");

    let out = cli.run(&["agent", "list"]).await.ok();
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("@reviewer"))
        .unwrap_or_default();
    assert!(
        row.contains("enabled")
            && row.contains("main,backup")
            && row.contains("auto: card.create")
            && row.contains("12 steps, 5m"),
        "{out:#?}"
    );
    let out = cli.run(&["agent", "show", "@Reviewer"]).await.ok();
    assert!(
        out.stdout.contains("  providers  main,backup")
            && out
                .stdout
                .contains("    You review release plans.\n    Be brief.\n"),
        "{out:#?}"
    );

    // Edit: a new chain, no more card.move (so it is no longer auto-approved either).
    let out = cli
        .run(&[
            "agent",
            "edit",
            "reviewer",
            "--provider",
            "backup",
            "--tools",
            "card.create,search",
            "--model",
            "gpt-4o",
            "--json",
        ])
        .await
        .ok();
    let a = out.json();
    assert_eq!(a["providers"], serde_json::json!([id_of("backup")]));
    assert_eq!(a["model"], "gpt-4o");
    assert_eq!(a["auto_approve"], serde_json::json!(["card.create"]));
    let out = cli
        .run(&[
            "agent",
            "edit",
            "reviewer",
            "--no-model",
            "--approve",
            "ask",
            "--json",
        ])
        .await
        .ok();
    let a = out.json();
    assert!(
        a.get("model").is_none() && a.get("auto_approve").is_none(),
        "{a}"
    );
    // Auto-approving a tool it may not call is a usage error naming its tools.
    let out = cli
        .run(&["agent", "edit", "reviewer", "--approve", "job.run"])
        .await;
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(out.stderr.contains("add it to --tools first"), "{out:#?}");

    let out = cli
        .run(&["agent", "disable", "reviewer", "--json"])
        .await
        .ok();
    assert_eq!(out.json()["disabled"], true);
    let out = cli.run(&["agent", "ask", "reviewer", "hello?"]).await;
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stderr.contains("'warren agent enable reviewer'"),
        "{out:#?}"
    );
    let out = cli
        .run(&["agent", "enable", "reviewer", "--json"])
        .await
        .ok();
    assert!(out.json().get("disabled").is_none(), "{out:#?}");

    // A provider an agent uses cannot go; the error names the agent.
    let out = cli.run(&["provider", "rm", "backup"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stderr.contains("reviewer"), "{out:#?}");

    // Unknown names say what exists.
    let out = cli.run(&["agent", "add", "x", "--provider", "nope"]).await;
    assert!(
        out.stderr
            .contains("no provider \"nope\" (providers: backup, main)"),
        "{out:#?}"
    );
    let out = cli.run(&["agent", "add", "x"]).await;
    assert!(
        out.stderr.contains("needs at least one provider"),
        "{out:#?}"
    );
    let out = cli.run(&["agent", "show", "nobody"]).await;
    assert!(
        out.stderr
            .contains("no agent \"nobody\" (agents: reviewer)"),
        "{out:#?}"
    );

    let out = cli.run(&["agent", "rm", "reviewer"]).await.ok();
    assert!(out.stdout.contains("removed agent @reviewer"), "{out:#?}");
    let out = cli.run(&["agent", "list"]).await.ok();
    assert!(out.stdout.contains("no agents"), "{out:#?}");
    cli.run(&["provider", "rm", "backup"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_export_to_a_file_and_import_into_another_workspace_refusing_duplicates() {
    let (server, cli) = start().await;
    add_two_providers(&cli).await;
    cli.run(&[
        "agent",
        "add",
        "reviewer",
        "--provider",
        "main,backup",
        "--prompt",
        "Be brief.",
        "--tools",
        "search",
        "--max-tokens",
        "5000",
    ])
    .await
    .ok();
    cli.run(&["agent", "add", "helper", "--provider", "backup"])
        .await
        .ok();
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("agents.toml");
    let file_arg = file.to_string_lossy().into_owned();
    let out = cli
        .run(&["agent", "export", "--output", &file_arg])
        .await
        .ok();
    assert!(
        out.stderr.contains("wrote 2 agent(s) and 2 provider(s)"),
        "{out:#?}"
    );
    let text = std::fs::read_to_string(&file).expect("the export");
    assert!(
        text.contains("[[agent]]")
            && text.contains("providers = [\"main\", \"backup\"]")
            && text.contains("key_env = \"OPENAI_API_KEY\"")
            && !text.contains(KEY_VALUE)
            && !text.contains("prov_"),
        "{text}"
    );
    // One agent as JSON on stdout.
    let out = cli
        .run(&["agent", "export", "helper", "--format", "json"])
        .await
        .ok();
    let json = out.json();
    assert_eq!(json["agent"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["provider"][0]["name"], "backup");

    // Into the same workspace: every name is taken, nothing is created.
    let out = cli.run(&["agent", "import", &file_arg]).await;
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stderr
            .contains("already has a member or agent named helper, reviewer"),
        "{out:#?}"
    );

    // Into a new workspace: providers and agents are created as they were.
    let created = cli
        .run(&["workspace", "create", "Other", "--json"])
        .await
        .ok();
    assert!(created.stdout.contains("Other"), "{created:#?}");
    let other = Cli::new(&server.http_url(), &server.token).with_env("WARREN_WORKSPACE", "Other");
    let out = other.run(&["agent", "import", &file_arg]).await.ok();
    assert!(
        out.stdout.contains("added provider main")
            && out.stdout.contains("added agent @reviewer")
            && out.stdout.contains("added agent @helper"),
        "{out:#?}"
    );
    let agents = other
        .run(&["agent", "list", "--json"])
        .await
        .ok()
        .json_lines();
    let reviewer = agents
        .iter()
        .find(|a| a["name"] == "reviewer")
        .cloned()
        .unwrap_or_default();
    assert_eq!(reviewer["max_tokens"], 5000);
    assert_eq!(reviewer["tools"], serde_json::json!(["search"]));
    assert_eq!(reviewer["providers"].as_array().map(Vec::len), Some(2));

    // A file that is not an export says how to make one.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "hello = 1\n").expect("write");
    let out = cli.run(&["agent", "import", &bad.to_string_lossy()]).await;
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stderr.contains("make one with 'warren agent export'"),
        "{out:#?}"
    );
}

/// `budget list --json` as (scope kind, limit, period).
async fn budget_rows(cli: &Cli, extra: &[&str]) -> Vec<(String, u64, String)> {
    let mut args = vec!["budget", "list", "--json"];
    args.extend_from_slice(extra);
    cli.run(&args)
        .await
        .ok()
        .json_lines()
        .iter()
        .map(|b| {
            (
                b["scope"]["kind"].as_str().unwrap_or_default().to_owned(),
                b["limit"].as_u64().unwrap_or_default(),
                b["period"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_scopes_are_words_as_listed_or_flags_and_the_global_workspace_flag_still_picks_the_workspace()
 {
    let (_server, cli) = start().await;
    add_two_providers(&cli).await;
    cli.run(&["agent", "add", "reviewer", "--provider", "main"])
        .await
        .ok();

    // The scope in words, as `budget list` shows it.
    cli.run(&["budget", "set", "workspace", "20usd/month"])
        .await
        .ok();
    cli.run(&["budget", "set", "agent", "reviewer", "5usd/day"])
        .await
        .ok();
    cli.run(&["budget", "set", "room", "#general", "100usd/week"])
        .await
        .ok();
    let mut rows = budget_rows(&cli, &[]).await;
    rows.sort();
    assert_eq!(
        rows,
        [
            ("agent".to_owned(), 5_000_000, "day".to_owned()),
            ("room".to_owned(), 100_000_000, "week".to_owned()),
            ("workspace".to_owned(), 20_000_000, "month".to_owned()),
        ]
    );
    let table = cli.run(&["budget", "list"]).await.ok();
    for scope in ["workspace", "agent reviewer", "room #general"] {
        assert!(
            table.stdout.lines().any(|l| l.starts_with(scope)),
            "{scope}: {}",
            table.stdout
        );
    }

    // The earlier forms still work: flags, and no scope for the workspace's.
    cli.run(&["budget", "set", "--agent", "reviewer", "6usd/day"])
        .await
        .ok();
    cli.run(&["budget", "set", "30usd/month"]).await.ok();
    let mut rows = budget_rows(&cli, &[]).await;
    rows.sort();
    assert_eq!(rows[0].1, 6_000_000, "{rows:?}");
    assert_eq!(rows[2].1, 30_000_000, "{rows:?}");

    // The issue's `budget set --workspace 20usd/month`: a limit where the global flag's
    // workspace name would go is the workspace's own budget, in the profile's workspace.
    cli.run(&["budget", "set", "--workspace", "20usd/month"])
        .await
        .ok();
    assert!(
        budget_rows(&cli, &[]).await.contains(&(
            "workspace".to_owned(),
            20_000_000,
            "month".to_owned()
        )),
        "the workspace's budget is now 20usd/month"
    );

    // The global flag still picks the workspace, before or after the subcommand.
    cli.run(&["workspace", "create", "Side project"]).await.ok();
    cli.run(&[
        "budget",
        "set",
        "--workspace",
        "Side project",
        "workspace",
        "2usd/day",
    ])
    .await
    .ok();
    assert_eq!(
        budget_rows(&cli, &["--workspace", "Side project"]).await,
        [("workspace".to_owned(), 2_000_000, "day".to_owned())]
    );
    assert_eq!(budget_rows(&cli, &[]).await.len(), 3);

    // Mistakes say what to type.
    for (args, says) in [
        (&["budget", "set", "agent", "1usd/day"][..], "agent NAME"),
        (
            &["budget", "set", "team", "x", "1usd/day"][..],
            "'workspace', 'agent NAME' or 'room NAME'",
        ),
        (
            &[
                "budget",
                "set",
                "--room",
                "general",
                "workspace",
                "1usd/day",
            ][..],
            "give the scope once",
        ),
        (
            &["budget", "set", "agent", "reviewer"][..],
            "'warren budget set agent reviewer 20usd/month'",
        ),
        (
            &["budget", "set", "workspace", "20usd/year"][..],
            "day, week or month",
        ),
        (&["budget", "clear", "agent", "nobody"][..], "nobody"),
    ] {
        let out = cli.run(args).await;
        assert_ne!(out.code, 0, "{args:?}: {out:#?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }

    // Clearing takes the same scopes.
    cli.run(&["budget", "clear", "room", "general"]).await.ok();
    cli.run(&["budget", "clear", "--agent", "reviewer"])
        .await
        .ok();
    assert_eq!(
        budget_rows(&cli, &[]).await,
        [("workspace".to_owned(), 20_000_000, "month".to_owned())]
    );
    cli.run(&["budget", "clear", "workspace"]).await.ok();
    let empty = cli.run(&["budget", "list"]).await.ok();
    assert!(
        empty
            .stdout
            .contains("warren budget set workspace 20usd/month"),
        "{}",
        empty.stdout
    );
    let help = cli.run(&["budget", "set", "--help"]).await.ok();
    assert!(
        help.stdout.contains("agent NAME") && help.stdout.contains("a limit is never a workspace"),
        "{}",
        help.stdout
    );
}
