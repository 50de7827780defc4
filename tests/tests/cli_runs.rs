//! The `warren` CLI for jobs, runs and logs (issue 8) against a real server and a real worker
//! process running real `sh` commands: `job add/list/show/edit/rm`, `job run [--follow]` and its
//! exit codes, `run list/show/cancel/approve/reject/retry`, `log` with server-side filters, and
//! terminal safety of what `log` prints.
//!
//! Most need the runs service, the log path and `warren worker` (issue 8), which land after the
//! CLI: each of those is ignored until the integration enables it. Assumptions about those parts: a bot
//! added with `warren bot add NAME` (scope `runs`) may execute runs, and
//! `warren worker --tags T` with that bot's token runs them in the foreground until killed.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use warren_e2e::Server;
use warren_e2e::cli::{Cli, Output};

const NEEDS_RUNS: &str = "needs the runs service (issue 8): enabled at integration";

/// A server, an owner's CLI and one worker process with tags `linux,docker`.
struct Setup {
    server: Server,
    cli: Cli,
    worker: Option<Child>,
}

impl Setup {
    async fn start() -> Setup {
        let server = Server::start().await;
        let cli = Cli::new(&server.http_url(), &server.token);
        let mut setup = Setup {
            server,
            cli,
            worker: None,
        };
        setup.worker = Some(setup.start_worker("builder", "linux,docker").await);
        setup
    }

    /// Adds a bot and starts `warren worker` as it; waits until `worker list` shows it idle.
    async fn start_worker(&self, name: &str, tags: &str) -> Child {
        let added = self.cli.run(&["bot", "add", name, "--json"]).await.ok();
        let secret = added.json()["secret"]
            .as_str()
            .expect("bot add prints the secret once")
            .to_owned();
        let worker_cli = Cli::new(&self.server.http_url(), &secret);
        let child = worker_cli.spawn(&["worker", "--tags", tags]);
        // Keep the config dir alive as long as the process: leak the Cli (a temp dir per test).
        std::mem::forget(worker_cli);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let out = self.cli.run(&["worker", "list", "--json"]).await;
            if out.stdout.contains(name) && out.stdout.contains("\"idle\"") {
                return child;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "worker {name} never came up: {out:#?}"
            );
            tokio::task::yield_now().await;
        }
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.cli.run(args).await
    }
}

/// Runs `args` until the run ends, bounded; `job run --follow` and `log --follow` end by
/// themselves when the run does.
async fn follow(cli: &Cli, args: &[&str]) -> Output {
    cli.run(args).await
}

