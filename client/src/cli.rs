//! The command line, declared once with clap: global connection flags and one subcommand per
//! action. Every subcommand and flag carries its help text here.

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

pub mod agents;

/// warren: a terminal-first team workspace (boards, cards and chat).
#[derive(Debug, Parser)]
#[command(
    name = "warren",
    version,
    about = "warren: boards, cards and chat for your team, from the terminal",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Options of the full-screen client (what plain `warren` and `warren demo` open).
    #[command(flatten)]
    pub ui: UiArgs,
    /// Without a subcommand, warren opens the full-screen client: on the configured server,
    /// or, with none configured, on a local workspace served in-process.
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// Global flags every subcommand accepts but some never use, left out of those subcommands'
/// help: `keys` and `demo` never connect to a server, and `demo` prints nothing.
const UNUSED_GLOBALS: [(&str, &[&str]); 2] = [
    ("keys", &["server", "token", "workspace"]),
    ("demo", &["server", "token", "workspace", "json"]),
];

impl Cli {
    /// The clap command, with each subcommand's help listing only the flags that apply to it.
    pub fn clap_command() -> clap::Command {
        let command = Cli::command();
        // A subcommand that already has an argument is skipped when clap propagates the global
        // ones, so a hidden copy keeps the flag accepted there but out of its help.
        UNUSED_GLOBALS
            .iter()
            .fold(command, |command, (name, flags)| {
                let hidden: Vec<clap::Arg> = command
                    .get_arguments()
                    .filter(|arg| flags.contains(&arg.get_id().as_str()))
                    .map(|arg| arg.clone().hide(true))
                    .collect();
                command.mut_subcommand(name, |sub| sub.args(hidden))
            })
    }

    /// Parses these arguments (the first is the program name).
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches: ArgMatches = Self::clap_command().try_get_matches_from(args)?;
        Self::from_arg_matches(&matches)
    }

    /// The UI options, wherever they were given: `warren demo --theme light` means the same as
    /// `warren --theme light demo` (the later one wins).
    pub fn ui_args(&self) -> UiArgs {
        let sub = match &self.command {
            Some(CliCommand::Demo(demo)) => Some(&demo.ui),
            _ => None,
        };
        UiArgs {
            theme: sub
                .and_then(|u| u.theme.clone())
                .or_else(|| self.ui.theme.clone()),
            keymap: sub
                .and_then(|u| u.keymap.clone())
                .or_else(|| self.ui.keymap.clone()),
        }
    }
}

/// `warren demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub ui: UiArgs,
}

/// Look and keys of the full-screen client.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Full-screen client")]
pub struct UiArgs {
    /// Theme: dark, light, high-contrast, base16, or one of yours (default: [ui] theme).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Keymap: default, vim or emacs (default: [ui] keymap).
    #[arg(long = "keymap", value_name = "NAME", id = "ui_keymap")]
    pub keymap: Option<String>,
}

