//! `agent export` and `agent import`: agents and the providers they use as a TOML or JSON file
//! that names providers by name (ids differ between workspaces). Providers carry no key — only
//! the name of the variable that holds it where workers run. An import refuses an agent whose
//! name exists, and a provider whose name exists with another kind or address, before it
//! creates anything; a provider that exists as written is used as it is.

use std::path::Path;

use serde::{Deserialize, Serialize};
use warren_protocol::agent::{Agent, Price, Provider, ProviderKind};
use warren_protocol::tool::ToolName;
use warren_protocol::{Change, Command, WorkspaceState};

use crate::cli::agents::{AgentExportArgs, ExportFormat};
use crate::commands::Out;
use crate::error::ClientError;
use crate::resolve::find_agent;
use crate::sanitize;
use crate::session::Session;

/// The file: a version and the two lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportFile {
    /// 1.
    pub warren_agents: u32,
    #[serde(default, rename = "provider", skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ExportProvider>,
    #[serde(default, rename = "agent", skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<ExportAgent>,
}

/// A provider without its id, health or key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportProvider {
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    /// The variable's name on the workers, never a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    pub models: Vec<String>,
    /// Micro-dollars per million tokens (`150000` is $0.15).
    #[serde(default)]
    pub price: Price,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u32>,
}

/// An agent with its providers by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportAgent {
    pub name: String,
    pub providers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto_approve: Vec<ToolName>,
    pub max_steps: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    pub max_wall_secs: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// The file for `agents` of `state` (and every provider they name).
pub fn build(state: &WorkspaceState, agents: &[&Agent]) -> ExportFile {
    let provider_name = |id: &warren_protocol::Id| {
        state
            .providers
            .iter()
            .find(|p| &p.id == id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    };
    let mut providers: Vec<ExportProvider> = Vec::new();
    for p in &state.providers {
        let used = agents.iter().any(|a| a.providers.contains(&p.id));
        if used {
            providers.push(export_provider(p));
        }
    }
    ExportFile {
        warren_agents: 1,
        providers,
        agents: agents
            .iter()
            .map(|a| ExportAgent {
                name: a.name.clone(),
                providers: a.providers.iter().map(provider_name).collect(),
                model: a.model.clone(),
                prompt: a.prompt.clone(),
                tools: a.tools.clone(),
                auto_approve: a.auto_approve.clone(),
                max_steps: a.max_steps,
                max_tokens: a.max_tokens,
                max_wall_secs: a.max_wall_secs,
                disabled: a.disabled,
            })
            .collect(),
    }
}

fn export_provider(p: &Provider) -> ExportProvider {
    ExportProvider {
        name: p.name.clone(),
        kind: p.kind,
        base_url: p.base_url.clone(),
        key_env: p.key_env.clone(),
        models: p.models.clone(),
        price: p.price,
        context_tokens: p.context_tokens,
    }
}

/// The file as text.
pub fn render(file: &ExportFile, format: ExportFormat) -> Result<String, ClientError> {
    match format {
        ExportFormat::Json => serde_json::to_string_pretty(file)
            .map(|s| s + "\n")
            .map_err(|e| ClientError::Protocol(e.to_string())),
        ExportFormat::Toml => toml::to_string(file)
            .map(|s| format!("# warren agents: 'warren agent import FILE' creates them\n{s}"))
            .map_err(|e| ClientError::Protocol(e.to_string())),
    }
}

/// Reads an export: JSON for `.json` files and text starting with `{`, TOML otherwise.
pub fn parse(path: &Path, text: &str) -> Result<ExportFile, ClientError> {
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    let shown = path.display();
    let file: ExportFile = if json {
        serde_json::from_str(text).map_err(|e| {
            ClientError::Usage(format!(
                "{shown} is not an agents export ({e}); make one with 'warren agent export --format json'"
            ))
        })?
    } else {
        toml::from_str(text).map_err(|e| {
            ClientError::Usage(format!(
                "{shown} is not an agents export: {e}; make one with 'warren agent export'"
            ))
        })?
    };
    if file.warren_agents != 1 {
        return Err(ClientError::Usage(format!(
            "{shown} is an agents export of version {}, which this warren does not know; upgrade warren",
            file.warren_agents
        )));
    }
    Ok(file)
}

/// What an import will do, or why it must not start.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// Providers to create.
    pub create: Vec<ExportProvider>,
    /// Providers of the file that exist already as written.
    pub reuse: Vec<String>,
}

