//! `warren stats`: tokens, cost and model calls of agent runs from the `usage` query, grouped by
//! agent, provider, room or day, with a total line.

use warren_protocol::{Query, QueryResult};

use crate::agent_output::AgentNames;
use crate::agent_output::stats::{format_stats, group};
use crate::cli::agents::StatsArgs;
use crate::commands::Out;
use crate::error::ClientError;
use crate::localtime::minutes as local_minutes;
use crate::session::Session;

pub(super) async fn run(
    args: StatsArgs,
    session: &Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let since = crate::tui::app::now_ms().saturating_sub(args.since);
    let rows = match session.query(Query::Usage { since, until: None }).await? {
        QueryResult::Usage { rows } => rows,
        _ => {
            return Err(ClientError::Protocol("expected a usage result".to_owned()));
        }
    };
    let names = AgentNames::from_state(&session.snapshot().await?);
    let (list, total) = group(&rows, args.by, &names);
    if out.is_json() {
        for row in list.iter().chain(std::iter::once(&total)) {
            out.json(row)?;
        }
        return Ok(());
    }
    out.text(&format_stats(&list, &total, args.by, &local_minutes(since)))
}
