//! How providers, agents, approval grants and budgets read on the command line (`provider list`,
//! `agent list | show`, `approvals list`, `budget list`); the steps of an agent run
//! ([`steps`]), its Markdown export ([`export`]) and `warren stats` ([`stats`]). Pure functions
//! of their inputs (and the local time zone); every string a person or a model wrote goes
//! through [`sanitize`]. Provider keys are never here: only the name of their variable.

pub mod export;
pub mod stats;
pub mod steps;

use std::collections::HashMap;

use warren_protocol::agent::{Agent, HealthState, Price, Provider, format_usd};
use warren_protocol::budget::{Budget, BudgetScope};
use warren_protocol::step::ApprovalGrant;
use warren_protocol::{Id, WorkspaceState};

use crate::duration;
use crate::localtime::minutes as local_minutes;
use crate::names::Names;
use crate::output::table;
use crate::sanitize;

/// Display names of members, rooms, cards, providers and agents.
#[derive(Debug, Clone, Default)]
pub struct AgentNames {
    pub names: Names,
    providers: HashMap<Id, String>,
    agents: HashMap<Id, String>,
}

impl AgentNames {
    /// Names as of a snapshot.
    pub fn from_state(state: &WorkspaceState) -> Self {
        Self {
            names: Names::from_state(state),
            providers: state
                .providers
                .iter()
                .map(|p| (p.id.clone(), sanitize::line(&p.name)))
                .collect(),
            agents: state
                .agents
                .iter()
                .map(|a| (a.id.clone(), sanitize::line(&a.name)))
                .collect(),
        }
    }

    /// A provider's name, or its id when it is gone.
    pub fn provider(&self, id: &Id) -> String {
        self.providers
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// An agent's name, or its id when it is gone.
    pub fn agent(&self, id: &Id) -> String {
        self.agents
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// What a budget covers: `workspace`, `agent reviewer`, `room #general`.
    pub fn scope(&self, scope: &BudgetScope) -> String {
        match scope {
            BudgetScope::Workspace => "workspace".to_owned(),
            BudgetScope::Agent { agent_id } => format!("agent {}", self.agent(agent_id)),
            BudgetScope::Room { room_id } => format!("room {}", self.names.room(room_id)),
        }
    }
}

/// A price per million tokens: `$0.15 in / $0.60 out`, or `free`.
pub fn price(p: &Price) -> String {
    if p.input_per_mtok == 0 && p.output_per_mtok == 0 {
        return "free".to_owned();
    }
    format!(
        "{} in / {} out",
        format_usd(p.input_per_mtok),
        format_usd(p.output_per_mtok)
    )
}

/// A health state in words: `ok`, `degraded`, `circuit open`.
pub fn health_word(state: HealthState) -> &'static str {
    match state {
        HealthState::Ok => "ok",
        HealthState::Degraded => "degraded",
        HealthState::CircuitOpen => "circuit open",
    }
}

/// How long ago `at_ms` was: `42s ago`.
pub fn ago(at_ms: i64, now_ms: i64) -> String {
    format!("{} ago", duration::format_ms(now_ms.saturating_sub(at_ms)))
}

/// `warren provider list`: name, kind, models, price, key variable, health, last error, when.
pub fn format_providers(providers: &[Provider], now_ms: i64) -> String {
    if providers.is_empty() {
        return "no providers; add one with 'warren provider add NAME --kind openai --base-url URL --model M'\n"
            .to_owned();
    }
    let rows: Vec<Vec<String>> = providers
        .iter()
        .map(|p| {
            let models: Vec<String> = p.models.iter().map(|m| sanitize::line(m)).collect();
            let (health, error, when) = match &p.health {
                None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
                Some(h) => (
                    health_word(h.state).to_owned(),
                    match (&h.last_error, &h.message) {
                        (Some(class), Some(m)) => {
                            format!("{}: {}", class_word(*class), sanitize::line(m))
                        }
                        (Some(class), None) => class_word(*class).to_owned(),
                        (None, Some(m)) => sanitize::line(m),
                        (None, None) => "-".to_owned(),
                    },
                    ago(h.at, now_ms),
                ),
            };
            vec![
                sanitize::line(&p.name),
                p.kind.as_str().to_owned(),
                models.join(","),
                price(&p.price),
                p.key_env
                    .as_deref()
                    .map_or("-".to_owned(), |k| format!("${}", sanitize::line(k))),
                health,
                when,
                error,
            ]
        })
        .collect();
    table(
        &[
            "PROVIDER",
            "KIND",
            "MODELS",
            "PRICE/MTOK",
            "KEY",
            "HEALTH",
            "REPORTED",
            "LAST ERROR",
        ],
        &rows,
    )
}

/// A failure class in words: `rate limit`, `bad response`.
pub fn class_word(class: warren_protocol::agent::ProviderErrorClass) -> &'static str {
    use warren_protocol::agent::ProviderErrorClass as C;
    match class {
        C::RateLimit => "rate limit",
        C::Auth => "auth",
        C::Network => "network",
        C::Server => "server",
        C::Timeout => "timeout",
        C::BadResponse => "bad response",
        C::BadRequest => "bad request",
        C::Cancelled => "cancelled",
    }
}

