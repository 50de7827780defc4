//! API tokens while the server runs: create (for yourself, or with `token:manage` for a member of
//! a workspace you administer, such as a bot), list, revoke and rotate with a grace period.
//! Tokens belong to users, not workspaces, so these change no workspace and make no event; they
//! write the `tokens` table in their own transaction.

use warren_protocol::account::{AccountOp, AccountResult, TokenInfo, TokenScope};
use warren_protocol::limits::MAX_NAME_CHARS;
use warren_protocol::permission::{self, Permission};
use warren_protocol::{ErrorCode, Id};

use warren_protocol::audit::AuditActor;

use super::{ApplyError, text};
use crate::audit::{self, Record, Source, details, target};
use crate::auth;
use crate::store::records::{TokenRecord, UserRecord};
use crate::store::tables::TOKENS;
use crate::store::{Store, StoreError, encode, read};

/// Who is asking: the user and the token their connection authenticated with, and from where.
pub struct Caller<'a> {
    pub user: &'a UserRecord,
    pub token: &'a TokenRecord,
    pub from: Source,
}

/// What an account request did: its answer, and the tokens whose live connections must re-check
/// them (revoked or given an expiry).
pub struct Done {
    pub result: AccountResult,
    pub changed: Vec<Id>,
}

/// How stale a token's recorded last use may get before a sign-in writes it again: at most one
/// write per token per minute, so a reconnect storm does not become a write storm.
pub const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// Records that `record` was just used to sign in, unless its recorded last use is under
/// [`LAST_USED_RESOLUTION_MS`] old. Re-reads the token inside the write transaction, so a token
/// revoked in between is not brought back.
pub fn touch(store: &Store, record: &TokenRecord, now: i64) -> Result<(), StoreError> {
    if record
        .last_used_at
        .is_some_and(|at| now.saturating_sub(at) < LAST_USED_RESOLUTION_MS)
    {
        return Ok(());
    }
    let txn = store.begin_write()?;
    {
        let mut tokens = txn.open_table(TOKENS)?;
        let current: Option<TokenRecord> =
            crate::store::read::get_json(&tokens, "tokens", record.id.as_str())?;
        if let Some(mut current) = current {
            current.last_used_at = Some(now);
            tokens.insert(record.id.as_str(), encode("tokens", &current)?.as_slice())?;
        }
    }
    txn.commit()?;
    Ok(())
}

fn info(record: &TokenRecord, caller: &Caller<'_>) -> TokenInfo {
    TokenInfo {
        id: record.id.clone(),
        user_id: record.user_id.clone(),
        name: record.label.clone(),
        scope: record.scope,
        created_at: record.created_at,
        expires_at: record.expires_at,
        current: record.id == caller.token.id,
        last_used_at: record.last_used_at,
    }
}

/// Checks the caller may manage `target`'s tokens: their own always; another user's with
/// `token:manage` in a workspace both belong to. Anyone else is "not found", as if the user did
/// not exist.
fn check_target(
    store: &Store,
    caller: &Caller<'_>,
    target: &Id,
    request: &str,
) -> Result<(), ApplyError> {
    if target == &caller.user.id {
        return Ok(());
    }
    let txn = store.begin_read()?;
    let mine = read::memberships(&txn, &caller.user.id)?;
    let mut shared_role = None;
    for (workspace, member) in &mine {
        if read::member(&txn, &workspace.id, target)?.is_some() {
            if member.role.may(Permission::TokenManage) {
                return Ok(());
            }
            shared_role = Some(member.role);
        }
    }
    match shared_role {
        Some(role) => Err(ApplyError::reject(
            ErrorCode::Forbidden,
            permission::denial(role, Permission::TokenManage, request),
        )),
        None => Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("no user {target} in your workspaces; list members with 'warren member list'"),
        )),
    }
}

/// Only a full-scope token manages tokens (a limited token cannot mint a fuller one).
fn check_full(caller: &Caller<'_>, request: &str) -> Result<(), ApplyError> {
    if caller.token.scope == TokenScope::Full {
        Ok(())
    } else {
        Err(ApplyError::reject(
            ErrorCode::Forbidden,
            permission::scope_denial(caller.token.scope, request),
        ))
    }
}

fn load(store: &Store, token_id: &Id) -> Result<TokenRecord, ApplyError> {
    let txn = store.begin_read()?;
    read::token(&txn, token_id.as_str())?.ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!("no token {token_id}; list yours with 'warren token list'"),
        )
    })
}

/// Stores `records` and, in the same transaction, the audit entry of the request.
fn save(
    store: &Store,
    records: &[&TokenRecord],
    audit: Record,
    now: i64,
) -> Result<(), ApplyError> {
    let txn = store.begin_write()?;
    {
        let mut tokens = txn.open_table(TOKENS)?;
        for record in records {
            tokens.insert(record.id.as_str(), encode("tokens", *record)?.as_slice())?;
        }
    }
    audit::append(&txn, now, audit)?;
    txn.commit().map_err(StoreError::from)?;
    Ok(())
}

