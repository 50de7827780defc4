//! `warren-server`: run the sync server headless, create a store, manage API tokens.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod audit_cli;
mod ops;
use warren_protocol::Id;
use warren_server::config::{self, ConfigFile};
use warren_server::server::{self, shutdown_signal};
use warren_server::service::workspace;
use warren_server::store::{self, Store};
use warren_server::{check, tls};

#[derive(Parser)]
#[command(name = "warren-server", version, about = "The warren sync server")]
struct Cli {
    /// Log filter when RUST_LOG is unset (error, warn, info, debug, trace) [default: info, or
    /// the config file's log_level]
    #[arg(long, global = true)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the workspace over WebSocket until SIGINT/SIGTERM.
    Serve {
        /// A TOML config file (see docs/deploy.md); flags override what it says.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Data directory holding warren.redb [default: the platform data dir]
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on (port 0 picks a free port) [default: 127.0.0.1:7878]
        #[arg(long)]
        listen: Option<String>,
        /// PEM certificate chain: serve HTTPS/WSS (needs --tls-key).
        #[arg(long, value_name = "FILE")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert.
        #[arg(long, value_name = "FILE")]
        tls_key: Option<PathBuf>,
        /// Deadlines, connection caps and the page cache (docs/performance.md, "Limits");
        /// each also has a key in the config file's [limits] or [store].
        #[command(flatten)]
        limits: Box<warren_server::limits::Limits>,
    },
    /// Ask the running server how it is doing (through DATA/admin.sock).
    Status {
        #[command(flatten)]
        target: Target,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Ask the running server for a consistent copy of its store, written to FILE.
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        #[command(flatten)]
        target: Target,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a backup the store of a data directory (the server must be stopped).
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Data directory to restore into [default: the platform data dir]
        #[arg(long)]
        data: Option<PathBuf>,
        /// Replace an existing store (it is kept as warren.redb.replaced-TIME).
        #[arg(long)]
        force: bool,
    },
    /// Verify a store: schema, gap-free event logs, state matching the events.
    Check {
        /// Data directory to check [default: the platform data dir]
        #[arg(long, conflicts_with = "file")]
        data: Option<PathBuf>,
        /// A store file to check, such as a backup.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a store with an owner, a workspace and the owner's first token.
    Init {
        #[arg(long)]
        data: Option<PathBuf>,
        /// Name of the owner account.
        #[arg(long, default_value = "owner")]
        owner: String,
        /// Name of the workspace.
        #[arg(long, default_value = "My workspace")]
        workspace: String,
    },
    /// Create, revoke or list API tokens (stop the server first).
    Token {
        #[command(subcommand)]
        action: TokenCmd,
    },
    /// Print the audit log of a stopped server's store, newest first (every workspace and the
    /// server-wide entries); with the server running, owners and admins use 'warren audit'.
    Audit {
        #[arg(long)]
        data: Option<PathBuf>,
        /// Only this actor: a user name, a user id or 'operator'.
        #[arg(long)]
        actor: Option<String>,
        /// Only this action or its dotted prefix ('token' selects token.*).
        #[arg(long)]
        action: Option<String>,
        /// Only entries this recent: 90m, 12h, 1d, 2w.
        #[arg(long, value_parser = audit_cli::parse_age_ms)]
        since: Option<i64>,
        /// Most entries to print.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON (one array of entries).
        #[arg(long)]
        json: bool,
    },
    /// Add people and bots to the workspace (stop the server first; with the server running,
    /// owners and admins use 'warren member' instead).
    Member {
        #[command(subcommand)]
        action: MemberCmd,
    },
}

#[derive(Subcommand)]
enum MemberCmd {
    /// Create a user as a member of the first workspace with a role, and print their token once.
    Add {
        #[arg(long)]
        data: Option<PathBuf>,
        /// The new user's name.
        #[arg(long)]
        name: String,
        /// owner, admin, member, viewer or bot.
        #[arg(long, default_value = "member", value_parser = parse_role)]
        role: warren_protocol::Role,
    },
}

fn parse_role(text: &str) -> Result<warren_protocol::Role, String> {
    warren_protocol::Role::parse(text)
        .ok_or_else(|| format!("{text:?} is not a role; use owner, admin, member, viewer or bot"))
}

/// Which running server to ask: the one serving a data directory.
#[derive(clap::Args)]
struct Target {
    /// The data directory the server runs with [default: the config file's, else the platform
    /// data dir]
    #[arg(long)]
    data: Option<PathBuf>,
    /// The config file the server runs with (for its data directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl Target {
    fn data_dir(self) -> Result<PathBuf> {
        let from_file = match (&self.data, &self.config) {
            (None, Some(path)) => ConfigFile::load(path)?.data,
            _ => None,
        };
        data_dir(self.data.or(from_file))
    }
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Mint a token and print it once.
    Create {
        #[arg(long)]
        data: Option<PathBuf>,
        /// The user the token acts as [default: the owner created by init]
        #[arg(long)]
        user: Option<String>,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Revoke a token by its id (tok_...), as shown by 'token list'.
    Revoke {
        id: String,
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// List tokens (ids and labels, never secrets).
    List {
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

fn data_dir(data: Option<PathBuf>) -> Result<PathBuf> {
    match data {
        Some(d) => Ok(d),
        None => directories::ProjectDirs::from("dev", "warren", "warren")
            .map(|p| p.data_dir().to_path_buf())
            .context("cannot find a home directory for the default data dir; pass --data DIR"),
    }
}

/// Colour in the log only for a person: stderr is a terminal and `NO_COLOR` is unset or empty.
fn log_colour() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// The error and its causes on one line, leaving out a cause whose text the message already
/// includes (most of ours name their cause themselves).
fn describe(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn main() -> std::process::ExitCode {
    match real_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            std::process::ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<()> {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches)?;
    let (command, log_level) = match cli.command {
        Cmd::Serve {
            config,
            data,
            listen,
            tls_cert,
            tls_key,
            mut limits,
        } => {
            let file = match &config {
                Some(path) => ConfigFile::load(path)?,
                None => ConfigFile::default(),
            };
            let flags = config::Flags {
                listen,
                data,
                log_level: cli.log_level,
                tls_cert,
                tls_key,
            };
            // A limit set by flag or environment beats the file; a clap default does not.
            let serve = matches.subcommand_matches("serve");
            let given = |id: &str| {
                serve
                    .and_then(|m| m.value_source(id))
                    .is_some_and(|s| s != clap::parser::ValueSource::DefaultValue)
            };
            config::apply_limits(&file, &mut limits, given)?;
            let settings = config::resolve(&file, flags, *limits)?;
            let level = settings.log_level.clone();
            (Run::Serve(Box::new(settings)), level)
        }
        other => (
            Run::Other(other),
            cli.log_level
                .unwrap_or_else(|| config::DEFAULT_LOG_LEVEL.to_owned()),
        ),
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log_level))
        .context("bad --log-level; use error, warn, info, debug or trace")?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(log_colour())
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match command {
        Run::Serve(settings) => runtime.block_on(serve(*settings)),
        Run::Other(command) => runtime.block_on(run(command)),
    }
}

/// What `main` runs once logging is set up.
enum Run {
    Serve(Box<config::Settings>),
    Other(Cmd),
}

async fn serve(settings: config::Settings) -> Result<()> {
    let data = data_dir(settings.data)?;
    let acceptor = match &settings.tls {
        Some(files) => Some(tls::acceptor(&files.cert, &files.key)?),
        None => None,
    };
    let mut bound = server::bind_with(data.clone(), &settings.listen, settings.limits).await?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    if let Some(acceptor) = acceptor {
        bound = bound.with_tls(acceptor);
    }
    #[cfg(unix)]
    {
        bound = bound.with_admin_socket(warren_server::admin::socket_path(&data));
    }
    let addr = bound.local_addr;
    tracing::info!(data = %data.display(), %addr, tls = settings.tls.is_some(), "serving");
    let mut stdout = std::io::stdout();
    writeln!(stdout, "warren-server listening on {scheme}://{addr}")?;
    stdout.flush()?;
    bound.run(shutdown_signal()).await?;
    Ok(())
}

async fn run(command: Cmd) -> Result<()> {
    match command {
        Cmd::Serve { .. } => unreachable_serve()?,
        Cmd::Status { target, json } => ops::status(target.data_dir()?, json).await?,
        Cmd::Backup { to, target, json } => ops::backup(target.data_dir()?, &to, json).await?,
        Cmd::Restore { from, data, force } => ops::restore(&from, &data_dir(data)?, force)?,
        Cmd::Check { data, file, json } => match file {
            Some(file) => ops::check(check::check_file(&file), json)?,
            None => ops::check(check::check_dir(&data_dir(data)?), json)?,
        },
        Cmd::Init {
            data,
            owner,
            workspace: name,
        } => {
            workspace::validate_init(&owner, &name)?;
            let data = data_dir(data)?;
            let done =
                store::create_with(&data, |store| workspace::bootstrap(store, &owner, &name))?;
            println!(
                "Created workspace {:?} ({}) owned by {:?} ({}) in {}.",
                done.workspace.name,
                done.workspace.id,
                done.owner.name,
                done.owner.id,
                data.display()
            );
            println!(
                "API token for {:?} (shown once; store it now):",
                done.owner.name
            );
            println!("{}", done.token.token);
            println!(
                "Next: warren-server serve --data {} ; then warren login --server http://127.0.0.1:7878 --token <token>",
                data.display()
            );
        }
        Cmd::Token { action } => token(action)?,
        Cmd::Audit {
            data,
            actor,
            action,
            since,
            limit,
            json,
        } => {
            let store = Store::open(&data_dir(data)?)?;
            let filter = warren_server::audit::query::Filter {
                actor,
                action,
                since: since.map(|age| warren_server::service::now_ms().saturating_sub(age)),
                before: None,
                limit,
            };
            let txn = store.begin_read()?;
            let (entries, _) = warren_server::audit::query::page(
                &txn,
                warren_server::audit::query::Reader::Operator,
                &filter,
            )?;
            audit_cli::print(&entries, json)?;
        }
        Cmd::Member { action } => member(action)?,
    }
    Ok(())
}

fn member(action: MemberCmd) -> Result<()> {
    match action {
        MemberCmd::Add { data, name, role } => {
            let store = Store::open(&data_dir(data)?)?;
            let ws = workspace::first_workspace(&store)?;
            let (user, token) = workspace::add_member(&store, &ws.id, &name, role)?;
            eprintln!(
                "Added {:?} ({}) to {:?} as {}; token {} (shown once; store it now):",
                user.name,
                user.id,
                ws.name,
                role.as_str(),
                token.record.id
            );
            println!("{}", token.token);
        }
    }
    Ok(())
}

/// `serve` is dispatched before the runtime starts; reaching it here is a bug.
fn unreachable_serve() -> Result<()> {
    anyhow::bail!("internal error: serve dispatched twice; please report this")
}

fn token(action: TokenCmd) -> Result<()> {
    match action {
        TokenCmd::Create { data, user, label } => {
            let store = Store::open(&data_dir(data)?)?;
            let (minted, user) = workspace::create_token(&store, user.as_deref(), &label)?;
            eprintln!(
                "Token {} for {:?} (shown once; store it now):",
                minted.record.id, user.name
            );
            println!("{}", minted.token);
        }
        TokenCmd::Revoke { id, data } => {
            let id = Id::parse(&id)
                .context("token ids look like tok_...; see 'warren-server token list'")?;
            let store = Store::open(&data_dir(data)?)?;
            if workspace::revoke_token(&store, &id)? {
                println!("Revoked {id}.");
            } else {
                anyhow::bail!("no token {id}; see 'warren-server token list'");
            }
        }
        TokenCmd::List { data } => {
            let store = Store::open(&data_dir(data)?)?;
            let tokens = workspace::list_tokens(&store)?;
            println!("{:<22}  {:<16}  {:<16}  CREATED", "ID", "USER", "LABEL");
            for (record, user) in tokens {
                println!(
                    "{:<22}  {:<16}  {:<16}  {}",
                    record.id,
                    user,
                    record.label,
                    warren_protocol::time::format_utc_minutes(record.created_at)
                );
            }
        }
    }
    Ok(())
}
