//! `warren join`: uses an invite code with the server's `POST /join`, saves the server and token
//! as the profile exactly like `warren login` (0600), and says what to run next. With a token
//! for that server (`--token`, `WARREN_TOKEN`, or the profile's), the signed-in user joins one
//! more workspace; without one, a new user named `--name` is made.

use warren_protocol::invite::{JoinRequest, Joined};

use crate::cli::{GlobalArgs, JoinArgs};
use crate::commands::Out;
use crate::config::{self, ConfigFile, Profile};
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::http_client::{self, Refusal};
use crate::sanitize;

pub(super) async fn run(
    args: JoinArgs,
    global: &GlobalArgs,
    out: &mut Out,
) -> Result<(), ClientError> {
    let server = global
        .server
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ClientError::Usage(
                "warren join needs the server: warren join --server URL --invite CODE --name NAME"
                    .to_owned(),
            )
        })?;
    let ca_file = super::login::absolute_ca_file(global)?;
    let endpoint = Endpoint::parse(server)?.with_ca_file(ca_file.clone());
    crate::tls::warn_if_plain(&endpoint);
    let path = config::config_path(&config::config_dir()?);
    let mut file = ConfigFile::load(&path).unwrap_or_default();
    // A token only ever goes to the server it came from.
    let same_server = file
        .profile
        .as_ref()
        .and_then(|p| Endpoint::parse(&p.server).ok())
        .is_some_and(|p| p.display == endpoint.display);
    let token = global
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            file.profile
                .as_ref()
                .filter(|_| same_server)
                .map(|p| p.token.clone())
        });
    if token.is_none() && args.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ClientError::Usage(
            "warren join needs your name for the new account: warren join --server URL --invite \
             CODE --name NAME"
                .to_owned(),
        ));
    }
    let request = JoinRequest {
        invite: args.invite.trim().to_owned(),
        name: args.name.clone(),
    };
    let joined: Joined =
        match http_client::post_json(&endpoint, "/join", &request, token.as_deref()).await? {
            Ok(joined) => joined,
            Err(refusal) => return Err(refused(refusal, &endpoint)),
        };
    let new_user = joined.token.is_some();
    let token = joined.token.clone().or(token).ok_or_else(|| {
        ClientError::Protocol("the server made no token and none was sent".to_owned())
    })?;
    let keep_workspace = file
        .profile
        .as_ref()
        .filter(|_| same_server && !new_user)
        .and_then(|p| p.workspace.clone());
    file.profile = Some(Profile {
        server: endpoint.display.clone(),
        token,
        workspace: global.workspace.clone().or(keep_workspace),
        ca_file,
    });
    file.save(&path)?;
    out.either(&joined, || {
        let name = sanitize::line(&joined.user.name);
        let workspace = sanitize::line(&joined.workspace.name);
        let who = if new_user {
            format!("welcome, {name}: your account is made")
        } else {
            format!("{name} (signed in)")
        };
        format!(
            "{who}; you joined {workspace} as {}; profile saved to {}\nnext: run 'warren' to \
             open it, or 'warren whoami' to see what you may do{}\n",
            joined.role.as_str(),
            path.display(),
            if new_user {
                ""
            } else {
                " (pick it with --workspace if you have several)"
            }
        )
    })
}

/// A refused join in the client's words.
fn refused(refusal: Refusal, endpoint: &Endpoint) -> ClientError {
    if refusal.status == 429 {
        return ClientError::AuthRateLimited {
            retry_after: refusal.retry_after.unwrap_or(60),
        };
    }
    match refusal.error {
        Some(error) if refusal.status == 401 => ClientError::Unauthorized {
            code: error.code.to_string(),
            message: error.message,
        },
        Some(error) => ClientError::JoinRefused {
            code: error.code.to_string(),
            message: error.message,
        },
        None => ClientError::Handshake {
            url: format!("{}/join", endpoint.display),
            status: refusal.status,
            answer: "no warren error in the answer".to_owned(),
        },
    }
}
