//! `warren worker`: run a worker in the foreground (the loop is [`crate::worker::work_loop`]);
//! `warren worker add NAME` (a bot member, its token shown once with the command that starts
//! the worker) and `warren worker list` (the `workers` query as a table).

use std::time::Duration;

use warren_protocol::account::{AccountOp, AccountResult, TokenScope};
use warren_protocol::run::{WorkerInfo, WorkerState};
use warren_protocol::{Query, QueryResult};

use std::collections::HashMap;
use std::io::Write;

use crate::cli::{GlobalArgs, WorkerCommand, WorkerRunArgs};
use crate::commands::Out;
use crate::error::ClientError;
use crate::output::{Printer, table};
use crate::sanitize;
use crate::session::{self, Session};
use crate::worker::guard::{self, GuardSetup};
use crate::worker::work_loop::{self, Options};

/// `warren worker [--tags …] [--concurrency N] [--workdir DIR] [--grace 30s] [--no-agents]`:
/// runs until SIGTERM or Ctrl-C, then drains.
pub(super) async fn run_worker(
    args: WorkerRunArgs,
    global: &GlobalArgs,
) -> Result<(), ClientError> {
    let settings = match session::load_settings(global) {
        Err(ClientError::NotConfigured) => {
            return Err(ClientError::Usage(
                "no server configured: give --server URL --token TOKEN (a worker's token, from \
                 'warren worker add NAME'); with no server, plain 'warren' runs a local worker \
                 itself"
                    .to_owned(),
            ));
        }
        other => other?,
    };
    crate::tls::warn_if_plain(&settings.endpoint);
    let workdir = match args.workdir {
        Some(dir) => dir,
        None => std::env::current_dir()?,
    };
    if !workdir.is_dir() {
        return Err(ClientError::Usage(format!(
            "--workdir {} is not a directory; create it or name another",
            workdir.display()
        )));
    }
    let mut options = Options::new(workdir);
    options.tags = args
        .tags
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    options.concurrency = args.concurrency;
    options.grace = Duration::from_millis(u64::try_from(args.grace).unwrap_or(0));
    options.guard = GuardSetup::this_program(records_dir());
    options.agents = !args.no_agents;
    options.tuning = crate::worker::agent::Tuning::from_env();
    work_loop::run(settings, options, stop_signals())
        .await
        .map_err(|e| match e {
            work_loop::WorkerError::Client(e) => e,
            other => ClientError::Usage(other.to_string()),
        })
}

/// Where `warren worker` records the job groups it guards: `worker-jobs` in `WARREN_DATA_DIR`
/// when that is set, else in the user's data directory.
fn records_dir() -> Option<std::path::PathBuf> {
    if let Ok(dir) = std::env::var("WARREN_DATA_DIR")
        && !dir.is_empty()
    {
        return Some(std::path::PathBuf::from(dir).join(guard::RECORDS_DIR));
    }
    directories::ProjectDirs::from("dev", "warren", "warren")
        .map(|p| p.data_dir().join(guard::RECORDS_DIR))
}

/// A message for each SIGTERM or Ctrl-C (SIGINT): the first drains the worker, the second
/// cancels its running jobs at once.
pub fn stop_signals() -> tokio::sync::mpsc::UnboundedReceiver<()> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            let term = async {
                match term.as_mut() {
                    Some(term) => {
                        term.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = term => {}
            }
            if tx.send(()).is_err() {
                return;
            }
        }
    });
    rx
}

/// `warren worker add | list`.
pub(super) async fn run(
    command: WorkerCommand,
    session: &Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        WorkerCommand::Add { name, tags } => add(name, tags, session, out).await,
        WorkerCommand::List => list(session, out).await,
    }
}

