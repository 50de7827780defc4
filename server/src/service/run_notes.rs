//! What a run says in its room: one message when it starts running ("▶ r7 deploy started") and
//! one when it ends ("✓ r7 deploy succeeded in 1m 3s", "✗ r7 deploy failed (exit 2)"), posted by
//! the member who started it, as events of their own right after the transition's event.

use redb::WriteTransaction;
use warren_protocol::account::TokenScope;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::{Change, Event, Id, Role};

use super::{ApplyError, Ctx, append_event, chat, next_seq};
use crate::audit::Source;
use crate::store::read::get_json;
use crate::store::tables::ROOMS;

/// `63_000` ms → `1m 3s`.
pub fn duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{}h {}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// The room line for a run that just moved from `from` to its current status, if it says one.
pub fn line(run: &Run, from: RunStatus) -> Option<String> {
    let label = format!("{} {}", run.label(), run.job_name);
    let took = match (run.started_at, run.finished_at) {
        (Some(start), Some(end)) => format!(" in {}", duration(end - start)),
        _ => String::new(),
    };
    if from == run.status {
        return None;
    }
    if run.is_agent() && matches!(run.status, RunStatus::Running | RunStatus::Succeeded) {
        // An agent run's answer is its line (`agent_runs::answer`); resuming is no news.
        return None;
    }
    Some(match run.status {
        RunStatus::Running => format!("▶ {label} started"),
        RunStatus::Succeeded => format!("✓ {label} succeeded{took}"),
        RunStatus::Failed => match run.exit_code {
            Some(code) => format!("✗ {label} failed (exit {code})"),
            None => format!("✗ {label} failed"),
        },
        RunStatus::Cancelled => format!("✗ {label} cancelled"),
        RunStatus::TimedOut => format!("✗ {label} timed out{took}"),
        RunStatus::Lost => format!("✗ {label} lost (its worker went silent)"),
        RunStatus::Rejected => format!("✗ {label} rejected"),
        RunStatus::AwaitingApproval
        | RunStatus::Queued
        | RunStatus::Assigned
        | RunStatus::Paused => return None,
    })
}

/// After a `run_updated` change was stored: posts the run's line in its room (if it has one, the
/// room still exists and the transition says something). Returns the message's event.
pub fn follow_up(
    txn: &WriteTransaction,
    workspace: &Id,
    now: i64,
    change: &Change,
) -> Result<Option<(Event, String)>, ApplyError> {
    let Change::RunUpdated { run, from } = change else {
        return Ok(None);
    };
    let (Some(room_id), Some(body)) = (run.room_id.as_ref(), line(run, *from)) else {
        return Ok(None);
    };
    let room: Option<warren_protocol::Room> = get_json(
        &txn.open_table(ROOMS)?,
        "rooms",
        (workspace.as_str(), room_id.as_str()),
    )?;
    if room.is_none() {
        return Ok(None);
    }
    let ctx = Ctx {
        workspace,
        actor: &run.requested_by,
        role: Role::Member,
        scope: TokenScope::Full,
        now,
        seq: next_seq(txn, workspace)?,
        from: Source::Unknown,
    };
    let change = chat::post_message(txn, &ctx, None, room_id, &body)?;
    Ok(Some(append_event(txn, &ctx, None, change)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(4_200), "4s");
        assert_eq!(duration(63_000), "1m 3s");
        assert_eq!(duration(3_725_000), "1h 2m");
    }
}
