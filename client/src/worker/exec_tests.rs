//! The executor against real `sh` processes: complete ordered output, parameters as environment
//! only, redaction, exit codes, the cap, and timeout and cancel leaving no process behind.

use std::path::Path;
use std::time::Duration;

use tokio::sync::mpsc;

use super::exec::{Execution, Outcome, RunHandle};
use super::group::group_alive;
use super::line::{Batch, LogLine, Stream};
use super::spec::{JobSpec, Limits, Param};

/// No test run may take longer than this.
const BOUND: Duration = Duration::from_secs(120);

fn spec(command: &str, dir: &Path) -> JobSpec {
    JobSpec {
        command: command.into(),
        params: Vec::new(),
        env: Vec::new(),
        workdir: dir.to_path_buf(),
        timeout: None,
        limits: Limits {
            kill_grace: Duration::from_millis(300),
            ..Limits::default()
        },
        guard: None,
    }
}

/// Receives every batch, checking that chunk and line numbers have no gaps.
async fn collect(mut batches: mpsc::Receiver<Batch>) -> Vec<LogLine> {
    let mut lines = Vec::new();
    let mut next_chunk = 0;
    while let Some(batch) = batches.recv().await {
        assert_eq!(batch.chunk_no, next_chunk);
        next_chunk += 1;
        assert!(!batch.lines.is_empty());
        assert!(
            batch.weight() <= 64 * 1024 + 64 * 1024,
            "{}",
            batch.weight()
        );
        lines.extend(batch.lines);
    }
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line.no, i as u64);
    }
    lines
}

async fn run(spec: JobSpec) -> (Vec<LogLine>, Outcome) {
    let (handle, batches) = Execution::start(spec);
    let result = tokio::time::timeout(BOUND, async {
        let lines = collect(batches).await;
        (lines, handle.wait().await)
    })
    .await;
    match result {
        Ok(result) => result,
        Err(_) => panic!("the run did not end within {BOUND:?}"),
    }
}

fn text(line: &LogLine) -> String {
    String::from_utf8_lossy(&line.bytes).into_owned()
}

fn of(lines: &[LogLine], stream: Stream) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.stream == stream)
        .map(text)
        .collect()
}

fn tempdir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    }
}

#[tokio::test]
async fn a_hundred_thousand_mixed_lines_arrive_complete_and_in_order() {
    let dir = tempdir();
    // Every third line to stderr; stdout lines coloured.
    let command = r#"awk 'BEGIN { for (i = 0; i < 100000; i++) {
        if (i % 3 == 0) { print "err " i > "/dev/stderr" }
        else { printf "\033[32mout %d\033[0m\n", i } } }'"#;
    let (lines, outcome) = run(spec(command, dir.path())).await;
    assert_eq!(outcome, Outcome::Succeeded);
    let out = of(&lines, Stream::Stdout);
    let err = of(&lines, Stream::Stderr);
    let expected_out: Vec<String> = (0..100_000)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("\x1b[32mout {i}\x1b[0m"))
        .collect();
    let expected_err: Vec<String> = (0..100_000)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("err {i}"))
        .collect();
    assert_eq!(out.len() + err.len(), 100_000);
    assert!(out == expected_out, "stdout differs");
    assert!(err == expected_err, "stderr differs");
    let system = of(&lines, Stream::System);
    assert_eq!(system, ["started", "exit code 0"]);
    assert_eq!(lines.first().map(text).as_deref(), Some("started"));
    assert_eq!(lines.last().map(text).as_deref(), Some("exit code 0"));
}

#[tokio::test]
async fn parameters_arrive_as_environment_and_are_never_run() {
    let dir = tempdir();
    let mut job = spec(
        r#"printf '%s\n' "$WARREN_PARAM_BRANCH" "$WARREN_PARAM_DEPLOY_ENV""#,
        dir.path(),
    );
    let hostile = "main;rm -rf ./victim; touch pwned $(touch pwned2) `touch pwned3`";
    job.params = vec![
        Param {
            name: "branch".into(),
            value: hostile.into(),
            secret: false,
        },
        Param {
            name: "deploy-env".into(),
            value: "staging".into(),
            secret: false,
        },
    ];
    std::fs::create_dir(dir.path().join("victim")).ok();
    let (lines, outcome) = run(job).await;
    assert_eq!(outcome, Outcome::Succeeded);
    assert_eq!(of(&lines, Stream::Stdout), [hostile, "staging"]);
    assert!(dir.path().join("victim").is_dir());
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(!dir.path().join(file).exists(), "{file} was created");
    }
}

