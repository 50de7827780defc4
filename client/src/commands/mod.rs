//! Runs a parsed command line: `login`, `join` and `keys` on their own, everything else inside a
//! [`Session`] — on the configured server, or, with none configured, on the local workspace
//! ([`crate::local_cli`]).

mod agent;
mod approval;
mod audit;
mod board;
mod bot;
mod budget;
mod card;
mod chat;
mod column;
mod events;
mod invite;
mod job;
mod join;
mod keys;
mod log;
mod login;
mod member;
mod provider;
mod room;
mod run;
mod stats;
mod token;
mod worker;
mod workspace;

use std::io::Stdout;

use crate::cli::{Cli, CliCommand};
use crate::error::ClientError;
use crate::output::Printer;
use crate::session::{self, Session};

/// The printer every command writes through.
pub type Out = Printer<Stdout>;

/// Runs one command line to completion.
pub async fn run(mut cli: Cli) -> Result<(), ClientError> {
    let mut out = Printer::new(cli.global.json, std::io::stdout());
    let ui = cli.ui_args();
    let Some(mut command) = cli.command else {
        return crate::tui::launch::start(&cli.global, &ui, false).await;
    };
    match command {
        CliCommand::Demo(_) => return crate::tui::launch::start(&cli.global, &ui, true).await,
        CliCommand::Login => return login::run(&cli.global, &mut out).await,
        CliCommand::Join(args) => return join::run(args, &cli.global, &mut out).await,
        CliCommand::Keys(mut args) => {
            // `warren --keymap vim keys` means the same as `warren keys --keymap vim`.
            args.keymap = args.keymap.or_else(|| cli.ui.keymap.clone());
            return keys::run(&args, &mut out);
        }
        CliCommand::Worker(args) if args.command.is_none() => {
            return worker::run_worker(args.run, &cli.global).await;
        }
        _ => {}
    }
    // An account in no workspace (it deleted its last one) can still list and create them.
    if let CliCommand::Workspace(command) = &command
        && workspace::needs_no_workspace(command)
        && let Ok(settings) = session::load_settings(&cli.global)
    {
        return workspace::no_workspace(command.clone(), &settings, &mut out).await;
    }
    if let CliCommand::Budget(command) = &mut command {
        budget::take_limit_from_workspace_flag(command, &mut cli.global);
    }
    let (mut session, local) = match session::load_settings(&cli.global) {
        Ok(settings) => (Session::open(&settings).await?, None),
        // A command that waits for an agent run on the local workspace needs a worker there.
        Err(ClientError::NotConfigured) if agent::waits_for_a_run(&command) => {
            crate::local_cli::open_with_worker(&cli.global).await?
        }
        Err(ClientError::NotConfigured) => crate::local_cli::open(&cli.global).await?,
        Err(e) => return Err(e),
    };
    let result = match command {
        CliCommand::Login | CliCommand::Join(_) | CliCommand::Keys(_) | CliCommand::Demo(_) => {
            Ok(())
        }
        CliCommand::Board(command) => board::run(command, &mut session, &mut out).await,
        CliCommand::Column(command) => column::run(command, &mut session, &mut out).await,
        CliCommand::Card(command) => card::run(command, &mut session, &mut out).await,
        CliCommand::Room(command) => room::run(command, &mut session, &mut out).await,
        CliCommand::Member(command) => member::run(command, &mut session, &mut out).await,
        CliCommand::Workspace(command) => workspace::run(command, &mut session, &mut out).await,
        CliCommand::Whoami => member::whoami(&session, &mut out).await,
        CliCommand::Token(command) => token::run(command, &session, &mut out).await,
        CliCommand::Bot(command) => bot::run(command, &session, &mut out).await,
        CliCommand::Worker(args) => match args.command {
            Some(command) => worker::run(command, &session, &mut out).await,
            None => Ok(()),
        },
        CliCommand::Invite(command) => invite::run(command, &session, &mut out).await,
        CliCommand::Chat(command) => chat::run(command, &mut session, &mut out).await,
        CliCommand::Events(args) => events::run(args, &mut session, &mut out).await,
        CliCommand::Audit(args) => audit::run(args, &session, &mut out).await,
        CliCommand::Job(command) => job::run(command, &mut session, &mut out).await,
        CliCommand::Run(command) => run::run(command, &mut session, &mut out).await,
        CliCommand::Log(args) => log::run(args, &mut session, &mut out).await,
        CliCommand::Provider(command) => provider::run(command, &mut session, &mut out).await,
        CliCommand::Agent(command) => agent::run(command, &mut session, &mut out).await,
        CliCommand::Approvals(command) => approval::run(command, &mut session, &mut out).await,
        CliCommand::Budget(command) => budget::run(command, &mut session, &mut out).await,
        CliCommand::Stats(args) => stats::run(args, &session, &mut out).await,
    };
    session.conn.close().await;
    if let Some(server) = local {
        server.shutdown().await;
    }
    result
}
