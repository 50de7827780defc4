//! `warren invite …`: create an invite to the current workspace (its code is printed once, in
//! `--json` too, and never again), list the workspace's invites, revoke one.

use warren_protocol::account::{AccountOp, AccountResult};
use warren_protocol::invite::{InviteInfo, InviteState};
use warren_protocol::{Id, WorkspaceState};

use crate::cli::InviteCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::output::table;
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: InviteCommand,
    session: &Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let workspace_id = session.workspace.id.clone();
    let now = crate::tui::app::now_ms();
    match command {
        InviteCommand::Create {
            role,
            expires,
            uses,
        } => {
            let result = session
                .conn
                .account(AccountOp::CreateInvite {
                    workspace_id,
                    role,
                    expires_in_secs: Some(u64::try_from(expires / 1000).unwrap_or(0)),
                    uses: Some(uses),
                })
                .await?;
            let AccountResult::InviteCreated { invite, code } = &result else {
                return Err(ClientError::Protocol("expected invite_created".to_owned()));
            };
            out.either(&result, || {
                format!(
                    "{code}\ninvite {} to {} as {} ({} use{}, until {}) — the code is shown once; \
                     pass it on now\nthey join with: warren join --server {} --invite CODE --name \
                     THEIR_NAME\n",
                    invite.id,
                    sanitize::line(&session.workspace.name),
                    invite.role.as_str(),
                    invite.uses,
                    if invite.uses == 1 { "" } else { "s" },
                    warren_protocol::time::format_utc_minutes(invite.expires_at),
                    session.server(),
                )
            })
        }
        InviteCommand::List => {
            let result = session
                .conn
                .account(AccountOp::ListInvites { workspace_id })
                .await?;
            let AccountResult::Invites { invites } = &result else {
                return Err(ClientError::Protocol("expected invites".to_owned()));
            };
            let state = session.snapshot().await?;
            out.either(&result, || invites_table(invites, &state, now))
        }
        InviteCommand::Revoke { id } => {
            let invite_id = Id::parse(id.trim()).map_err(|_| {
                ClientError::Usage(format!(
                    "{:?} is not an invite id; ids look like inv_… (see 'warren invite list')",
                    sanitize::line(&id)
                ))
            })?;
            let result = session
                .conn
                .account(AccountOp::RevokeInvite { invite_id })
                .await?;
            let AccountResult::InviteRevoked { invite_id } = &result else {
                return Err(ClientError::Protocol("expected invite_revoked".to_owned()));
            };
            out.either(&result, || {
                format!("revoked {invite_id}; its code no longer lets anyone in\n")
            })
        }
    }
}

/// The state in words people read.
fn state_words(state: InviteState) -> &'static str {
    match state {
        InviteState::Active => "active",
        InviteState::Expired => "expired",
        InviteState::UsedUp => "used up",
        InviteState::Revoked => "revoked",
    }
}

fn invites_table(invites: &[InviteInfo], state: &WorkspaceState, now: i64) -> String {
    if invites.is_empty() {
        return "no invites; make one with 'warren invite create'\n".to_owned();
    }
    let rows: Vec<Vec<String>> = invites
        .iter()
        .map(|i| {
            let by = state
                .members
                .iter()
                .find(|m| m.user_id == i.created_by)
                .map_or_else(|| i.created_by.to_string(), |m| sanitize::line(&m.name));
            vec![
                i.id.to_string(),
                i.role.as_str().to_owned(),
                by,
                if i.expires_at <= now {
                    "expired".to_owned()
                } else {
                    warren_protocol::time::format_utc_minutes(i.expires_at)
                },
                format!("{}/{}", i.uses_left, i.uses),
                state_words(i.state).to_owned(),
            ]
        })
        .collect();
    table(
        &["ID", "ROLE", "CREATED BY", "EXPIRES", "USES LEFT", "STATE"],
        &rows,
    )
}