/// Flags accepted before or after any subcommand. A flag beats its environment variable, which
/// beats the profile stored by `warren login`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Server address, such as http://127.0.0.1:7878.
    #[arg(long, global = true, env = "WARREN_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// API token (wrn_…).
    #[arg(
        long,
        global = true,
        env = "WARREN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Workspace to use, by id or name (default: the profile's, else your first workspace).
    #[arg(
        long,
        global = true,
        env = "WARREN_WORKSPACE",
        value_name = "ID_OR_NAME"
    )]
    pub workspace: Option<String>,
    /// PEM file of a private CA to trust for https:// servers, besides the system's roots.
    #[arg(long, global = true, env = "WARREN_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Print the protocol's JSON instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Check a server and token, then store them as your profile.
    Login,
    /// Join a workspace with an invite code: makes your account (or, signed in, adds the
    /// workspace to it) and stores the profile like login.
    Join(JoinArgs),
    /// Open the full-screen client on a throwaway sample workspace (nothing to set up).
    Demo(DemoArgs),
    /// Boards.
    #[command(subcommand)]
    Board(BoardCommand),
    /// Columns of a board.
    #[command(subcommand)]
    Column(ColumnCommand),
    /// Cards on boards.
    #[command(subcommand)]
    Card(CardCommand),
    /// Chat rooms.
    #[command(subcommand)]
    Room(RoomCommand),
    /// The workspace's members and their roles.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Your workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Who you are here: user, workspace, role and what the role may do.
    Whoami,
    /// Run a worker in the foreground (jobs run here, as your OS user); `worker add` and
    /// `worker list` manage the workspace's workers.
    Worker(WorkerArgs),
    /// Bots: members that workers and agents act as (admins).
    #[command(subcommand)]
    Bot(BotCommand),
    /// Your API tokens (admins: a member's, such as a bot's), while the server runs.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Invitations to the workspace (admins): create, list, revoke.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Chat messages.
    #[command(subcommand)]
    Chat(ChatCommand),
    /// Print the workspace's event stream.
    Events(EventsArgs),
    /// Who changed members, roles, bots, tokens and the workspace, and failed sign-ins
    /// (owners and admins), newest first.
    Audit(AuditArgs),
    /// Print the full-screen client's key bindings per context (and any errors in your keymap).
    Keys(KeysArgs),
    /// Jobs: named shell commands that workers run (add, list, show, edit, rm, run).
    #[command(subcommand)]
    Job(JobCommand),
    /// Runs of jobs: list, show, cancel, approve, reject, retry.
    #[command(subcommand)]
    Run(RunCommand),
    /// Print a run's log, or follow it live (r7, 7 or a run id).
    Log(LogArgs),
    /// Model providers agents call: add, list, edit, test, rm.
    #[command(subcommand)]
    Provider(agents::ProviderCommand),
    /// AI agents: add, list, show, edit, disable, enable, rm, export, import, ask.
    #[command(subcommand)]
    Agent(agents::AgentCommand),
    /// Standing "approve always" grants of agents' tool calls: list, revoke.
    #[command(subcommand, visible_alias = "approval")]
    Approvals(agents::ApprovalsCommand),
    /// Spending limits of agent runs: set, list, clear.
    #[command(subcommand)]
    Budget(agents::BudgetCommand),
    /// Tokens, cost and model calls of agent runs, per agent, provider, room or day.
    Stats(agents::StatsArgs),
}

/// `warren keys`
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// Bundled keymap to show: default, vim or emacs (default: [ui] keymap in config.toml).
    #[arg(long, value_name = "NAME")]
    pub keymap: Option<String>,
}

/// `warren board …`
#[derive(Debug, Subcommand)]
pub enum BoardCommand {
    /// List the workspace's boards and their columns.
    List,
    /// Create a board (columns default to Backlog, Todo, In Progress, Review, Done).
    Add {
        /// The board's name.
        name: String,
        /// A column, in order; repeat for several.
        #[arg(long = "column", value_name = "NAME")]
        columns: Vec<String>,
    },
    /// Rename a board.
    Rename {
        /// Board name (case-insensitive) or id.
        board: String,
        /// The new name.
        name: String,
    },
}

/// `warren column …`
#[derive(Debug, Subcommand)]
pub enum ColumnCommand {
    /// Add a column (default: last on the first board).
    Add {
        /// The column's name.
        name: String,
        /// Board name (case-insensitive) or id.
        #[arg(long, value_name = "BOARD")]
        board: Option<String>,
        /// Position: 1 is the first column (default: last).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        at: Option<u32>,
    },
    /// Rename a column.
    Rename {
        /// Column name (case-insensitive) or id.
        column: String,
        /// The new name.
        name: String,
        /// Board name (case-insensitive) or id.
        #[arg(long, value_name = "BOARD")]
        board: Option<String>,
    },
    /// Move a column to another position on its board.
    Move {
        /// Column name (case-insensitive) or id.
        column: String,
        /// The new position: 1 is the first column.
        #[arg(value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        to: u32,
        /// Board name (case-insensitive) or id.
        #[arg(long, value_name = "BOARD")]
        board: Option<String>,
    },
    /// Delete a column. One that holds cards needs --move-cards-to.
    Rm {
        /// Column name (case-insensitive) or id.
        column: String,
        /// Move the column's cards to the bottom of this column first.
        #[arg(long, value_name = "COLUMN")]
        move_cards_to: Option<String>,
        /// Board name (case-insensitive) or id.
        #[arg(long, value_name = "BOARD")]
        board: Option<String>,
    },
}

