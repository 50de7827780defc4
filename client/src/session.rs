//! A CLI session: which server, token and workspace to use (flag > environment > profile), and an
//! open connection bound to that workspace.

use std::time::Duration;

use warren_protocol::{
    Command, ErrorCode, Query, QueryResult, ServerMessage, Workspace, WorkspaceState,
};

use crate::cli::GlobalArgs;
use crate::config::{self, ConfigFile, Profile};
use crate::connection::{Ack, Connection, new_request_id};
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::resolve;
use crate::retry::{self, patiently};

/// Where to connect and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub endpoint: Endpoint,
    pub token: String,
    /// Workspace id or name, if one was chosen.
    pub workspace: Option<String>,
}

/// Combines flags (clap already folded in the environment) with the stored profile. The profile's
/// token is only used for the profile's own server, so a token never travels to a server it was
/// not issued by.
pub fn settings(global: &GlobalArgs, profile: Option<&Profile>) -> Result<Settings, ClientError> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let profile_endpoint = match profile {
        Some(p) => Some(Endpoint::parse(&p.server)?),
        None => None,
    };
    let endpoint = match given(&global.server) {
        Some(server) => Endpoint::parse(&server)?,
        None => profile_endpoint.clone().ok_or(ClientError::NotConfigured)?,
    };
    let same_server = profile_endpoint.as_ref() == Some(&endpoint);
    let token = match given(&global.token) {
        Some(token) => token,
        None => profile
            .filter(|_| same_server)
            .map(|p| p.token.clone())
            .ok_or_else(|| ClientError::NoToken {
                server: endpoint.display.clone(),
            })?,
    };
    let workspace = given(&global.workspace).or_else(|| {
        profile
            .filter(|_| same_server)
            .and_then(|p| p.workspace.clone())
    });
    let ca_file = global.ca_file.clone().or_else(|| {
        profile
            .filter(|_| same_server)
            .and_then(|p| p.ca_file.clone())
    });
    let endpoint = endpoint.with_ca_file(ca_file);
    Ok(Settings {
        endpoint,
        token,
        workspace,
    })
}

/// Loads the profile file (if any) and resolves the settings.
pub fn load_settings(global: &GlobalArgs) -> Result<Settings, ClientError> {
    let path = config::config_path(&config::config_dir()?);
    let file = ConfigFile::load(&path)?;
    settings(global, file.profile.as_ref())
}

/// How often a command is re-sent after the connection dropped before its answer arrived.
const COMMAND_RETRIES: u32 = 2;

/// An open connection and the workspace the command works in.
pub struct Session {
    pub conn: Connection,
    pub workspace: Workspace,
    settings: Settings,
}

/// True for failures that a new connection may cure.
pub fn is_transient(error: &ClientError) -> bool {
    match error {
        ClientError::Disconnected(_)
        | ClientError::Timeout(_)
        | ClientError::Unreachable { .. }
        | ClientError::UnknownHost { .. } => true,
        ClientError::Server(wire) => {
            matches!(wire.code, ErrorCode::ShuttingDown | ErrorCode::Internal)
        }
        _ => false,
    }
}

impl Session {
    /// Connects with the given settings and picks the workspace. A connection refused for
    /// coming too fast (HTTP 429) is tried again after the wait the server names.
    pub async fn open(settings: &Settings) -> Result<Self, ClientError> {
        crate::tls::warn_if_plain(&settings.endpoint);
        let conn = connect_patiently(settings).await?;
        let workspace =
            resolve::pick_workspace(&conn.welcome().workspaces, settings.workspace.as_deref())?
                .clone();
        Ok(Self {
            conn,
            workspace,
            settings: settings.clone(),
        })
    }

    /// The server's address as people write it.
    pub fn server(&self) -> &str {
        &self.settings.endpoint.display
    }

    /// Replaces the connection with a new one to the same server and workspace.
    pub async fn reconnect(&mut self) -> Result<(), ClientError> {
        let conn = connect_patiently(&self.settings).await?;
        let old = std::mem::replace(&mut self.conn, conn);
        old.close().await;
        Ok(())
    }

    /// Reconnects until it works, waiting longer between attempts (up to 30 s), and gives up only
    /// on errors a retry cannot fix (a revoked token, say). Used by `--follow` modes.
    pub async fn reconnect_patiently(&mut self, why: &ClientError) -> Result<(), ClientError> {
        let reason = match why {
            ClientError::Disconnected(reason) => reason.clone(),
            other => other.to_string(),
        };
        eprintln!(
            "warren: connection lost ({}); reconnecting…",
            crate::sanitize::line(&reason)
        );
        let conn = connect_with_backoff(&self.settings, |line| eprintln!("warren: {line}")).await?;
        let old = std::mem::replace(&mut self.conn, conn);
        old.close().await;
        Ok(())
    }

    /// The next frame of the subscription. A dropped connection is re-opened patiently and the
    /// subscription resumed after `since` (the last event the caller has handled); other errors
    /// end the stream. Used by `--follow` modes.
    pub async fn next_push_resuming(&mut self, since: u64) -> Result<ServerMessage, ClientError> {
        loop {
            let push = self.conn.next_push().await.unwrap_or_else(|| {
                Err(ClientError::Disconnected("the connection ended".to_owned()))
            });
            match push {
                Err(e) if is_transient(&e) => {
                    self.reconnect_patiently(&e).await?;
                    self.conn.subscribe(&self.workspace.id, Some(since))?;
                }
                other => return other,
            }
        }
    }

