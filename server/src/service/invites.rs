//! Invitations: admins create, list and revoke them (`account` requests, in their own
//! transaction: an invite changes no workspace until it is used), and `POST /join` uses one
//! through the writer ([`join`]): one transaction takes one use, makes the user (or takes the
//! signed-in one) and adds the member with its `member_added` event.
//!
//! A code reads `wri_` + 16 characters naming the invite + 32 characters of secret. The store
//! keeps only the SHA-256 of the secret, compared in constant time; a code that names no invite
//! or whose secret does not match is "not a valid invite", so guessing teaches nothing.

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::account::{AccountOp, AccountResult, TokenScope};
use warren_protocol::invite::{
    DEFAULT_INVITE_SECS, INVITE_PREFIX, InviteInfo, InviteState, MAX_INVITE_SECS, MAX_INVITE_USES,
};
use warren_protocol::permission::{self, Permission};
use warren_protocol::{Change, ErrorCode, Id, Member, Role, Workspace};

use super::{ApplyError, Ctx, text};
use crate::audit::{self, Source};
use crate::auth::{self, MintedToken};
use crate::store::read::get_json;
use crate::store::records::{InviteRecord, UserRecord};
use crate::store::tables::{INVITES, MEMBERS, USERS, WORKSPACES};
use crate::store::{Store, StoreError, decode, encode};

/// The answer to an unknown code, a wrong secret or a malformed code: nothing more.
pub const NOT_VALID: &str = "not a valid invite; check the code you were given, or ask for a new \
                             one (an admin makes it with 'warren invite create')";

/// A presented invite code's secret part; never shown in a debug log.
#[derive(Clone)]
pub struct InviteSecret(pub String);

impl std::fmt::Debug for InviteSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteSecret(***)")
    }
}

/// Splits a code into the invite's id and its secret, if it is well-formed.
pub fn parse_code(code: &str) -> Option<(Id, InviteSecret)> {
    let (id, secret) = auth::split_secret(code.trim(), INVITE_PREFIX, "inv")?;
    let id = Id::parse(&id).ok()?;
    Some((id, InviteSecret(secret.to_owned())))
}

fn state(record: &InviteRecord, now: i64) -> InviteState {
    if record.revoked_at.is_some() {
        InviteState::Revoked
    } else if record.used >= record.uses {
        InviteState::UsedUp
    } else if record.expires_at <= now {
        InviteState::Expired
    } else {
        InviteState::Active
    }
}

fn info(record: &InviteRecord, now: i64) -> InviteInfo {
    InviteInfo {
        id: record.id.clone(),
        workspace_id: record.workspace_id.clone(),
        role: record.role,
        created_by: record.created_by.clone(),
        created_at: record.created_at,
        expires_at: record.expires_at,
        uses: record.uses,
        uses_left: record.uses.saturating_sub(record.used),
        state: state(record, now),
    }
}

fn not_member(workspace: &Id) -> ApplyError {
    ApplyError::reject(
        ErrorCode::NotFound,
        format!("no workspace {workspace} that you are a member of"),
    )
}

/// The caller's membership of `workspace` as a context to check permissions with.
fn member_of<'a>(
    txn: &WriteTransaction,
    workspace: &'a Id,
    user: &'a Id,
    scope: TokenScope,
    now: i64,
    from: Source,
) -> Result<Ctx<'a>, ApplyError> {
    let member: Option<Member> = get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (workspace.as_str(), user.as_str()),
    )?;
    let member = member.ok_or_else(|| not_member(workspace))?;
    Ok(Ctx {
        workspace,
        actor: user,
        role: member.role,
        scope,
        now,
        seq: 0,
        from,
    })
}

fn save(txn: &WriteTransaction, record: &InviteRecord) -> Result<(), StoreError> {
    txn.open_table(INVITES)?
        .insert(record.id.as_str(), encode("invites", record)?.as_slice())?;
    Ok(())
}