/// The audit record of a token request: server-wide (tokens belong to users, not
/// workspaces), about the token's user, never with its secret.
fn audited(
    action: &'static str,
    caller: &Caller<'_>,
    token: &TokenRecord,
    extra: &[(&str, String)],
) -> Record {
    let mut details = details([
        ("user", token.user_id.as_str()),
        ("scope", token.scope.as_str()),
    ]);
    for (k, v) in extra {
        details.insert((*k).to_owned(), v.clone());
    }
    Record {
        workspace: None,
        actor: AuditActor::User {
            user_id: caller.user.id.clone(),
            name: caller.user.name.clone(),
        },
        action,
        target: Some(target::token(token)),
        details,
        from: caller.from,
        about: vec![token.user_id.clone()],
    }
}

/// Runs one account request.
pub fn apply(
    store: &Store,
    caller: &Caller<'_>,
    op: &AccountOp,
    now: i64,
) -> Result<Done, ApplyError> {
    let request = op.name();
    match op {
        // A workspace change: it goes through the writer (see `connection::account`); invites
        // have their own service.
        AccountOp::AddBot { .. }
        | AccountOp::CreateWorkspace { .. }
        | AccountOp::CreateInvite { .. }
        | AccountOp::ListInvites { .. }
        | AccountOp::RevokeInvite { .. } => Err(ApplyError::reject(
            ErrorCode::Internal,
            "workspace changes and invites are not token requests",
        )),
        AccountOp::CreateToken {
            name,
            scope,
            expires_at,
            user_id,
        } => {
            check_full(caller, request)?;
            let target = user_id.clone().unwrap_or_else(|| caller.user.id.clone());
            check_target(store, caller, &target, request)?;
            let name = text::one_line("a token name", name, MAX_NAME_CHARS)?;
            if expires_at.is_some_and(|at| at <= now) {
                return Err(ApplyError::reject(
                    ErrorCode::Validation,
                    "expires_at is in the past; give a time to come (or none for no expiry)",
                ));
            }
            let mut minted = auth::mint(&target, &name, now)?;
            minted.record.scope = *scope;
            minted.record.expires_at = *expires_at;
            let record = audited("token.create", caller, &minted.record, &[]);
            save(store, &[&minted.record], record, now)?;
            Ok(Done {
                result: AccountResult::TokenCreated {
                    token: info(&minted.record, caller),
                    secret: minted.token,
                },
                changed: Vec::new(),
            })
        }
        AccountOp::ListTokens { user_id } => {
            let target = user_id.clone().unwrap_or_else(|| caller.user.id.clone());
            check_target(store, caller, &target, request)?;
            let txn = store.begin_read()?;
            let mut tokens: Vec<TokenInfo> = read::tokens(&txn)?
                .iter()
                .filter(|t| t.user_id == target)
                .map(|t| info(t, caller))
                .collect();
            tokens.sort_by_key(|t| t.created_at);
            Ok(Done {
                result: AccountResult::Tokens { tokens },
                changed: Vec::new(),
            })
        }
        AccountOp::RevokeToken { token_id } => {
            check_full(caller, request)?;
            let record = load(store, token_id)?;
            check_target(store, caller, &record.user_id, request)?;
            let txn = store.begin_write()?;
            let removed = txn.open_table(TOKENS)?.remove(token_id.as_str())?.is_some();
            // Revoked by someone else a moment ago: one entry for one revocation.
            if removed {
                audit::append(&txn, now, audited("token.revoke", caller, &record, &[]))?;
            }
            txn.commit().map_err(StoreError::from)?;
            Ok(Done {
                result: AccountResult::TokenRevoked {
                    token_id: token_id.clone(),
                },
                changed: vec![token_id.clone()],
            })
        }
        AccountOp::RotateToken {
            token_id,
            grace_secs,
        } => {
            check_full(caller, request)?;
            let mut old = load(store, token_id)?;
            check_target(store, caller, &old.user_id, request)?;
            let mut minted = auth::mint(&old.user_id, &old.label, now)?;
            minted.record.scope = old.scope;
            minted.record.expires_at = old.expires_at;
            let grace_ms = i64::try_from(grace_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            let end = now.saturating_add(grace_ms);
            old.expires_at = Some(old.expires_at.map_or(end, |at| at.min(end)));
            let record = audited(
                "token.rotate",
                caller,
                &old,
                &[
                    ("new_token_id", minted.record.id.to_string()),
                    ("grace_secs", grace_secs.to_string()),
                ],
            );
            save(store, &[&old, &minted.record], record, now)?;
            Ok(Done {
                result: AccountResult::TokenRotated {
                    old: info(&old, caller),
                    token: info(&minted.record, caller),
                    secret: minted.token,
                },
                changed: vec![old.id.clone()],
            })
        }
        AccountOp::RevokeOtherTokens {} => {
            check_full(caller, request)?;
            let txn = store.begin_write()?;
            let mut revoked: Vec<Id> = Vec::new();
            {
                let mut table = txn.open_table(TOKENS)?;
                let others: Vec<TokenRecord> = read::tokens_in(&table)?
                    .into_iter()
                    .filter(|t| t.user_id == caller.user.id && t.id != caller.token.id)
                    .collect();
                for token in others {
                    table.remove(token.id.as_str())?;
                    let extra = [("signed_out_everywhere_else", "true".to_owned())];
                    audit::append(&txn, now, audited("token.revoke", caller, &token, &extra))?;
                    revoked.push(token.id);
                }
            }
            txn.commit().map_err(StoreError::from)?;
            revoked.sort();
            Ok(Done {
                result: AccountResult::TokensRevoked {
                    token_ids: revoked.clone(),
                },
                changed: revoked,
            })
        }
    }
}
