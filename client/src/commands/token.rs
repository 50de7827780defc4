//! `warren token …`: create, list, revoke and rotate API tokens over the socket while the server
//! runs. A new token's secret is printed once (in `--json` too, as `secret`) and never again.

use warren_protocol::account::{AccountOp, AccountResult, TokenInfo};

use crate::cli::TokenCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::output::table;
use crate::resolve;
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: TokenCommand,
    session: &Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let now = crate::tui::app::now_ms();
    let op = match command {
        TokenCommand::Create {
            name,
            expires,
            scope,
            user,
        } => AccountOp::CreateToken {
            name,
            scope,
            expires_at: expires.map(|ms| now.saturating_add(ms)),
            user_id: member_id(session, user.as_deref()).await?,
        },
        TokenCommand::List { user } => AccountOp::ListTokens {
            user_id: member_id(session, user.as_deref()).await?,
        },
        TokenCommand::Revoke { id: None, .. } => AccountOp::RevokeOtherTokens {},
        TokenCommand::Revoke { id: Some(id), .. } => AccountOp::RevokeToken {
            token_id: token_id(&id)?,
        },
        TokenCommand::Rotate { id, grace } => AccountOp::RotateToken {
            token_id: token_id(&id)?,
            grace_secs: u64::try_from(grace / 1000).unwrap_or(0),
        },
    };
    let result = session.conn.account(op).await?;
    out.either(&result, || match &result {
        AccountResult::TokenCreated { token, secret } => format!(
            "{secret}\ntoken {} ({}, scope {}{}) — shown once; store it now\n",
            token.id,
            sanitize::line(&token.name),
            token.scope.as_str(),
            expiry(token.expires_at, now)
        ),
        AccountResult::Tokens { tokens } => tokens_table(tokens, now),
        AccountResult::WorkspaceCreated { workspace } => {
            format!("created workspace {}\n", sanitize::line(&workspace.name))
        }
        AccountResult::BotAdded { member, .. } => {
            format!("added bot {}\n", sanitize::line(&member.name))
        }
        AccountResult::TokenRevoked { token_id } => {
            format!("revoked {token_id}; its connections are closed\n")
        }
        AccountResult::TokensRevoked { token_ids } if token_ids.is_empty() => {
            "no other tokens to revoke; this one is your only token\n".to_owned()
        }
        AccountResult::TokensRevoked { token_ids } => format!(
            "revoked {} other token{} ({}); their connections are closed\n",
            token_ids.len(),
            if token_ids.len() == 1 { "" } else { "s" },
            token_ids
                .iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        AccountResult::InviteCreated { .. }
        | AccountResult::Invites { .. }
        | AccountResult::InviteRevoked { .. } => "done\n".to_owned(),
        AccountResult::TokenRotated { old, token, secret } => format!(
            "{secret}\nnew token {} — shown once; store it now\nthe old token {} works{}\n",
            token.id,
            old.id,
            expiry(old.expires_at, now)
        ),
    })
}

async fn member_id(
    session: &Session,
    key: Option<&str>,
) -> Result<Option<warren_protocol::Id>, ClientError> {
    let Some(key) = key else {
        return Ok(None);
    };
    let state = session.snapshot().await?;
    Ok(Some(resolve::find_member(&state, key)?.user_id.clone()))
}

fn token_id(text: &str) -> Result<warren_protocol::Id, ClientError> {
    warren_protocol::Id::parse(text.trim()).map_err(|_| {
        ClientError::Usage(format!(
            "{:?} is not a token id; ids look like tok_… (see 'warren token list')",
            sanitize::line(text)
        ))
    })
}

fn expiry(expires_at: Option<i64>, now: i64) -> String {
    match expires_at {
        None => String::new(),
        Some(at) if at <= now => ", expired".to_owned(),
        Some(at) => format!(", until {}", warren_protocol::time::format_utc_minutes(at)),
    }
}

fn tokens_table(tokens: &[TokenInfo], now: i64) -> String {
    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                sanitize::line(&t.name),
                t.scope.as_str().to_owned(),
                warren_protocol::time::format_utc_minutes(t.created_at),
                match t.expires_at {
                    None => "never".to_owned(),
                    Some(at) if at <= now => "expired".to_owned(),
                    Some(at) => warren_protocol::time::format_utc_minutes(at),
                },
                t.last_used_at.map_or_else(
                    || "never".to_owned(),
                    warren_protocol::time::format_utc_minutes,
                ),
                if t.current { "this one" } else { "" }.to_owned(),
            ]
        })
        .collect();
    table(
        &["ID", "NAME", "SCOPE", "CREATED", "EXPIRES", "LAST USED", ""],
        &rows,
    )
}
