//! The agents' command line (issue 9): `provider`, `agent`, `approvals`, `budget` and `stats`,
//! declared with clap like the rest of [`crate::cli`]. Values with a spelling of their own
//! (money, budgets, tools, durations) are read here, so a mistake is a usage error that shows
//! how to write them.

use clap::{Args, Subcommand};
use warren_protocol::agent::{MicroUsd, ProviderKind};
use warren_protocol::tool::ToolName;

use crate::agent_output::stats::GroupBy;

/// `warren provider …`
#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Add a model provider: an HTTP API the workers call (needs provider:manage). Its key stays
    /// on the workers, in the environment variable --key-env names.
    Add(ProviderAddArgs),
    /// List providers: kind, models, prices, key variable, and health as workers report it (ok,
    /// degraded, circuit open; the last error and when).
    List,
    /// Change a provider's fields (only those given).
    Edit(ProviderEditArgs),
    /// Test a provider from a worker: one short model call, as a run (prints its number).
    Test {
        /// Provider name (case-insensitive) or id.
        provider: String,
        /// Wait for the call's outcome and print it; exit 0 when it answered, 1 otherwise.
        #[arg(long, short)]
        follow: bool,
    },
    /// Remove a provider no agent uses.
    Rm {
        /// Provider name (case-insensitive) or id.
        provider: String,
    },
}

/// `warren provider add`
#[derive(Debug, Args)]
pub struct ProviderAddArgs {
    /// The provider's name (unique in the workspace).
    pub name: String,
    /// The API it speaks: openai (every OpenAI-compatible server: OpenAI, Groq, OpenRouter,
    /// vLLM, llama.cpp, Ollama's /v1), anthropic, gemini or ollama (Ollama's own API).
    #[arg(long, value_parser = parse_kind, value_name = "KIND")]
    pub kind: ProviderKind,
    /// Such as https://api.openai.com/v1 or http://127.0.0.1:8080/v1.
    #[arg(long, value_name = "URL")]
    pub base_url: String,
    /// The NAME of the environment variable that holds the key where workers run (such as
    /// OPENAI_API_KEY) — never the key itself. Leave it out for servers without keys.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// A model it serves; repeat for several (the first is the default).
    #[arg(long = "model", value_name = "MODEL", required = true)]
    pub models: Vec<String>,
    /// Dollars per million input tokens, such as 0.15.
    #[arg(long, value_name = "USD_PER_MTOK", value_parser = parse_money, requires = "price_out")]
    pub price_in: Option<MicroUsd>,
    /// Dollars per million output tokens, such as 0.60.
    #[arg(long, value_name = "USD_PER_MTOK", value_parser = parse_money, requires = "price_in")]
    pub price_out: Option<MicroUsd>,
    /// The models' context window in tokens (for the "% of context used" figure).
    #[arg(long = "context", value_name = "TOKENS")]
    pub context: Option<u32>,
}

/// `warren provider edit`
#[derive(Debug, Args)]
pub struct ProviderEditArgs {
    /// Provider name (case-insensitive) or id.
    pub provider: String,
    /// A new name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A new base URL.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Another environment variable for the key (its name, never the key).
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// The provider needs no key.
    #[arg(long, conflicts_with = "key_env")]
    pub no_key_env: bool,
    /// Replace the models with these; repeat for several (the first is the default).
    #[arg(long = "model", value_name = "MODEL")]
    pub models: Vec<String>,
    /// New dollars per million input tokens (the output price stays unless given).
    #[arg(long, value_name = "USD_PER_MTOK", value_parser = parse_money)]
    pub price_in: Option<MicroUsd>,
    /// New dollars per million output tokens.
    #[arg(long, value_name = "USD_PER_MTOK", value_parser = parse_money)]
    pub price_out: Option<MicroUsd>,
    /// A new context window in tokens.
    #[arg(long = "context", value_name = "TOKENS")]
    pub context: Option<u32>,
    /// Forget the context window.
    #[arg(long, conflicts_with = "context")]
    pub no_context: bool,
}

