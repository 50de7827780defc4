//! `warren budget …`: spending limits of agent runs per day, week or month, for the workspace,
//! one agent or one room — set, listed with what was spent, and cleared.

use warren_protocol::budget::BudgetScope;
use warren_protocol::{Change, Command, Query, QueryResult, WorkspaceState};

use crate::agent_output::{self, AgentNames};
use crate::cli::agents::{BudgetCommand, BudgetScopeArgs};
use crate::commands::Out;
use crate::error::ClientError;
use crate::resolve::{find_agent, find_room};
use crate::session::Session;

pub(super) async fn run(
    command: BudgetCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        BudgetCommand::Set { scope, limit } => {
            let Some((limit, period)) = limit else {
                return Err(ClientError::Usage(
                    "give the limit and its period: 'warren budget set 20usd/month' (the workspace's), 'warren budget set --agent NAME 5usd/day' or 'warren budget set --room NAME 100usd/week' (--workspace NAME only picks which workspace)"
                        .to_owned(),
                ));
            };
            let state = session.snapshot().await?;
            let scope = resolve_scope(&scope, &state)?;
            let ack = session
                .command(Command::SetBudget {
                    scope,
                    limit,
                    period,
                })
                .await?;
            let Change::BudgetSet { budget } = ack.event.change else {
                return Err(ClientError::Protocol("expected budget_set".to_owned()));
            };
            let names = AgentNames::from_state(&state);
            out.either(&budget, || {
                format!(
                    "budget of the {}: {}",
                    names.scope(&budget.scope),
                    agent_output::budget_line(&budget)
                )
            })
        }
        BudgetCommand::List => {
            let budgets = match session.query(Query::Budgets).await? {
                QueryResult::Budgets { budgets } => budgets,
                _ => {
                    return Err(ClientError::Protocol(
                        "expected a budgets result".to_owned(),
                    ));
                }
            };
            if out.is_json() {
                for b in &budgets {
                    out.json(b)?;
                }
                return Ok(());
            }
            let state = session.snapshot().await?;
            out.text(&agent_output::format_budgets(
                &budgets,
                &AgentNames::from_state(&state),
            ))
        }
        BudgetCommand::Clear { scope } => {
            let state = session.snapshot().await?;
            let scope = resolve_scope(&scope, &state)?;
            let ack = session
                .command(Command::ClearBudget {
                    scope: scope.clone(),
                })
                .await?;
            let names = AgentNames::from_state(&state);
            out.either(&ack.event.change, || {
                format!("cleared the budget of the {}", names.scope(&scope))
            })
        }
    }
}

/// The scope `--agent A` or `--room R` names, or the workspace with neither.
fn resolve_scope(
    args: &BudgetScopeArgs,
    state: &WorkspaceState,
) -> Result<BudgetScope, ClientError> {
    if let Some(agent) = &args.agent {
        return Ok(BudgetScope::Agent {
            agent_id: find_agent(&state.agents, agent)?.id.clone(),
        });
    }
    if let Some(room) = &args.room {
        return Ok(BudgetScope::Room {
            room_id: find_room(state, room)?.id.clone(),
        });
    }
    Ok(BudgetScope::Workspace)
}
