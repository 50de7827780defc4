//! Reads over committed state: snapshots, event pages, message pages, members and tokens.
//!
//! The helpers are generic over redb's `ReadableTable`, so the writer uses the same code inside its
//! write transaction as the connections use inside read transactions.

use std::borrow::Borrow;

use redb::{Key, ReadTransaction, ReadableTable};
use serde::de::DeserializeOwned;
use warren_protocol::agent::{Agent, Provider};
use warren_protocol::{Board, Card, Event, Id, Member, Message, Room, Workspace, WorkspaceState};

use super::records::{TokenRecord, UserRecord};
use super::tables::*;
use super::{StoreError, decode};

/// `items` ordered by name, ignoring ASCII case (then by the exact name).
pub fn sorted_by_name<T>(mut items: Vec<T>, name: impl Fn(&T) -> String) -> Vec<T> {
    items.sort_by_cached_key(|item| {
        let n = name(item);
        (n.to_ascii_lowercase(), n)
    });
    items
}

/// Every provider of a workspace, by name.
pub fn providers(txn: &ReadTransaction, workspace: &str) -> Result<Vec<Provider>, StoreError> {
    Ok(sorted_by_name(
        list_in_workspace(&txn.open_table(PROVIDERS)?, "providers", workspace)?,
        |p: &Provider| p.name.clone(),
    ))
}

/// Every agent of a workspace, by name.
pub fn agents(txn: &ReadTransaction, workspace: &str) -> Result<Vec<Agent>, StoreError> {
    Ok(sorted_by_name(
        list_in_workspace(&txn.open_table(AGENTS)?, "agents", workspace)?,
        |a: &Agent| a.name.clone(),
    ))
}

/// Reads and decodes one JSON record.
pub fn get_json<'a, K, T>(
    table: &impl ReadableTable<K, &'static [u8]>,
    name: &'static str,
    key: impl Borrow<K::SelfType<'a>>,
) -> Result<Option<T>, StoreError>
where
    K: Key + 'static,
    T: DeserializeOwned,
{
    match table.get(key)? {
        Some(guard) => Ok(Some(decode(name, guard.value())?)),
        None => Ok(None),
    }
}

/// Decodes every record of a workspace in a `(workspace_id, id) → JSON` table.
pub fn list_in_workspace<T: DeserializeOwned>(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    name: &'static str,
    workspace: &str,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for entry in table.range((workspace, "")..)? {
        let (key, value) = entry?;
        if key.value().0 != workspace {
            break;
        }
        out.push(decode(name, value.value())?);
    }
    Ok(out)
}

/// The last sequence number of a workspace (0 if it has no events).
pub fn head(
    heads: &impl ReadableTable<&'static str, u64>,
    workspace: &str,
) -> Result<u64, StoreError> {
    Ok(heads.get(workspace)?.map_or(0, |g| g.value()))
}

/// The state of a workspace as of its head.
pub fn snapshot(
    txn: &ReadTransaction,
    workspace_id: &Id,
) -> Result<Option<WorkspaceState>, StoreError> {
    let ws = workspace_id.as_str();
    let Some(workspace) =
        get_json::<&str, Workspace>(&txn.open_table(WORKSPACES)?, "workspaces", ws)?
    else {
        return Ok(None);
    };
    let seq = head(&txn.open_table(HEADS)?, ws)?;
    let members: Vec<Member> = list_in_workspace(&txn.open_table(MEMBERS)?, "members", ws)?;
    let mut boards: Vec<Board> = list_in_workspace(&txn.open_table(BOARDS)?, "boards", ws)?;
    boards.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let mut cards: Vec<Card> = list_in_workspace(&txn.open_table(CARDS)?, "cards", ws)?;
    let column_order = |card: &Card| -> (usize, usize) {
        boards
            .iter()
            .enumerate()
            .find(|(_, b)| b.id == card.board_id)
            .map_or((usize::MAX, usize::MAX), |(bi, b)| {
                let ci = b
                    .columns
                    .iter()
                    .position(|c| c.id == card.column_id)
                    .unwrap_or(usize::MAX);
                (bi, ci)
            })
    };
    cards.sort_by_cached_key(|c| (column_order(c), c.rank.clone()));
    let mut rooms: Vec<Room> = list_in_workspace(&txn.open_table(ROOMS)?, "rooms", ws)?;
    rooms.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(Some(WorkspaceState {
        workspace,
        seq,
        members,
        boards,
        cards,
        rooms,
        jobs: super::run_reads::jobs(&txn.open_table(JOBS)?, ws)?,
        runs: super::run_reads::snapshot_runs(txn, ws)?,
        providers: providers(txn, ws)?,
        agents: agents(txn, ws)?,
    }))
}