/// `warren agent …`
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Add an agent: a member of the workspace that answers @NAME and 'agent ask' with a
    /// language model (needs agent:manage).
    Add(AgentAddArgs),
    /// List agents: state, provider chain, model, tools, approvals and limits.
    List,
    /// Show an agent in full: its prompt, limits and budgets.
    Show {
        /// Agent name (case-insensitive, @ optional) or id.
        agent: String,
    },
    /// Change an agent's fields (only those given).
    Edit(AgentEditArgs),
    /// Stop an agent answering: it ignores mentions and refuses 'agent ask'.
    Disable {
        /// Agent name (case-insensitive, @ optional) or id.
        agent: String,
    },
    /// Let a disabled agent answer again.
    Enable {
        /// Agent name (case-insensitive, @ optional) or id.
        agent: String,
    },
    /// Remove an agent and its member (its runs and messages stay).
    Rm {
        /// Agent name (case-insensitive, @ optional) or id.
        agent: String,
    },
    /// Write agents and the providers they use to a file (TOML or JSON; never keys, only the
    /// names of their variables), for 'agent import' in another workspace.
    Export(AgentExportArgs),
    /// Create the agents (and providers) of an 'agent export' file; refuses names that exist.
    Import {
        /// The file (.toml or .json).
        file: std::path::PathBuf,
    },
    /// Ask an agent something from the shell: prints the run (r12 queued); with --follow,
    /// streams the answer to stdout.
    Ask(AgentAskArgs),
}

/// `warren agent add`
#[derive(Debug, Args)]
pub struct AgentAddArgs {
    /// The agent's name, also its member name (@NAME reaches it).
    pub name: String,
    #[command(flatten)]
    pub fields: AgentFields,
    /// A spending limit for this agent's runs: 5usd/day, 20usd/week, 50usd/month.
    #[arg(long, value_name = "AMOUNT/PERIOD", value_parser = parse_budget)]
    pub budget: Option<(MicroUsd, warren_protocol::budget::BudgetPeriod)>,
}

/// What `agent add` and `agent edit` share.
#[derive(Debug, Args)]
pub struct AgentFields {
    /// The providers to try, in order: main,backup (names or ids).
    #[arg(long = "provider", value_name = "P[,FALLBACK…]", value_delimiter = ',')]
    pub providers: Vec<String>,
    /// The model to ask for (default: each provider's first model).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// The agent's instructions (warren puts its own rules before them).
    #[arg(long, value_name = "TEXT", conflicts_with = "prompt_file")]
    pub prompt: Option<String>,
    /// Read the instructions from a file.
    #[arg(long, value_name = "FILE")]
    pub prompt_file: Option<std::path::PathBuf>,
    /// The tools it may call: card.create,card.move,message.post,job.run,search.
    #[arg(long, value_name = "TOOLS", value_delimiter = ',', value_parser = parse_tool)]
    pub tools: Vec<ToolName>,
    /// Which tool calls wait for a person: ask (every tool that changes something; the
    /// default), auto (none), or the tools that go ahead without asking: card.create,….
    #[arg(long, value_name = "ask|auto|TOOL,…")]
    pub approve: Option<String>,
    /// Most steps (model calls plus tool calls) of one run (default 20, at most 200).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u32>,
    /// Most tokens (in + out) of one run (default: no limit).
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u64>,
    /// Longest one run may take: 90s, 10m, 1h (default 10m).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_secs)]
    pub max_wall: Option<u64>,
}

