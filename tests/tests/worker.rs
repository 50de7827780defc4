//! `warren worker` against the real server: `worker add` prints a token that starts a worker,
//! the worker takes a run, executes it with its parameters as environment variables, its log
//! arrives without the secret, `worker list` shows it, and SIGTERM stops it cleanly.
//!
//! Ignored until the runs and logs services are merged: the integrator enables it.

use std::collections::BTreeMap;
use std::time::Duration;

use warren_e2e::Server;
use warren_e2e::cli::Cli;
use warren_protocol::run::{ParamKind, ParamSpec, RunStatus};
use warren_protocol::{Change, Command, Id, Query, QueryResult};

fn secret_of(json: &serde_json::Value) -> String {
    json["secret"].as_str().expect("a secret").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_added_with_worker_add_runs_a_job_and_stops_on_sigterm() {
    let server = Server::start().await;
    let owner = Cli::new(&server.http_url(), &server.token);
    let added = owner
        .run(&["worker", "add", "builder", "--tags", "linux", "--json"])
        .await
        .ok()
        .json();
    let secret = secret_of(&added);
    assert!(
        added["command"]
            .as_str()
            .is_some_and(|c| c.contains("warren worker") && c.contains("--tags linux"))
    );
    let dir = tempfile::tempdir().expect("a workdir");
    let workdir = dir.path().display().to_string();
    let worker = Cli::new(&server.http_url(), &secret);
    let mut child = worker.spawn(&["worker", "--tags", "linux", "--workdir", &workdir]);

    let mut client = warren_e2e::connect_hello(server.addr, &server.token).await;
    let ack = client
        .command(&Command::CreateJob {
            job_id: None,
            name: "greet".into(),
            command: "echo \"hello $WARREN_PARAM_WHO pw=$WARREN_PARAM_PW\"; pwd".into(),
            description: String::new(),
            params: vec![
                ParamSpec {
                    name: "who".into(),
                    kind: ParamKind::String,
                    choices: vec![],
                    default: Some("world".into()),
                },
                ParamSpec {
                    name: "pw".into(),
                    kind: ParamKind::Secret,
                    choices: vec![],
                    default: None,
                },
            ],
            timeout_secs: Some(60),
            retries: 0,
            tags: vec!["linux".into()],
            protected: false,
            concurrency: None,
        })
        .await;
    let Change::JobCreated { job } = ack.event.change else {
        panic!("job_created");
    };
    let secret_value = "s3cr3t-never-shown";
    let ack = client
        .command(&Command::StartRun {
            run_id: None,
            job_id: job.id.clone(),
            params: BTreeMap::from([("pw".to_owned(), secret_value.to_owned())]),
            card_id: None,
            room_id: None,
        })
        .await;
    let Change::RunCreated { run } = ack.event.change else {
        panic!("run_created");
    };

    // The run succeeds within a bound.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let run = loop {
        let QueryResult::Run { run, .. } = client.query(&Query::Run { number: run.number }).await
        else {
            panic!("a run result");
        };
        if run.status.is_final() {
            break run;
        }
        assert!(tokio::time::Instant::now() < deadline, "{run:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let log_id: Id = run.id.clone();
    let QueryResult::Log { lines, .. } = client
        .query(&Query::Log {
            run_id: log_id,
            from: 1,
            limit: 100,
            backward: false,
            filter: None,
        })
        .await
    else {
        panic!("a log result");
    };
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    assert!(texts.contains(&"hello world pw=***"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.ends_with(
            dir.path()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("?")
        )),
        "{texts:?}"
    );

    let listed = owner.run(&["worker", "list", "--json"]).await.ok().json();
    let names: Vec<&str> = listed
        .as_array()
        .map(|ws| ws.iter().filter_map(|w| w["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["builder"], "{listed}");

    let pid = child.id().expect("the worker's pid");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the worker exits")
        .expect("its status");
    assert!(status.success(), "{status:?}");
    let stderr = match child.stderr.take() {
        Some(mut err) => {
            use tokio::io::AsyncReadExt;
            let mut text = String::new();
            let _ = err.read_to_string(&mut text).await;
            text
        }
        None => String::new(),
    };
    assert!(
        stderr.contains(&format!("r{} greet: succeeded", run.number)),
        "{stderr}"
    );
    assert!(
        !stderr.contains(secret_value) && !stderr.contains(&secret),
        "{stderr}"
    );
}