/// Up to `limit` stored events with `seq > since`, as their stored JSON text, plus the head.
pub fn event_texts_after(
    txn: &ReadTransaction,
    workspace_id: &Id,
    since: u64,
    limit: usize,
) -> Result<(Vec<(u64, String)>, u64), StoreError> {
    let ws = workspace_id.as_str();
    let head = head(&txn.open_table(HEADS)?, ws)?;
    let events = txn.open_table(EVENTS)?;
    let mut out = Vec::new();
    if since < head {
        for entry in events.range((ws, since + 1)..=(ws, head))? {
            let (key, value) = entry?;
            let text =
                String::from_utf8(value.value().to_vec()).map_err(|e| StoreError::Corrupt {
                    table: "events",
                    source: serde::de::Error::custom(e),
                })?;
            out.push((key.value().1, text));
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok((out, head))
}

/// Up to `limit` decoded events with `seq > since`, plus the head.
pub fn events_after(
    txn: &ReadTransaction,
    workspace_id: &Id,
    since: u64,
    limit: usize,
) -> Result<(Vec<Event>, u64), StoreError> {
    let (texts, head) = event_texts_after(txn, workspace_id, since, limit)?;
    let events = texts
        .iter()
        .map(|(_, t)| decode("events", t.as_bytes()))
        .collect::<Result<_, _>>()?;
    Ok((events, head))
}

/// One stored event.
pub fn event_at(
    events: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    workspace_id: &str,
    seq: u64,
) -> Result<Option<Event>, StoreError> {
    get_json(events, "events", (workspace_id, seq))
}

/// A page of a room's messages, oldest first: the newest `limit` with `seq < before`, and
/// whether older ones exist.
pub fn messages_page(
    txn: &ReadTransaction,
    workspace_id: &Id,
    room_id: &Id,
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<Message>, bool), StoreError> {
    let ws = workspace_id.as_str();
    let room = room_id.as_str();
    let table = txn.open_table(MESSAGES)?;
    let upper = before.unwrap_or(u64::MAX);
    let mut newest_first = Vec::new();
    let mut has_more = false;
    for entry in table.range((ws, room, 0)..(ws, room, upper))?.rev() {
        let (_, value) = entry?;
        if newest_first.len() == limit {
            has_more = true;
            break;
        }
        newest_first.push(decode::<Message>("messages", value.value())?);
    }
    newest_first.reverse();
    Ok((newest_first, has_more))
}

/// Whether a room exists.
pub fn room(
    txn: &ReadTransaction,
    workspace_id: &Id,
    room_id: &Id,
) -> Result<Option<Room>, StoreError> {
    get_json(
        &txn.open_table(ROOMS)?,
        "rooms",
        (workspace_id.as_str(), room_id.as_str()),
    )
}

/// The workspaces a user is a member of, oldest first, with the membership.
pub fn memberships(
    txn: &ReadTransaction,
    user_id: &Id,
) -> Result<Vec<(Workspace, Member)>, StoreError> {
    let members = txn.open_table(MEMBERS)?;
    let workspaces = txn.open_table(WORKSPACES)?;
    let mut out = Vec::new();
    for entry in members.iter()? {
        let (key, value) = entry?;
        if key.value().1 != user_id.as_str() {
            continue;
        }
        let member: Member = decode("members", value.value())?;
        if let Some(ws) = get_json::<&str, Workspace>(&workspaces, "workspaces", key.value().0)? {
            out.push((ws, member));
        }
    }
    out.sort_by(|a, b| (a.0.created_at, &a.0.id).cmp(&(b.0.created_at, &b.0.id)));
    Ok(out)
}

/// A user's membership of a workspace now, if they have one.
pub fn member(
    txn: &ReadTransaction,
    workspace: &Id,
    user: &Id,
) -> Result<Option<Member>, StoreError> {
    get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (workspace.as_str(), user.as_str()),
    )
}

/// A user by id.
pub fn user(txn: &ReadTransaction, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
    get_json(&txn.open_table(USERS)?, "users", user_id)
}

/// A token record by its id.
pub fn token(txn: &ReadTransaction, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
    get_json(&txn.open_table(TOKENS)?, "tokens", token_id)
}

/// Every token record.
pub fn tokens(txn: &ReadTransaction) -> Result<Vec<TokenRecord>, StoreError> {
    tokens_in(&txn.open_table(TOKENS)?)
}

/// Every token record of an open `tokens` table (read or write).
pub fn tokens_in(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Vec<TokenRecord>, StoreError> {
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (_, value) = entry?;
        out.push(decode("tokens", value.value())?);
    }
    Ok(out)
}
