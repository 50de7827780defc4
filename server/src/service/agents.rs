//! Agents: adding, changing and removing the AI members of a workspace. An agent is stored with
//! the member it acts as (a user of its own with no token, role `member`); its name is that
//! member's name, so `@name` reaches it. Each command is one acked event (`agent_created`,
//! `agent_updated`, `agent_deleted`) followed by the member's own event ([`follow_up`]). Every
//! change is audited (`agent.create`, `agent.update`, `agent.delete`).

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::agent::{
    Agent, DEFAULT_AGENT_WALL_SECS, DEFAULT_MAX_STEPS, MAX_AGENT_NAME_CHARS, MAX_CHAIN,
    MAX_PROMPT_BYTES, MAX_STEPS, Provider,
};
use warren_protocol::tool::ToolName;
use warren_protocol::{Change, ErrorCode, Event, Id, Member, Role};

use super::{ApplyError, Ctx, append_event, next_seq, pick_id, text};
use crate::audit::{details, target};
use crate::auth;
use crate::store::encode;
use crate::store::read::{get_json, list_in_workspace};
use crate::store::records::UserRecord;
use crate::store::tables::{AGENTS, MEMBERS, PROVIDERS, USERS};

/// Longest wall-clock limit an agent may give itself, in seconds (a day).
const MAX_WALL_SECS: u64 = 24 * 60 * 60;
/// Longest model name, in characters.
const MAX_MODEL_CHARS: usize = 200;

fn invalid(message: impl Into<String>) -> ApplyError {
    ApplyError::reject(ErrorCode::Validation, message)
}

/// The fields of a `create_agent` command.
pub struct NewAgent<'a> {
    pub agent_id: Option<&'a Id>,
    pub name: &'a str,
    pub providers: &'a [Id],
    pub model: Option<&'a str>,
    pub prompt: &'a str,
    pub tools: &'a [ToolName],
    pub auto_approve: &'a [ToolName],
    pub max_steps: Option<u32>,
    pub max_tokens: Option<u64>,
    pub max_wall_secs: Option<u64>,
}

/// The fields of an `update_agent` command (absent: unchanged).
pub struct AgentChanges<'a> {
    pub name: Option<&'a str>,
    pub providers: Option<&'a [Id]>,
    pub model: Option<Option<&'a str>>,
    pub prompt: Option<&'a str>,
    pub tools: Option<&'a [ToolName]>,
    pub auto_approve: Option<&'a [ToolName]>,
    pub max_steps: Option<u32>,
    pub max_tokens: Option<Option<u64>>,
    pub max_wall_secs: Option<u64>,
    pub disabled: Option<bool>,
}

/// An agent name: letters, digits, `-`, `_` and `.`, so that `@name` in a message reaches it.
fn name(value: &str) -> Result<String, ApplyError> {
    let name = text::one_line("an agent name", value, MAX_AGENT_NAME_CHARS)?;
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(invalid(format!(
            "the agent name {name:?} may hold only letters, digits, '-', '_' and '.', so that \
             @{} reaches it; try {:?}",
            name.replace(char::is_whitespace, "-"),
            name.replace(char::is_whitespace, "-"),
        )));
    }
    Ok(name)
}

fn model(value: &str) -> Result<String, ApplyError> {
    let model = text::one_line("a model name", value, MAX_MODEL_CHARS)?;
    if model.chars().any(char::is_whitespace) {
        return Err(invalid(format!(
            "the model name {model:?} must not contain spaces"
        )));
    }
    Ok(model)
}

fn prompt(value: &str) -> Result<String, ApplyError> {
    text::markdown("an agent's prompt", value, MAX_PROMPT_BYTES, false)
}

fn max_steps(value: u32) -> Result<u32, ApplyError> {
    if (1..=MAX_STEPS).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(format!(
            "max steps must be between 1 and {MAX_STEPS}; {value} is not"
        )))
    }
}