fn load(txn: &WriteTransaction, id: &Id) -> Result<Option<InviteRecord>, StoreError> {
    get_json(&txn.open_table(INVITES)?, "invites", id.as_str())
}

/// Runs `create_invite`, `list_invites` or `revoke_invite` for `user` (whose token has `scope`).
pub fn apply(
    store: &Store,
    user: &Id,
    (scope, from): (TokenScope, Source),
    op: &AccountOp,
    now: i64,
) -> Result<AccountResult, ApplyError> {
    let txn = store.begin_write()?;
    let result = match op {
        AccountOp::CreateInvite {
            workspace_id,
            role,
            expires_in_secs,
            uses,
        } => {
            let ctx = member_of(&txn, workspace_id, user, scope, now, from)?;
            ctx.check_account("create_invite")?;
            create(&txn, &ctx, *role, *expires_in_secs, *uses)?
        }
        AccountOp::ListInvites { workspace_id } => {
            let ctx = member_of(&txn, workspace_id, user, scope, now, from)?;
            ctx.check_account("list_invites")?;
            let mut invites = Vec::new();
            for entry in txn.open_table(INVITES)?.iter()? {
                let (_, value) = entry?;
                let record: InviteRecord = decode("invites", value.value())?;
                if &record.workspace_id == workspace_id {
                    invites.push(info(&record, now));
                }
            }
            invites.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            // Nothing was written; dropping the transaction aborts it.
            return Ok(AccountResult::Invites { invites });
        }
        AccountOp::RevokeInvite { invite_id } => {
            let missing = || {
                ApplyError::reject(
                    ErrorCode::NotFound,
                    format!("no invite {invite_id}; list them with 'warren invite list'"),
                )
            };
            let mut record = load(&txn, invite_id)?.ok_or_else(missing)?;
            // An invite of a workspace you are not in is as unknown as one that does not exist.
            let ctx = member_of(&txn, &record.workspace_id, user, scope, now, from)
                .map_err(|_| missing())?;
            ctx.check_account("revoke_invite")?;
            if record.revoked_at.is_none() {
                record.revoked_at = Some(now);
                save(&txn, &record)?;
                ctx.audit(
                    &txn,
                    "invite.revoke",
                    Some(audit::target::invite(&record.id)),
                    audit::details([("role", record.role.as_str())]),
                )?;
            }
            AccountResult::InviteRevoked {
                invite_id: invite_id.clone(),
            }
        }
        _ => {
            return Err(ApplyError::reject(
                ErrorCode::Internal,
                "not an invite request",
            ));
        }
    };
    txn.commit().map_err(StoreError::from)?;
    Ok(result)
}

fn create(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    role: Role,
    expires_in_secs: Option<u64>,
    uses: Option<u32>,
) -> Result<AccountResult, ApplyError> {
    if role == Role::Bot {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            "an invite cannot make a bot; add bots with 'warren bot add NAME'",
        ));
    }
    if role == Role::Owner && !ctx.may(Permission::OwnerManage) {
        return Err(ApplyError::reject(
            ErrorCode::Forbidden,
            permission::denial(ctx.role, Permission::OwnerManage, "create_invite")
                + " (inviting an owner)",
        ));
    }
    let secs = expires_in_secs.unwrap_or(DEFAULT_INVITE_SECS);
    if secs == 0 || secs > MAX_INVITE_SECS {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "an invite works from 1 second to {} days; give --expires like 2h, 7d or 30d",
                MAX_INVITE_SECS / 86_400
            ),
        ));
    }
    let uses = uses.unwrap_or(1);
    if uses == 0 || uses > MAX_INVITE_USES {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("an invite lets in 1 to {MAX_INVITE_USES} people; give --uses in that range"),
        ));
    }
    let id = auth::new_id("inv")?;
    let secret = auth::new_secret()?;
    let code = format!(
        "{INVITE_PREFIX}{}{secret}",
        id.as_str().trim_start_matches("inv_")
    );
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let record = InviteRecord {
        id,
        workspace_id: ctx.workspace.clone(),
        role,
        created_by: ctx.actor.clone(),
        created_at: ctx.now,
        expires_at: ctx.now.saturating_add(secs.saturating_mul(1000)),
        uses,
        used: 0,
        revoked_at: None,
        secret_sha256: auth::sha256_hex(&secret),
    };
    save(txn, &record)?;
    let uses = record.uses.to_string();
    let expires_at = record.expires_at.to_string();
    ctx.audit(
        txn,
        "invite.create",
        Some(audit::target::invite(&record.id)),
        audit::details([
            ("role", record.role.as_str()),
            ("uses", uses.as_str()),
            ("expires_at", expires_at.as_str()),
        ]),
    )?;
    Ok(AccountResult::InviteCreated {
        invite: info(&record, ctx.now),
        code,
    })
}