/// `warren card …`
#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Create a card (default: on the first board, in its first column).
    Add(CardAddArgs),
    /// List cards.
    List(CardListArgs),
    /// Show one card in full.
    Show {
        /// Card number (12 or #12) or card id.
        card: String,
    },
    /// Move a card to another column of its board.
    Move {
        /// Card number (12 or #12) or card id.
        card: String,
        /// Column name (case-insensitive) or id.
        column: String,
    },
    /// Change a card's fields.
    Edit(CardEditArgs),
    /// Delete a card.
    Rm {
        /// Card number (12 or #12) or card id.
        card: String,
    },
}

/// `warren card add`
#[derive(Debug, Args)]
pub struct CardAddArgs {
    /// The card's title.
    pub title: String,
    /// Board name (case-insensitive) or id.
    #[arg(long, value_name = "BOARD")]
    pub board: Option<String>,
    /// Column name (case-insensitive) or id.
    #[arg(long, value_name = "COLUMN")]
    pub column: Option<String>,
    /// A label; repeat for several.
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Markdown description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// none, low, medium, high or urgent.
    #[arg(long, value_parser = parse_priority, value_name = "PRIORITY")]
    pub priority: Option<warren_protocol::Priority>,
    /// Member name (case-insensitive) or user id.
    #[arg(long, value_name = "NAME")]
    pub assignee: Option<String>,
}

/// `warren card list`
#[derive(Debug, Args)]
pub struct CardListArgs {
    /// Only cards of this board (name or id).
    #[arg(long, value_name = "BOARD")]
    pub board: Option<String>,
    /// Only cards in this column (name or id).
    #[arg(long, value_name = "COLUMN")]
    pub column: Option<String>,
}

/// `warren card edit`
#[derive(Debug, Args)]
pub struct CardEditArgs {
    /// Card number (12 or #12) or card id.
    pub card: String,
    /// New title.
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// New Markdown description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Replace the labels with these; repeat for several.
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Remove every label.
    #[arg(long, conflicts_with = "labels")]
    pub clear_labels: bool,
    /// none, low, medium, high or urgent.
    #[arg(long, value_parser = parse_priority, value_name = "PRIORITY")]
    pub priority: Option<warren_protocol::Priority>,
    /// Assign to a member (name or user id).
    #[arg(long, value_name = "NAME")]
    pub assignee: Option<String>,
    /// Remove the assignee.
    #[arg(long, conflicts_with = "assignee")]
    pub unassign: bool,
}

/// `warren member …`
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List members with their roles.
    List,
    /// Give a member another role (admins; owners for anything involving the owner role).
    Role {
        /// Member name (case-insensitive, @ optional) or user id.
        member: String,
        /// owner, admin, member, viewer or bot.
        #[arg(value_parser = parse_role)]
        role: warren_protocol::Role,
    },
    /// Remove a member from the workspace (admins; their account stays).
    Remove {
        /// Member name (case-insensitive, @ optional) or user id.
        member: String,
    },
}

/// `warren bot …`
#[derive(Debug, Subcommand)]
pub enum BotCommand {
    /// Add a bot member and print its first token once (admins).
    Add {
        /// The bot's name, as members see it.
        name: String,
        /// What its token may do: runs (default), chat, read or full.
        #[arg(long, default_value = "runs", value_parser = parse_scope)]
        scope: warren_protocol::account::TokenScope,
    },
    /// List the workspace's bots.
    List,
}

