//! The guard with real processes: a job's group of `sh` and forked `sleep`s, a real pipe whose
//! write end the test holds in the worker's place.

use std::process::{Child, Command};
use std::thread;
use std::time::Instant;

use super::*;

/// A job like the worker starts: `sh` in its own group, with two `sleep` children, and `env`.
fn job(env: &[(&str, &str)]) -> (Child, Group) {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("sleep 300 & sleep 300 & wait")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    for (k, v) in env {
        command.env(k, v);
    }
    let child = command.spawn().expect("sh starts");
    let group = Group::new(child.id() as i32).expect("a group id");
    // Bounded wait until both children are in the group.
    let deadline = Instant::now() + Duration::from_secs(10);
    while living_members(group.id()).map_or(0, |m| m.len()) < 3 {
        assert!(Instant::now() < deadline, "the job never forked its sleeps");
        thread::sleep(Duration::from_millis(10));
    }
    (child, group)
}

#[test]
fn a_guard_whose_worker_dies_stops_the_jobs_whole_group() {
    let (mut sh, group) = job(&[]);
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let guard = thread::spawn(move || watch(reader, group, Duration::from_secs(5)));
    // The worker dies: the kernel closes its end of the pipe.
    drop(writer);
    let watched = guard.join().expect("the guard thread");
    assert_eq!(watched, Watched::Stopped(Stopped::Terminated));
    assert!(!group.alive(), "a process of the job outlived its worker");
    let _ = sh.wait();
}

#[test]
fn a_released_guard_leaves_the_job_alone() {
    let (mut sh, group) = job(&[]);
    let (reader, mut writer) = std::io::pipe().expect("a pipe");
    let guard = thread::spawn(move || watch(reader, group, Duration::from_secs(5)));
    writer.write_all(b"x").expect("release");
    drop(writer);
    assert_eq!(guard.join().expect("the guard thread"), Watched::Released);
    assert!(group.alive(), "a released guard stopped the job");
    assert_eq!(
        group.stop_blocking(Duration::from_secs(5)),
        Stopped::Terminated
    );
    let _ = sh.wait();
}

#[test]
fn leftovers_are_the_groups_of_dead_workers_still_running_their_run() {
    let records = tempfile::tempdir().expect("a temp dir");
    let dead_worker = {
        let mut done = Command::new("true").spawn().expect("true runs");
        let _ = done.wait();
        done.id()
    };
    let (mut live_worker, live_group) = job(&[]);
    let (mut ours, ours_group) = job(&[("WARREN_RUN_ID", "run_ours")]);
    let (mut other, other_group) = job(&[("WARREN_RUN_ID", "run_other")]);
    let record = |worker: u32, group: Group, marker: &str| {
        let path = records.path().join(format!("{worker}-{}", group.id()));
        std::fs::write(&path, format!("{marker}\n")).expect("a record");
        path
    };
    let ours_record = record(dead_worker, ours_group, "WARREN_RUN_ID=run_ours");
    // The pid was reused by a process that is not that run's: not ours.
    let reused = record(dead_worker, other_group, "WARREN_RUN_ID=run_gone");
    // A worker that still lives keeps its groups.
    let kept = record(live_worker.id(), ours_group, "WARREN_RUN_ID=run_ours");

    let found = leftovers(records.path());
    assert_eq!(
        found,
        vec![Leftover {
            group: ours_group,
            marker: "WARREN_RUN_ID=run_ours".into()
        }]
    );
    assert!(
        !ours_record.exists() && !reused.exists(),
        "records of the dead stay"
    );
    assert!(kept.exists(), "a live worker's record was removed");

    for group in [ours_group, other_group, live_group] {
        group.stop_blocking(Duration::from_secs(5));
    }
    for child in [&mut ours, &mut other, &mut live_worker] {
        let _ = child.wait();
    }
}

#[test]
fn only_the_guard_subcommand_makes_a_guard() {
    let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
    assert_eq!(main_if_guard(&args(&["worker", "--tags", "x"])), None);
    assert_eq!(main_if_guard(&args(&[])), None);
    assert_eq!(main_if_guard(&args(&[SUBCOMMAND, "0", "100"])), Some(1));
    assert_eq!(main_if_guard(&args(&[SUBCOMMAND, "12"])), Some(1));
}