/// `warren agent edit`
#[derive(Debug, Args)]
pub struct AgentEditArgs {
    /// Agent name (case-insensitive, @ optional) or id.
    pub agent: String,
    /// A new name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub fields: AgentFields,
    /// Ask each provider for its own default model.
    #[arg(long, conflicts_with = "model")]
    pub no_model: bool,
    /// Take every tool away.
    #[arg(long, conflicts_with = "tools")]
    pub no_tools: bool,
    /// Remove the token limit.
    #[arg(long, conflicts_with = "max_tokens")]
    pub no_max_tokens: bool,
    /// Set (or replace) this agent's budget: 5usd/day, 50usd/month.
    #[arg(long, value_name = "AMOUNT/PERIOD", value_parser = parse_budget)]
    pub budget: Option<(MicroUsd, warren_protocol::budget::BudgetPeriod)>,
}

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Toml,
    Json,
}

/// `warren agent export`
#[derive(Debug, Args)]
pub struct AgentExportArgs {
    /// Only this agent (default: every agent).
    pub agent: Option<String>,
    /// toml (default) or json.
    #[arg(long, value_enum, default_value = "toml")]
    pub format: ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// `warren agent ask`
#[derive(Debug, Args)]
pub struct AgentAskArgs {
    /// Agent name (case-insensitive, @ optional) or id.
    pub agent: String,
    /// The question.
    pub prompt: String,
    /// Answer in this room (#name or id): its recent messages are context, the answer is posted
    /// there.
    #[arg(long, value_name = "ROOM")]
    pub room: Option<String>,
    /// Make the run's first model call call this tool of the agent (card.create, search, …);
    /// later calls choose freely. For models that do not pick tools themselves.
    #[arg(long, value_name = "TOOL")]
    pub tool: Option<String>,
    /// Stream the answer to stdout as it is written (tool calls and approvals waiting on
    /// stderr); exit 0 when the run succeeds, 1 with the reason otherwise.
    #[arg(long, short)]
    pub follow: bool,
}

/// `warren approvals …`
#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// List the standing "approve always" grants: agent, tool, who gave it, when.
    List {
        /// Only this agent's (name or id).
        #[arg(long, value_name = "AGENT")]
        agent: Option<String>,
    },
    /// Revoke a grant: that agent's calls of that tool ask again.
    Revoke {
        /// The grant's id (grant_…), from 'warren approvals list'.
        id: String,
    },
}

/// Which budget, by flag: `--agent A` or `--room R` (the scope can also be words, as `budget
/// list` shows it: `workspace`, `agent A`, `room R`). With neither, the workspace's.
/// (`--workspace NAME` is the global flag that picks which workspace, as for every command.)
#[derive(Debug, Args)]
pub struct BudgetScopeArgs {
    /// One agent's runs (name or id); the same as the words `agent AGENT`.
    #[arg(long, value_name = "AGENT", conflicts_with = "room")]
    pub agent: Option<String>,
    /// Agent runs answering in one room (#name or id); the same as the words `room ROOM`.
    #[arg(long, value_name = "ROOM")]
    pub room: Option<String>,
}

/// `warren budget …`
#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Set (or replace) a budget (needs budget:manage): 'budget set workspace 20usd/month',
    /// 'budget set agent reviewer 5usd/day', 'budget set room general 100usd/week' (or
    /// --agent A / --room R; with no scope, the workspace's). Raising an exhausted one resumes
    /// the runs it paused.
    #[command(
        after_help = "The scope is 'workspace', 'agent NAME' or 'room NAME', as 'warren budget list' shows it. \
        '--workspace NAME' picks which workspace (as for every command); the workspace's own \
        budget is the word 'workspace', no scope at all, or '--workspace 20usd/month' (a limit is \
        never a workspace's name)."
    )]
    Set {
        #[command(flatten)]
        scope: BudgetScopeArgs,
        /// The scope (workspace | agent NAME | room NAME; default: workspace), then the limit
        /// and its period: 20usd/month, 5usd/day, 100usd/week.
        #[arg(value_name = "SCOPE… AMOUNT/PERIOD", num_args = 0..=3)]
        words: Vec<String>,
    },
    /// List budgets: scope, limit, spent, left, % used, period.
    List,
    /// Remove a budget: 'budget clear workspace', 'budget clear agent A', 'budget clear room R'
    /// (or --agent A / --room R; with no scope, the workspace's).
    Clear {
        #[command(flatten)]
        scope: BudgetScopeArgs,
        /// The scope: workspace | agent NAME | room NAME (default: workspace).
        #[arg(value_name = "SCOPE", num_args = 0..=2)]
        words: Vec<String>,
    },
}

