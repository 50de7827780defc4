//! `warren agent …`: add, list, show, edit, disable, enable and remove agents, move them between
//! workspaces ([`transfer`]: export and import), and ask one a question from the shell (`ask`,
//! optionally following the answer as it streams: [`follow`]).

pub mod follow;
mod transfer;

use warren_protocol::agent::{Agent, MicroUsd};
use warren_protocol::budget::{Budget, BudgetPeriod, BudgetScope};
use warren_protocol::tool::ToolName;
use warren_protocol::{Change, Command, Id, Query, QueryResult, WireError, WorkspaceState};

use crate::agent_output::{self, AgentNames};
use crate::cli::agents::{
    AgentAddArgs, AgentAskArgs, AgentCommand, AgentEditArgs, AgentFields, ProviderCommand,
};
use crate::cli::{CliCommand, JobCommand, JobRunArgs, LogArgs, RunCommand};
use crate::commands::Out;
use crate::error::ClientError;
use crate::resolve::{find_agent, find_provider, find_room};
use crate::run_output;
use crate::sanitize;
use crate::session::Session;

/// True for command lines that wait for a run (a job's or an agent's) to end, so local mode
/// starts a worker: without one, a queued run would wait for ever.
pub fn waits_for_a_run(command: &CliCommand) -> bool {
    matches!(
        command,
        CliCommand::Agent(AgentCommand::Ask(AgentAskArgs { follow: true, .. }))
            | CliCommand::Provider(ProviderCommand::Test { follow: true, .. })
            | CliCommand::Job(JobCommand::Run(JobRunArgs { follow: true, .. }))
            | CliCommand::Run(RunCommand::Retry { follow: true, .. })
            | CliCommand::Log(LogArgs { follow: true, .. })
    )
}

pub(super) async fn run(
    command: AgentCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        AgentCommand::Add(args) => add(args, session, out).await,
        AgentCommand::List => {
            let state = session.snapshot().await?;
            if out.is_json() {
                for agent in &state.agents {
                    out.json(agent)?;
                }
                return Ok(());
            }
            out.text(&agent_output::format_agents(
                &state.agents,
                &AgentNames::from_state(&state),
            ))
        }
        AgentCommand::Show { agent } => {
            let state = session.snapshot().await?;
            let agent = find_agent(&state.agents, &agent)?;
            // Budgets are served with the budgets service; without it the agent still shows.
            let budgets: Vec<Budget> = match session.query(Query::Budgets).await {
                Ok(QueryResult::Budgets { budgets }) => budgets
                    .into_iter()
                    .filter(|b| matches!(&b.scope, BudgetScope::Agent { agent_id } if agent_id == &agent.id))
                    .collect(),
                _ => Vec::new(),
            };
            out.either(agent, || {
                agent_output::format_agent_detail(agent, &AgentNames::from_state(&state), &budgets)
            })
        }
        AgentCommand::Edit(args) => edit(args, session, out).await,
        AgentCommand::Disable { agent } => set_disabled(&agent, true, session, out).await,
        AgentCommand::Enable { agent } => set_disabled(&agent, false, session, out).await,
        AgentCommand::Rm { agent } => {
            let state = session.snapshot().await?;
            let agent = find_agent(&state.agents, &agent)?;
            session
                .command(Command::DeleteAgent {
                    agent_id: agent.id.clone(),
                })
                .await?;
            out.either(agent, || {
                format!(
                    "removed agent @{} and its member (its runs and messages stay)",
                    sanitize::line(&agent.name)
                )
            })
        }
        AgentCommand::Export(args) => transfer::export(args, session, out).await,
        AgentCommand::Import { file } => transfer::import(&file, session, out).await,
        AgentCommand::Ask(args) => ask(args, session, out).await,
    }
}

/// The ids of a `--provider` chain, in order.
fn chain(state: &WorkspaceState, names: &[String]) -> Result<Vec<Id>, ClientError> {
    names
        .iter()
        .map(|n| find_provider(&state.providers, n).map(|p| p.id.clone()))
        .collect()
}

/// The prompt from `--prompt` or `--prompt-file`.
fn prompt(fields: &AgentFields) -> Result<Option<String>, ClientError> {
    if let Some(text) = &fields.prompt {
        return Ok(Some(text.clone()));
    }
    let Some(path) = &fields.prompt_file else {
        return Ok(None);
    };
    std::fs::read_to_string(path).map(Some).map_err(|e| {
        ClientError::Usage(format!(
            "cannot read the prompt file {}: {e}; check the path (or pass the text with --prompt)",
            path.display()
        ))
    })
}

