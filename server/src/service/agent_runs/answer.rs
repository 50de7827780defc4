//! The answer: when an agent run that answers in a room succeeds, its last model text is posted
//! there as the agent's member (one `message_posted`), and the run records it
//! (`agent.reply_message_id`, a `run_updated` without a transition). Failed and cancelled runs
//! say so with the run's own room line (`run_notes`).

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::limits::MAX_MESSAGE_BYTES;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::{RunStep, StepDetail, StepStatus};
use warren_protocol::{Change, Event, Id};

use super::{ApplyError, Ctx, role_of, steps};
use crate::service::{append_event, chat, next_seq};
use crate::store::decode;
use crate::store::tables::{ROOMS, RUNS, STEPS};

/// Model text made fit for a message: control characters (escape sequences) other than newlines
/// and tabs dropped, within the message size limit.
pub fn clean(text: &str) -> String {
    let text: String = text
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    steps::cut(text.trim(), MAX_MESSAGE_BYTES).0
}

/// The text of the run's last finished model call that wrote any.
fn final_text(
    txn: &WriteTransaction,
    workspace: &Id,
    run: &Run,
) -> Result<Option<String>, ApplyError> {
    let table = txn.open_table(STEPS)?;
    let (ws, id) = (workspace.as_str(), run.id.as_str());
    let mut last = None;
    for entry in table.range((ws, id, 0)..=(ws, id, u32::MAX))? {
        let (_, value) = entry?;
        let step: RunStep = decode("steps", value.value())?;
        if let (StepStatus::Done, StepDetail::ModelCall(call)) = (step.status, &step.detail)
            && !call.text.trim().is_empty()
        {
            last = Some(call.text.clone());
        }
    }
    Ok(last)
}

/// After a `run_updated`: an agent run that just succeeded posts its answer in its room.
pub fn post(
    txn: &WriteTransaction,
    event: &Event,
    run: &Run,
    from: RunStatus,
) -> Result<Vec<(Event, String)>, ApplyError> {
    let (Some(agent_run), Some(room_id)) = (run.agent.as_ref(), run.room_id.as_ref()) else {
        return Ok(Vec::new());
    };
    if run.status != RunStatus::Succeeded
        || from == RunStatus::Succeeded
        || agent_run.reply_message_id.is_some()
        || agent_run.probe_provider_id.is_some()
    {
        return Ok(Vec::new());
    }
    let workspace = &event.workspace_id;
    if txn
        .open_table(ROOMS)?
        .get((workspace.as_str(), room_id.as_str()))?
        .is_none()
    {
        return Ok(Vec::new());
    }
    let Some(agent) = super::agent_of(txn, workspace, &agent_run.agent_id)? else {
        return Ok(Vec::new());
    };
    let Some(role) = role_of(txn, workspace, &agent.member_id)? else {
        return Ok(Vec::new());
    };
    let Some(text) = final_text(txn, workspace, run)? else {
        return Ok(Vec::new());
    };
    let body = clean(&text);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let ctx = Ctx {
        workspace,
        actor: &agent.member_id,
        role,
        scope: warren_protocol::account::TokenScope::Full,
        now: event.at,
        seq: next_seq(txn, workspace)?,
        from: crate::audit::Source::Unknown,
    };
    let change = chat::post_message(txn, &ctx, None, room_id, &body)?;
    let Change::MessagePosted { message } = &change else {
        return Ok(Vec::new());
    };
    let mut answered = run.clone();
    if let Some(a) = answered.agent.as_mut() {
        a.reply_message_id = Some(message.id.clone());
    }
    let mut out = vec![append_event(txn, &ctx, None, change.clone())?];
    txn.open_table(RUNS)?.insert(
        (workspace.as_str(), answered.id.as_str()),
        crate::store::encode("runs", &answered)?.as_slice(),
    )?;
    out.push(super::append(
        txn,
        event,
        Change::RunUpdated {
            run: answered,
            from: RunStatus::Succeeded,
        },
    )?);
    Ok(out)
}
