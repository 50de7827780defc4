//! `warren bot …`: add a bot member (its first token is printed once) and list the bots.

use warren_protocol::Role;
use warren_protocol::account::{AccountOp, AccountResult};

use crate::cli::BotCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::output::table;
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: BotCommand,
    session: &Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        BotCommand::Add { name, scope } => {
            let result = session
                .conn
                .account(AccountOp::AddBot {
                    workspace_id: session.workspace.id.clone(),
                    name,
                    scope,
                })
                .await?;
            let AccountResult::BotAdded {
                member,
                token,
                secret,
            } = &result
            else {
                return Err(ClientError::Protocol("expected bot_added".to_owned()));
            };
            out.either(&result, || {
                format!(
                    "{secret}\nadded bot {} ({}) to {}; its token {} (scope {}) is shown once — \
                     store it now\nact as the bot: WARREN_TOKEN=<token> warren whoami\n",
                    sanitize::line(&member.name),
                    member.user_id,
                    sanitize::line(&session.workspace.name),
                    token.id,
                    token.scope.as_str()
                )
            })
        }
        BotCommand::List => {
            let state = session.snapshot().await?;
            let bots: Vec<_> = state
                .members
                .iter()
                .filter(|m| m.role == Role::Bot)
                .cloned()
                .collect();
            out.either(&bots, || {
                if bots.is_empty() {
                    return "no bots; add one with 'warren bot add NAME'\n".to_owned();
                }
                let rows: Vec<Vec<String>> = bots
                    .iter()
                    .map(|b| vec![sanitize::line(&b.name), b.user_id.to_string()])
                    .collect();
                table(&["BOT", "ID"], &rows)
            })
        }
    }
}
