//! A CLI session: which server, token and workspace to use (flag > environment > profile), and an
//! open connection bound to that workspace.

use warren_protocol::{Command, Query, QueryResult, Workspace, WorkspaceState};

use crate::cli::GlobalArgs;
use crate::config::{self, ConfigFile, Profile};
use crate::connection::{Ack, Connection};
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::resolve;

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

/// An open connection and the workspace the command works in.
pub struct Session {
    pub conn: Connection,
    pub workspace: Workspace,
}

impl Session {
    /// Connects with the given settings and picks the workspace.
    pub async fn open(settings: &Settings) -> Result<Self, ClientError> {
        let conn = Connection::connect(&settings.endpoint, &settings.token).await?;
        let workspace =
            resolve::pick_workspace(&conn.welcome().workspaces, settings.workspace.as_deref())?
                .clone();
        Ok(Self { conn, workspace })
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

    /// Applies a command in the session's workspace.
    pub async fn command(&self, command: Command) -> Result<Ack, ClientError> {
        self.conn.command(&self.workspace.id, command).await
    }

    /// Runs a query in the session's workspace.
    pub async fn query(&self, query: Query) -> Result<QueryResult, ClientError> {
        self.conn.query(&self.workspace.id, query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(server: Option<&str>, token: Option<&str>) -> GlobalArgs {
        GlobalArgs {
            server: server.map(str::to_owned),
            token: token.map(str::to_owned),
            workspace: None,
            json: false,
        }
    }

    fn profile() -> Profile {
        Profile {
            server: "http://127.0.0.1:7373".into(),
            token: "wrn_profile".into(),
            workspace: Some("Acme".into()),
        }
    }

    #[test]
    fn flags_beat_the_profile() -> Result<(), ClientError> {
        let s = settings(&global(None, Some("wrn_flag")), Some(&profile()))?;
        assert_eq!(s.token, "wrn_flag");
        assert_eq!(s.endpoint.display, "http://127.0.0.1:7373");
        assert_eq!(s.workspace.as_deref(), Some("Acme"));
        let s = settings(
            &global(Some("ws://127.0.0.1:7373/ws"), None),
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
