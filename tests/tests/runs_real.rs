//! Runs end to end (issue 8): a real `warren-server`, real `warren worker` processes running real
//! `sh` commands, the real CLI. A 100,000-line log arrives complete and in order; a worker killed
//! with `kill -9` loses its run (or, with retries left, a second worker finishes it) within the
//! lease, and its job's processes die with it (the guard; should the guard die too, the next
//! worker on that data dir stops them at start-up); a line of 200 KiB is printed by
//! `warren log` as the job wrote it; a server killed with `kill -9` mid-run keeps the run and
//! every acknowledged line and the worker carries on; cancel and timeout leave no process of the job's tree alive; two
//! workers share 50 queued runs, each executed exactly once, with tags routing. (Secrets: see
//! `runs.rs`, `worker.rs` and `cli_runs.rs`.)

#[path = "support/real_runs.rs"]
mod real_runs;

use std::collections::BTreeMap;
use std::time::Duration;

use real_runs::{Setup, wait_dead, wait_for_lines, wait_status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_lines_arrive_complete_and_in_order() {
    let s = Setup::start(&[]).await;
    let _worker = s.worker("builder", "linux").await;
    s.cli
        .run(&[
            "job",
            "add",
            "flood",
            "--command",
            "i=1; while [ $i -le 50000 ]; do printf '\\033[32mout %d\\033[0m\\n' $i; printf 'err %d\\n' $i >&2; i=$((i+1)); done",
        ])
        .await
        .ok();
    let run = s.cli.run(&["job", "run", "flood", "--follow"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = s.cli.run(&["log", "r1", "--json"]).await.ok().json_lines();
    let numbers: Vec<u64> = log.iter().filter_map(|l| l["n"].as_u64()).collect();
    assert_eq!(
        numbers,
        (1..=numbers.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );
    let text = |stream: &str| -> Vec<String> {
        log.iter()
            .filter(|l| l["stream"] == stream)
            .filter_map(|l| l["text"].as_str().map(str::to_owned))
            .collect()
    };
    let out = text("out");
    let err = text("err");
    assert_eq!(out.len(), 50_000, "every stdout line once");
    assert_eq!(err.len(), 50_000, "every stderr line once");
    for (i, line) in out.iter().enumerate() {
        assert_eq!(
            line,
            &format!("\u{1b}[32mout {}\u{1b}[0m", i + 1),
            "stdout in order, colours kept"
        );
    }
    for (i, line) in err.iter().enumerate() {
        assert_eq!(line, &format!("err {}", i + 1), "stderr in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_over_its_log_budget_is_slowed_down_and_its_log_arrives_whole() {
    // A budget of 1 MiB a second with bursts of 1 MiB; the job prints about 3 MB at once.
    let s = Setup::start(&["--log-mib-per-second", "1", "--log-burst-mib", "1"]).await;
    let worker = s.worker("builder", "linux").await;
    s.cli
        .run(&[
            "job",
            "add",
            "loud",
            "--command",
            "l=$(head -c 1000 /dev/zero | tr '\\0' x); i=1; while [ $i -le 3000 ]; do echo \"$i $l\"; i=$((i+1)); done",
        ])
        .await
        .ok();
    let run = s.cli.run(&["job", "run", "loud", "--follow"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = s.cli.run(&["log", "r1", "--json"]).await.ok().json_lines();
    let texts: Vec<String> = log
        .iter()
        .filter(|l| l["stream"] == "out")
        .filter_map(|l| l["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(texts.len(), 3000, "every line once");
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(text, &format!("{} {}", i + 1, "x".repeat(1000)), "in order");
    }
    let refused = warren_e2e::raw::metric(s.server.addr, "warren_rate_limited_total").await;
    assert!(
        refused > 0,
        "3 MB at once must pass a 1 MiB burst: {refused} refusals counted"
    );
    assert!(
        worker.output().contains("slowed down"),
        "the worker says so: {}",
        worker.output()
    );
    println!("3,000 lines of 1 KB through a 1 MiB/s budget: {refused} chunk refusals");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_its_run_or_a_second_worker_finishes_it() {
    let s = Setup::start(&["--worker-lease-secs", "3", "--worker-heartbeat-secs", "1"]).await;
    let mut first = s.worker("first", "linux").await;
    s.cli
        .run(&[
            "job",
            "add",
            "slow",
            "--command",
            "sleep 2; echo finished",
            "--retries",
            "1",
        ])
        .await
        .ok();
    s.cli
        .run(&["job", "add", "once", "--command", "sleep 30"])
        .await
        .ok();
    s.cli.run(&["job", "run", "slow"]).await.ok();
    wait_status(&s.cli, "r1", "running").await;
    first.kill_9().await;
    // Retries left: queued again once the lease runs out, and finished by a second worker.
    let _second = s.worker("second", "linux").await;
    let done = wait_status(&s.cli, "r1", "succeeded").await;
    assert_eq!(done["attempt"], 2, "{done}");
    let log = s.cli.run(&["log", "r1"]).await.ok();
    assert!(log.stdout.contains("finished"), "{log:#?}");

    // No retries: lost.
    let mut third = s.worker("third", "solo").await;
    s.cli
        .run(&["job", "edit", "once", "--tags", "solo"])
        .await
        .ok();
    s.cli.run(&["job", "run", "once"]).await.ok();
    wait_status(&s.cli, "r2", "running").await;
    third.kill_9().await;
    let lost = wait_status(&s.cli, "r2", "lost").await;
    assert!(
        lost["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{lost}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_leaves_no_process_of_its_job_alive() {
    let s = Setup::start(&[]).await;
    let mut worker = s.worker("doomed", "linux").await;
    let pids = s.path("pids");
    // The shell, a `sleep` child, and a subshell with a `sleep` grandchild.
    let command = format!(
        "echo $$ >> {p}; sleep 300 & echo $! >> {p}; (sleep 300 & echo $! >> {p}; wait) & echo $! >> {p}; wait",
        p = pids.display()
    );
    s.cli
        .run(&["job", "add", "forks", "--command", &command])
        .await
        .ok();
    s.cli.run(&["job", "run", "forks"]).await.ok();
    wait_status(&s.cli, "r1", "running").await;
    wait_for_lines(&pids, 4).await;
    let killed = tokio::time::Instant::now();
    worker.kill_9().await;
    wait_dead(&pids).await;
    // The guard sends SIGTERM to the group at once (SIGKILL would follow after 10 s).
    assert!(
        killed.elapsed() < Duration::from_secs(5),
        "the job outlived its worker by {:?}",
        killed.elapsed()
    );
}

/// The `warren __job-guard` processes guarding group `pgid`.
fn guards_of(pgid: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            args.len() >= 3 && args[1] == b"__job-guard" && args[2] == pgid.as_bytes()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_starting_up_stops_what_a_dead_worker_and_its_guard_left() {
    let s = Setup::start(&[]).await;
    let data = s.path("data");
    let data_dir = data.display().to_string();
    let env = [("WARREN_DATA_DIR", data_dir.as_str())];
    let mut first = s.worker_with("first", "linux", &env).await;
    let pids = s.path("pids");
    let command = format!(
        "echo $$ >> {p}; sleep 300 & echo $! >> {p}; wait",
        p = pids.display()
    );
    s.cli
        .run(&["job", "add", "orphan", "--command", &command])
        .await
        .ok();
    s.cli.run(&["job", "run", "orphan"]).await.ok();
    wait_status(&s.cli, "r1", "running").await;
    let lines = wait_for_lines(&pids, 2).await;
    // The guard dies first (bounded wait until the worker has started it), then the worker.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let guards = loop {
        let guards = guards_of(&lines[0]);
        if !guards.is_empty() {
            break guards;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no guard for the job"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for guard in guards {
        std::process::Command::new("kill")
            .args(["-9", &guard.to_string()])
            .status()
            .expect("kill the guard");
    }
    first.kill_9().await;
    assert!(
        lines
            .iter()
            .all(|p| real_runs::pid_alive(p.parse().unwrap_or(0))),
        "the job should outlive a worker whose guard died"
    );
    // The next worker on this data dir stops the group at start-up and says so.
    let second = s.worker_with("second", "other", &env).await;
    wait_dead(&pids).await;
    assert!(
        second
            .output()
            .contains(&format!("stopping job group {}", lines[0])),
        "{}",
        second.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_of_200_kib_without_a_newline_is_printed_as_the_job_wrote_it() {
    let s = Setup::start(&[]).await;
    let _worker = s.worker("builder", "linux").await;
    // 204,894 bytes with no newline: "1,2,3,…,36000,".
    s.cli
        .run(&[
            "job",
            "add",
            "wide",
            "--command",
            "seq 1 36000 | tr '\\n' ,",
        ])
        .await
        .ok();
    let run = s.cli.run(&["job", "run", "wide", "--follow"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected: String = (1..=36000).map(|i| format!("{i},")).collect();
    let log = s.cli.run(&["log", "r1"]).await.ok();
    let printed: Vec<&str> = log
        .stdout
        .split('\n')
        .filter(|l| l.starts_with("1,"))
        .collect();
    assert_eq!(printed.len(), 1, "the pieces were not joined");
    assert!(printed[0] == expected, "the line's bytes changed");
    assert!(log.stdout.ends_with('\n'));
    // --json keeps the pieces and their flag.
    let pieces: Vec<serde_json::Value> = s
        .cli
        .run(&["log", "r1", "--json"])
        .await
        .ok()
        .json_lines()
        .into_iter()
        .filter(|l| l["stream"] == "out")
        .collect();
    assert!(pieces.len() >= 4, "{} pieces", pieces.len());
    assert_eq!(pieces[0].get("continued"), None, "false is omitted");
    assert!(pieces[1..].iter().all(|p| p["continued"] == true));
    let joined: String = pieces.iter().filter_map(|p| p["text"].as_str()).collect();
    assert!(joined == expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_the_run_and_every_acknowledged_line() {
    let mut s = Setup::start(&[]).await;
    let _worker = s.worker("builder", "linux").await;
    s.cli
        .run(&[
            "job",
            "add",
            "ticks",
            "--command",
            "i=1; while [ $i -le 40 ]; do echo \"tick $i\"; sleep 0.1; i=$((i+1)); done",
        ])
        .await
        .ok();
    s.cli.run(&["job", "run", "ticks"]).await.ok();
    // Wait until some lines are stored (acknowledged), then kill the server mid-run.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let log = s.cli.run(&["log", "r1"]).await;
        if log.stdout.contains("tick 5") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no lines stored: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = s.cli.run(&["log", "r1", "--json"]).await.ok().json_lines();
    s.server.kill_9().await;
    s.server.restart_same_port().await;
    // Every line acknowledged before the kill is there after it.
    let after = s.cli.run(&["log", "r1", "--json"]).await.ok().json_lines();
    assert!(
        after.len() >= before.len(),
        "{} lines before, {} after",
        before.len(),
        after.len()
    );
    assert_eq!(&after[..before.len()], &before[..]);
    // The worker reconnects and carries on: the run finishes with every tick once, in order.
    wait_status(&s.cli, "r1", "succeeded").await;
    let log = s.cli.run(&["log", "r1"]).await.ok();
    let ticks: Vec<&str> = log
        .stdout
        .lines()
        .filter(|l| l.starts_with("tick "))
        .collect();
    let expected: Vec<String> = (1..=40).map(|i| format!("tick {i}")).collect();
    assert_eq!(
        ticks,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_timeout_leave_no_process_of_the_job_alive() {
    let s = Setup::start(&[]).await;
    let _worker = s.worker("builder", "linux").await;
    let pids = s.path("pids");
    let command = format!(
        "sleep 300 & echo $! >> {p}; (sleep 300 & echo $! >> {p}; wait) & echo $! >> {p}; echo forked; wait",
        p = pids.display()
    );
    s.cli
        .run(&["job", "add", "forks", "--command", &command])
        .await
        .ok();
    s.cli
        .run(&[
            "job",
            "add",
            "forks-timeout",
            "--command",
            &command,
            "--timeout",
            "2s",
        ])
        .await
        .ok();
    s.cli.run(&["job", "run", "forks"]).await.ok();
    wait_status(&s.cli, "r1", "running").await;
    wait_for_lines(&pids, 3).await;
    s.cli.run(&["run", "cancel", "r1"]).await.ok();
    wait_status(&s.cli, "r1", "cancelled").await;
    wait_dead(&pids).await;

    std::fs::remove_file(&pids).expect("clear the pid file");
    s.cli.run(&["job", "run", "forks-timeout"]).await.ok();
    wait_status(&s.cli, "r2", "timed_out").await;
    wait_for_lines(&pids, 3).await;
    wait_dead(&pids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_fifty_runs_each_executed_once_and_tags_route() {
    let s = Setup::start(&[]).await;
    let _plain = s.worker("plain", "linux").await;
    let _docker = s.worker("docker", "linux,docker").await;
    let done = s.path("done");
    let command = format!("echo \"$WARREN_PARAM_N\" >> {}", done.display());
    s.cli
        .run(&[
            "job",
            "add",
            "any",
            "--command",
            &command,
            "--param",
            "n:int",
        ])
        .await
        .ok();
    s.cli
        .run(&[
            "job",
            "add",
            "docker-only",
            "--command",
            &command,
            "--param",
            "n:int",
            "--tags",
            "docker",
        ])
        .await
        .ok();
    for n in 1..=50 {
        let job = if n % 5 == 0 { "docker-only" } else { "any" };
        s.cli
            .run(&["job", "run", job, "-p", &format!("n={n}")])
            .await
            .ok();
    }
    for n in 1..=50 {
        wait_status(&s.cli, &format!("r{n}"), "succeeded").await;
    }
    let text = std::fs::read_to_string(&done).expect("the jobs wrote the done file");
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    for line in text.lines() {
        *seen.entry(line.parse().expect("a number")).or_default() += 1;
    }
    assert_eq!(seen.len(), 50, "every run executed: {seen:?}");
    assert!(
        seen.values().all(|n| *n == 1),
        "each exactly once: {seen:?}"
    );
    let runs = s
        .cli
        .run(&["run", "list", "--limit", "100", "--json"])
        .await
        .ok()
        .json_lines();
    let workers = s.cli.run(&["worker", "list", "--json"]).await.ok().json();
    let docker_id = workers
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["name"] == "docker")
        .map(|w| w["user_id"].clone())
        .expect("the docker worker is listed");
    for run in &runs {
        assert_eq!(run["attempt"], 1, "{run}");
        if run["job_name"] == "docker-only" {
            assert_eq!(
                run["worker_id"], docker_id,
                "docker runs go to the docker worker: {run}"
            );
        }
    }
}