async fn add<W: Write>(
    name: String,
    tags: Vec<String>,
    session: &Session,
    out: &mut Printer<W>,
) -> Result<(), ClientError> {
    let result = session
        .conn
        .account(AccountOp::AddBot {
            workspace_id: session.workspace.id.clone(),
            name,
            scope: TokenScope::Runs,
        })
        .await?;
    let AccountResult::BotAdded {
        member,
        token,
        secret,
    } = &result
    else {
        return Err(ClientError::Protocol("expected bot_added".to_owned()));
    };
    let start = start_command(session.server(), secret, &tags);
    let json = serde_json::json!({
        "member": member,
        "token": token,
        "secret": secret,
        "command": start,
    });
    out.either(&json, || {
        format!(
            "{secret}\nadded worker {} ({}) to {}; its token {} is shown once — store it now\n\
             start it where its jobs should run (they run as that machine's OS user):\n  {start}\n",
            sanitize::line(&member.name),
            member.user_id,
            sanitize::line(&session.workspace.name),
            token.id,
        )
    })
}

/// The command that starts a worker. The token goes in the environment, not the arguments,
/// where other users of the machine could read it in the process list.
pub fn start_command(server: &str, token: &str, tags: &[String]) -> String {
    let mut line = format!("WARREN_TOKEN={token} warren worker --server {server}");
    let tags: Vec<&str> = tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if !tags.is_empty() {
        line.push_str(&format!(" --tags {}", tags.join(",")));
    }
    line
}

async fn list<W: Write>(session: &Session, out: &mut Printer<W>) -> Result<(), ClientError> {
    let QueryResult::Workers { workers } = session.query(Query::Workers).await? else {
        return Err(ClientError::Protocol(
            "expected a workers result".to_owned(),
        ));
    };
    let now = i64::try_from(crate::worker::line::now_ms()).unwrap_or(i64::MAX);
    if out.is_json() {
        return out.json(&workers);
    }
    // Current runs by number (`r7`), from the snapshot's active runs.
    let mut labels = HashMap::new();
    if workers.iter().any(|w| !w.runs.is_empty()) {
        for run in session.snapshot().await?.runs {
            labels.insert(run.id.clone(), run.label());
        }
    }
    out.text(&format_workers(&workers, &labels, now))
}

/// The `worker list` table.
pub fn format_workers(
    workers: &[WorkerInfo],
    labels: &HashMap<warren_protocol::Id, String>,
    now_ms: i64,
) -> String {
    if workers.is_empty() {
        return "no workers have connected; add one with 'warren worker add NAME'\n".to_owned();
    }
    let rows: Vec<Vec<String>> = workers
        .iter()
        .map(|w| {
            vec![
                sanitize::line(&w.name),
                if w.tags.is_empty() {
                    "-".to_owned()
                } else {
                    sanitize::line(&w.tags.join(","))
                },
                state_word(w.state).to_owned(),
                w.last_seen
                    .map_or_else(|| "never".to_owned(), |at| ago(now_ms - at)),
                if w.runs.is_empty() {
                    "-".to_owned()
                } else {
                    w.runs
                        .iter()
                        .map(|id| labels.get(id).cloned().unwrap_or_else(|| id.to_string()))
                        .collect::<Vec<_>>()
                        .join(",")
                },
            ]
        })
        .collect();
    table(&["WORKER", "TAGS", "STATE", "LAST SEEN", "RUNS"], &rows)
}

fn state_word(state: WorkerState) -> &'static str {
    match state {
        WorkerState::Idle => "idle",
        WorkerState::Busy => "busy",
        WorkerState::Draining => "draining",
        WorkerState::Offline => "offline",
    }
}

