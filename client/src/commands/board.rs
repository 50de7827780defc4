//! `warren board …`

use crate::cli::BoardCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::output;
use crate::session::Session;

pub(super) async fn run(
    command: BoardCommand,
    session: &Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        BoardCommand::List => {
            let state = session.snapshot().await?;
            out.either(&state.boards, || output::format_boards(&state.boards))
        }
    }
}