/// The tools that go ahead without asking, from `--approve ask|auto|TOOL,…` and the agent's
/// tools.
pub(super) fn auto_approve(
    approve: &str,
    tools: &[ToolName],
) -> Result<Vec<ToolName>, ClientError> {
    match approve.trim().to_ascii_lowercase().as_str() {
        "ask" => return Ok(Vec::new()),
        "auto" => {
            return Ok(tools
                .iter()
                .copied()
                .filter(|t| t.changes_state())
                .collect());
        }
        _ => {}
    }
    let mut out = Vec::new();
    for name in approve.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let tool = crate::cli::agents::parse_tool(name)
            .map_err(|e| ClientError::Usage(format!("--approve: {e}, or ask or auto")))?;
        if !tools.contains(&tool) {
            let list: Vec<&str> = tools.iter().map(|t| t.as_str()).collect();
            return Err(ClientError::Usage(format!(
                "--approve {}: the agent may not call that tool (its tools: {}); add it to --tools first",
                tool.as_str(),
                if list.is_empty() {
                    "none".to_owned()
                } else {
                    list.join(",")
                }
            )));
        }
        if !out.contains(&tool) {
            out.push(tool);
        }
    }
    Ok(out)
}

async fn add(args: AgentAddArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let fields = &args.fields;
    if fields.providers.is_empty() {
        return Err(ClientError::Usage(
            "an agent needs at least one provider: --provider NAME (several, tried in order: --provider main,backup); list them with 'warren provider list'"
                .to_owned(),
        ));
    }
    let prompt = prompt(fields)?.unwrap_or_default();
    let auto = match &fields.approve {
        Some(a) => auto_approve(a, &fields.tools)?,
        None => Vec::new(),
    };
    let state = session.snapshot().await?;
    let providers = chain(&state, &fields.providers)?;
    let ack = session
        .command(Command::CreateAgent {
            agent_id: None,
            name: args.name.clone(),
            providers,
            model: fields.model.clone(),
            prompt,
            tools: fields.tools.clone(),
            auto_approve: auto,
            max_steps: fields.max_steps,
            max_tokens: fields.max_tokens,
            max_wall_secs: fields.max_wall,
        })
        .await?;
    let Change::AgentCreated { agent } = ack.event.change else {
        return Err(ClientError::Protocol("expected agent_created".to_owned()));
    };
    out.either(&agent, || {
        let name = sanitize::line(&agent.name);
        format!(
            "added agent @{name} — ask it with 'warren agent ask {name} \"…\"' or @{name} in a room"
        )
    })?;
    match args.budget {
        Some(limit) => set_agent_budget(&agent, limit, session, out).await,
        None => Ok(()),
    }
}

/// Sets the agent's budget after it was created or changed; a refusal says that the rest
/// happened and how to set the budget alone.
async fn set_agent_budget(
    agent: &Agent,
    (limit, period): (MicroUsd, BudgetPeriod),
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let result = session
        .command(Command::SetBudget {
            scope: BudgetScope::Agent {
                agent_id: agent.id.clone(),
            },
            limit,
            period,
        })
        .await;
    let name = sanitize::line(&agent.name);
    match result {
        Ok(ack) => match ack.event.change {
            Change::BudgetSet { budget } => out.either(&budget, || {
                format!("budget of @{name}: {}", agent_output::budget_line(&budget))
            }),
            _ => Err(ClientError::Protocol("expected budget_set".to_owned())),
        },
        Err(ClientError::Server(wire)) => Err(ClientError::Server(WireError::new(
            wire.code,
            format!(
                "the agent @{name} was saved, but its budget was not set ({}); set it with 'warren budget set --agent {name} {}/{}'",
                wire.message,
                crate::money::usd_text(limit),
                period.as_str()
            ),
        ))),
        Err(e) => Err(e),
    }
}

