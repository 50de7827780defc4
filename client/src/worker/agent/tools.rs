//! A tool call the model asked for, sent to the server (`call_tool`), which performs it as the
//! agent's member. Its ack carries the stored step (`done`, `rejected` or `failed` with the
//! result the model is told next, or `awaiting_approval` — then the server has taken the run
//! from this worker until someone decides, and the run comes back later with its steps), or,
//! when the tool was performed, the tool's own event (`card_created`, …): then the step is read
//! back with the `run` query.

use warren_protocol::run::Run;
use warren_protocol::step::{StepDetail, StepStatus, ToolCallRequest};
use warren_protocol::{Change, Command};

use super::link::{Link, LinkError};
use super::resume::tool_answer;
use crate::provider::ChatMessage;

/// What became of a tool call.
#[derive(Debug, PartialEq)]
pub enum ToolOutcome {
    /// Performed (or refused with an error the model should see): the tool's answer.
    Answered(ChatMessage),
    /// It waits for a person's decision (or the server goes on with it): the run is not this
    /// worker's any more.
    HandedBack(StepStatus),
}

/// Sends the call as step `step` of the run and reads the answer from its ack (or, when the
/// ack is the performed tool's own event, from the stored step).
pub async fn call(
    link: &mut Link,
    run: &Run,
    step: u32,
    request: &ToolCallRequest,
) -> Result<ToolOutcome, LinkError> {
    let ack = link
        .command(Command::CallTool {
            run_id: run.id.clone(),
            step,
            call_id: request.id.clone(),
            name: request.name.clone(),
            arguments: request.arguments.clone(),
        })
        .await?;
    if matches!(ack.event.change, Change::RunStep { .. }) {
        return Ok(outcome(ack.event.change, request));
    }
    let stored = link.steps(run.number).await?;
    match stored.into_iter().find(|s| s.n == step) {
        Some(found) => Ok(outcome(Change::RunStep { step: found }, request)),
        None => Ok(ToolOutcome::HandedBack(StepStatus::Running)),
    }
}

/// The tool's answer from the change the ack carries.
pub fn outcome(change: Change, request: &ToolCallRequest) -> ToolOutcome {
    let Change::RunStep { step } = change else {
        return ToolOutcome::HandedBack(StepStatus::Running);
    };
    match (step.status, &step.detail) {
        (StepStatus::Done | StepStatus::Rejected | StepStatus::Failed, StepDetail::ToolCall(t)) => {
            ToolOutcome::Answered(ChatMessage::ToolResult {
                call_id: request.id.clone(),
                name: request.name.clone(),
                content: tool_answer(t, step.status),
            })
        }
        (status, _) => ToolOutcome::HandedBack(status),
    }
}

#[cfg(test)]
mod tests {
    use warren_protocol::Id;
    use warren_protocol::step::{RunStep, ToolCallStep};

    use super::*;

    fn change(status: StepStatus, result: Option<&str>) -> Change {
        Change::RunStep {
            step: RunStep {
                run_id: Id::parse("run_1h4k7n0q3s6v9x2z").expect("an id"),
                n: 2,
                status,
                started_at: 0,
                finished_at: None,
                detail: StepDetail::ToolCall(ToolCallStep {
                    call_id: "call_0".into(),
                    tool: None,
                    name: "search".into(),
                    arguments: "{}".into(),
                    result: result.map(str::to_owned),
                    is_error: false,
                    child_run_id: None,
                    approval: None,
                }),
            },
        }
    }

    #[test]
    fn a_done_step_answers_the_model_and_a_waiting_one_hands_the_run_back() {
        let request = ToolCallRequest {
            id: "call_0".into(),
            name: "search".into(),
            arguments: "{}".into(),
        };
        assert_eq!(
            outcome(change(StepStatus::Done, Some("card #12")), &request),
            ToolOutcome::Answered(ChatMessage::ToolResult {
                call_id: "call_0".into(),
                name: "search".into(),
                content: "card #12".into()
            })
        );
        assert_eq!(
            outcome(change(StepStatus::AwaitingApproval, None), &request),
            ToolOutcome::HandedBack(StepStatus::AwaitingApproval)
        );
    }
}