/// `warren token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once.
    Create {
        /// A name to recognise it by (a machine, a bot, a script).
        #[arg(long, default_value = "cli")]
        name: String,
        /// How long it works: 90m, 12h, 30d, 2w (default: until revoked).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
        expires: Option<i64>,
        /// full, read, chat or runs.
        #[arg(long, default_value = "full", value_parser = parse_scope)]
        scope: warren_protocol::account::TokenScope,
        /// For another member (name or id; needs token:manage), such as a bot.
        #[arg(long, value_name = "MEMBER")]
        user: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        /// Another member's (name or id; needs token:manage).
        #[arg(long, value_name = "MEMBER")]
        user: Option<String>,
    },
    /// Revoke a token at once; its live connections are closed.
    Revoke {
        /// The token's id (tok_…), from 'warren token list'.
        #[arg(required_unless_present = "others", conflicts_with = "others")]
        id: Option<String>,
        /// Sign out everywhere else: revoke every token of yours but the one in use.
        #[arg(long)]
        others: bool,
    },
    /// Replace a token; the old one keeps working for the grace period.
    Rotate {
        /// The token's id (tok_…), from 'warren token list'.
        id: String,
        /// How long the old token keeps working: 0, 90m, 1h (default: 1h).
        #[arg(long, default_value = "1h", value_parser = parse_duration_ms)]
        grace: i64,
    },
}

/// `warren worker …`: without a subcommand, runs a worker.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WorkerArgs {
    #[command(subcommand)]
    pub command: Option<WorkerCommand>,
    #[command(flatten)]
    pub run: WorkerRunArgs,
}

/// How `warren worker` runs.
#[derive(Debug, Clone, Args)]
pub struct WorkerRunArgs {
    /// Tags this worker offers (comma-separated): it takes a job's runs only if it has all of
    /// the job's tags.
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Most runs at once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Directory jobs run in (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<std::path::PathBuf>,
    /// On SIGTERM or Ctrl-C, how long running jobs may go on before they are cancelled:
    /// 30s, 5m.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration_ms)]
    pub grace: i64,
    /// Run jobs only: take no agent runs (which call model providers with keys from this
    /// worker's environment).
    #[arg(long)]
    pub no_agents: bool,
}

/// `warren worker add | list`
#[derive(Debug, Subcommand)]
pub enum WorkerCommand {
    /// Add a worker: a bot member and its token, printed once with the command that starts
    /// the worker (admins).
    Add {
        /// The worker's name, as members see it.
        name: String,
        /// Tags to start it with (comma-separated), such as linux,docker.
        #[arg(long, value_name = "TAGS", value_delimiter = ',')]
        tags: Vec<String>,
    },
    /// List the workers that have connected: tags, state, last heartbeat, current runs.
    List,
}

/// `warren join`
#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The invite code (wri_…) you were given.
    #[arg(long, value_name = "CODE")]
    pub invite: String,
    /// Your name for a new account (unique on the server); not used when you join with a
    /// token for that server (--token, WARREN_TOKEN or your profile's).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// `warren invite …`
#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Create an invite and print its code once (admins; owners to invite owners).
    Create {
        /// The role newcomers get: admin, member, viewer (or owner).
        #[arg(long, default_value = "member", value_parser = parse_role)]
        role: warren_protocol::Role,
        /// How long it works: 90m, 12h, 7d (at most 30d).
        #[arg(long, default_value = "7d", value_name = "DURATION", value_parser = parse_duration_ms)]
        expires: i64,
        /// How many people it lets in (at most 100).
        #[arg(long, default_value_t = 1, value_name = "N")]
        uses: u32,
    },
    /// List the workspace's invites (never their codes).
    List,
    /// Revoke an invite at once.
    Revoke {
        /// The invite's id (inv_…), from 'warren invite list'.
        id: String,
    },
}

/// A duration such as `90s`, `15m`, `12h`, `30d`, `2w` (or `0`), in milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    warren_protocol::time::parse_duration_ms(text)
}

fn parse_scope(text: &str) -> Result<warren_protocol::account::TokenScope, String> {
    warren_protocol::account::TokenScope::parse(text)
        .ok_or_else(|| format!("{text:?} is not a scope; use full, read, chat or runs"))
}