async fn edit(
    args: AgentEditArgs,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let fields = &args.fields;
    let prompt = prompt(fields)?;
    let state = session.snapshot().await?;
    let agent = find_agent(&state.agents, &args.agent)?.clone();
    let providers = if fields.providers.is_empty() {
        None
    } else {
        Some(chain(&state, &fields.providers)?)
    };
    let tools = if args.no_tools {
        Some(Vec::new())
    } else if fields.tools.is_empty() {
        None
    } else {
        Some(fields.tools.clone())
    };
    let auto_approve = match &fields.approve {
        Some(a) => Some(auto_approve(a, tools.as_deref().unwrap_or(&agent.tools))?),
        // Tools taken away are no longer auto-approved either.
        None => tools.as_ref().map(|t| {
            agent
                .auto_approve
                .iter()
                .copied()
                .filter(|a| t.contains(a))
                .collect()
        }),
    };
    let model = match (args.no_model, &fields.model) {
        (true, _) => Some(None),
        (false, Some(m)) => Some(Some(m.clone())),
        (false, None) => None,
    };
    let max_tokens = match (args.no_max_tokens, fields.max_tokens) {
        (true, _) => Some(None),
        (false, Some(n)) => Some(Some(n)),
        (false, None) => None,
    };
    let changes_nothing = args.name.is_none()
        && providers.is_none()
        && model.is_none()
        && prompt.is_none()
        && tools.is_none()
        && auto_approve.is_none()
        && fields.max_steps.is_none()
        && max_tokens.is_none()
        && fields.max_wall.is_none();
    if changes_nothing && args.budget.is_none() {
        return Err(ClientError::Usage(
            "nothing to change: pass --name, --provider, --model, --no-model, --prompt, --prompt-file, --tools, --no-tools, --approve, --max-steps, --max-tokens, --no-max-tokens, --max-wall or --budget"
                .to_owned(),
        ));
    }
    let agent = if changes_nothing {
        agent
    } else {
        let ack = session
            .command(Command::UpdateAgent {
                agent_id: agent.id.clone(),
                name: args.name.clone(),
                providers,
                model,
                prompt,
                tools,
                auto_approve,
                max_steps: fields.max_steps,
                max_tokens,
                max_wall_secs: fields.max_wall,
                disabled: None,
            })
            .await?;
        let Change::AgentUpdated { agent } = ack.event.change else {
            return Err(ClientError::Protocol("expected agent_updated".to_owned()));
        };
        out.either(&agent, || {
            format!("updated agent @{}", sanitize::line(&agent.name))
        })?;
        agent
    };
    match args.budget {
        Some(limit) => set_agent_budget(&agent, limit, session, out).await,
        None => Ok(()),
    }
}

/// The `update_agent` that only disables (or enables) an agent.
pub(crate) fn disable_command(agent_id: &warren_protocol::Id, disabled: bool) -> Command {
    Command::UpdateAgent {
        agent_id: agent_id.clone(),
        name: None,
        providers: None,
        model: None,
        prompt: None,
        tools: None,
        auto_approve: None,
        max_steps: None,
        max_tokens: None,
        max_wall_secs: None,
        disabled: Some(disabled),
    }
}

async fn set_disabled(
    key: &str,
    disabled: bool,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let agent = find_agent(&state.agents, key)?;
    let ack = session
        .command(disable_command(&agent.id, disabled))
        .await?;
    let Change::AgentUpdated { agent } = ack.event.change else {
        return Err(ClientError::Protocol("expected agent_updated".to_owned()));
    };
    out.either(&agent, || {
        let name = sanitize::line(&agent.name);
        if disabled {
            format!(
                "disabled agent @{name}: it ignores mentions until 'warren agent enable {name}'"
            )
        } else {
            format!("enabled agent @{name}")
        }
    })
}

async fn ask(args: AgentAskArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let agent = find_agent(&state.agents, &args.agent)?;
    if agent.disabled {
        let name = sanitize::line(&agent.name);
        return Err(ClientError::Usage(format!(
            "agent @{name} is disabled; enable it with 'warren agent enable {name}'"
        )));
    }
    let room_id = match &args.room {
        Some(room) => Some(find_room(&state, room)?.id.clone()),
        None => None,
    };
    let ack = session
        .command(Command::AskAgent {
            run_id: None,
            agent_id: agent.id.clone(),
            prompt: args.prompt,
            room_id,
            card_id: None,
            tool: args.tool,
        })
        .await?;
    let Change::RunCreated { run } = ack.event.change else {
        return Err(ClientError::Protocol(
            "expected run_created after ask_agent".to_owned(),
        ));
    };
    if args.follow && !out.is_json() {
        // The answer goes to stdout; the run's number to stderr, so `> file` keeps the answer.
        eprintln!("{}", run_output::format_started(&run));
    } else {
        out.either(&run, || run_output::format_started(&run))?;
    }
    if !args.follow {
        return Ok(());
    }
    let names = AgentNames::from_state(&state);
    follow::follow_run(session, out, &run, ack.seq, follow::Mode::Answer, &names).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approve_reads_ask_auto_and_tool_lists() {
        let tools = [ToolName::CardCreate, ToolName::Search, ToolName::JobRun];
        assert_eq!(auto_approve("ask", &tools).ok(), Some(vec![]));
        assert_eq!(
            auto_approve("AUTO", &tools).ok(),
            Some(vec![ToolName::CardCreate, ToolName::JobRun])
        );
        assert_eq!(
            auto_approve("card.create, card.create", &tools).ok(),
            Some(vec![ToolName::CardCreate])
        );
        let err = auto_approve("card.move", &tools)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("add it to --tools") && err.contains("card.create,search,job.run"),
            "{err}"
        );
        let err = auto_approve("sometimes", &tools)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("or ask or auto"), "{err}");
    }
}
