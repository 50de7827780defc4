//! `warren member …` and `warren whoami`: who is in the workspace, with which role, who is
//! online now, and what your own role may do.

use serde::Serialize;
use warren_protocol::permission::Permission;
use warren_protocol::{Change, Command, Member, Query, QueryResult, Role, Workspace};

use crate::cli::MemberCommand;
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
        MemberCommand::List => {
            let online = match session.query(Query::Presence).await? {
                QueryResult::Presence { online } => online,
                _ => {
                    return Err(ClientError::Protocol(
                        "expected a presence result".to_owned(),
                    ));
                }
            };
            let listed = listed(&state.members, &online);
            out.either(&listed, || members_table(&listed))
        }
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

/// A member as `warren member list` shows them: with whether they are online now (a
/// connection subscribed to the workspace: the full-screen client, a worker, `events --follow`).
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    member: &'a Member,
    online: bool,
    /// `online` or `offline`, in words.
    status: &'static str,
}

/// The members by role, then name, each with their presence.
fn listed<'a>(members: &'a [Member], online: &[warren_protocol::Id]) -> Vec<Listed<'a>> {
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by_key(|m| (rank(m.role), m.name.to_lowercase()));
    sorted
        .into_iter()
        .map(|member| {
            let here = online.contains(&member.user_id);
            Listed {
                member,
                online: here,
                status: if here { "online" } else { "offline" },
            }
        })
        .collect()
}

fn members_table(members: &[Listed<'_>]) -> String {
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|l| {
            vec![
                sanitize::line(&l.member.name),
                l.member.role.as_str().to_owned(),
                if l.online { "online" } else { "-" }.to_owned(),
                l.member.user_id.to_string(),
            ]
        })
        .collect();
    table(&["NAME", "ROLE", "ONLINE", "ID"], &rows)
}

fn rank(role: Role) -> usize {
    warren_protocol::permission::ROLES
        .iter()
        .position(|r| *r == role)
        .unwrap_or(usize::MAX)
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
