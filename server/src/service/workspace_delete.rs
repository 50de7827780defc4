//! Deleting a workspace (`delete_workspace`, owners only): removes every row keyed by the
//! workspace — its record, head and event log, counters, boards, cards and their column order,
//! rooms, messages and their index, the memberships, its invites — and the remembered request ids
//! that point into it, inside the writer's transaction, with one server-wide `workspace.delete`
//! audit entry (the workspace's own audit entries stay, for the operator). Bots belong to one workspace, so a bot member with no
//! other membership loses its tokens too (its account record stays, with nothing to open).
//!
//! The resulting `workspace_deleted` event is not stored (its log is gone): the writer sends it
//! to the workspace's subscribers as their last frame and then ends their subscriptions.
//!
//! A new table keyed by the workspace must be cleared here as well; the test below lists what a
//! deleted workspace must not leave behind.

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::{Change, ErrorCode, Member, Role, Workspace};

use super::{ApplyError, Ctx};
use crate::store::read::get_json;
use crate::store::records::TokenRecord;
use crate::store::tables::*;
use crate::store::{StoreError, decode};

/// Deletes the workspace of `ctx` if `name` is its current name (the confirmation).
pub fn delete_workspace(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<Change, ApplyError> {
    let ws = ctx.ws();
    let workspace: Workspace = get_json(&txn.open_table(WORKSPACES)?, "workspaces", ws)?
        .ok_or_else(|| {
            ApplyError::reject(ErrorCode::NotFound, "this workspace no longer exists")
        })?;
    if workspace.name != name.trim() {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "the confirmation {:?} is not this workspace's name; nothing was deleted — \
                 give its exact name ('warren workspace list' shows it)",
                name.trim()
            ),
        ));
    }
    let members: Vec<Member> =
        crate::store::read::list_in_workspace(&txn.open_table(MEMBERS)?, "members", ws)?;
    clear_pairs(txn, MEMBERS, ws)?;
    clear_pairs(txn, BOARDS, ws)?;
    clear_pairs(txn, CARDS, ws)?;
    clear_pairs(txn, ROOMS, ws)?;
    clear_pairs(txn, JOBS, ws)?;
    clear_pairs(txn, RUNS, ws)?;
    clear_pairs(txn, LOG_PROGRESS, ws)?;
    clear_pairs(txn, WORKERS, ws)?;
    clear_pairs(txn, PROVIDERS, ws)?;
    clear_pairs(txn, AGENTS, ws)?;
    clear_pairs(txn, BUDGETS, ws)?;
    txn.open_table(USAGE)?.retain_in(
        (ws, "", "", "", "")..(ws, "\u{10ffff}", "", "", ""),
        |_, _| false,
    )?;
    txn.open_table(RUN_NUMBERS)?
        .retain_in((ws, 0)..=(ws, u64::MAX), |_, _| false)?;
    {
        let mut table = txn.open_table(COUNTERS)?;
        let keys = keys_of(table.range((ws, "")..)?, ws)?;
        for key in keys {
            table.remove((ws, key.as_str()))?;
        }
    }
    {
        let mut table = txn.open_table(MESSAGE_IDS)?;
        let keys = keys_of(table.range((ws, "")..)?, ws)?;
        for key in keys {
            table.remove((ws, key.as_str()))?;
        }
    }
    {
        let mut table = txn.open_table(COLUMN_CARDS)?;
        let mut keys = Vec::new();
        for entry in table.range((ws, "", "")..)? {
            let (key, _) = entry?;
            let (w, column, rank) = key.value();
            if w != ws {
                break;
            }
            keys.push((column.to_owned(), rank.to_owned()));
        }
        for (column, rank) in keys {
            table.remove((ws, column.as_str(), rank.as_str()))?;
        }
    }
    {
        let mut table = txn.open_table(MESSAGES)?;
        let mut keys = Vec::new();
        for entry in table.range((ws, "", 0)..)? {
            let (key, _) = entry?;
            let (w, room, seq) = key.value();
            if w != ws {
                break;
            }
            keys.push((room.to_owned(), seq));
        }
        for (room, seq) in keys {
            table.remove((ws, room.as_str(), seq))?;
        }
    }
    crate::logs::delete_workspace(txn, ws)?;
    super::agent_runs::delete_workspace(txn, ws)?;
    txn.open_table(EVENTS)?
        .retain_in((ws, 0)..=(ws, u64::MAX), |_, _| false)?;
    txn.open_table(HEADS)?.remove(ws)?;
    txn.open_table(WORKSPACES)?.remove(ws)?;
    txn.open_table(REQUESTS)?.retain(|_, (w, _, _)| w != ws)?;
    {
        // Invites are keyed by their own id; the record names the workspace.
        let mut table = txn.open_table(INVITES)?;
        let mut doomed = Vec::new();
        for entry in table.iter()? {
            let (key, value) = entry?;
            let invite: crate::store::records::InviteRecord = decode("invites", value.value())?;
            if invite.workspace_id.as_str() == ws {
                doomed.push(key.value().to_owned());
            }
        }
        for key in doomed {
            table.remove(key.as_str())?;
        }
    }
    revoke_lone_bots(txn, &members)?;
    // Server-wide: the workspace's own entries can no longer be read by anyone in it; its
    // entries stay for the operator (`warren-server audit`).
    let members_count = members.len().to_string();
    ctx.audit_server_wide(
        txn,
        "workspace.delete",
        Some(crate::audit::target::workspace(&workspace)),
        crate::audit::details([("members", members_count.as_str())]),
    )?;
    Ok(Change::WorkspaceDeleted { workspace })
}

