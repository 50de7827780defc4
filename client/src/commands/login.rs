//! `warren login`: checks a server and token by connecting, then stores them as the profile.

use crate::cli::GlobalArgs;
use crate::commands::Out;
use crate::config::{self, ConfigFile, Profile};
use crate::connection::Connection;
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::resolve;
use crate::sanitize;

pub(super) async fn run(global: &GlobalArgs, out: &mut Out) -> Result<(), ClientError> {
    let usage = || {
        ClientError::Usage(
            "warren login needs a server and a token: warren login --server URL --token TOKEN"
                .to_owned(),
        )
    };
    let server = global
        .server
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(usage)?;
    let token = global
        .token
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(usage)?;
    let ca_file = absolute_ca_file(global)?;
    let endpoint = Endpoint::parse(server)?.with_ca_file(ca_file.clone());
    crate::tls::warn_if_plain(&endpoint);
    let conn = Connection::connect(&endpoint, token).await?;
    let welcome = conn.welcome().clone();
    conn.close().await;
    let workspace = match global.workspace.as_deref() {
        Some(key) => Some(resolve::pick_workspace(&welcome.workspaces, Some(key))?),
        None => welcome.workspaces.first(),
    };
    let path = config::config_path(&config::config_dir()?);
    let mut file = ConfigFile::load(&path).unwrap_or_default();
    file.profile = Some(Profile {
        server: endpoint.display.clone(),
        token: token.to_owned(),
        workspace: global.workspace.clone(),
        ca_file,
    });
    file.save(&path)?;
    out.either(&welcome.user, || {
        let workspace = workspace.map_or_else(
            || " (no workspaces yet)".to_owned(),
            |w| format!(", workspace {}", sanitize::line(&w.name)),
        );
        format!(
            "logged in to {} as {}{workspace}; profile saved to {}",
            endpoint.display,
            sanitize::line(&welcome.user.name),
            path.display()
        )
    })
}

/// `--ca-file` as an absolute path: the saved profile is used from any directory. Shared by
/// `login` and `join`, which both save a profile.
pub(super) fn absolute_ca_file(
    global: &GlobalArgs,
) -> Result<Option<std::path::PathBuf>, ClientError> {
    global
        .ca_file
        .as_ref()
        .map(|path| {
            std::path::absolute(path).map_err(|e| ClientError::CaFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        })
        .transpose()
}