fn max_wall_secs(value: u64) -> Result<u64, ApplyError> {
    if (1..=MAX_WALL_SECS).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(format!(
            "an agent run's time limit must be between 1 s and 24 h; {value} s is not"
        )))
    }
}

fn max_tokens(value: Option<u64>) -> Result<Option<u64>, ApplyError> {
    match value {
        Some(0) => Err(invalid(
            "a token limit of 0 stops every run; leave it out for no limit",
        )),
        other => Ok(other),
    }
}

/// The chain: one to [`MAX_CHAIN`] providers of this workspace, each once.
fn providers(txn: &WriteTransaction, ctx: &Ctx<'_>, ids: &[Id]) -> Result<Vec<Id>, ApplyError> {
    if ids.is_empty() {
        return Err(invalid(
            "an agent needs at least one provider; add one with `warren provider add` and name it with --provider",
        ));
    }
    if ids.len() > MAX_CHAIN {
        return Err(invalid(format!(
            "an agent's chain holds at most {MAX_CHAIN} providers; this one has {}",
            ids.len()
        )));
    }
    let table = txn.open_table(PROVIDERS)?;
    let mut out: Vec<Id> = Vec::with_capacity(ids.len());
    for id in ids {
        let found: Option<Provider> = get_json(&table, "providers", (ctx.ws(), id.as_str()))?;
        if found.is_none() {
            return Err(ApplyError::reject(
                ErrorCode::NotFound,
                format!(
                    "no provider {id} in this workspace; list providers with `warren provider list`"
                ),
            ));
        }
        if out.contains(id) {
            return Err(invalid(format!("the provider {id} is in the chain twice")));
        }
        out.push(id.clone());
    }
    Ok(out)
}

/// Tools without duplicates, in the order given; auto-approved ones must be among them.
fn tools(
    tools: &[ToolName],
    auto: &[ToolName],
) -> Result<(Vec<ToolName>, Vec<ToolName>), ApplyError> {
    let mut out: Vec<ToolName> = Vec::new();
    for tool in tools {
        if !out.contains(tool) {
            out.push(*tool);
        }
    }
    let mut auto_out: Vec<ToolName> = Vec::new();
    for tool in auto {
        if !out.contains(tool) {
            return Err(invalid(format!(
                "the agent may not call {} (it is not among its tools), so it cannot be auto-approved; \
                 add it with --tools first",
                tool.as_str()
            )));
        }
        if !auto_out.contains(tool) {
            auto_out.push(*tool);
        }
    }
    Ok((out, auto_out))
}

/// Loads an agent of the workspace or says how to find one.
pub fn load(txn: &WriteTransaction, ctx: &Ctx<'_>, agent_id: &Id) -> Result<Agent, ApplyError> {
    get_json(
        &txn.open_table(AGENTS)?,
        "agents",
        (ctx.ws(), agent_id.as_str()),
    )?
    .ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!("no agent {agent_id} in this workspace; list agents with `warren agent list`"),
        )
    })
}

/// The agent that acts as `user_id`, if any.
pub fn of_member(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    user_id: &Id,
) -> Result<Option<Agent>, ApplyError> {
    let agents: Vec<Agent> = list_in_workspace(&txn.open_table(AGENTS)?, "agents", ctx.ws())?;
    Ok(agents.into_iter().find(|a| &a.member_id == user_id))
}

/// Refuses a name another member of the workspace has (ignoring case).
fn member_name_taken(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    name: &str,
    except: Option<&Id>,
) -> Result<(), ApplyError> {
    let members: Vec<Member> = list_in_workspace(&txn.open_table(MEMBERS)?, "members", ctx.ws())?;
    if members
        .iter()
        .any(|m| m.name.eq_ignore_ascii_case(name) && Some(&m.user_id) != except)
    {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "a member named {name:?} already exists here, so @{name} would be ambiguous; pick another name"
            ),
        ));
    }
    Ok(())
}

fn store(txn: &WriteTransaction, ctx: &Ctx<'_>, agent: &Agent) -> Result<(), ApplyError> {
    txn.open_table(AGENTS)?.insert(
        (ctx.ws(), agent.id.as_str()),
        encode("agents", agent)?.as_slice(),
    )?;
    Ok(())
}