#[tokio::test]
async fn extra_environment_reaches_the_job() {
    let dir = tempdir();
    let mut job = spec("env | grep '^WARREN_' | cut -d= -f1 | sort", dir.path());
    job.env = vec![("WARREN_RUN".into(), "r7".into())];
    let (lines, outcome) = run(job).await;
    assert_eq!(outcome, Outcome::Succeeded);
    assert!(of(&lines, Stream::Stdout).contains(&"WARREN_RUN".to_owned()));
}

#[test]
fn the_workers_own_warren_variables_are_withheld() {
    use std::ffi::OsString;
    let vars = ["PATH", "WARREN_TOKEN", "HOME", "WARREN_SERVER", "WARRENX"].map(OsString::from);
    let withheld: Vec<OsString> = super::exec::withheld_vars(vars).collect();
    assert_eq!(
        withheld,
        ["WARREN_TOKEN", "WARREN_SERVER"].map(OsString::from)
    );
}

#[tokio::test]
async fn secrets_and_tokens_come_out_masked() {
    let dir = tempdir();
    let secret = "hunter2-s3cret";
    let token = "wrn_3k8m1p4r7t0w2y5aq4s6u8w0y2a4c6e8g0j2m4p6r8t0v2x4";
    let command = format!(
        r#"echo "pw=$WARREN_PARAM_PW"; echo "token {token} done" >&2;
           printf 'split=hunter2-'; printf 's3cret!\n'; echo "user=$WARREN_PARAM_USER""#
    );
    let mut job = spec(&command, dir.path());
    job.params = vec![
        Param {
            name: "pw".into(),
            value: secret.into(),
            secret: true,
        },
        Param {
            name: "user".into(),
            value: "ada".into(),
            secret: false,
        },
    ];
    let (lines, outcome) = run(job).await;
    assert_eq!(outcome, Outcome::Succeeded);
    for line in &lines {
        let t = text(line);
        assert!(!t.contains("s3cret") && !t.contains("wrn_3k8m"), "{t}");
    }
    assert_eq!(
        of(&lines, Stream::Stdout),
        ["pw=***", "split=***!", "user=ada"]
    );
    assert_eq!(of(&lines, Stream::Stderr), ["token *** done"]);
}

#[tokio::test]
async fn exit_codes_become_outcomes() {
    let dir = tempdir();
    let (lines, outcome) = run(spec("echo bye; exit 3", dir.path())).await;
    assert_eq!(outcome, Outcome::Failed { exit_code: 3 });
    assert_eq!(of(&lines, Stream::System), ["started", "exit code 3"]);

    let (_, outcome) = run(spec("true", dir.path())).await;
    assert_eq!(outcome, Outcome::Succeeded);

    let (lines, outcome) = run(spec("kill -9 $$", dir.path())).await;
    assert_eq!(outcome, Outcome::Failed { exit_code: 137 });
    assert_eq!(
        of(&lines, Stream::System).last().map(String::as_str),
        Some("killed by signal 9 (exit code 137)")
    );
}

#[tokio::test]
async fn a_missing_workdir_fails_to_start_with_a_reason() {
    let dir = tempdir();
    let (lines, outcome) = run(spec("true", &dir.path().join("nope"))).await;
    let Outcome::FailedToStart { reason } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("working directory"), "{reason}");
    let system = of(&lines, Stream::System);
    assert_eq!(system.len(), 1);
    assert!(system[0].starts_with("failed to start: working directory"));
}