/// Waits until `run show RUN --json` has `status` (bounded).
async fn wait_status(cli: &Cli, run: &str, status: &str) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let shown = cli.run(&["run", "show", run, "--json"]).await.ok().json();
        if shown["status"] == status {
            return shown;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{run} never became {status}: {shown}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_added_listed_shown_edited_and_removed() {
    let _ = NEEDS_RUNS;
    let s = Setup::start().await;
    let out = s
        .run(&[
            "job",
            "add",
            "deploy",
            "--command",
            "echo \"$WARREN_PARAM_ENV\"",
            "--param",
            "env:choice(staging|prod)=staging",
            "--param",
            "token:secret",
            "--timeout",
            "1h30m",
            "--tags",
            "linux",
            "--protected",
            "--concurrency",
            "1",
            "--description",
            "Ship it",
        ])
        .await
        .ok();
    assert!(out.stdout.contains("added job deploy"), "{out:#?}");
    let job = s
        .run(&["job", "show", "deploy", "--json"])
        .await
        .ok()
        .json_lines();
    assert_eq!(job[0]["timeout_secs"], 5400);
    assert_eq!(job[0]["protected"], true);
    assert_eq!(
        job[0]["params"][0]["choices"],
        serde_json::json!(["staging", "prod"])
    );

    let list = s.run(&["job", "list"]).await.ok();
    let row = list.stdout.lines().nth(1).unwrap_or_default().to_owned();
    assert!(
        row.starts_with("deploy") && row.contains("env,token") && row.contains("yes"),
        "{list:#?}"
    );

    let out = s
        .run(&[
            "job",
            "edit",
            "deploy",
            "--unprotected",
            "--no-concurrency",
            "--timeout",
            "90s",
        ])
        .await
        .ok();
    assert!(out.stdout.contains("updated job deploy"), "{out:#?}");
    let shown = s.run(&["job", "show", "deploy"]).await.ok();
    assert!(
        shown.stdout.contains("1m30s") && shown.stdout.contains("no limit"),
        "{shown:#?}"
    );
    assert!(shown.stdout.contains("no runs yet"), "{shown:#?}");

    let bad = s
        .run(&["job", "add", "x", "--command", "true", "--param", "n:float"])
        .await;
    assert_eq!(bad.code, 1, "usage errors exit 1: {bad:#?}");
    assert!(bad.stderr.contains("choice(a|b)"), "{bad:#?}");
    let edit_nothing = s.run(&["job", "edit", "deploy"]).await;
    assert_eq!(edit_nothing.code, 1, "{edit_nothing:#?}");

    s.run(&["job", "rm", "deploy"]).await.ok();
    let list = s.run(&["job", "list", "--json"]).await.ok();
    assert!(list.stdout.trim().is_empty(), "{list:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_run_follow_streams_everything_in_order_and_exits_with_the_job_code() {
    let s = Setup::start().await;
    s.run(&[
        "job", "add", "count", "--command",
        "i=1; while [ $i -le 2000 ]; do echo \"out $i\"; echo \"err $i\" >&2; i=$((i+1)); done; exit \"$WARREN_PARAM_CODE\"",
        "--param", "code:int=0",
    ])
    .await
    .ok();
    let ok = follow(&s.cli, &["job", "run", "count", "--follow"]).await;
    assert_eq!(ok.code, 0, "{ok:#?}");
    assert!(ok.stderr.contains("r1 queued"), "{ok:#?}");
    let outs: Vec<&str> = ok
        .stdout
        .lines()
        .filter(|l| l.starts_with("out "))
        .collect();
    assert_eq!(outs.len(), 2000, "every stdout line once");
    for (i, line) in outs.iter().enumerate() {
        assert_eq!(*line, format!("out {}", i + 1), "in order");
    }
    assert_eq!(
        ok.stdout.lines().filter(|l| l.starts_with("err ")).count(),
        2000
    );

    let failed = follow(&s.cli, &["job", "run", "count", "-p", "code=7", "--follow"]).await;
    assert_eq!(failed.code, 7, "the job's own exit code: {failed:#?}");
    assert_eq!(
        failed.stderr.lines().last(),
        Some("error: r2 failed with exit code 7"),
        "{failed:#?}"
    );

    // The stored log reads the same afterwards, page by page, and as JSON lines.
    let log = s.run(&["log", "r1", "--json"]).await.ok().json_lines();
    let numbers: Vec<u64> = log.iter().filter_map(|l| l["n"].as_u64()).collect();
    assert_eq!(
        numbers,
        (1..=numbers.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );
    assert!(log.iter().any(|l| l["stream"] == "err"));

    let runs = s.run(&["run", "list", "--json"]).await.ok().json_lines();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["number"], 2, "newest first");
    let table = s.run(&["run", "list", "--status", "failed"]).await.ok();
    assert!(
        table.stdout.contains("✗ failed") && table.stdout.contains("r2"),
        "{table:#?}"
    );
    assert!(!table.stdout.contains("r1 "), "{table:#?}");
    let shown = s.run(&["run", "show", "2"]).await.ok();
    assert!(shown.stdout.contains("exit code  7"), "{shown:#?}");
    assert!(shown.stdout.contains("code=7"), "{shown:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_filters_run_on_the_server_and_tail_and_from_line_pick_lines() {
    let s = Setup::start().await;
    s.run(&["job", "add", "mixed", "--command", "for i in 1 2 3 4 5 6 7 8 9 10; do if [ $((i % 3)) = 0 ]; then echo \"ERROR $i\"; else echo \"ok $i\"; fi; done"])
        .await
        .ok();
    follow(&s.cli, &["job", "run", "mixed", "--follow"])
        .await
        .ok();
    let errors = s.run(&["log", "r1", "--grep", "ERROR"]).await.ok();
    assert_eq!(errors.stdout, "ERROR 3\nERROR 6\nERROR 9\n", "{errors:#?}");
    let rest = s
        .run(&["log", "r1", "--grep", "ERROR", "--invert", "--json"])
        .await
        .ok()
        .json_lines();
    assert!(
        rest.iter()
            .all(|l| !l["text"].as_str().unwrap_or("").contains("ERROR"))
    );
    assert!(rest.iter().any(|l| l["text"] == "ok 10"));
    let tail = s
        .run(&["log", "r1", "--tail", "2", "--grep", "ok"])
        .await
        .ok();
    assert_eq!(tail.stdout, "ok 8\nok 10\n", "{tail:#?}");
    let bad = s.run(&["log", "r1", "--grep", "(unclosed"]).await;
    assert_eq!(bad.code, 1, "an invalid regex is a usage error: {bad:#?}");
    assert!(bad.stderr.contains("--grep"), "{bad:#?}");
    // The worker's own "exit code 0" line comes last; the job's last line is just before it.
    let stamped = s
        .run(&["log", "r1", "--timestamps", "--tail", "2"])
        .await
        .ok();
    let line = stamped.stdout.lines().next().unwrap_or_default();
    assert!(
        line.ends_with(" ok 10") && line.chars().nth(2) == Some(':'),
        "{line:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_colour_escapes_reach_the_terminal_and_none_without_colour() {
    let s = Setup::start().await;
    s.run(&[
        "job",
        "add",
        "nasty",
        "--command",
        "printf '\\033]0;pwned\\007\\033[2J\\033[31mred\\033[0m plain\\n'",
    ])
    .await
    .ok();
    follow(&s.cli, &["job", "run", "nasty", "--follow"])
        .await
        .ok();
    let plain = s.run(&["log", "r1"]).await.ok();
    assert!(plain.stdout.contains("red plain"), "{plain:#?}");
    assert!(
        !plain.stdout.contains('\u{1b}'),
        "no escapes into a pipe: {plain:#?}"
    );
    let coloured = Cli::new(&s.server.http_url(), &s.server.token)
        .with_env("NO_COLOR", "")
        .run(&["log", "r1", "--raw"])
        .await
        .ok();
    assert!(
        coloured.stdout.contains("\u{1b}[0;31mred\u{1b}[0m plain"),
        "{coloured:#?}"
    );
    assert!(
        !coloured.stdout.contains("pwned") && !coloured.stdout.contains("\u{1b}[2J"),
        "{coloured:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_runs_wait_for_approval_and_can_be_rejected() {
    let s = Setup::start().await;
    s.run(&[
        "job",
        "add",
        "deploy",
        "--command",
        "echo deployed",
        "--protected",
    ])
    .await
    .ok();
    let started = s.run(&["job", "run", "deploy"]).await.ok();
    assert_eq!(
        started.stdout.trim(),
        "r1 awaiting approval — ask an admin: warren run approve r1"
    );
    let approved = s.run(&["run", "approve", "r1"]).await.ok();
    assert!(
        approved.stdout.contains("r1 awaiting approval → queued"),
        "{approved:#?}"
    );
    wait_status(&s.cli, "r1", "succeeded").await;

    s.run(&["job", "run", "deploy"]).await.ok();
    let follower = s.cli.spawn(&["log", "r2", "--follow"]);
    let rejected = s
        .run(&["run", "reject", "r2", "--reason", "not today"])
        .await
        .ok();
    assert!(rejected.stdout.contains("→ rejected"), "{rejected:#?}");
    let out = tokio::time::timeout(Duration::from_secs(20), follower.wait_with_output())
        .await
        .expect("log --follow ends when the run is rejected")
        .expect("wait for the follower");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("r2 rejected: ") && stderr.contains("not today"),
        "{stderr}"
    );
    let shown = s.run(&["run", "show", "r2"]).await.ok();
    assert!(shown.stdout.contains("rejected by ada"), "{shown:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_ends_a_followed_run_with_exit_1_and_retry_runs_it_again() {
    let s = Setup::start().await;
    s.run(&[
        "job",
        "add",
        "slow",
        "--command",
        "echo started; sleep 600",
        "--param",
        "tag=a",
    ])
    .await
    .ok();
    let mut follower = s
        .cli
        .spawn(&["job", "run", "slow", "-p", "tag=b", "--follow"]);
    let mut lines = BufReader::new(follower.stdout.take().expect("piped")).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the job's first line arrives live")
        .expect("read");
    assert_eq!(first.as_deref(), Some("started"));
    s.run(&["run", "cancel", "r1", "--reason", "enough"])
        .await
        .ok();
    let status = tokio::time::timeout(Duration::from_secs(30), follower.wait())
        .await
        .expect("--follow ends when the run is cancelled")
        .expect("wait");
    assert_eq!(status.code(), Some(1));
    wait_status(&s.cli, "r1", "cancelled").await;

    let retried = s.run(&["run", "retry", "r1", "--json"]).await.ok().json();
    assert_eq!(retried["number"], 2);
    assert_eq!(
        retried["retry_of"],
        wait_status(&s.cli, "r1", "cancelled").await["id"]
    );
    assert_eq!(retried["params"][0]["value"], "b", "the same parameters");
    s.run(&["run", "cancel", "r2"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_from_the_environment_never_shows() {
    let s = Setup::start().await;
    s.run(&[
        "job",
        "add",
        "leak",
        "--command",
        "echo \"the secret is $WARREN_PARAM_TOKEN\"",
        "--param",
        "token:secret",
    ])
    .await
    .ok();
    let secret = "s3cr3t-abcdef-123456";
    let cli = Cli::new(&s.server.http_url(), &s.server.token).with_env("DEPLOY_TOKEN", secret);
    let ran = cli
        .run(&[
            "job",
            "run",
            "leak",
            "-p",
            "token=@env:DEPLOY_TOKEN",
            "--follow",
        ])
        .await
        .ok();
    assert!(
        ran.stderr.contains("secret token read from $DEPLOY_TOKEN"),
        "{ran:#?}"
    );
    assert!(ran.stdout.contains("the secret is ***"), "{ran:#?}");
    for args in [
        &["log", "r1", "--json"][..],
        &["run", "show", "r1"][..],
        &["run", "show", "r1", "--json"][..],
        &["run", "list", "--json"][..],
    ] {
        let out = s.run(args).await.ok();
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{args:?}: {out:#?}"
        );
    }
    // Without a terminal and without -p, a missing secret is an error that says what to do.
    let missing = s.run(&["job", "run", "leak"]).await;
    assert_eq!(missing.code, 1, "{missing:#?}");
    assert!(missing.stderr.contains("-p token=@env:VAR"), "{missing:#?}");
}

/// What the CLI checks itself, before the runs service is involved: these run today.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_run_references_params_and_durations_are_refused_with_the_accepted_forms() {
    let server = Server::start().await;
    let cli = Cli::new(&server.http_url(), &server.token);
    let empty = cli.run(&["job", "list"]).await.ok();
    assert!(
        empty.stdout.contains("warren job add NAME --command CMD"),
        "{empty:#?}"
    );

    let bad_ref = cli.run(&["log", "seven"]).await;
    assert_eq!(bad_ref.code, 1, "{bad_ref:#?}");
    assert!(bad_ref.stderr.contains("r7 or 7"), "{bad_ref:#?}");
    assert_eq!(bad_ref.stderr.lines().count(), 1, "{bad_ref:#?}");

    let no_job = cli.run(&["job", "run", "nope"]).await;
    assert_eq!(no_job.code, 2, "{no_job:#?}");
    assert!(no_job.stderr.contains("no job \"nope\""), "{no_job:#?}");

    let spec = cli
        .run(&["job", "add", "x", "--command", "true", "--param", "n:float"])
        .await;
    assert_eq!(spec.code, 1, "{spec:#?}");
    assert!(spec.stderr.contains("NAME:choice(a|b)"), "{spec:#?}");
    let secret = cli
        .run(&[
            "job",
            "add",
            "x",
            "--command",
            "true",
            "--param",
            "t:secret=hunter2",
        ])
        .await;
    assert_eq!(secret.code, 1, "{secret:#?}");
    assert!(
        !secret.stderr.contains("hunter2"),
        "a secret is never echoed: {secret:#?}"
    );
    let timeout = cli
        .run(&["job", "add", "x", "--command", "true", "--timeout", "30"])
        .await;
    assert_eq!(timeout.code, 1, "{timeout:#?}");
    assert!(timeout.stderr.contains("1h30m"), "{timeout:#?}");
}
