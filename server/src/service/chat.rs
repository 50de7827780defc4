//! Rooms and messages: creating rooms, posting, editing and deleting messages.

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::limits::{MAX_MESSAGE_BYTES, MAX_TOPIC_CHARS};
use warren_protocol::{Change, ErrorCode, Id, Message, Room, room_name};

use super::{ApplyError, Ctx, pick_id, text};
use crate::store::encode;
use crate::store::read::{get_json, list_in_workspace};
use crate::store::tables::{MESSAGE_IDS, MESSAGES, ROOMS};

pub fn create_room(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    room_id: Option<&Id>,
    name: &str,
    topic: &str,
) -> Result<Change, ApplyError> {
    let name = name.trim().trim_start_matches('#').to_owned();
    if let Some(problem) = room_name::problem(&name) {
        return Err(ApplyError::reject(ErrorCode::Validation, problem));
    }
    let topic = if topic.trim().is_empty() {
        String::new()
    } else {
        text::one_line("a room topic", topic, MAX_TOPIC_CHARS)?
    };
    let id = pick_id(room_id, "room")?;
    let mut rooms = txn.open_table(ROOMS)?;
    let existing: Vec<Room> = list_in_workspace(&rooms, "rooms", ctx.ws())?;
    if existing.iter().any(|r| r.id == id) {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("room {id} already exists"),
        ));
    }
    if existing
        .iter()
        .any(|r| r.name.to_lowercase() == name.to_lowercase())
    {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("a room named #{name} already exists; pick another name"),
        ));
    }
    let room = Room {
        id,
        name,
        topic,
        created_at: ctx.now,
    };
    rooms.insert(
        (ctx.ws(), room.id.as_str()),
        encode("rooms", &room)?.as_slice(),
    )?;
    Ok(Change::RoomCreated { room })
}

pub fn post_message(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    message_id: Option<&Id>,
    room_id: &Id,
    body: &str,
) -> Result<Change, ApplyError> {
    let body = text::markdown("a message", body, MAX_MESSAGE_BYTES, true)?;
    let room: Option<Room> = get_json(
        &txn.open_table(ROOMS)?,
        "rooms",
        (ctx.ws(), room_id.as_str()),
    )?;
    if room.is_none() {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("no room {room_id} in this workspace"),
        ));
    }
    let id = pick_id(message_id, "msg")?;
    let mut ids = txn.open_table(MESSAGE_IDS)?;
    if ids.get((ctx.ws(), id.as_str()))?.is_some() {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("message {id} already exists"),
        ));
    }
    let message = Message {
        id,
        room_id: room_id.clone(),
        seq: ctx.seq,
        author: ctx.actor.clone(),
        body,
        created_at: ctx.now,
        edited_at: None,
    };
    ids.insert((ctx.ws(), message.id.as_str()), (room_id.as_str(), ctx.seq))?;
    txn.open_table(MESSAGES)?.insert(
        (ctx.ws(), room_id.as_str(), ctx.seq),
        encode("messages", &message)?.as_slice(),
    )?;
    Ok(Change::MessagePosted { message })
}

/// Loads one of the actor's own messages, refusing other people's.
fn own_message(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    message_id: &Id,
) -> Result<Message, ApplyError> {
    let message = find_message(txn, ctx, message_id)?;
    if &message.author != ctx.actor {
        return Err(ApplyError::reject(
            ErrorCode::Forbidden,
            "you can only edit your own messages",
        ));
    }
    Ok(message)
}

fn find_message(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    message_id: &Id,
) -> Result<Message, ApplyError> {
    let location = txn
        .open_table(MESSAGE_IDS)?
        .get((ctx.ws(), message_id.as_str()))?
        .map(|g| {
            let (room, seq) = g.value();
            (room.to_owned(), seq)
        });
    let Some((room, seq)) = location else {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("no message {message_id} in this workspace"),
        ));
    };
    let message: Message = get_json(
        &txn.open_table(MESSAGES)?,
        "messages",
        (ctx.ws(), room.as_str(), seq),
    )?
    .ok_or_else(|| ApplyError::reject(ErrorCode::NotFound, format!("no message {message_id}")))?;
    Ok(message)
}

pub fn edit_message(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    message_id: &Id,
    body: &str,
) -> Result<Change, ApplyError> {
    let body = text::markdown("a message", body, MAX_MESSAGE_BYTES, true)?;
    let mut message = own_message(txn, ctx, message_id)?;
    message.body = body;
    message.edited_at = Some(ctx.now);
    txn.open_table(MESSAGES)?.insert(
        (ctx.ws(), message.room_id.as_str(), message.seq),
        encode("messages", &message)?.as_slice(),
    )?;
    Ok(Change::MessageEdited { message })
}

pub fn delete_message(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    message_id: &Id,
) -> Result<Change, ApplyError> {
    let message = find_message(txn, ctx, message_id)?;
    let need = warren_protocol::permission::command_named("delete_message");
    ctx.check_own("delete_message", need, &message.author == ctx.actor)?;
    txn.open_table(MESSAGES)?
        .remove((ctx.ws(), message.room_id.as_str(), message.seq))?;
    txn.open_table(MESSAGE_IDS)?
        .remove((ctx.ws(), message.id.as_str()))?;
    Ok(Change::MessageDeleted {
        message_id: message.id,
        room_id: message.room_id,
    })
}