#[tokio::test]
async fn long_lines_are_split_and_bytes_kept() {
    let dir = tempdir();
    let command = r#"head -c 200000 /dev/zero | tr '\0' x; echo; printf '\377\376\033[1mbold\n'"#;
    let (lines, outcome) = run(spec(command, dir.path())).await;
    assert_eq!(outcome, Outcome::Succeeded);
    let out: Vec<&LogLine> = lines
        .iter()
        .filter(|l| l.stream == Stream::Stdout)
        .collect();
    let long: Vec<&&LogLine> = out
        .iter()
        .filter(|l| l.bytes.first() == Some(&b'x'))
        .collect();
    assert_eq!(long.iter().map(|l| l.bytes.len()).sum::<usize>(), 200_000);
    assert!(long.iter().all(|l| l.bytes.len() <= 64 * 1024));
    assert_eq!(long.len(), 4);
    assert!(!long[0].continued && long[1..].iter().all(|l| l.continued));
    assert_eq!(
        out.last().map(|l| l.bytes.as_slice()),
        Some(&b"\xff\xfe\x1b[1mbold"[..])
    );
}

#[tokio::test]
async fn the_cap_writes_one_truncation_line_and_the_job_runs_on() {
    let dir = tempdir();
    // 500 KB, far more than a pipe holds: the job finishes only if its output is drained.
    let command =
        r#"awk 'BEGIN { for (i = 0; i < 5000; i++) printf "%0100d\n", i }'; echo end >&2; exit 4"#;
    let mut job = spec(command, dir.path());
    job.limits.log_cap_bytes = 10_000;
    let (lines, outcome) = run(job).await;
    assert_eq!(outcome, Outcome::Failed { exit_code: 4 });
    assert_eq!(of(&lines, Stream::Stdout).len(), 100);
    assert!(of(&lines, Stream::Stderr).is_empty());
    let system = of(&lines, Stream::System);
    assert_eq!(system.len(), 3, "{system:?}");
    assert!(system[1].starts_with("log truncated"), "{}", system[1]);
    assert_eq!(system[2], "exit code 4");
}

/// A job whose process tree resists: background sleeps, a child that ignores SIGTERM (and whose
/// `sleep` inherits that), and a grandchild; it prints `ready` when all are started.
const STUBBORN: &str = r#"
sleep 300 &
sleep 300 &
sh -c "trap '' TERM; sleep 300 & sleep 300; wait" &
(sleep 300; echo never) &
echo ready
wait
"#;

