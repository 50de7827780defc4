//! `warren events`: pages through the workspace's event stream from a sequence number and, with
//! `--follow`, subscribes and keeps printing live events. Each event is printed once, in order.

use warren_protocol::limits::MAX_PAGE;
use warren_protocol::{Event, Query, QueryResult, ServerMessage};

use crate::cli::EventsArgs;
use crate::commands::Out;
use crate::error::ClientError;
use crate::names::Names;
use crate::output;
use crate::session::Session;

/// Prints events and remembers the last sequence printed.
struct Printed<'a> {
    out: &'a mut Out,
    names: Names,
    last: u64,
}

impl Printed<'_> {
    fn event(&mut self, event: &Event) -> Result<(), ClientError> {
        if event.seq <= self.last {
            return Ok(());
        }
        self.names.observe(event);
        self.last = event.seq;
        let names = &self.names;
        self.out
            .either(event, || output::format_event(event, names))
    }
}

pub(super) async fn run(
    args: EventsArgs,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let names = if out.is_json() {
        Names::default()
    } else {
        Names::from_state(&session.snapshot().await?)
    };
    let mut printed = Printed {
        out,
        names,
        last: args.since,
    };
    catch_up(session, &mut printed, None).await?;
    if !args.follow {
        return Ok(());
    }
    session
        .conn
        .subscribe(&session.workspace.id, Some(printed.last))?;
    loop {
        match session.next_push_resuming(printed.last).await {
            Err(e) => return Err(e),
            Ok(ServerMessage::Event { event }) => {
                printed.event(&event)?;
                // The workspace is gone and so is the subscription: nothing more will come.
                if let warren_protocol::Change::WorkspaceDeleted { .. } = event.change {
                    return Ok(());
                }
            }
            // The server skipped ahead with a snapshot: fetch the events it skipped.
            Ok(ServerMessage::Snapshot { state }) if state.seq > printed.last => {
                catch_up(session, &mut printed, Some(state.seq)).await?;
            }
            Ok(_) => {}
        }
    }
}

/// Prints every event after `printed.last`, up to `until` or the head of the stream.
async fn catch_up(
    session: &Session,
    printed: &mut Printed<'_>,
    until: Option<u64>,
) -> Result<(), ClientError> {
    loop {
        let result = session
            .query(Query::Events {
                since: printed.last,
                limit: u32::try_from(MAX_PAGE).unwrap_or(u32::MAX),
            })
            .await?;
        let QueryResult::Events { events, head } = result else {
            return Err(ClientError::Protocol(
                "expected an events result".to_owned(),
            ));
        };
        let before = printed.last;
        for event in &events {
            if until.is_some_and(|u| event.seq > u) {
                return Ok(());
            }
            printed.event(event)?;
        }
        let stop = until.unwrap_or(head);
        if printed.last == before || printed.last >= stop {
            return Ok(());
        }
    }
}
