//! `warren workspace list | create | rename | delete | transfer`: the workspaces you belong to.
//!
//! `delete` is for owners and asks for the workspace's name again: typed at a prompt on a
//! terminal, or given with `--confirm NAME` (required for scripts and `--json`). The server
//! checks the name too, so a wrong one deletes nothing. `list` and `create` also work for an
//! account that is in no workspace (after deleting its last one).

use std::io::{BufRead, IsTerminal, Write};

use serde::Serialize;
use warren_protocol::account::{AccountOp, AccountResult};
use warren_protocol::{Change, Command, Member, Role, Workspace};

use crate::cli::WorkspaceCommand;
use crate::commands::Out;
use crate::connection::Connection;
use crate::error::ClientError;
use crate::output::table;
use crate::resolve;
use crate::sanitize;
use crate::session::{Session, Settings};

pub(super) async fn run(
    command: WorkspaceCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        WorkspaceCommand::List | WorkspaceCommand::Create { .. } => {
            let current = Some(session.workspace.clone());
            without_session(command, &session.conn, current.as_ref(), out).await
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
        WorkspaceCommand::Delete { name, confirm } => delete(session, &name, confirm, out).await,
        WorkspaceCommand::Transfer { member } => transfer(session, &member, out).await,
    }
}

/// `list` and `create` for an account in no workspace: a connection is all they need.
pub(super) async fn no_workspace(
    command: WorkspaceCommand,
    settings: &Settings,
    out: &mut Out,
) -> Result<(), ClientError> {
    crate::tls::warn_if_plain(&settings.endpoint);
    let conn = Connection::connect(&settings.endpoint, &settings.token).await?;
    let current =
        resolve::pick_workspace(&conn.welcome().workspaces, settings.workspace.as_deref())
            .ok()
            .cloned();
    let result = without_session(command, &conn, current.as_ref(), out).await;
    conn.close().await;
    result
}

/// Whether a command can run without a workspace to work in.
pub(super) fn needs_no_workspace(command: &WorkspaceCommand) -> bool {
    matches!(
        command,
        WorkspaceCommand::List | WorkspaceCommand::Create { .. }
    )
}

async fn without_session(
    command: WorkspaceCommand,
    conn: &Connection,
    current: Option<&Workspace>,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        WorkspaceCommand::Create { name } => {
            let result = conn.account(AccountOp::CreateWorkspace { name }).await?;
            let AccountResult::WorkspaceCreated { workspace } = result else {
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
        _ => {
            let all = conn.welcome().workspaces.clone();
            out.either(&all, || {
                if all.is_empty() {
                    return "you are in no workspace on this server; create one with \
                            'warren workspace create NAME' or ask an owner to add you\n"
                        .to_owned();
                }
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|w| {
                        let mark = if Some(&w.id) == current.map(|c| &c.id) {
                            "*"
                        } else {
                            ""
                        };
                        vec![mark.to_owned(), sanitize::line(&w.name), w.id.to_string()]
                    })
                    .collect();
                table(&["", "WORKSPACE", "ID"], &rows)
            })
        }
    }
}

/// What `warren workspace delete --json` prints.
#[derive(Serialize)]
struct Deleted<'a> {
    deleted: &'a Workspace,
    /// The workspaces you are still in.
    remaining: Vec<Workspace>,
}

async fn delete(
    session: &mut Session,
    name: &str,
    confirm: Option<String>,
    out: &mut Out,
) -> Result<(), ClientError> {
    let all = session.conn.welcome().workspaces.clone();
    let target = resolve::pick_workspace(&all, Some(name))?.clone();
    let shown = sanitize::line(&target.name);
    let confirmation = match confirm {
        Some(c) => c,
        None if out.is_json() || !std::io::stdin().is_terminal() => {
            return Err(ClientError::Usage(format!(
                "deleting workspace {shown} needs its name again: add --confirm \"{shown}\" \
                 (nothing was deleted)"
            )));
        }
        None => ask(&shown)?,
    };
    if confirmation.trim() != target.name {
        return Err(ClientError::Usage(format!(
            "{:?} is not the workspace's name ({shown}); nothing was deleted",
            sanitize::line(confirmation.trim())
        )));
    }
    let request_id = crate::connection::new_request_id()?;
    session
        .conn
        .handle()
        .command_with_id(
            request_id,
            &target.id,
            Command::DeleteWorkspace {
                name: confirmation.trim().to_owned(),
            },
        )
        .await?;
    let remaining: Vec<Workspace> = all.into_iter().filter(|w| w.id != target.id).collect();
    let report = Deleted {
        deleted: &target,
        remaining: remaining.clone(),
    };
    out.either(&report, || {
        let mut text = format!(
            "deleted workspace {shown} ({}) with its boards, cards, rooms and messages; \
             its members were told and lost access\n",
            target.id
        );
        match remaining.first() {
            None => text.push_str(
                "you are in no workspace now: create one with 'warren workspace create NAME' \
                 or ask an owner to add you\n",
            ),
            Some(next) => text.push_str(&format!(
                "your other workspaces: {} (without --workspace, warren uses {})\n",
                remaining
                    .iter()
                    .map(|w| sanitize::line(&w.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                sanitize::line(&next.name)
            )),
        }
        text
    })
}

/// Asks on the terminal for the workspace's name.
fn ask(shown: &str) -> Result<String, ClientError> {
    let mut stderr = std::io::stderr();
    write!(
        stderr,
        "This deletes workspace {shown} and everything in it, for every member, and cannot be undone.\n\
         Type its name to confirm: "
    )?;
    stderr.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
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