/// The invite a code names, if the code is well-formed, the invite exists and the secret
/// matches (checked in constant time) — whatever its state. Anything else is `None`.
pub fn find(store: &Store, code: &str) -> Result<Option<(InviteRecord, InviteSecret)>, StoreError> {
    let Some((id, secret)) = parse_code(code) else {
        return Ok(None);
    };
    let txn = store.begin_read()?;
    let record: Option<InviteRecord> = get_json(&txn.open_table(INVITES)?, "invites", id.as_str())?;
    Ok(record
        .filter(|r| auth::digest_matches(&r.secret_sha256, &secret.0))
        .map(|r| (r, secret)))
}

/// Who joins: a new user (to be made, with this id and name) or a signed-in one.
#[derive(Debug, Clone)]
pub enum Joiner {
    New { id: Id, name: String },
    Existing { id: Id },
}

/// What a join did, besides its `member_added` change.
pub struct JoinDone {
    pub change: Change,
    pub workspace: Workspace,
    /// The new user's first token.
    pub minted: Option<MintedToken>,
}

/// Uses one use of the invite `invite_id` (whose code's secret is `secret`) for `joiner`, inside
/// the writer's transaction: checks the invite can be used, makes the user and their first token
/// (a new one) or checks they are not a member yet (a signed-in one), and adds the member. The
/// caller appends the `member_added` event to the invite's workspace.
pub fn join(
    txn: &WriteTransaction,
    invite_id: &Id,
    secret: &InviteSecret,
    joiner: &Joiner,
    now: i64,
) -> Result<JoinDone, ApplyError> {
    let invalid = || ApplyError::reject(ErrorCode::NotFound, NOT_VALID);
    let mut record = load(txn, invite_id)?.ok_or_else(invalid)?;
    if !auth::digest_matches(&record.secret_sha256, &secret.0) {
        return Err(invalid());
    }
    let unusable = |why: &str| {
        ApplyError::reject(
            ErrorCode::InviteUnusable,
            format!("this invite {why}; ask the person who invited you for a new one"),
        )
    };
    match state(&record, now) {
        InviteState::Active => {}
        InviteState::Revoked => return Err(unusable("was revoked")),
        InviteState::UsedUp => return Err(unusable("has been used up")),
        InviteState::Expired => return Err(unusable("has expired")),
    }
    let workspace: Workspace = get_json(
        &txn.open_table(WORKSPACES)?,
        "workspaces",
        record.workspace_id.as_str(),
    )?
    .ok_or_else(|| unusable("is for a workspace that no longer exists"))?;
    let ws = workspace.id.as_str();
    let (user, minted) = match joiner {
        Joiner::New { id, name } => {
            let name = text::one_line("your name (--name)", name, 64)?;
            if name_taken(txn, &name)? {
                return Err(ApplyError::reject(
                    ErrorCode::Conflict,
                    format!(
                        "the name {name:?} is already taken on this server; pick another with \
                         --name (or, if it is yours, join with your token: 'warren login' first)"
                    ),
                ));
            }
            let user = UserRecord {
                id: id.clone(),
                name,
                created_at: now,
            };
            txn.open_table(USERS)?
                .insert(user.id.as_str(), encode("users", &user)?.as_slice())?;
            let token = auth::mint(&user.id, "created by warren join", now)?;
            txn.open_table(crate::store::tables::TOKENS)?.insert(
                token.record.id.as_str(),
                encode("tokens", &token.record)?.as_slice(),
            )?;
            (user, Some(token))
        }
        Joiner::Existing { id } => {
            let user: UserRecord = get_json(&txn.open_table(USERS)?, "users", id.as_str())?
                .ok_or_else(|| {
                    ApplyError::reject(ErrorCode::NotFound, "your account no longer exists")
                })?;
            if txn.open_table(MEMBERS)?.get((ws, id.as_str()))?.is_some() {
                return Err(ApplyError::reject(
                    ErrorCode::Conflict,
                    format!(
                        "you are already a member of {:?}; the invite was not used",
                        workspace.name
                    ),
                ));
            }
            (user, None)
        }
    };
    let member = Member {
        user_id: user.id.clone(),
        name: user.name.clone(),
        role: record.role,
    };
    txn.open_table(MEMBERS)?.insert(
        (ws, user.id.as_str()),
        encode("members", &member)?.as_slice(),
    )?;
    record.used += 1;
    save(txn, &record)?;
    Ok(JoinDone {
        change: Change::MemberAdded { member },
        workspace,
        minted,
    })
}

