//! Starting agent runs: `ask_agent`, and `@name` in a room message (a follow-up of its
//! `message_posted`: one run per mentioned, enabled agent, at most [`MAX_MENTIONS`], only when
//! the poster may `agent:ask` and is not an agent itself).

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::agent::{Agent, AgentRun, MAX_ASK_BYTES};
use warren_protocol::permission::Permission;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::tool::ToolName;
use warren_protocol::{Change, ErrorCode, Event, Id, Message};

use super::{ApplyError, Ctx, role_of};
use crate::runs::RunState;
use crate::runs::effects::Effects;
use crate::service::runs::{new_run, store_new_run};
use crate::service::{append_event, next_seq, text};
use crate::store::read::list_in_workspace;
use crate::store::tables::{AGENTS, CARDS, ROOMS};

/// Most agents one message starts runs of.
pub const MAX_MENTIONS: usize = 3;

/// The fields of `ask_agent`.
pub struct Ask<'a> {
    pub run_id: Option<&'a Id>,
    pub agent_id: &'a Id,
    pub prompt: &'a str,
    pub room_id: Option<&'a Id>,
    pub card_id: Option<&'a Id>,
    /// The tool the first model call must call, as typed (`card.create`).
    pub tool: Option<&'a str>,
}

/// What a new agent run is made of.
pub struct NewAgentRun<'a> {
    pub run_id: Option<&'a Id>,
    /// `job_id` and `job_name` of the run: the agent's (or, for a probe, the provider's).
    pub job: (&'a Id, &'a str),
    pub agent_id: &'a Id,
    pub prompt: String,
    pub room_id: Option<&'a Id>,
    pub card_id: Option<&'a Id>,
    pub message_id: Option<&'a Id>,
    pub probe_provider_id: Option<&'a Id>,
    /// The tool the run's first model call must call (`ask_agent`'s `tool` only).
    pub force_tool: Option<ToolName>,
}

/// Stores a new `queued` agent run (numbered like every run) and returns it.
pub fn create_run(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    new: &NewAgentRun<'_>,
    state: &RunState,
) -> Result<Run, ApplyError> {
    let mut run = new_run(txn, ctx, new.run_id, new.job, RunStatus::Queued)?;
    run.card_id = new.card_id.cloned();
    run.room_id = new.room_id.cloned();
    run.agent = Some(Box::new(AgentRun {
        agent_id: new.agent_id.clone(),
        prompt: new.prompt.clone(),
        message_id: new.message_id.cloned(),
        reply_message_id: None,
        probe_provider_id: new.probe_provider_id.cloned(),
        steps: 0,
        usage: Default::default(),
        cost: 0,
        paused_reason: None,
        force_tool: new.force_tool,
    }));
    store_new_run(txn, ctx, &run, state)?;
    Ok(run)
}

fn exists(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    table: redb::TableDefinition<(&str, &str), &[u8]>,
    what: &str,
    id: Option<&Id>,
) -> Result<(), ApplyError> {
    if let Some(id) = id
        && txn
            .open_table(table)?
            .get((ctx.ws(), id.as_str()))?
            .is_none()
    {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("no {what} {id} in this workspace"),
        ));
    }
    Ok(())
}

/// The tool `ask_agent` names, when the agent has it; the refusal names the agent's tools.
fn forced_tool(agent: &Agent, tool: Option<&str>) -> Result<Option<ToolName>, ApplyError> {
    let Some(typed) = tool else {
        return Ok(None);
    };
    let has = agent
        .tools
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    // Quoted with escapes and cut: the text is the caller's, echoed back.
    let shown: String = typed.chars().take(40).collect();
    let why = match ToolName::parse(typed) {
        Some(t) if agent.tools.contains(&t) => return Ok(Some(t)),
        Some(t) => format!(
            "the agent {} does not have the tool {}",
            agent.name,
            t.as_str()
        ),
        None => format!("there is no tool {shown:?}"),
    };
    let next = if has.is_empty() {
        format!(
            "it has no tools; an admin can give it some with `warren agent edit {} --tools card.create,search`",
            agent.name
        )
    } else {
        format!("its tools: {has}; name one of those, or ask without a tool")
    };
    Err(ApplyError::reject(
        ErrorCode::Validation,
        format!("{why}; {next}"),
    ))
}

