//! The answer: when an agent run that answers in a room succeeds, its last model text is posted
//! there as the agent's member (one `message_posted`), and the run records it
//! (`agent.reply_message_id`, a `run_updated` without a transition). Failed and cancelled runs
//! say so with the run's own room line (`run_notes`); when such a run was cut off mid-reply
//! (cancelled, timed out, the stream broke), the partial text the room watched stream in is
//! posted too, marked as cut short, so it does not vanish from the room.

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

/// The text to post for a run that just ended: for a success, the text of its last finished
/// model call that wrote any; for a run that ended otherwise, the partial text of its last model
/// call if that call was cut off mid-reply, marked as cut short.
fn final_text(
    txn: &WriteTransaction,
    workspace: &Id,
    run: &Run,
) -> Result<Option<String>, ApplyError> {
    let table = txn.open_table(STEPS)?;
    let (ws, id) = (workspace.as_str(), run.id.as_str());
    let mut done = None;
    let mut last_call = None;
    for entry in table.range((ws, id, 0)..=(ws, id, u32::MAX))? {
        let (_, value) = entry?;
        let step: RunStep = decode("steps", value.value())?;
        if let StepDetail::ModelCall(call) = step.detail {
            if step.status == StepStatus::Done && !call.text.trim().is_empty() {
                done = Some(call.text.clone());
            }
            last_call = Some(call);
        }
    }
    if run.status == RunStatus::Succeeded {
        return Ok(done);
    }
    Ok(last_call
        .filter(|call| call.partial && !call.text.trim().is_empty())
        .map(|call| {
            let why = run
                .reason
                .as_deref()
                .unwrap_or(run.status.as_str())
                .replace('\n', " ");
            format!("{}\n\n*(cut short: {why})*", call.text.trim_end())
        }))
}

/// After a `run_updated`: an agent run that just succeeded posts its answer in its room; one that
/// just ended otherwise posts the reply it was cut off in, if any.
pub fn post(
    txn: &WriteTransaction,
    event: &Event,
    run: &Run,
    from: RunStatus,
) -> Result<Vec<(Event, String)>, ApplyError> {
    if from.is_final() {
        return Ok(Vec::new());
    }
    reply(txn, event, run)
}

/// After a `run_step`: a model call cut off mid-reply that the worker finished after its run had
/// already ended (a cancel or the wall-time limit ends the run first) posts its partial text.
pub fn post_cut(
    txn: &WriteTransaction,
    event: &Event,
    step: &RunStep,
) -> Result<Vec<(Event, String)>, ApplyError> {
    let StepDetail::ModelCall(call) = &step.detail else {
        return Ok(Vec::new());
    };
    if !call.partial || step.finished_at.is_none() {
        return Ok(Vec::new());
    }
    let run = crate::service::runs::load_run(txn, &event.workspace_id, &step.run_id)?;
    if run.status == RunStatus::Succeeded {
        return Ok(Vec::new());
    }
    reply(txn, event, &run)
}

/// Posts the reply (see [`final_text`]) of an ended agent run with a room, as the agent, and
/// records it on the run: once (not after a reply was posted), and never for a provider probe.
fn reply(
    txn: &WriteTransaction,
    event: &Event,
    run: &Run,
) -> Result<Vec<(Event, String)>, ApplyError> {
    let (Some(agent_run), Some(room_id)) = (run.agent.as_ref(), run.room_id.as_ref()) else {
        return Ok(Vec::new());
    };
    if !run.status.is_final()
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
            from: answered.status,
            run: answered,
        },
    )?);
    Ok(out)
}
