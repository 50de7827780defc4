//! `warren member …`, `warren workspace …` and `warren whoami`: who is in the workspace, with
//! which role, and what your own role may do.

use serde::Serialize;
use warren_protocol::permission::Permission;
use warren_protocol::{Change, Command, Member, Role, Workspace};

use crate::cli::{MemberCommand, WorkspaceCommand};
use crate::commands::Out;
use crate::error::ClientError;
use crate::output::table;
use crate::resolve;
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: MemberCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    match command {
        MemberCommand::List => out.either(&state.members, || members_table(&state.members)),
        MemberCommand::Role { member, role } => {
            let found = resolve::find_member(&state, &member)?.clone();
            let ack = session
                .command(Command::SetMemberRole {
                    user_id: found.user_id.clone(),
                    role,
                })
                .await?;
            let Change::MemberUpdated { member } = ack.event.change else {
                return Err(ClientError::Protocol("expected member_updated".to_owned()));
            };
            out.either(&member, || {
                format!(
                    "{} is now {} (was {})\n",
                    sanitize::line(&member.name),
                    member.role.as_str(),
                    found.role.as_str()
                )
            })
        }
        MemberCommand::Remove { member } => {
            let found = resolve::find_member(&state, &member)?.clone();
            session
                .command(Command::RemoveMember {
                    user_id: found.user_id.clone(),
                })
                .await?;
            out.either(&found, || {
                format!(
                    "removed {} from {}\n",
                    sanitize::line(&found.name),
                    sanitize::line(&state.workspace.name)
                )
            })
        }
    }
}

fn members_table(members: &[Member]) -> String {
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by_key(|m| (rank(m.role), m.name.to_lowercase()));
    let rows: Vec<Vec<String>> = sorted
        .iter()
        .map(|m| {
            vec![
                sanitize::line(&m.name),
                m.role.as_str().to_owned(),
                m.user_id.to_string(),
            ]
        })
        .collect();
    table(&["NAME", "ROLE", "ID"], &rows)
}

fn rank(role: Role) -> usize {
    warren_protocol::permission::ROLES
        .iter()
        .position(|r| *r == role)
        .unwrap_or(usize::MAX)
}

pub(super) async fn workspace(
    command: WorkspaceCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        WorkspaceCommand::List => {
            let current = session.workspace.id.clone();
            let all = session.conn.welcome().workspaces.clone();
            out.either(&all, || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|w| {
                        let mark = if w.id == current { "*" } else { "" };
                        vec![mark.to_owned(), sanitize::line(&w.name), w.id.to_string()]
                    })
                    .collect();
                table(&["", "WORKSPACE", "ID"], &rows)
            })
        }
        WorkspaceCommand::Create { name } => {
            let result = session
                .conn
                .account(warren_protocol::account::AccountOp::CreateWorkspace { name })
                .await?;
            let warren_protocol::account::AccountResult::WorkspaceCreated { workspace } = result
            else {
                return Err(ClientError::Protocol(
                    "expected workspace_created".to_owned(),
                ));
            };
            out.either(&workspace, || {
                format!(
                    "created workspace {} ({}); you are its owner\nuse it: warren --workspace \"{}\" …\n",
                    sanitize::line(&workspace.name),
                    workspace.id,
                    sanitize::line(&workspace.name)
                )
            })
        }
        WorkspaceCommand::Rename { name } => {
            let old = sanitize::line(&session.workspace.name);
            let ack = session.command(Command::RenameWorkspace { name }).await?;
            let Change::WorkspaceRenamed { workspace } = ack.event.change else {
                return Err(ClientError::Protocol(
                    "expected workspace_renamed".to_owned(),
                ));
            };
            out.either(&workspace, || {
                format!(
                    "renamed workspace {old} to {}\n",
                    sanitize::line(&workspace.name)
                )
            })
        }
        WorkspaceCommand::Transfer { member } => transfer(session, &member, out).await,
    }
}

/// What `warren workspace transfer --json` prints: both members as they are now.
#[derive(Serialize)]
struct Transferred {
    owner: Member,
    previous_owner: Member,
}

/// `workspace transfer MEMBER`: two role changes, the new owner first, so the workspace always
/// has an owner; if the second one fails both are owners, and the message says how to finish.
async fn transfer(session: &mut Session, key: &str, out: &mut Out) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let me = session.conn.welcome().user.user_id.clone();
    let target = resolve::find_member(&state, key)?.clone();
    let mine = state.members.iter().find(|m| m.user_id == me).cloned();
    let Some(mine) = mine.filter(|m| m.role == Role::Owner) else {
        return Err(ClientError::Usage(
            "only an owner hands a workspace over; see who is with 'warren member list'".to_owned(),
        ));
    };
    if target.user_id == me {
        return Err(ClientError::Usage(
            "you already own this workspace; name the member who should take it over".to_owned(),
        ));
    }
    let owner = session
        .command(Command::SetMemberRole {
            user_id: target.user_id.clone(),
            role: Role::Owner,
        })
        .await?;
    let Change::MemberUpdated { member: owner } = owner.event.change else {
        return Err(ClientError::Protocol("expected member_updated".to_owned()));
    };
    let previous = session
        .command(Command::SetMemberRole {
            user_id: me,
            role: Role::Admin,
        })
        .await
        .map_err(|e| {
            ClientError::Usage(format!(
                "{} is now an owner, but you are still one too ({e}); step down with \
                 'warren member role {} admin'",
                sanitize::line(&owner.name),
                sanitize::line(&mine.name)
            ))
        })?;
    let Change::MemberUpdated {
        member: previous_owner,
    } = previous.event.change
    else {
        return Err(ClientError::Protocol("expected member_updated".to_owned()));
    };
    let done = Transferred {
        owner,
        previous_owner,
    };
    out.either(&done, || {
        format!(
            "{} now owns {}; you are an admin\n",
            sanitize::line(&done.owner.name),
            sanitize::line(&state.workspace.name)
        )
    })
}

/// What `warren whoami --json` prints.
#[derive(Serialize)]
struct WhoAmI {
    user_id: warren_protocol::Id,
    name: String,
    workspace: Workspace,
    role: Role,
    permissions: Vec<&'static str>,
}

pub(super) async fn whoami(session: &Session, out: &mut Out) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let me = session.conn.welcome().user.user_id.clone();
    let member = state
        .members
        .iter()
        .find(|m| m.user_id == me)
        .cloned()
        .ok_or_else(|| {
            ClientError::NotFound(format!(
                "you are not a member of {}",
                sanitize::line(&state.workspace.name)
            ))
        })?;
    let permissions: Vec<Permission> = member.role.permissions().to_vec();
    let who = WhoAmI {
        user_id: member.user_id.clone(),
        name: member.name.clone(),
        workspace: state.workspace.clone(),
        role: member.role,
        permissions: permissions.iter().map(|p| p.name()).collect(),
    };
    out.either(&who, || {
        let mut text = format!(
            "{} ({}) in {} as {}\nmay:\n",
            sanitize::line(&who.name),
            who.user_id,
            sanitize::line(&who.workspace.name),
            who.role.as_str()
        );
        for p in &permissions {
            text.push_str(&format!("  {:<18} {}\n", p.name(), p.description()));
        }
        text
    })
}