fn member_of(txn: &WriteTransaction, ctx: &Ctx<'_>, agent: &Agent) -> Result<Member, ApplyError> {
    get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (ctx.ws(), agent.member_id.as_str()),
    )?
    .ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::Internal,
            format!("the member of agent {} is missing", agent.name),
        )
    })
}

pub fn create_agent(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    new: &NewAgent<'_>,
) -> Result<Change, ApplyError> {
    let name = name(new.name)?;
    let (tools, auto_approve) = tools(new.tools, new.auto_approve)?;
    let agent_id = pick_id(new.agent_id, "agent")?;
    if txn
        .open_table(AGENTS)?
        .get((ctx.ws(), agent_id.as_str()))?
        .is_some()
    {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("agent {agent_id} already exists"),
        ));
    }
    let chain = providers(txn, ctx, new.providers)?;
    member_name_taken(txn, ctx, &name, None)?;
    let user = UserRecord {
        id: auth::new_id("usr")?,
        name: name.clone(),
        created_at: ctx.now,
    };
    let agent = Agent {
        id: agent_id,
        name,
        member_id: user.id.clone(),
        providers: chain,
        model: new.model.map(model).transpose()?,
        prompt: prompt(new.prompt)?,
        tools,
        auto_approve,
        max_steps: max_steps(new.max_steps.unwrap_or(DEFAULT_MAX_STEPS))?,
        max_tokens: max_tokens(new.max_tokens)?,
        max_wall_secs: max_wall_secs(new.max_wall_secs.unwrap_or(DEFAULT_AGENT_WALL_SECS))?,
        disabled: false,
        created_by: ctx.actor.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let member = Member {
        user_id: user.id.clone(),
        name: user.name.clone(),
        role: Role::Member,
    };
    txn.open_table(USERS)?
        .insert(user.id.as_str(), encode("users", &user)?.as_slice())?;
    txn.open_table(MEMBERS)?.insert(
        (ctx.ws(), user.id.as_str()),
        encode("members", &member)?.as_slice(),
    )?;
    store(txn, ctx, &agent)?;
    ctx.audit(
        txn,
        "agent.create",
        Some(target::agent(&agent)),
        details([]),
    )?;
    Ok(Change::AgentCreated { agent })
}

pub fn update_agent(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    agent_id: &Id,
    changes: &AgentChanges<'_>,
) -> Result<Change, ApplyError> {
    let mut agent = load(txn, ctx, agent_id)?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(value) = changes.name {
        let value = name(value)?;
        member_name_taken(txn, ctx, &value, Some(&agent.member_id))?;
        if value != agent.name {
            let mut member = member_of(txn, ctx, &agent)?;
            member.name = value.clone();
            txn.open_table(MEMBERS)?.insert(
                (ctx.ws(), member.user_id.as_str()),
                encode("members", &member)?.as_slice(),
            )?;
        }
        agent.name = value;
        changed.push("name");
    }
    if let Some(value) = changes.providers {
        agent.providers = providers(txn, ctx, value)?;
        changed.push("providers");
    }
    if let Some(value) = changes.model {
        agent.model = value.map(model).transpose()?;
        changed.push("model");
    }
    if let Some(value) = changes.prompt {
        agent.prompt = prompt(value)?;
        changed.push("prompt");
    }
    if changes.tools.is_some() || changes.auto_approve.is_some() {
        let wanted_tools = changes.tools.unwrap_or(&agent.tools).to_vec();
        let wanted_auto: Vec<ToolName> = match changes.auto_approve {
            Some(auto) => auto.to_vec(),
            // Fewer tools drop their auto-approval with them.
            None => agent
                .auto_approve
                .iter()
                .copied()
                .filter(|t| wanted_tools.contains(t))
                .collect(),
        };
        let (t, a) = tools(&wanted_tools, &wanted_auto)?;
        agent.tools = t;
        agent.auto_approve = a;
        changed.push("tools");
    }
    if let Some(value) = changes.max_steps {
        agent.max_steps = max_steps(value)?;
        changed.push("max_steps");
    }
    if let Some(value) = changes.max_tokens {
        agent.max_tokens = max_tokens(value)?;
        changed.push("max_tokens");
    }
    if let Some(value) = changes.max_wall_secs {
        agent.max_wall_secs = max_wall_secs(value)?;
        changed.push("max_wall_secs");
    }
    if let Some(value) = changes.disabled {
        agent.disabled = value;
        changed.push("disabled");
    }
    agent.updated_at = ctx.now;
    store(txn, ctx, &agent)?;
    ctx.audit_update(txn, "agent.update", target::agent(&agent), &changed)?;
    Ok(Change::AgentUpdated { agent })
}