/// Receives batches until a stdout line reads `want`; returns the lines so far.
async fn lines_until(batches: &mut mpsc::Receiver<Batch>, want: &str) -> Vec<LogLine> {
    let mut lines = Vec::new();
    let found = tokio::time::timeout(BOUND, async {
        while let Some(batch) = batches.recv().await {
            lines.extend(batch.lines);
            if lines
                .iter()
                .any(|l| l.stream == Stream::Stdout && text(l) == want)
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found.ok(), Some(true), "no {want:?} line");
    lines
}

async fn finish(handle: &RunHandle, mut batches: mpsc::Receiver<Batch>) -> (Vec<LogLine>, Outcome) {
    let result = tokio::time::timeout(BOUND, async {
        let mut lines = Vec::new();
        while let Some(batch) = batches.recv().await {
            lines.extend(batch.lines);
        }
        (lines, handle.wait().await)
    })
    .await;
    match result {
        Ok(result) => result,
        Err(_) => panic!("the run did not end within {BOUND:?}"),
    }
}

fn pgid_alive_members(pgid: i32) -> bool {
    group_alive(pgid)
}

#[tokio::test]
async fn cancel_stops_the_whole_process_tree() {
    let dir = tempdir();
    let (handle, mut batches) = Execution::start(spec(STUBBORN, dir.path()));
    let pgid = handle.process_group().unwrap_or(0);
    assert!(pgid > 0);
    lines_until(&mut batches, "ready").await;
    assert!(pgid_alive_members(pgid));
    handle.cancel("ada");
    handle.cancel("bob");
    let (lines, outcome) = finish(&handle, batches).await;
    assert_eq!(outcome, Outcome::Cancelled { by: "ada".into() });
    // The child that ignores SIGTERM needed SIGKILL.
    assert!(
        of(&lines, Stream::System)
            .iter()
            .any(|l| l == "the job's processes did not stop within 300ms of SIGTERM; sent SIGKILL"),
        "{:?}",
        of(&lines, Stream::System)
    );
    assert_eq!(
        of(&lines, Stream::System).last().map(String::as_str),
        Some("cancelled by ada")
    );
    assert!(
        !pgid_alive_members(pgid),
        "a process of group {pgid} outlived the run"
    );
}

#[tokio::test]
async fn a_timeout_stops_the_whole_process_tree() {
    let dir = tempdir();
    let mut job = spec(STUBBORN, dir.path());
    job.timeout = Some(Duration::from_millis(700));
    let (handle, mut batches) = Execution::start(job);
    let pgid = handle.process_group().unwrap_or(0);
    lines_until(&mut batches, "ready").await;
    let (lines, outcome) = finish(&handle, batches).await;
    assert_eq!(
        outcome,
        Outcome::TimedOut {
            after: Duration::from_millis(700)
        }
    );
    assert_eq!(
        of(&lines, Stream::System).last().map(String::as_str),
        Some("timed out after 700ms")
    );
    assert!(
        !pgid_alive_members(pgid),
        "a process of group {pgid} outlived the run"
    );
}

#[tokio::test]
async fn processes_left_behind_by_a_finished_job_are_stopped() {
    let dir = tempdir();
    let (handle, batches) = Execution::start(spec("sleep 300 & echo started-bg", dir.path()));
    let pgid = handle.process_group().unwrap_or(0);
    let (lines, outcome) = finish(&handle, batches).await;
    assert_eq!(outcome, Outcome::Succeeded);
    let system = of(&lines, Stream::System);
    assert!(
        system.iter().any(|l| l.contains("left processes running")),
        "{system:?}"
    );
    assert!(!pgid_alive_members(pgid));
}

#[tokio::test]
async fn a_job_that_handles_sigterm_cleans_up_without_sigkill() {
    let dir = tempdir();
    let command = "trap 'echo cleaning up; exit 0' TERM; sleep 300 & echo ready; wait";
    let mut job = spec(command, dir.path());
    // A grace long enough that SIGKILL would show as a slow test, not a pass.
    job.limits.kill_grace = Duration::from_secs(30);
    let (handle, mut batches) = Execution::start(job);
    let pgid = handle.process_group().unwrap_or(0);
    lines_until(&mut batches, "ready").await;
    handle.cancel("ada");
    let (lines, outcome) = finish(&handle, batches).await;
    assert_eq!(outcome, Outcome::Cancelled { by: "ada".into() });
    assert_eq!(of(&lines, Stream::Stdout), ["cleaning up"]);
    let system = of(&lines, Stream::System);
    assert!(!system.iter().any(|l| l.contains("SIGKILL")), "{system:?}");
    assert!(!pgid_alive_members(pgid));
}

#[test]
fn durations_read_as_written() {
    use super::exec::format_duration;
    assert_eq!(format_duration(Duration::from_secs(1800)), "30m");
    assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
    assert_eq!(format_duration(Duration::from_secs(45)), "45s");
    assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
}

#[tokio::test]
async fn a_line_without_its_newline_yet_is_sent_while_the_job_waits() {
    let dir = tempdir();
    let mut job = spec("printf 'Deploying... pw=hun'; sleep 300", dir.path());
    job.params = vec![Param {
        name: "pw".into(),
        value: "hunter2".into(),
        secret: true,
    }];
    job.limits.batch_max_age = Duration::from_millis(100);
    let (handle, mut batches) = Execution::start(job);
    let mut lines = Vec::new();
    let seen = tokio::time::timeout(BOUND, async {
        while let Some(batch) = batches.recv().await {
            lines.extend(batch.lines);
            if lines.iter().any(|l| l.stream == Stream::Stdout) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(seen.ok(), Some(true));
    let piece = lines.iter().find(|l| l.stream == Stream::Stdout);
    assert_eq!(piece.map(text).as_deref(), Some("Deploying... pw="));
    // The line's first piece: the rest, when it comes, says it continues this one.
    assert_eq!(piece.map(|l| l.continued), Some(false));
    handle.cancel("ada");
    let (_, outcome) = finish(&handle, batches).await;
    assert_eq!(outcome, Outcome::Cancelled { by: "ada".into() });
}
