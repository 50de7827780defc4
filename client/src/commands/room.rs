//! `warren room …`

use warren_protocol::{Change, Command};

use crate::cli::RoomCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::output;
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: RoomCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        RoomCommand::List => {
            let state = session.snapshot().await?;
            out.either(&state.rooms, || output::format_rooms(&state.rooms))
        }
        RoomCommand::Add { name, topic } => {
            let name = name.trim();
            let name = name.strip_prefix('#').unwrap_or(name).to_owned();
            if let Some(problem) = warren_protocol::room_name::problem(&name) {
                return Err(ClientError::Usage(problem));
            }
            let ack = session
                .command(Command::CreateRoom {
                    room_id: None,
                    name,
                    topic: topic.unwrap_or_default(),
                })
                .await?;
            let Change::RoomCreated { room } = ack.event.change else {
                return Err(ClientError::Protocol("expected room_created".to_owned()));
            };
            out.either(&room, || {
                format!("created room #{} ({})", sanitize::line(&room.name), room.id)
            })
        }
    }
}
