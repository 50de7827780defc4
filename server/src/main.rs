//! `warren-server`: run the sync server headless, create a store, manage API tokens.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use warren_protocol::Id;
use warren_server::server::{self, shutdown_signal};
use warren_server::service::workspace;
use warren_server::store::{self, Store};

#[derive(Parser)]
#[command(name = "warren-server", version, about = "The warren sync server")]
struct Cli {
    /// Log filter when RUST_LOG is unset (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "info")]
    log_level: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the workspace over WebSocket until SIGINT/SIGTERM.
    Serve {
        /// Data directory holding warren.redb [default: the platform data dir]
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: String,
        /// Deadlines, connection caps and the page cache (docs/performance.md, "Limits").
        #[command(flatten)]
        limits: warren_server::limits::Limits,
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
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&cli.log_level))
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
    runtime.block_on(run(cli.command))
}

async fn run(command: Cmd) -> Result<()> {
    match command {
        Cmd::Serve {
            data,
            listen,
            limits,
        } => {
            let data = data_dir(data)?;
            let bound = server::bind_with(data.clone(), &listen, limits).await?;
            tracing::info!(data = %data.display(), addr = %bound.local_addr, "serving");
            let mut stdout = std::io::stdout();
            writeln!(
                stdout,
                "warren-server listening on http://{}",
                bound.local_addr
            )?;
            stdout.flush()?;
            bound.run(shutdown_signal()).await?;
        }
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