/// `warren workspace …`
#[derive(Debug, Clone, Subcommand)]
pub enum WorkspaceCommand {
    /// List the workspaces you belong to.
    List,
    /// Create a workspace with you as its owner (board Main, room general).
    Create {
        /// The new workspace's name.
        name: String,
    },
    /// Rename the workspace (admins).
    Rename {
        /// The new name.
        name: String,
    },
    /// Hand the workspace to another member (owners): they become owner, you become admin.
    Transfer {
        /// The new owner (name or id).
        member: String,
    },
    /// Delete a workspace and everything in it (owners). Asks for its name again; scripts and
    /// --json pass --confirm NAME.
    Delete {
        /// The workspace to delete, by name or id.
        name: String,
        /// The workspace's name again, instead of being asked (required without a terminal).
        #[arg(long, value_name = "NAME")]
        confirm: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<warren_protocol::Role, String> {
    warren_protocol::Role::parse(text)
        .ok_or_else(|| format!("{text:?} is not a role; use owner, admin, member, viewer or bot"))
}

/// `warren room …`
#[derive(Debug, Subcommand)]
pub enum RoomCommand {
    /// List chat rooms.
    List,
    /// Create a chat room.
    Add {
        /// The room's name (unique in the workspace).
        name: String,
        /// What the room is for.
        #[arg(long, value_name = "TEXT")]
        topic: Option<String>,
    },
}

/// `warren chat …`
#[derive(Debug, Subcommand)]
pub enum ChatCommand {
    /// Post a message to a room.
    Send {
        /// Room name (#name accepted) or id.
        room: String,
        /// The message (Markdown).
        text: String,
    },
    /// Print a room's latest messages.
    Tail {
        /// Room name (#name accepted) or id.
        room: String,
        /// Keep printing new messages as they arrive.
        #[arg(long, short)]
        follow: bool,
        /// How many recent messages to print first.
        #[arg(long, short = 'n', default_value_t = 20, value_name = "N")]
        limit: u32,
    },
}

/// `warren events`
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Print events after this sequence number.
    #[arg(long, default_value_t = 0, value_name = "SEQ")]
    pub since: u64,
    /// Keep printing new events as they happen.
    #[arg(long, short)]
    pub follow: bool,
}

/// `warren audit`
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this actor: a member name, a user id or 'operator'.
    #[arg(long, value_name = "USER")]
    pub actor: Option<String>,
    /// Only this action, or every action under a prefix ('token' means token.*).
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// Only entries this recent: 90m, 12h, 1d, 2w.
    #[arg(long, value_name = "AGE", value_parser = parse_duration_ms)]
    pub since: Option<i64>,
    /// Most entries to print.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
}

/// `warren job …`
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Add a job: a shell command that runs under `sh -c` on a worker (needs job:manage).
    Add(JobAddArgs),
    /// List jobs with their parameters, tags, last run and success rate.
    List,
    /// Show a job in full, with its recent runs.
    Show {
        /// Job name (case-insensitive) or id.
        job: String,
    },
    /// Change a job's fields; runs already started keep what they were started with.
    Edit(JobEditArgs),
    /// Delete a job (its runs and their logs stay).
    Rm {
        /// Job name (case-insensitive) or id.
        job: String,
    },
    /// Start a run of a job: prints `r7 queued` (or how to get a protected run approved).
    Run(JobRunArgs),
}

/// `warren job add`
#[derive(Debug, Args)]
pub struct JobAddArgs {
    /// The job's name (unique in the workspace).
    pub name: String,
    /// The shell command; parameters reach it as $WARREN_PARAM_<NAME>, never spliced in.
    #[arg(long, value_name = "CMD")]
    pub command: String,
    /// A parameter: NAME[:string|int|bool|choice(a|b)|secret][=DEFAULT]; repeat for several.
    /// (Read by the command, not here, so a bad one is never echoed back whole.)
    #[arg(long = "param", value_name = "SPEC")]
    pub params: Vec<String>,
    /// Longest a run may take: 90s, 30m, 1h30m, 2d (default: 30m).
    #[arg(long, value_name = "DURATION", value_parser = parse_secs)]
    pub timeout: Option<u64>,
    /// How often a lost run (its worker went silent) is queued again.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub retries: u32,
    /// Workers must have all these tags: linux,docker.
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Runs wait for an approval (`warren run approve`) before they are queued.
    #[arg(long)]
    pub protected: bool,
    /// What the job is for.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Most runs of this job executing at once (default: no limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
}