/// `12s ago`, `5m ago`, `3h ago`, `2d ago`.
pub fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use warren_protocol::Id;

    use super::*;

    #[test]
    fn worker_runs_without_a_subcommand_and_manages_with_one() -> Result<(), clap::Error> {
        use crate::cli::{Cli, CliCommand};
        let cli = Cli::try_parse_args([
            "warren",
            "worker",
            "--tags",
            "linux,docker",
            "--concurrency",
            "3",
            "--grace",
            "1m",
        ])?;
        let Some(CliCommand::Worker(args)) = cli.command else {
            panic!("expected worker");
        };
        assert!(args.command.is_none());
        assert_eq!(args.run.tags, ["linux", "docker"]);
        assert_eq!((args.run.concurrency, args.run.grace), (3, 60_000));
        let cli = Cli::try_parse_args(["warren", "worker", "add", "b1", "--tags", "gpu"])?;
        let Some(CliCommand::Worker(args)) = cli.command else {
            panic!("expected worker");
        };
        assert!(
            matches!(args.command, Some(WorkerCommand::Add { name, tags }) if name == "b1" && tags == ["gpu"])
        );
        assert!(Cli::try_parse_args(["warren", "worker", "--concurrency", "0"]).is_err());
        assert!(Cli::try_parse_args(["warren", "worker", "--tags", "a", "list"]).is_err());
        Ok(())
    }

    #[test]
    fn the_start_command_keeps_the_token_out_of_the_arguments() {
        let line = start_command(
            "https://w.example",
            "wrn_abc",
            &["linux".into(), " docker".into()],
        );
        assert_eq!(
            line,
            "WARREN_TOKEN=wrn_abc warren worker --server https://w.example --tags linux,docker"
        );
        assert!(!start_command("http://h", "wrn_x", &[]).contains("--tags"));
    }

    #[test]
    fn the_table_shows_state_and_last_seen() {
        let Ok(id) = Id::parse("user_w1") else {
            panic!("a valid id");
        };
        let Ok(run) = Id::parse("run_a") else {
            panic!("a valid id");
        };
        let worker = WorkerInfo {
            user_id: id,
            name: "builder".into(),
            state: WorkerState::Busy,
            tags: vec!["linux".into()],
            concurrency: 2,
            last_seen: Some(88_000),
            runs: vec![run.clone()],
            version: String::new(),
        };
        let labels = HashMap::from([(run, "r7".to_owned())]);
        let text = format_workers(&[worker], &labels, 100_000);
        assert!(text.contains("r7"), "{text}");
        assert!(text.contains("builder"), "{text}");
        assert!(text.contains("busy"), "{text}");
        assert!(text.contains("12s ago"), "{text}");
        assert_eq!(ago(3 * 3600 * 1000), "3h ago");
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;
    use crate::session::Settings;
    use crate::tui::local;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn worker_add_prints_the_token_once_and_the_command_that_starts_the_worker() {
        let temp = tempfile::tempdir().expect("temp dir");
        let server = local::start(temp.path().join("local"))
            .await
            .expect("a local server");
        let settings = Settings {
            endpoint: server.endpoint.clone(),
            token: server.token.clone(),
            workspace: None,
        };
        let session = Session::open(&settings).await.expect("a session");
        let (mut text, mut json) = (Vec::new(), Vec::new());
        add(
            "builder".into(),
            vec!["linux".into()],
            &session,
            &mut Printer::new(false, &mut text),
        )
        .await
        .expect("worker add");
        add(
            "builder-2".into(),
            vec![],
            &session,
            &mut Printer::new(true, &mut json),
        )
        .await
        .expect("worker add --json");
        let text = String::from_utf8(text).expect("utf-8");
        let secret = text.lines().next().unwrap_or_default().to_owned();
        assert!(secret.starts_with("wrn_"), "{text}");
        assert_eq!(
            text.matches(&secret).count(),
            2,
            "the token and the command: {text}"
        );
        assert!(
            text.contains(&format!(
                "WARREN_TOKEN={secret} warren worker --server {} --tags linux",
                server.endpoint.display
            )),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_slice(&json).expect("one JSON object");
        assert_eq!(json["member"]["name"], "builder-2");
        assert_eq!(json["member"]["role"], "bot");
        assert!(
            json["command"]
                .as_str()
                .is_some_and(|c| c.contains("warren worker"))
        );
        session.conn.close().await;
        server.shutdown().await;
    }
}