/// Checks an import against the workspace before anything is created.
pub fn plan(file: &ExportFile, state: &WorkspaceState) -> Result<Plan, ClientError> {
    let clash: Vec<String> = file
        .agents
        .iter()
        .filter(|a| {
            state
                .agents
                .iter()
                .any(|e| e.name.eq_ignore_ascii_case(&a.name))
                || state
                    .members
                    .iter()
                    .any(|m| m.name.eq_ignore_ascii_case(&a.name))
        })
        .map(|a| sanitize::line(&a.name))
        .collect();
    if !clash.is_empty() {
        return Err(ClientError::Usage(format!(
            "not imported: the workspace already has a member or agent named {}; rename them in the file (or remove them here with 'warren agent rm NAME') and import again",
            clash.join(", ")
        )));
    }
    let mut create = Vec::new();
    let mut reuse = Vec::new();
    for p in &file.providers {
        match state
            .providers
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(&p.name))
        {
            None => create.push(p.clone()),
            Some(e)
                if e.kind == p.kind
                    && e.base_url.trim_end_matches('/') == p.base_url.trim_end_matches('/') =>
            {
                reuse.push(e.name.clone())
            }
            Some(e) => {
                return Err(ClientError::Usage(format!(
                    "not imported: provider {} exists here as {} at {}, but the file has {} at {}; rename it in the file and in its agents' providers, then import again",
                    sanitize::line(&e.name),
                    e.kind.as_str(),
                    sanitize::line(&e.base_url),
                    p.kind.as_str(),
                    sanitize::line(&p.base_url)
                )));
            }
        }
    }
    for a in &file.agents {
        for name in &a.providers {
            let known = file
                .providers
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(name))
                || state
                    .providers
                    .iter()
                    .any(|p| p.name.eq_ignore_ascii_case(name));
            if !known {
                return Err(ClientError::Usage(format!(
                    "not imported: agent {} uses provider {}, which is neither in the file nor in this workspace; add it to the file or with 'warren provider add'",
                    sanitize::line(&a.name),
                    sanitize::line(name)
                )));
            }
        }
    }
    Ok(Plan { create, reuse })
}

pub(super) async fn export(
    args: AgentExportArgs,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let agents: Vec<&Agent> = match &args.agent {
        Some(key) => vec![find_agent(&state.agents, key)?],
        None => state.agents.iter().collect(),
    };
    if agents.is_empty() {
        return Err(ClientError::NotFound(
            "no agents to export; add one with 'warren agent add NAME --provider P'".to_owned(),
        ));
    }
    let file = build(&state, &agents);
    let format = if out.is_json() {
        ExportFormat::Json
    } else {
        args.format
    };
    let text = render(&file, format)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| ClientError::Usage(format!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "wrote {} agent(s) and {} provider(s) to {}",
                file.agents.len(),
                file.providers.len(),
                path.display()
            );
            Ok(())
        }
        None => out.raw(&text),
    }
}