/// `warren job edit`
#[derive(Debug, Args)]
pub struct JobEditArgs {
    /// Job name (case-insensitive) or id.
    pub job: String,
    /// A new name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A new shell command.
    #[arg(long, value_name = "CMD")]
    pub command: Option<String>,
    /// Replace the parameters with these (NAME[:TYPE][=DEFAULT]); repeat for several.
    #[arg(long = "param", value_name = "SPEC")]
    pub params: Vec<String>,
    /// Remove every parameter.
    #[arg(long, conflicts_with = "params")]
    pub no_params: bool,
    /// A new timeout: 90s, 30m, 1h30m, 2d.
    #[arg(long, value_name = "DURATION", value_parser = parse_secs)]
    pub timeout: Option<u64>,
    /// A new number of retries after a lost run.
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Replace the tags: linux,docker.
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Remove every tag.
    #[arg(long, conflicts_with = "tags")]
    pub no_tags: bool,
    /// Make runs wait for an approval.
    #[arg(long)]
    pub protected: bool,
    /// Let runs start without an approval.
    #[arg(long, conflicts_with = "protected")]
    pub unprotected: bool,
    /// A new description ('' to remove it).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Most runs executing at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
    /// Remove the concurrency limit.
    #[arg(long, conflicts_with = "concurrency")]
    pub no_concurrency: bool,
}

/// `warren job run`
#[derive(Debug, Args)]
pub struct JobRunArgs {
    /// Job name (case-insensitive) or id.
    pub job: String,
    /// A parameter value: KEY=VALUE, or KEY=@env:VAR to read it from the environment (for
    /// secrets; a missing secret is asked for without echo on a terminal). Repeat for several.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// The card the run is for: 12, #12 or a card id.
    #[arg(long, value_name = "CARD")]
    pub card: Option<String>,
    /// A room that hears when the run starts and finishes (#name or id).
    #[arg(long, value_name = "ROOM")]
    pub room: Option<String>,
    /// Stream the log until the run ends; exit 0 on success, the job's exit code on failure,
    /// 1 when it was cancelled, timed out, rejected or lost.
    #[arg(long, short)]
    pub follow: bool,
}