/// Removes the rows of a `(workspace_id, id) → value` table that belong to `ws`.
fn clear_pairs(
    txn: &WriteTransaction,
    definition: redb::TableDefinition<(&str, &str), &[u8]>,
    ws: &str,
) -> Result<(), StoreError> {
    let mut table = txn.open_table(definition)?;
    let keys = keys_of(table.range((ws, "")..)?, ws)?;
    for key in keys {
        table.remove((ws, key.as_str()))?;
    }
    Ok(())
}

/// The second key parts of the rows of `ws` at the start of `range`.
fn keys_of<V: redb::Value + 'static>(
    range: redb::Range<'_, (&'static str, &'static str), V>,
    ws: &str,
) -> Result<Vec<String>, StoreError> {
    let mut keys = Vec::new();
    for entry in range {
        let (key, _) = entry?;
        let (w, id) = key.value();
        if w != ws {
            break;
        }
        keys.push(id.to_owned());
    }
    Ok(keys)
}

/// Deletes the tokens of bot members that are members nowhere else now.
fn revoke_lone_bots(txn: &WriteTransaction, members: &[Member]) -> Result<(), StoreError> {
    let bots: Vec<&Member> = members.iter().filter(|m| m.role == Role::Bot).collect();
    if bots.is_empty() {
        return Ok(());
    }
    let mut lone = Vec::new();
    {
        let memberships = txn.open_table(MEMBERS)?;
        for bot in bots {
            let mut elsewhere = false;
            for entry in memberships.iter()? {
                let (key, _) = entry?;
                elsewhere |= key.value().1 == bot.user_id.as_str();
            }
            if !elsewhere {
                lone.push(bot.user_id.to_string());
            }
        }
    }
    let mut tokens = txn.open_table(TOKENS)?;
    let mut doomed = Vec::new();
    for entry in tokens.iter()? {
        let (key, value) = entry?;
        let record: TokenRecord = decode("tokens", value.value())?;
        if lone.iter().any(|u| u == record.user_id.as_str()) {
            doomed.push(key.value().to_owned());
        }
    }
    for id in doomed {
        tokens.remove(id.as_str())?;
    }
    Ok(())
}
