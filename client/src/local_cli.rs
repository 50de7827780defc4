//! CLI commands on the local workspace, when no server is configured: if a `warren` already
//! serves the local data dir (its advert names a live process whose address answers), the
//! command goes through that server's socket, so a running full-screen client is neither blocked
//! nor bypassed; otherwise the command starts the same embedded server the full-screen client
//! uses, for the one command, and stops it after.

use std::path::Path;
use std::time::Duration;

use crate::advert;
use crate::cli::GlobalArgs;
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::session::{self, Session, Settings};
use crate::tui::local::{self, LocalServer};

/// How long to wait for the advert of a `warren` that holds the store but has not yet said where
/// it listens (it is starting up at this very moment).
const ADVERT_WAIT: Duration = Duration::from_secs(3);

fn settings(endpoint: Endpoint, token: String, global: &GlobalArgs) -> Settings {
    Settings {
        endpoint,
        token,
        workspace: global
            .workspace
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_owned),
    }
}

/// A session on the local workspace, and the in-process server to stop after the command (none
/// when another `warren` serves it).
pub async fn open(global: &GlobalArgs) -> Result<(Session, Option<LocalServer>), ClientError> {
    open_in(&local::default_dir()?, global).await
}

/// [`open`], and with the command's own in-process server (none was running), an in-process
/// worker too: for commands that wait for a run (`job run --follow`). When another `warren`
/// serves the local workspace, its worker runs the jobs.
pub async fn open_with_worker(
    global: &GlobalArgs,
) -> Result<(Session, Option<LocalServer>), ClientError> {
    let (session, mut server) = open(global).await?;
    #[cfg(unix)]
    if let Some(server) = server.as_mut() {
        server.start_worker().await?;
    }
    Ok((session, server))
}

/// [`open`] on the local workspace in `dir`.
pub async fn open_in(
    dir: &Path,
    global: &GlobalArgs,
) -> Result<(Session, Option<LocalServer>), ClientError> {
    let dir = dir.to_path_buf();
    if let Some(session) = join_running(&dir, global).await? {
        return Ok((session, None));
    }
    match local::start(dir.clone()).await {
        Ok(server) => {
            let s = settings(server.endpoint.clone(), server.token.clone(), global);
            match Session::open(&s).await {
                Ok(session) => Ok((session, Some(server))),
                Err(e) => {
                    server.shutdown().await;
                    Err(e)
                }
            }
        }
        Err(in_use @ ClientError::LocalInUse { .. }) => {
            // Someone holds the store: a `warren` starting right now advertises itself shortly.
            let deadline = tokio::time::Instant::now() + ADVERT_WAIT;
            while tokio::time::Instant::now() < deadline {
                if let Some(session) = join_running(&dir, global).await? {
                    return Ok((session, None));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(in_use)
        }
        Err(e) => Err(e),
    }
}

/// Connects to the `warren` that advertises itself in `dir`, if it is alive and answers.
async fn join_running(dir: &Path, global: &GlobalArgs) -> Result<Option<Session>, ClientError> {
    let Some(found) = advert::read(dir).filter(|a| advert::process_alive(a.pid)) else {
        return Ok(None);
    };
    let token = match std::fs::read_to_string(dir.join(local::TOKEN_FILE)) {
        Ok(token) if !token.trim().is_empty() => token.trim().to_owned(),
        _ => return Ok(None),
    };
    let endpoint = Endpoint::parse(&format!("http://{}", found.addr))?;
    match Session::open(&settings(endpoint, token, global)).await {
        Ok(session) => Ok(Some(session)),
        Err(e) if session::is_transient(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_command_joins_a_running_local_server_and_a_second_server_is_refused() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("local");
        let running = local::start(dir.clone())
            .await
            .expect("start the local server");
        assert!(
            advert::read(&dir).is_some(),
            "the running server advertises itself"
        );

        let (session, own) = open_in(&dir, &GlobalArgs::default())
            .await
            .expect("the command reaches the running server");
        assert!(own.is_none(), "no second server was started");
        assert_eq!(session.workspace.name, "Local");
        session.conn.close().await;

        let second = local::start(dir.clone()).await.err();
        let message = second.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(
            matches!(second, Some(ClientError::LocalInUse { .. })),
            "{message}"
        );
        assert!(
            message.contains("in use by another warren")
                && message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert!(!message.contains("config file"), "{message}");

        running.shutdown().await;
        assert!(
            advert::read(&dir).is_none(),
            "the advert goes with the server"
        );
        let (session, own) = open_in(&dir, &GlobalArgs::default())
            .await
            .expect("with nothing running, the command serves the store itself");
        assert!(own.is_some());
        session.conn.close().await;
        if let Some(server) = own {
            server.shutdown().await;
        }
    }
}
