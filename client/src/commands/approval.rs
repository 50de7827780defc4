//! `warren approvals …`: the standing "approve always" grants (an agent may call a tool without
//! asking), listed and revoked. Grants are made by `warren run approve RUN --always`.

use warren_protocol::{Command, Query, QueryResult};

use crate::agent_output::{self, AgentNames};
use crate::cli::agents::ApprovalsCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::resolve::find_agent;
use crate::session::Session;

pub(super) async fn run(
    command: ApprovalsCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        ApprovalsCommand::List { agent } => {
            let state = session.snapshot().await?;
            let agent_id = match &agent {
                Some(key) => Some(find_agent(&state.agents, key)?.id.clone()),
                None => None,
            };
            let grants = match session.query(Query::Approvals { agent_id }).await? {
                QueryResult::Approvals { grants } => grants,
                _ => {
                    return Err(ClientError::Protocol(
                        "expected an approvals result".to_owned(),
                    ));
                }
            };
            if out.is_json() {
                for g in &grants {
                    out.json(g)?;
                }
                return Ok(());
            }
            out.text(&agent_output::format_grants(
                &grants,
                &AgentNames::from_state(&state),
            ))
        }
        ApprovalsCommand::Revoke { id } => {
            let grant_id = warren_protocol::Id::parse(id.trim()).map_err(|_| {
                ClientError::Usage(format!(
                    "{:?} is not a grant id (grant_…); list them with 'warren approvals list'",
                    crate::sanitize::line(&id)
                ))
            })?;
            let ack = session
                .command(Command::RevokeApproval {
                    grant_id: grant_id.clone(),
                })
                .await?;
            out.either(&ack.event.change, || {
                format!("revoked {grant_id}: that agent asks again before calling that tool")
            })
        }
    }
}