pub fn delete_agent(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    agent_id: &Id,
) -> Result<Change, ApplyError> {
    let agent = load(txn, ctx, agent_id)?;
    txn.open_table(AGENTS)?
        .remove((ctx.ws(), agent.id.as_str()))?;
    txn.open_table(MEMBERS)?
        .remove((ctx.ws(), agent.member_id.as_str()))?;
    ctx.audit(
        txn,
        "agent.delete",
        Some(target::agent(&agent)),
        details([]),
    )?;
    Ok(Change::AgentDeleted { agent_id: agent.id })
}

/// After an agent's event was stored: its member's event (`member_added` after
/// `agent_created`, `member_updated` after a rename, `member_removed` after `agent_deleted`),
/// as an event of its own by the same actor.
pub fn follow_up(
    txn: &WriteTransaction,
    event: &Event,
    previous_member: Option<Member>,
) -> Result<Option<(Event, String)>, ApplyError> {
    let change = match (&event.change, previous_member) {
        (Change::AgentCreated { agent }, _) => Change::MemberAdded {
            member: Member {
                user_id: agent.member_id.clone(),
                name: agent.name.clone(),
                role: Role::Member,
            },
        },
        (Change::AgentUpdated { agent }, Some(mut member)) if member.name != agent.name => {
            member.name = agent.name.clone();
            Change::MemberUpdated { member }
        }
        (Change::AgentDeleted { .. }, Some(member)) => Change::MemberRemoved {
            user_id: member.user_id,
        },
        _ => return Ok(None),
    };
    let workspace = &event.workspace_id;
    let ctx = Ctx {
        workspace,
        actor: &event.actor,
        role: Role::Owner,
        scope: warren_protocol::account::TokenScope::Full,
        now: event.at,
        seq: next_seq(txn, workspace)?,
        from: crate::audit::Source::Unknown,
    };
    Ok(Some(append_event(txn, &ctx, None, change)?))
}

/// The member an agent command is about to change (read before the change, for
/// [`follow_up`]).
pub fn member_before(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    agent_id: &Id,
) -> Result<Option<Member>, ApplyError> {
    let Some(agent): Option<Agent> = get_json(
        &txn.open_table(AGENTS)?,
        "agents",
        (ctx.ws(), agent_id.as_str()),
    )?
    else {
        return Ok(None);
    };
    Ok(get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (ctx.ws(), agent.member_id.as_str()),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_can_be_mentioned() {
        assert!(name("reviewer").is_ok());
        assert!(name("release.bot-2").is_ok());
        let err = name("code reviewer")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("\"code-reviewer\""), "{err}");
    }

    #[test]
    fn auto_approved_tools_must_be_tools_and_duplicates_go() {
        let (t, a) = tools(
            &[ToolName::Search, ToolName::CardCreate, ToolName::Search],
            &[ToolName::CardCreate],
        )
        .expect("valid");
        assert_eq!(t, [ToolName::Search, ToolName::CardCreate]);
        assert_eq!(a, [ToolName::CardCreate]);
        assert!(tools(&[ToolName::Search], &[ToolName::JobRun]).is_err());
    }
}
