//! Local mode's in-process worker: with no server configured, the embedded server gets a worker
//! too, so `warren job run` works out of the box on one machine. It signs in as the bot member
//! `local-worker`, made on first use through the ordinary `add_bot` request; its token is kept
//! beside the local store like the owner's (`local-worker-token`, 0600). Jobs run in the
//! directory `warren` was started in, as your OS user; the worker's one-line log goes to
//! `worker.log` in the data dir (never to the terminal, which the full-screen client owns).
//! It runs agent runs too (`Options::agents`), with provider keys from the environment `warren`
//! was started in.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use warren_protocol::account::{AccountOp, AccountResult, TokenScope};

use crate::connection::Connection;
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::session::Settings;
use crate::worker::guard::GuardSetup;
use crate::worker::work_loop::{self, Options, WorkerError};

/// File in the local data dir holding the local worker's token (mode 0600).
pub const TOKEN_FILE: &str = "local-worker-token";
/// File in the local data dir the local worker logs to.
pub const LOG_FILE: &str = "worker.log";
/// The bot member the local worker signs in as.
pub const NAME: &str = "local-worker";

/// How long running jobs may go on when local mode ends (the full-screen client quits).
const GRACE: Duration = Duration::from_secs(3);
/// How long the worker then still tries to deliver logs and reports.
const FLUSH: Duration = Duration::from_secs(5);

/// A running in-process worker.
pub struct LocalWorker {
    stop: Option<mpsc::UnboundedSender<()>>,
    task: JoinHandle<Result<(), WorkerError>>,
}

impl LocalWorker {
    /// Starts the worker on the local server at `endpoint`, making its bot member with
    /// `owner_token` on first use. Jobs run in `workdir`.
    pub async fn start(
        endpoint: &Endpoint,
        owner_token: &str,
        data_dir: &Path,
        workdir: PathBuf,
    ) -> Result<Self, ClientError> {
        let log = data_dir.join(LOG_FILE);
        let token = match token(endpoint, owner_token, data_dir).await {
            Ok(token) => token,
            Err(e) => {
                append(&log, &format!("the local worker did not start: {e}"));
                return Err(e);
            }
        };
        let settings = Settings {
            endpoint: endpoint.clone(),
            token,
            workspace: None,
        };
        let mut options = Options::new(workdir);
        options.grace = GRACE;
        options.flush_bound = FLUSH;
        options.guard =
            GuardSetup::this_program(Some(data_dir.join(crate::worker::guard::RECORDS_DIR)));
        options.agents = true;
        options.tuning = crate::worker::agent::Tuning::from_env();
        options.say = Arc::new(move |line| append(&log, line));
        let (stop, stopped) = mpsc::unbounded_channel();
        let say = options.say.clone();
        let task = tokio::spawn(async move {
            let result = work_loop::run(settings, options, stopped).await;
            if let Err(e) = &result {
                say(&format!("the local worker stopped: {e}"));
            }
            result
        });
        Ok(Self {
            stop: Some(stop),
            task,
        })
    }

    /// Stops the worker: running jobs get the grace period, then are cancelled and reported.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let bound = GRACE + FLUSH + Duration::from_secs(2);
        let _ = tokio::time::timeout(bound, &mut self.task).await;
        self.task.abort();
    }
}

/// The worker's token: from its file, or a new bot member's.
async fn token(
    endpoint: &Endpoint,
    owner_token: &str,
    data_dir: &Path,
) -> Result<String, ClientError> {
    let path = data_dir.join(TOKEN_FILE);
    if let Ok(token) = std::fs::read_to_string(&path)
        && !token.trim().is_empty()
    {
        return Ok(token.trim().to_owned());
    }
    let conn = Connection::connect(endpoint, owner_token).await?;
    let workspace_id = crate::resolve::pick_workspace(&conn.welcome().workspaces, None)?
        .id
        .clone();
    // The name may be taken (the token file was deleted): then a suffixed one.
    let mut result = Err(ClientError::Protocol("no bot was added".to_owned()));
    for name in [NAME.to_owned(), format!("{NAME}-{}", std::process::id())] {
        result = conn
            .account(AccountOp::AddBot {
                workspace_id: workspace_id.clone(),
                name,
                scope: TokenScope::Runs,
            })
            .await;
        if result.is_ok() {
            break;
        }
    }
    conn.close().await;
    let AccountResult::BotAdded { secret, .. } = result? else {
        return Err(ClientError::Protocol("expected bot_added".to_owned()));
    };
    let tmp = data_dir.join(format!("{TOKEN_FILE}.tmp"));
    crate::private_file::replace(&path, &tmp, secret.as_bytes()).map_err(|e| {
        ClientError::LocalData {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    })?;
    Ok(secret)
}

/// Appends one line to the worker's log file (0600), with the time.
fn append(path: &Path, line: &str) {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    if let Ok(mut file) = options.open(path) {
        let now = crate::worker::line::now_ms();
        let _ = writeln!(file, "{now} {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::local;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_local_worker_is_a_bot_made_once_whose_token_stays_private() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("local");
        let mut server = local::start(dir.clone()).await.expect("local server");
        server
            .start_worker()
            .await
            .expect("the local worker starts");
        let path = dir.join(TOKEN_FILE);
        let token = std::fs::read_to_string(&path).expect("the worker's token file");
        assert!(token.starts_with("wrn_"), "a token");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        server.shutdown().await;

        let mut server = local::start(dir.clone()).await.expect("local server again");
        server
            .start_worker()
            .await
            .expect("the local worker starts again");
        assert_eq!(
            std::fs::read_to_string(&path).expect("token file"),
            token,
            "the same worker signs in again"
        );
        let conn = Connection::connect(&server.endpoint, &server.token)
            .await
            .expect("the owner connects");
        let workspace = conn.welcome().workspaces[0].id.clone();
        let state = match conn
            .query(&workspace, warren_protocol::Query::Snapshot)
            .await
            .expect("snapshot")
        {
            warren_protocol::QueryResult::Snapshot { state } => state,
            other => panic!("{other:?}"),
        };
        let bots: Vec<_> = state
            .members
            .iter()
            .filter(|m| m.role == warren_protocol::Role::Bot)
            .map(|m| m.name.clone())
            .collect();
        assert_eq!(bots, [NAME], "one bot member, made on first use");
        let log = std::fs::read_to_string(dir.join(LOG_FILE)).unwrap_or_default();
        assert!(
            !log.contains(&token),
            "the worker's log never holds its token"
        );
        conn.close().await;
        server.shutdown().await;
    }
}