fn tools(list: &[warren_protocol::tool::ToolName]) -> String {
    if list.is_empty() {
        return "-".to_owned();
    }
    list.iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn chain(agent: &Agent, names: &AgentNames) -> String {
    agent
        .providers
        .iter()
        .map(|p| names.provider(p))
        .collect::<Vec<_>>()
        .join(",")
}

/// What the agent may do without asking: `ask` (every tool that changes something asks),
/// `auto` (none asks), or the tools that do not ask.
pub fn approve_summary(agent: &Agent) -> String {
    let asking: Vec<_> = agent
        .tools
        .iter()
        .filter(|t| t.changes_state())
        .filter(|t| !agent.auto_approve.contains(t))
        .collect();
    let changing = agent.tools.iter().filter(|t| t.changes_state()).count();
    if agent.auto_approve.is_empty() {
        "ask".to_owned()
    } else if asking.is_empty() && changing > 0 {
        "auto".to_owned()
    } else {
        format!("auto: {}", tools(&agent.auto_approve))
    }
}

fn limits(agent: &Agent) -> String {
    let mut parts = vec![
        format!("{} steps", agent.max_steps),
        duration::format_secs_exact(agent.max_wall_secs),
    ];
    if let Some(t) = agent.max_tokens {
        parts.push(format!("{t} tokens"));
    }
    parts.join(", ")
}

/// `warren agent list`.
pub fn format_agents(agents: &[Agent], names: &AgentNames) -> String {
    if agents.is_empty() {
        return "no agents; add one with 'warren agent add NAME --provider P'\n".to_owned();
    }
    let rows: Vec<Vec<String>> = agents
        .iter()
        .map(|a| {
            vec![
                format!("@{}", sanitize::line(&a.name)),
                if a.disabled { "disabled" } else { "enabled" }.to_owned(),
                chain(a, names),
                a.model
                    .as_deref()
                    .map_or("(default)".to_owned(), sanitize::line),
                tools(&a.tools),
                approve_summary(a),
                limits(a),
            ]
        })
        .collect();
    table(
        &[
            "AGENT",
            "STATE",
            "PROVIDERS",
            "MODEL",
            "TOOLS",
            "APPROVE",
            "LIMITS",
        ],
        &rows,
    )
}

/// `warren agent show`: every field, the prompt last, and the agent's budgets.
pub fn format_agent_detail(agent: &Agent, names: &AgentNames, budgets: &[Budget]) -> String {
    let mut out = format!(
        "@{}  {}\n",
        sanitize::line(&agent.name),
        if agent.disabled {
            "disabled"
        } else {
            "enabled"
        }
    );
    let mut field = |key: &str, value: String| out.push_str(&format!("  {key:<11}{value}\n"));
    field("id", agent.id.to_string());
    field("member", names.names.member(&agent.member_id));
    field("providers", chain(agent, names));
    field(
        "model",
        agent
            .model
            .as_deref()
            .map_or("(each provider's default)".to_owned(), sanitize::line),
    );
    field("tools", tools(&agent.tools));
    field("approve", approve_summary(agent));
    field("max steps", agent.max_steps.to_string());
    field(
        "max tokens",
        agent
            .max_tokens
            .map_or("no limit".to_owned(), |t| t.to_string()),
    );
    field("max wall", duration::format_secs_exact(agent.max_wall_secs));
    for b in budgets {
        field("budget", budget_line(b));
    }
    field(
        "created",
        format!(
            "{} by {}",
            local_minutes(agent.created_at),
            names.names.member(&agent.created_by)
        ),
    );
    let prompt = sanitize::block(&agent.prompt);
    if prompt.trim().is_empty() {
        out.push_str("  prompt     (none)\n");
    } else {
        out.push_str("  prompt\n");
        for line in prompt.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

/// `$3.81 of $5.00 per month (76%, $1.19 left)`.
pub fn budget_line(b: &Budget) -> String {
    format!(
        "{} of {} per {} ({}%, {} left)",
        format_usd(b.spent),
        format_usd(b.limit),
        b.period.as_str(),
        b.percent(),
        format_usd(b.left())
    )
}

/// `warren budget list`: scope, limit, spent, left, %, period and when it started.
pub fn format_budgets(budgets: &[Budget], names: &AgentNames) -> String {
    if budgets.is_empty() {
        return "no budgets; set one with 'warren budget set workspace 20usd/month'\n".to_owned();
    }
    let rows: Vec<Vec<String>> = budgets
        .iter()
        .map(|b| {
            vec![
                names.scope(&b.scope),
                format_usd(b.limit),
                format_usd(b.spent),
                format_usd(b.left()),
                format!(
                    "{}%{}",
                    b.percent(),
                    if b.exhausted() { " exhausted" } else { "" }
                ),
                b.period.as_str().to_owned(),
                local_minutes(b.period_start),
            ]
        })
        .collect();
    table(
        &["SCOPE", "LIMIT", "SPENT", "LEFT", "USED", "PERIOD", "SINCE"],
        &rows,
    )
}

/// `warren approvals list`: each "approve always" grant.
pub fn format_grants(grants: &[ApprovalGrant], names: &AgentNames) -> String {
    if grants.is_empty() {
        return "no standing approvals (they are made with 'warren run approve RUN --always')\n"
            .to_owned();
    }
    let rows: Vec<Vec<String>> = grants
        .iter()
        .map(|g| {
            vec![
                g.id.to_string(),
                format!("@{}", names.agent(&g.agent_id)),
                g.tool.as_str().to_owned(),
                names.names.member(&g.granted_by),
                local_minutes(g.granted_at),
                g.run_id.as_ref().map_or("-".to_owned(), Id::to_string),
            ]
        })
        .collect();
    table(&["GRANT", "AGENT", "TOOL", "BY", "WHEN", "RUN"], &rows)
}

#[cfg(test)]
pub(crate) mod tests;