/// Whether a user of this name (compared without case) exists anywhere on the server.
fn name_taken(txn: &WriteTransaction, name: &str) -> Result<bool, StoreError> {
    for entry in txn.open_table(USERS)?.iter()? {
        let (_, value) = entry?;
        let user: UserRecord = decode("users", value.value())?;
        if user.name.eq_ignore_ascii_case(name) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_anything_else_does_not() {
        let code = "wri_5c8e1g4j7l0n3q6sb2d4f6h8k0m2p4r6t8v0x2z4b6d8f0h2";
        let (id, secret) = parse_code(code).expect("a well-formed code");
        assert_eq!(id.as_str(), "inv_5c8e1g4j7l0n3q6s");
        assert_eq!(secret.0.len(), 32);
        assert!(
            !format!("{secret:?}").contains(&secret.0),
            "no secret in debug output"
        );
        for bad in [
            "",
            "wri_",
            "wrn_5c8e1g4j7l0n3q6sb2d4f6h8k0m2p4r6t8v0x2z4b6d8f0h2",
            "wri_5C8E1G4J7L0N3Q6SB2D4F6H8K0M2P4R6T8V0X2Z4B6D8F0H2",
            "wri_short",
        ] {
            assert!(parse_code(bad).is_none(), "{bad:?}");
        }
    }

    fn record(now: i64) -> InviteRecord {
        InviteRecord {
            id: Id::parse("inv_5c8e1g4j7l0n3q6s").expect("id"),
            workspace_id: Id::parse("ws_1").expect("id"),
            role: Role::Member,
            created_by: Id::parse("usr_1").expect("id"),
            created_at: now,
            expires_at: now + 1000,
            uses: 2,
            used: 0,
            revoked_at: None,
            secret_sha256: auth::sha256_hex("x"),
        }
    }

    #[test]
    fn the_state_says_why_an_invite_no_longer_works() {
        let now = 1_000_000;
        assert_eq!(state(&record(now), now), InviteState::Active);
        assert_eq!(state(&record(now), now + 1000), InviteState::Expired);
        let used = InviteRecord {
            used: 2,
            ..record(now)
        };
        assert_eq!(state(&used, now), InviteState::UsedUp);
        let revoked = InviteRecord {
            revoked_at: Some(now),
            ..used
        };
        assert_eq!(state(&revoked, now), InviteState::Revoked);
        assert_eq!(info(&record(now), now).uses_left, 2);
    }
}
