//! `warren worker`: run a worker in the foreground (the loop is [`crate::worker::work_loop`]);
//! `warren worker add NAME` (a bot member, its token shown once with the command that starts
//! the worker) and `warren worker list` (the `workers` query as a table).

use std::time::Duration;

use warren_protocol::account::{AccountOp, AccountResult, TokenScope};
use warren_protocol::run::{WorkerInfo, WorkerState};
use warren_protocol::{Query, QueryResult};

use crate::cli::{GlobalArgs, WorkerCommand, WorkerRunArgs};
use crate::commands::Out;
use crate::error::ClientError;
use crate::output::table;
use crate::sanitize;
use crate::session::{self, Session};
use crate::worker::work_loop::{self, Options};

/// `warren worker [--tags …] [--concurrency N] [--workdir DIR] [--grace 30s]`: runs until
/// SIGTERM or Ctrl-C, then drains.
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
    work_loop::run(settings, options, stop_signal())
        .await
        .map_err(|e| match e {
            work_loop::WorkerError::Client(e) => e,
            other => ClientError::Usage(other.to_string()),
        })
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
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

async fn add(
    name: String,
    tags: Vec<String>,
    session: &Session,
    out: &mut Out,
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

async fn list(session: &Session, out: &mut Out) -> Result<(), ClientError> {
    let QueryResult::Workers { workers } = session.query(Query::Workers).await? else {
        return Err(ClientError::Protocol(
            "expected a workers result".to_owned(),
        ));
    };
    let now = crate::worker::line::now_ms();
    out.either(&workers, || {
        format_workers(&workers, i64::try_from(now).unwrap_or(i64::MAX))
    })
}

/// The `worker list` table.
pub fn format_workers(workers: &[WorkerInfo], now_ms: i64) -> String {
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
                        .map(ToString::to_string)
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
        let worker = WorkerInfo {
            user_id: id,
            name: "builder".into(),
            state: WorkerState::Busy,
            tags: vec!["linux".into()],
            concurrency: 2,
            last_seen: Some(88_000),
            runs: vec![],
            version: String::new(),
        };
        let text = format_workers(&[worker], 100_000);
        assert!(text.contains("builder"), "{text}");
        assert!(text.contains("busy"), "{text}");
        assert!(text.contains("12s ago"), "{text}");
        assert_eq!(ago(3 * 3600 * 1000), "3h ago");
    }
}
