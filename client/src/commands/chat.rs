//! `warren chat …`: post a message, or print a room's recent messages and optionally follow it.

use warren_protocol::limits::MAX_PAGE;
use warren_protocol::{Change, Command, Id, Message, Query, QueryResult, ServerMessage};

use crate::cli::ChatCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::names::Names;
use crate::output;
use crate::resolve::find_room;
use crate::session::Session;

pub(super) async fn run(
    command: ChatCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        ChatCommand::Send { room, text } => {
            let state = session.snapshot().await?;
            let room = find_room(&state, &room)?;
            let ack = session
                .command(Command::PostMessage {
                    message_id: None,
                    room_id: room.id.clone(),
                    body: text,
                })
                .await?;
            let Change::MessagePosted { message } = ack.event.change else {
                return Err(ClientError::Protocol("expected message_posted".to_owned()));
            };
            let names = Names::from_state(&state);
            out.either(&message, || {
                format!(
                    "posted to {} ({})",
                    names.room(&message.room_id),
                    message.id
                )
            })
        }
        ChatCommand::Tail {
            room,
            follow,
            limit,
        } => tail(session, out, &room, follow, limit).await,
    }
}

/// Prints one message: a JSON line, or the human form.
fn print(out: &mut Out, names: &Names, message: &Message) -> Result<(), ClientError> {
    out.either(message, || output::format_message(message, names))
}

async fn tail(
    session: &mut Session,
    out: &mut Out,
    room: &str,
    follow: bool,
    limit: u32,
) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let room_id = find_room(&state, room)?.id.clone();
    let mut names = Names::from_state(&state);
    let messages = recent(session, &room_id, limit).await?;
    let mut last = state.seq;
    for message in &messages {
        print(out, &names, message)?;
        last = last.max(message.seq);
    }
    if !follow {
        return Ok(());
    }
    session.conn.subscribe(&session.workspace.id, Some(last))?;
    loop {
        match session.next_push_resuming(last).await {
            Err(e) => return Err(e),
            Ok(ServerMessage::Event { event }) => {
                names.observe(&event);
                if let Change::MessagePosted { message } = &event.change
                    && message.room_id == room_id
                    && message.seq > last
                {
                    print(out, &names, message)?;
                    last = message.seq;
                }
            }
            Ok(ServerMessage::Snapshot { state }) => names = Names::from_state(&state),
            Ok(_) => {}
        }
    }
}

/// The newest `limit` messages of a room, oldest first, paging backwards as needed.
async fn recent(session: &Session, room_id: &Id, limit: u32) -> Result<Vec<Message>, ClientError> {
    let mut collected: Vec<Message> = Vec::new();
    let mut before = None;
    let wanted = limit as usize;
    while collected.len() < wanted {
        let page = (wanted - collected.len()).min(MAX_PAGE);
        let result = session
            .query(Query::Messages {
                room_id: room_id.clone(),
                before,
                limit: u32::try_from(page).unwrap_or(u32::MAX),
            })
            .await?;
        let QueryResult::Messages {
            mut messages,
            has_more,
            ..
        } = result
        else {
            return Err(ClientError::Protocol(
                "expected a messages result".to_owned(),
            ));
        };
        let oldest = messages.first().map(|m| m.seq);
        messages.append(&mut collected);
        collected = messages;
        match oldest {
            Some(seq) if has_more => before = Some(seq),
            _ => break,
        }
    }
    let excess = collected.len().saturating_sub(wanted);
    collected.drain(..excess);
    Ok(collected)
}