pub(super) async fn import(
    path: &Path,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ClientError::Usage(format!(
            "cannot read {}: {e}; give the file 'warren agent export' wrote",
            path.display()
        ))
    })?;
    let file = parse(path, &text)?;
    let mut state = session.snapshot().await?;
    let plan = plan(&file, &state)?;
    for p in &plan.create {
        let key_env = p
            .key_env
            .as_deref()
            .map(super::super::provider::check_key_env)
            .transpose()?;
        let ack = session
            .command(Command::CreateProvider {
                provider_id: None,
                name: p.name.clone(),
                kind: p.kind,
                base_url: p.base_url.clone(),
                key_env,
                models: p.models.clone(),
                price: p.price,
                context_tokens: p.context_tokens,
            })
            .await?;
        if let Change::ProviderCreated { provider } = ack.event.change {
            out.either(&provider, || {
                format!("added provider {}", sanitize::line(&provider.name))
            })?;
            state.providers.push(provider);
        }
    }
    for name in &plan.reuse {
        if !out.is_json() {
            eprintln!(
                "provider {} exists here already; using it",
                sanitize::line(name)
            );
        }
    }
    for a in &file.agents {
        let providers = a
            .providers
            .iter()
            .map(|n| crate::resolve::find_provider(&state.providers, n).map(|p| p.id.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let ack = session
            .command(Command::CreateAgent {
                agent_id: None,
                name: a.name.clone(),
                providers,
                model: a.model.clone(),
                prompt: a.prompt.clone(),
                tools: a.tools.clone(),
                auto_approve: a.auto_approve.clone(),
                max_steps: Some(a.max_steps),
                max_tokens: a.max_tokens,
                max_wall_secs: Some(a.max_wall_secs),
            })
            .await?;
        let Change::AgentCreated { agent } = ack.event.change else {
            return Err(ClientError::Protocol("expected agent_created".to_owned()));
        };
        let agent = if a.disabled {
            let ack = session
                .command(super::disable_command(&agent.id, true))
                .await?;
            match ack.event.change {
                Change::AgentUpdated { agent } => agent,
                _ => agent,
            }
        } else {
            agent
        };
        out.either(&agent, || {
            format!("added agent @{}", sanitize::line(&agent.name))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent_output::tests::{agent, provider};

    fn state() -> WorkspaceState {
        let mut state = crate::resolve::tests::state();
        state.providers = vec![
            provider("openai", "prov_openai"),
            provider("local", "prov_local"),
        ];
        state.agents = vec![agent()];
        state
    }

    #[test]
    fn an_export_round_trips_in_both_formats_and_names_providers_not_ids() {
        let state = state();
        let file = build(&state, &[&state.agents[0]]);
        assert_eq!(file.agents[0].providers, ["openai", "local"]);
        assert_eq!(file.providers.len(), 2);
        for format in [ExportFormat::Toml, ExportFormat::Json] {
            let text = render(&file, format).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                text.contains("OPENAI_API_KEY") && !text.contains("prov_"),
                "{text}"
            );
            let ext = if format == ExportFormat::Json {
                "a.json"
            } else {
                "a.toml"
            };
            let back = parse(Path::new(ext), &text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(back, file);
        }
        let toml = render(&file, ExportFormat::Toml).unwrap_or_default();
        assert!(
            toml.contains("[[agent]]") && toml.contains("[[provider]]"),
            "{toml}"
        );
    }

    #[test]
    fn an_import_refuses_duplicates_before_creating_anything() {
        let state = state();
        let file = build(&state, &[&state.agents[0]]);
        // Same workspace: the agent's name is taken.
        let err = plan(&file, &state)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("already has a member or agent named reviewer"),
            "{err}"
        );
        // Elsewhere: the providers that exist as written are used, the others created.
        let mut other = crate::resolve::tests::state();
        other.providers = vec![provider("openai", "prov_x")];
        let p = plan(&file, &other).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.reuse, ["openai"]);
        assert_eq!(
            p.create.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["local"]
        );
        // A provider of that name pointing elsewhere is a clash.
        other.providers[0].base_url = "https://api.groq.com/openai/v1".into();
        let err = plan(&file, &other)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("provider openai exists here as openai at https://api.groq.com"),
            "{err}"
        );
        // A file whose agent names a provider nobody has.
        let mut lonely = file.clone();
        lonely.providers.clear();
        let err = plan(&lonely, &crate::resolve::tests::state())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("uses provider openai, which is neither in the file"),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_an_export_says_how_to_make_one() {
        let err = parse(Path::new("x.toml"), "name = 3")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("make one with 'warren agent export'"), "{err}");
        let err = parse(Path::new("x.json"), "{\"warren_agents\": 2}")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("version 2"), "{err}");
    }
}