/// `warren run …`
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// List runs, newest first.
    List(RunListArgs),
    /// Show a run: status, parameters (secrets masked), times, exit code, lines, reason.
    Show {
        /// r7, 7 or a run id.
        run: String,
    },
    /// Cancel a run that has not finished (its worker stops the whole process group).
    Cancel {
        /// r7, 7 or a run id.
        run: String,
        /// Why, for the record.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Let a run of a protected job go ahead, or an agent run's waiting tool call (needs
    /// run:approve).
    Approve {
        /// r7, 7 or a run id.
        run: String,
        /// For an agent run: also let this agent call this tool from now on without asking
        /// (a grant, listed by 'warren approvals list').
        #[arg(long)]
        always: bool,
    },
    /// Refuse a run of a protected job, or an agent run's waiting tool call (the reason goes
    /// back to the model) (needs run:approve).
    Reject {
        /// r7, 7 or a run id.
        run: String,
        /// Why, for the record.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Write a run and its steps to a file or stdout: md (readable) or json (the protocol's
    /// types).
    Export {
        /// r7, 7 or a run id.
        run: String,
        /// md or json.
        #[arg(long, value_enum, default_value = "md")]
        format: RunExportFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Start a finished run again with the same parameters (secrets must be given again).
    Retry {
        /// r7, 7 or a run id.
        run: String,
        /// Override a parameter: KEY=VALUE or KEY=@env:VAR; repeat for several.
        #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Stream the new run's log until it ends (exit codes as for 'job run --follow').
        #[arg(long, short)]
        follow: bool,
    },
}

/// How `run export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RunExportFormat {
    Md,
    Json,
}

/// `warren run list`
#[derive(Debug, Args)]
pub struct RunListArgs {
    /// Only runs in this status: awaiting_approval, queued, assigned, running, succeeded,
    /// failed, cancelled, timed_out, lost or rejected.
    #[arg(long, value_name = "STATUS", value_parser = parse_run_status)]
    pub status: Option<warren_protocol::run::RunStatus>,
    /// Only runs of this job (name or id).
    #[arg(long, value_name = "JOB")]
    pub job: Option<String>,
    /// Only runs this recent: 90m, 12h, 1d, 1d12h.
    #[arg(long, value_name = "AGE", value_parser = crate::duration::parse_ms)]
    pub since: Option<i64>,
    /// Most runs to print.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
}

/// `warren log`
#[derive(Debug, Args)]
pub struct LogArgs {
    /// r7, 7 or a run id.
    pub run: String,
    /// Keep printing new lines until the run ends (exit codes as for 'job run --follow').
    #[arg(long, short)]
    pub follow: bool,
    /// Keep the job's colours even when stdout is not a terminal (for less -R); only colour
    /// and style sequences, never other escapes.
    #[arg(long)]
    pub raw: bool,
    /// Start at this line (1 is the first).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "tail")]
    pub from_line: Option<u64>,
    /// Only the last N lines (then, with --follow, the live ones).
    #[arg(long, short = 'n', value_name = "N")]
    pub tail: Option<u64>,
    /// Only lines matching this regular expression (applied on the server to the whole log).
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// With --grep: only the lines that do not match.
    #[arg(long, requires = "grep")]
    pub invert: bool,
    /// Prefix each line with the time it was written (local clock).
    #[arg(long)]
    pub timestamps: bool,
}

fn parse_secs(text: &str) -> Result<u64, String> {
    crate::duration::parse_secs(text)
}

fn parse_run_status(text: &str) -> Result<warren_protocol::run::RunStatus, String> {
    let wire = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    warren_protocol::run::RunStatus::parse(&wire).ok_or_else(|| {
        let all: Vec<&str> = warren_protocol::run::RunStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        format!(
            "{text:?} is not a run status; use one of {}",
            all.join(", ")
        )
    })
}

fn parse_priority(s: &str) -> Result<warren_protocol::Priority, String> {
    warren_protocol::Priority::parse(&s.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown priority {s:?}: use none, low, medium, high or urgent"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "warren",
            "card",
            "list",
            "--json",
            "--server",
            "http://x:1",
            "--workspace",
            "Acme",
        ])?;
        assert!(cli.global.json);
        assert_eq!(cli.global.server.as_deref(), Some("http://x:1"));
        assert_eq!(cli.global.workspace.as_deref(), Some("Acme"));
        Ok(())
    }

    #[test]
    fn ui_flags_work_after_demo() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_args(["warren", "demo", "--theme", "light", "--keymap", "vim"])?;
        assert!(matches!(cli.command, Some(CliCommand::Demo(_))));
        let ui = cli.ui_args();
        assert_eq!(ui.theme.as_deref(), Some("light"));
        assert_eq!(ui.keymap.as_deref(), Some("vim"));
        let cli = Cli::try_parse_args(["warren", "--theme", "dark", "demo"])?;
        assert_eq!(cli.ui_args().theme.as_deref(), Some("dark"));
        Ok(())
    }

    fn help_of(path: &[&str]) -> String {
        let mut command = Cli::clap_command();
        command.build();
        let mut current = &mut command;
        for name in path {
            current = current
                .find_subcommand_mut(name)
                .unwrap_or_else(|| panic!("no subcommand {name}"));
        }
        current.render_long_help().to_string()
    }

    #[test]
    fn each_help_lists_the_flags_that_apply() {
        let demo = help_of(&["demo"]);
        assert!(
            demo.contains("--theme") && demo.contains("--keymap"),
            "{demo}"
        );
        for flag in ["--server", "--token", "--workspace", "--json"] {
            assert!(!demo.contains(flag), "{flag} in {demo}");
        }
        let keys = help_of(&["keys"]);
        assert!(
            keys.contains("--keymap") && keys.contains("--json"),
            "{keys}"
        );
        assert!(!keys.contains("--server"), "{keys}");
        let list = help_of(&["card", "list"]);
        for flag in ["--server", "--token", "--workspace", "--json", "--board"] {
            assert!(list.contains(flag), "{flag} in {list}");
        }
        assert!(!list.contains("--theme"), "{list}");
        let top = help_of(&[]);
        assert!(top.contains("--theme") && top.contains("--server"), "{top}");
    }

    #[test]
    fn help_examples_use_the_default_port() {
        let top = help_of(&[]);
        assert!(top.contains("http://127.0.0.1:7878"), "{top}");
        assert!(!top.contains("7373"), "{top}");
    }

    #[test]
    fn keys_takes_a_keymap() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["warren", "keys", "--keymap", "vim"])?;
        let Some(CliCommand::Keys(args)) = cli.command else {
            panic!("expected keys");
        };
        assert_eq!(args.keymap.as_deref(), Some("vim"));
        Ok(())
    }

    #[test]
    fn repeated_labels_and_priority_parse() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "warren",
            "card",
            "add",
            "Fix it",
            "--label",
            "a",
            "--label",
            "b",
            "--priority",
            "High",
        ])?;
        let Some(CliCommand::Card(CardCommand::Add(args))) = cli.command else {
            panic!("expected card add");
        };
        assert_eq!(args.labels, ["a", "b"]);
        assert_eq!(args.priority, Some(warren_protocol::Priority::High));
        Ok(())
    }

    #[test]
    fn job_add_reads_params_durations_and_tags() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "warren",
            "job",
            "add",
            "deploy",
            "--command",
            "./deploy.sh",
            "--param",
            "env:choice(staging|prod)=staging",
            "--param",
            "token:secret",
            "--timeout",
            "1h30m",
            "--tags",
            "linux,docker",
            "--protected",
            "--retries",
            "2",
            "--concurrency",
            "1",
        ])?;
        let Some(CliCommand::Job(JobCommand::Add(args))) = cli.command else {
            panic!("expected job add");
        };
        assert_eq!(args.params.len(), 2);
        assert_eq!(args.timeout, Some(5400));
        assert_eq!(args.tags, ["linux", "docker"]);
        assert!(args.protected);
        assert_eq!((args.retries, args.concurrency), (2, Some(1)));
        let err = Cli::try_parse_from([
            "warren",
            "job",
            "add",
            "x",
            "--command",
            "c",
            "--timeout",
            "ten",
        ])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("1h30m"), "{err}");
        Ok(())
    }

    #[test]
    fn job_run_log_and_run_list_parse() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "warren",
            "job",
            "run",
            "deploy",
            "-p",
            "env=prod",
            "-p",
            "token=@env:T",
            "--card",
            "#12",
            "--follow",
        ])?;
        let Some(CliCommand::Job(JobCommand::Run(args))) = cli.command else {
            panic!("expected job run");
        };
        assert_eq!(args.params, ["env=prod", "token=@env:T"]);
        assert!(args.follow);
        let cli = Cli::try_parse_from([
            "warren",
            "log",
            "r7",
            "--grep",
            "error",
            "--invert",
            "--tail",
            "50",
            "--timestamps",
        ])?;
        let Some(CliCommand::Log(args)) = cli.command else {
            panic!("expected log");
        };
        assert_eq!(
            (args.tail, args.invert, args.grep.as_deref()),
            (Some(50), true, Some("error"))
        );
        assert!(Cli::try_parse_from(["warren", "log", "r7", "--invert"]).is_err());
        assert!(
            Cli::try_parse_from(["warren", "log", "r7", "--tail", "5", "--from-line", "3"])
                .is_err()
        );
        let cli = Cli::try_parse_from([
            "warren",
            "run",
            "list",
            "--status",
            "timed-out",
            "--since",
            "1d",
        ])?;
        let Some(CliCommand::Run(RunCommand::List(args))) = cli.command else {
            panic!("expected run list");
        };
        assert_eq!(args.status, Some(warren_protocol::run::RunStatus::TimedOut));
        assert_eq!(args.since, Some(86_400_000));
        let err = Cli::try_parse_from(["warren", "run", "list", "--status", "done"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("succeeded"), "{err}");
        Ok(())
    }
}