/// `ask_agent`: a new run of an enabled agent.
pub fn ask_agent(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    ask: &Ask<'_>,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let agent = crate::service::agents::load(txn, ctx, ask.agent_id)?;
    if agent.disabled {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "the agent {} is disabled; an admin can enable it again with `warren agent edit {} --enable`",
                agent.name, agent.name
            ),
        ));
    }
    let prompt = text::markdown("a question to an agent", ask.prompt, MAX_ASK_BYTES, true)?;
    exists(txn, ctx, ROOMS, "room", ask.room_id)?;
    exists(txn, ctx, CARDS, "card", ask.card_id)?;
    let force_tool = forced_tool(&agent, ask.tool)?;
    let new = NewAgentRun {
        run_id: ask.run_id,
        job: (&agent.id, &agent.name),
        agent_id: &agent.id,
        prompt,
        room_id: ask.room_id,
        card_id: ask.card_id,
        message_id: None,
        probe_provider_id: None,
        force_tool,
    };
    let run = create_run(txn, ctx, &new, state)?;
    fx.schedule = true;
    Ok(Change::RunCreated { run })
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// The names mentioned as `@name` in `body` (a mention starts the text or follows a character
/// that cannot be part of a name), in order, without duplicates (ignoring ASCII case).
pub fn mentioned(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in body.char_indices() {
        if c == '@' && !prev.is_some_and(|p| name_char(p) || p == '@') {
            let rest = &body[i + 1..];
            let end = rest.find(|ch: char| !name_char(ch)).unwrap_or(rest.len());
            let name = rest[..end].trim_end_matches('.');
            if !name.is_empty() && !out.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                out.push(name.to_owned());
            }
        }
        prev = Some(c);
    }
    out
}

/// The question without the mentions of `agents` (the whole body if nothing else is left),
/// within [`MAX_ASK_BYTES`].
fn question(body: &str, agents: &[&Agent]) -> String {
    let mut text = body.to_owned();
    for agent in agents {
        let mention = format!("@{}", agent.name);
        while let Some(at) = text.to_lowercase().find(&mention.to_lowercase()) {
            text.replace_range(at..at + mention.len(), "");
        }
    }
    let text = text.trim().trim_start_matches([',', ':']).trim();
    let text = if text.is_empty() { body.trim() } else { text };
    super::steps::cut(text, MAX_ASK_BYTES).0
}

/// After a `message_posted`: a run for each enabled agent the message mentions, when its poster
/// may ask agents. Mentions are text: an unknown or disabled name starts nothing and is no error.
pub fn mentions(
    txn: &WriteTransaction,
    event: &Event,
    message: &Message,
    state: &RunState,
) -> Result<Vec<(Event, String)>, ApplyError> {
    let names = mentioned(&message.body);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let workspace = &event.workspace_id;
    let agents: Vec<Agent> =
        list_in_workspace(&txn.open_table(AGENTS)?, "agents", workspace.as_str())?;
    if agents.iter().any(|a| a.member_id == message.author) {
        // Agents do not start each other (nor themselves) by mentioning.
        return Ok(Vec::new());
    }
    let Some(role) = role_of(txn, workspace, &message.author)? else {
        return Ok(Vec::new());
    };
    if !role.may(Permission::AgentAsk) {
        return Ok(Vec::new());
    }
    let chosen: Vec<&Agent> = names
        .iter()
        .filter_map(|n| {
            agents
                .iter()
                .find(|a| !a.disabled && a.name.eq_ignore_ascii_case(n))
        })
        .take(MAX_MENTIONS)
        .collect();
    let prompt = question(&message.body, &chosen);
    let mut out = Vec::new();
    for agent in chosen {
        let ctx = Ctx {
            workspace,
            actor: &message.author,
            role,
            scope: warren_protocol::account::TokenScope::Full,
            now: event.at,
            seq: next_seq(txn, workspace)?,
            from: crate::audit::Source::Unknown,
        };
        let new = NewAgentRun {
            run_id: None,
            job: (&agent.id, &agent.name),
            agent_id: &agent.id,
            prompt: prompt.clone(),
            room_id: Some(&message.room_id),
            card_id: None,
            message_id: Some(&message.id),
            probe_provider_id: None,
            // A mention never forces a tool.
            force_tool: None,
        };
        let run = create_run(txn, &ctx, &new, state)?;
        out.push(append_event(txn, &ctx, None, Change::RunCreated { run })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_names_after_an_at_sign_not_inside_words() {
        assert_eq!(
            mentioned("@reviewer what blocks the release? cc @Ops."),
            ["reviewer", "Ops"]
        );
        assert!(mentioned("mail ada@example.com").is_empty());
        assert_eq!(mentioned("(@a.b-c) @a.b-c @A.B-C"), ["a.b-c"]);
        assert!(mentioned("@ alone, @@double").is_empty());
    }
}