/// `warren stats`
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Group by agent (default), provider, room or day.
    #[arg(long, value_name = "agent|provider|room|day", value_parser = GroupBy::parse, default_value = "agent")]
    pub by: GroupBy,
    /// How far back: 7d, 30d (default), 12h.
    #[arg(long, value_name = "AGE", value_parser = crate::duration::parse_ms, default_value = "30d")]
    pub since: i64,
}

fn parse_kind(text: &str) -> Result<ProviderKind, String> {
    let lower = text.trim().to_ascii_lowercase();
    ProviderKind::ALL
        .into_iter()
        .find(|k| k.as_str() == lower)
        .ok_or_else(|| {
            format!("{text:?} is not a provider kind; use openai (any OpenAI-compatible server), anthropic, gemini or ollama")
        })
}

fn parse_money(text: &str) -> Result<MicroUsd, String> {
    crate::money::parse_usd(text)
}

fn parse_budget(text: &str) -> Result<(MicroUsd, warren_protocol::budget::BudgetPeriod), String> {
    crate::money::parse_budget(text)
}

/// A tool name: `card.create` (or the model's `card_create`).
pub fn parse_tool(text: &str) -> Result<ToolName, String> {
    ToolName::parse(text).ok_or_else(|| {
        let all: Vec<&str> = ToolName::ALL.iter().map(|t| t.as_str()).collect();
        format!("{text:?} is not a tool; use {}", all.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, CliCommand};

    #[test]
    fn provider_add_reads_kind_models_and_exact_prices() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_args([
            "warren",
            "provider",
            "add",
            "openai",
            "--kind",
            "OpenAI",
            "--base-url",
            "https://api.openai.com/v1",
            "--key-env",
            "OPENAI_API_KEY",
            "--model",
            "gpt-4o-mini",
            "--model",
            "gpt-4o",
            "--price-in",
            "0.15",
            "--price-out",
            "0.60",
            "--context",
            "128000",
        ])?;
        let Some(CliCommand::Provider(ProviderCommand::Add(args))) = cli.command else {
            panic!("expected provider add");
        };
        assert_eq!(args.kind, ProviderKind::Openai);
        assert_eq!(args.models, ["gpt-4o-mini", "gpt-4o"]);
        assert_eq!(
            (args.price_in, args.price_out),
            (Some(150_000), Some(600_000))
        );
        assert_eq!(args.context, Some(128_000));
        // A price alone, an unknown kind and a float-looking price are usage errors.
        let base = [
            "warren",
            "provider",
            "add",
            "x",
            "--base-url",
            "http://h",
            "--model",
            "m",
        ];
        let with = |extra: &[&str]| {
            let mut args: Vec<&str> = base.to_vec();
            args.extend_from_slice(extra);
            Cli::try_parse_args(args)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(with(&["--kind", "openai", "--price-in", "1"]).contains("--price-out"));
        assert!(with(&["--kind", "mistral"]).contains("anthropic, gemini or ollama"));
        assert!(
            with(&["--kind", "openai", "--price-in", "1e-3", "--price-out", "1"])
                .contains("like 3, 0.15")
        );
        Ok(())
    }

    #[test]
    fn agent_add_reads_the_chain_tools_limits_and_budget() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_args([
            "warren",
            "agent",
            "add",
            "reviewer",
            "--provider",
            "main,backup",
            "--tools",
            "card.create,search",
            "--approve",
            "card.create",
            "--max-wall",
            "10m",
            "--budget",
            "5usd/month",
            "--prompt",
            "Be brief.",
        ])?;
        let Some(CliCommand::Agent(AgentCommand::Add(args))) = cli.command else {
            panic!("expected agent add");
        };
        assert_eq!(args.fields.providers, ["main", "backup"]);
        assert_eq!(args.fields.tools, [ToolName::CardCreate, ToolName::Search]);
        assert_eq!(args.fields.max_wall, Some(600));
        assert_eq!(
            args.budget,
            Some((5_000_000, warren_protocol::budget::BudgetPeriod::Month))
        );
        let err = Cli::try_parse_args(["warren", "agent", "add", "x", "--tools", "rm_rf"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("card.create, card.move"), "{err}");
        Ok(())
    }

    #[test]
    fn budget_set_takes_at_most_one_scope() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_args([
            "warren",
            "budget",
            "set",
            "--agent",
            "reviewer",
            "20usd/month",
        ])?;
        let Some(CliCommand::Budget(BudgetCommand::Set { scope, words })) = cli.command else {
            panic!("expected budget set");
        };
        assert_eq!(scope.agent.as_deref(), Some("reviewer"));
        assert_eq!(words, ["20usd/month"]);
        let cli =
            Cli::try_parse_args(["warren", "budget", "set", "agent", "reviewer", "5usd/day"])?;
        let Some(CliCommand::Budget(BudgetCommand::Set { scope, words })) = cli.command else {
            panic!("expected budget set");
        };
        assert!(scope.agent.is_none() && scope.room.is_none());
        assert_eq!(words, ["agent", "reviewer", "5usd/day"]);
        // The global --workspace still picks the workspace, before or after the subcommand.
        let cli = Cli::try_parse_args([
            "warren",
            "budget",
            "set",
            "--workspace",
            "acme",
            "workspace",
            "5usd/day",
        ])?;
        assert_eq!(cli.global.workspace.as_deref(), Some("acme"));
        assert!(
            Cli::try_parse_args([
                "warren", "budget", "set", "--agent", "a", "--room", "r", "1usd/day"
            ])
            .is_err()
        );
        assert!(
            Cli::try_parse_args(["warren", "budget", "set", "a", "b", "c", "1usd/day"]).is_err()
        );
        let cli = Cli::try_parse_args(["warren", "stats", "--by", "day", "--since", "7d"])?;
        let Some(CliCommand::Stats(args)) = cli.command else {
            panic!("expected stats");
        };
        assert_eq!((args.by, args.since), (GroupBy::Day, 7 * 86_400_000));
        Ok(())
    }

    #[test]
    fn run_approve_always_and_run_export_parse() -> Result<(), clap::Error> {
        use crate::cli::{RunCommand, RunExportFormat};
        let cli = Cli::try_parse_args(["warren", "run", "approve", "r9", "--always"])?;
        assert!(matches!(
            cli.command,
            Some(CliCommand::Run(RunCommand::Approve { always: true, .. }))
        ));
        let cli = Cli::try_parse_args([
            "warren", "run", "export", "r9", "--format", "json", "-o", "r9.json",
        ])?;
        let Some(CliCommand::Run(RunCommand::Export { format, output, .. })) = cli.command else {
            panic!("expected run export");
        };
        assert_eq!(format, RunExportFormat::Json);
        assert_eq!(output.as_deref(), Some(std::path::Path::new("r9.json")));
        let cli = Cli::try_parse_args(["warren", "run", "export", "r9"])?;
        assert!(matches!(
            cli.command,
            Some(CliCommand::Run(RunCommand::Export {
                format: RunExportFormat::Md,
                ..
            }))
        ));
        assert!(Cli::try_parse_args(["warren", "run", "export", "r9", "--format", "pdf"]).is_err());
        let cli = Cli::try_parse_args(["warren", "approval", "list", "--agent", "reviewer"])?;
        assert!(matches!(
            cli.command,
            Some(CliCommand::Approvals(ApprovalsCommand::List {
                agent: Some(_)
            }))
        ));
        Ok(())
    }
}