    /// The workspace's current state.
    pub async fn snapshot(&self) -> Result<WorkspaceState, ClientError> {
        match self.query(Query::Snapshot).await? {
            QueryResult::Snapshot { state } => Ok(state),
            _ => Err(ClientError::Protocol(
                "expected a snapshot result".to_owned(),
            )),
        }
    }

    /// Applies a command in the session's workspace. If the connection fails before the answer
    /// arrives, reconnects and re-sends it under the same request id, so it is applied once; if
    /// the server refuses it for coming too fast, waits as long as it says and re-sends it
    /// (under the same request id, a bounded number of times).
    pub async fn command(&mut self, command: Command) -> Result<Ack, ClientError> {
        let request_id = new_request_id()?;
        let mut attempt = 0;
        loop {
            let handle = self.conn.handle();
            let workspace = self.workspace.id.clone();
            let result = patiently(
                || handle.command_with_id(request_id.clone(), &workspace, command.clone()),
                retry::say_waiting,
            )
            .await;
            match result {
                Err(e) if attempt < COMMAND_RETRIES && is_transient(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
                    if matches!(&e, ClientError::Server(w) if w.code == ErrorCode::Internal) {
                        continue;
                    }
                    if let Err(reconnect) = self.reconnect().await {
                        return Err(if is_transient(&reconnect) {
                            e
                        } else {
                            reconnect
                        });
                    }
                }
                other => return other,
            }
        }
    }

    /// Runs a query in the session's workspace, waiting out a rate limit as [`Session::command`]
    /// does.
    pub async fn query(&self, query: Query) -> Result<QueryResult, ClientError> {
        patiently(
            || self.conn.query(&self.workspace.id, query.clone()),
            retry::say_waiting,
        )
        .await
    }
}

/// Connects until it works: first after half a second, then waiting twice as long after each
/// failure (up to 30 s), never sooner than a rate limit asks; gives up only on errors a retry
/// cannot fix (a revoked token, say). `say` hears a line about each long wait. Used by
/// [`Session::reconnect_patiently`] and the worker loop.
pub async fn connect_with_backoff(
    settings: &Settings,
    say: impl Fn(&str),
) -> Result<Connection, ClientError> {
    let mut delay = Duration::from_millis(500);
    loop {
        tokio::time::sleep(delay).await;
        match connect_patiently(settings).await {
            Ok(conn) => return Ok(conn),
            Err(e) if is_transient(&e) => delay = (delay * 2).min(Duration::from_secs(30)),
            // The address is refused for a while (too many failed sign-ins from it, maybe
            // someone else's): wait that long, not less.
            Err(ClientError::AuthRateLimited { retry_after }) => {
                say(&format!(
                    "too many failed sign-ins from this address; trying again in {retry_after} s"
                ));
                delay = Duration::from_secs(retry_after).max(delay);
            }
            // Still refused for coming too fast after the bounded tries: keep backing off,
            // never sooner than the server asked.
            Err(e) if retry::rate_limit_wait(&e).is_some() => {
                let asked = retry::rate_limit_wait(&e).unwrap_or_default();
                delay = retry::jittered((delay * 2).min(Duration::from_secs(30)).max(asked));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Connects, waiting out a connection-rate limit (HTTP 429) a bounded number of times.
pub async fn connect_patiently(settings: &Settings) -> Result<Connection, ClientError> {
    patiently(
        || Connection::connect(&settings.endpoint, &settings.token),
        retry::say_waiting,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(server: Option<&str>, token: Option<&str>) -> GlobalArgs {
        GlobalArgs {
            server: server.map(str::to_owned),
            token: token.map(str::to_owned),
            workspace: None,
            ca_file: None,
            json: false,
        }
    }

    fn profile() -> Profile {
        Profile {
            server: "http://127.0.0.1:7878".into(),
            token: "wrn_profile".into(),
            workspace: Some("Acme".into()),
            ca_file: Some("/profile/ca.pem".into()),
        }
    }

    #[test]
    fn the_ca_file_comes_from_the_flag_else_the_profile_of_the_same_server()
    -> Result<(), ClientError> {
        let s = settings(&global(None, None), Some(&profile()))?;
        assert_eq!(s.endpoint.ca_file, Some("/profile/ca.pem".into()));
        let mut flag = global(None, None);
        flag.ca_file = Some("/flag/ca.pem".into());
        let s = settings(&flag, Some(&profile()))?;
        assert_eq!(s.endpoint.ca_file, Some("/flag/ca.pem".into()));
        let other = settings(
            &global(Some("https://elsewhere:1"), Some("wrn_x")),
            Some(&profile()),
        )?;
        assert_eq!(
            other.endpoint.ca_file, None,
            "a profile's CA is for its own server"
        );
        Ok(())
    }

    #[test]
    fn flags_beat_the_profile() -> Result<(), ClientError> {
        let s = settings(&global(None, Some("wrn_flag")), Some(&profile()))?;
        assert_eq!(s.token, "wrn_flag");
        assert_eq!(s.endpoint.display, "http://127.0.0.1:7878");
        assert_eq!(s.workspace.as_deref(), Some("Acme"));
        let s = settings(
            &global(Some("ws://127.0.0.1:7878/ws"), None),
            Some(&profile()),
        )?;
        assert_eq!(s.token, "wrn_profile");
        Ok(())
    }

    #[test]
    fn profile_token_is_not_sent_to_another_server() {
        let err = settings(&global(Some("http://elsewhere:1"), None), Some(&profile())).err();
        assert!(matches!(err, Some(ClientError::NoToken { .. })), "{err:?}");
    }

    #[test]
    fn nothing_configured_says_to_log_in() {
        let err = settings(&global(None, Some("wrn_x")), None)
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("warren login --server URL --token TOKEN")));
    }
}
