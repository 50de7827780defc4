//! The workspace and its members: renaming the workspace, changing a member's role, removing a
//! member. Owners are protected: only an owner makes owners or changes an owner's role, and the
//! last owner can be neither demoted nor removed.

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::limits::MAX_NAME_CHARS;
use warren_protocol::permission::{self, Permission};
use warren_protocol::{Change, ErrorCode, Id, Member, Role, Workspace};

use super::{ApplyError, Ctx, text};
use crate::audit::{details, target};
use crate::auth::{self, MintedToken};
use crate::store::encode;
use crate::store::read::get_json;
use crate::store::records::UserRecord;
use crate::store::tables::{MEMBERS, WORKSPACES};
use warren_protocol::account::TokenScope;

pub fn rename_workspace(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<Change, ApplyError> {
    let name = text::one_line("a workspace name", name, MAX_NAME_CHARS)?;
    let mut workspaces = txn.open_table(WORKSPACES)?;
    let workspace: Option<Workspace> = get_json(&workspaces, "workspaces", ctx.ws())?;
    let mut workspace = workspace.ok_or_else(|| {
        ApplyError::reject(ErrorCode::NotFound, "this workspace no longer exists")
    })?;
    let old = std::mem::replace(&mut workspace.name, name);
    workspaces.insert(ctx.ws(), encode("workspaces", &workspace)?.as_slice())?;
    ctx.audit(
        txn,
        "workspace.rename",
        Some(target::workspace(&workspace)),
        details([("from", old.as_str())]),
    )?;
    Ok(Change::WorkspaceRenamed { workspace })
}

fn load_member(txn: &WriteTransaction, ctx: &Ctx<'_>, user_id: &Id) -> Result<Member, ApplyError> {
    get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (ctx.ws(), user_id.as_str()),
    )?
    .ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!("{user_id} is not a member of this workspace; list members with 'warren member list'"),
        )
    })
}

fn owner_count(txn: &WriteTransaction, ctx: &Ctx<'_>) -> Result<usize, ApplyError> {
    let members = txn.open_table(MEMBERS)?;
    let mut owners = 0;
    for entry in members.range((ctx.ws(), "")..)? {
        let (key, value) = entry?;
        if key.value().0 != ctx.ws() {
            break;
        }
        let member: Member = serde_json::from_slice(value.value()).map_err(|source| {
            crate::store::StoreError::Corrupt {
                table: "members",
                source,
            }
        })?;
        if member.role == Role::Owner {
            owners += 1;
        }
    }
    Ok(owners)
}

/// Owners are only made, demoted or removed by owners.
fn check_owner_rule(ctx: &Ctx<'_>, request: &str) -> Result<(), ApplyError> {
    if ctx.role.may(Permission::OwnerManage) {
        Ok(())
    } else {
        Err(ApplyError::reject(
            ErrorCode::Forbidden,
            permission::denial(ctx.role, Permission::OwnerManage, request)
                + " (making, demoting or removing an owner)",
        ))
    }
}

fn last_owner(what: &str) -> ApplyError {
    ApplyError::reject(
        ErrorCode::Validation,
        format!(
            "{what} would leave the workspace without an owner; make another member owner first \
             ('warren member role USER owner')"
        ),
    )
}

pub fn set_member_role(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    user_id: &Id,
    role: Role,
) -> Result<Change, ApplyError> {
    let mut member = load_member(txn, ctx, user_id)?;
    if member.role == role {
        return Ok(Change::MemberUpdated { member });
    }
    if member.role == Role::Owner || role == Role::Owner {
        check_owner_rule(ctx, "set_member_role")?;
    }
    if member.role == Role::Owner && owner_count(txn, ctx)? <= 1 {
        return Err(last_owner("demoting the last owner"));
    }
    let old = std::mem::replace(&mut member.role, role);
    txn.open_table(MEMBERS)?.insert(
        (ctx.ws(), user_id.as_str()),
        encode("members", &member)?.as_slice(),
    )?;
    ctx.audit(
        txn,
        "member.role",
        Some(target::member(&member)),
        details([("from", old.as_str()), ("to", role.as_str())]),
    )?;
    Ok(Change::MemberUpdated { member })
}

pub fn remove_member(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    user_id: &Id,
) -> Result<Change, ApplyError> {
    let member = load_member(txn, ctx, user_id)?;
    if let Some(agent) = super::agents::of_member(txn, ctx, user_id)? {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} is an agent; remove it with `warren agent rm {}`",
                agent.name, agent.name
            ),
        ));
    }
    if member.role == Role::Owner {
        check_owner_rule(ctx, "remove_member")?;
        if owner_count(txn, ctx)? <= 1 {
            return Err(last_owner("removing the last owner"));
        }
    }
    txn.open_table(MEMBERS)?
        .remove((ctx.ws(), user_id.as_str()))?;
    ctx.audit(
        txn,
        "member.remove",
        Some(target::member(&member)),
        details([("role", member.role.as_str())]),
    )?;
    Ok(Change::MemberRemoved {
        user_id: member.user_id,
    })
}

/// Adds a bot: a new user who is a `bot` member of this workspace, with a first token of
/// `scope`. The token (with its secret) goes back to the caller only; the event names the member.
pub fn add_bot(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    name: &str,
    scope: TokenScope,
) -> Result<(Change, MintedToken), ApplyError> {
    let name = text::one_line("a bot name", name, 64)?;
    let taken = {
        let members = txn.open_table(MEMBERS)?;
        let mut taken = false;
        for entry in members.range((ctx.ws(), "")..)? {
            let (key, value) = entry?;
            if key.value().0 != ctx.ws() {
                break;
            }
            let member: Member = crate::store::decode("members", value.value())?;
            taken |= member.name.eq_ignore_ascii_case(&name);
        }
        taken
    };
    if taken {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("a member named {name:?} already exists here; pick another name"),
        ));
    }
    let user = UserRecord {
        id: auth::new_id("usr")?,
        name,
        created_at: ctx.now,
    };
    let member = Member {
        user_id: user.id.clone(),
        name: user.name.clone(),
        role: Role::Bot,
    };
    let mut token = auth::mint(&user.id, "created with the bot", ctx.now)?;
    token.record.scope = scope;
    super::workspace::insert_member(txn, ctx.workspace, &user, &member, &token.record)?;
    ctx.audit(
        txn,
        "bot.add",
        Some(target::member(&member)),
        details([
            ("scope", scope.as_str()),
            ("token_id", token.record.id.as_str()),
        ]),
    )?;
    Ok((Change::MemberAdded { member }, token))
}
