//! The turn loop of one agent run on this worker: report it started, rebuild the conversation
//! from the assignment, make the tool calls still owed, then model call after model call —
//! `start_model_call`, the chain streaming its text as `agent_delta` frames,
//! `finish_model_call` — sending each tool call the model asks for to the server, until the
//! model answers without tools (`succeeded`), the run is cancelled or hits its wall time, every
//! provider fails, or the server takes the run back (a tool waiting for approval, a budget
//! spent).

use std::time::Duration;

use tokio::time::{Instant, sleep_until};
use warren_protocol::agent::{AgentAssignment, HealthState, Provider};
use warren_protocol::run::{Run, RunEnd};
use warren_protocol::step::StepStatus;
use warren_protocol::{ClientMessage, Command, ErrorCode};

use super::deltas;
use super::link::{Link, LinkError};
use super::resume::{provider_config, resume};
use super::step::model_call;
use super::tools::{self, ToolOutcome};
use super::{Setup, Stop};
use crate::provider::{ChatMessage, ModelRequest, ProviderConfig, ToolChoice};

/// Most output tokens a provider test (`probe`) asks for.
const PROBE_TOKENS: u32 = 16;

/// Drives the run until it ends here; returns what the worker's log says about it.
pub(super) async fn drive(
    setup: &Setup,
    run: &Run,
    assignment: &AgentAssignment,
    mut link: Link,
    stop: &Stop,
) -> String {
    let run_id = &run.id;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(assignment.agent.max_wall_secs.max(1));
    // A refused start report is not the end: a run that is not this worker's is refused again
    // at its first step, and a server that starts agent runs otherwise loses nothing.
    match link
        .command(Command::ReportRunStarted {
            run_id: run_id.clone(),
        })
        .await
    {
        Ok(_) | Err(LinkError::Refused(_)) => {}
        Err(e) => return dropped("its start report", &e),
    }
    let providers: &[Provider] = if assignment.probe {
        &assignment.providers[..assignment.providers.len().min(1)]
    } else {
        &assignment.providers
    };
    let Some(first) = providers.first() else {
        let why = "the agent has no provider; give it one with 'warren agent edit NAME \
                   --provider P'";
        return finish(&mut link, run, RunEnd::Failed, Some(why.to_owned())).await;
    };
    let configs: Vec<ProviderConfig> = providers.iter().map(provider_config).collect();
    let prompt = run.agent.as_ref().map_or("", |a| a.prompt.as_str());
    let mut convo = resume(assignment, prompt);
    let mut step = convo.next_step;
    let mut used = run
        .agent
        .as_ref()
        .map_or(0, |a| a.usage.input_tokens + a.usage.output_tokens);
    let mut model_calls = 0u32;
    let mut pending = std::mem::take(&mut convo.pending);
    loop {
        if let Some((end, why)) = stop.why() {
            return finish(&mut link, run, end, Some(why)).await;
        }
        if Instant::now() >= deadline {
            let why = timed_out(assignment);
            return finish(&mut link, run, RunEnd::TimedOut, Some(why)).await;
        }
        for call in std::mem::take(&mut pending) {
            match tools::call(&mut link, run, step, &call).await {
                Ok(ToolOutcome::Answered(answer)) => convo.messages.push(answer),
                Ok(ToolOutcome::HandedBack(StepStatus::AwaitingApproval)) => {
                    return format!(
                        "waits for approval of {} (step {step}); the server re-assigns it once \
                         decided",
                        crate::sanitize::line(&call.name)
                    );
                }
                Ok(ToolOutcome::HandedBack(status)) => {
                    return format!(
                        "the server took the run at tool step {step} ({})",
                        status.as_str()
                    );
                }
                Err(e) => return dropped(&format!("tool step {step}"), &e),
            }
            step += 1;
        }

        // The first provider whose circuit is not open is named as the one asked.
        let asked = providers
            .iter()
            .find(|p| setup.chain.breakers().health(&p.name).state != HealthState::CircuitOpen)
            .unwrap_or(first);
        let wanted = assignment.agent.model.clone().unwrap_or_default();
        let model = configs
            .iter()
            .find(|c| c.name == asked.name)
            .and_then(|c| c.model_for(&wanted))
            .unwrap_or_else(|| wanted.clone());
        match link
            .command(Command::StartModelCall {
                run_id: run_id.clone(),
                step,
                provider_id: asked.id.clone(),
                model: model.clone(),
            })
            .await
        {
            Ok(_) => {}
            Err(LinkError::Refused(w)) if w.code == ErrorCode::BudgetExhausted => {
                return format!(
                    "paused by the server before step {step}: {}",
                    crate::sanitize::line(&w.message)
                );
            }
            Err(LinkError::Refused(w)) if w.code == ErrorCode::Validation => {
                return finish(&mut link, run, RunEnd::Failed, Some(w.message)).await;
            }
            Err(e) => return dropped(&format!("step {step}"), &e),
        }

        // The run's first model call, counting the stored ones: a resumed run is not forced again.
        let first_call = model_calls == 0 && convo.model_calls == 0;
        let request = request(setup, assignment, &convo.messages, wanted, used, first_call);
        let (sink, pump) = deltas::channel();
        let cancel = stop.cancel();
        let call_started = Instant::now();
        let call = setup
            .chain
            .call(&configs, &request, &cancel, move |piece| sink.push(piece));
        let delta_link = link.clone();
        let pump = pump.run(|offset, text| {
            delta_link.send(ClientMessage::AgentDelta {
                run_id: run_id.clone(),
                step,
                offset,
                text,
            });
        });
        let wall = async {
            sleep_until(deadline).await;
            stop.raise(RunEnd::TimedOut, &timed_out(assignment));
            std::future::pending::<()>().await;
        };
        let outcome = tokio::select! {
            (outcome, _) = async { tokio::join!(call, pump) } => outcome,
            () = wall => unreachable!("the wall-time future never ends"),
        };
        model_calls += 1;
        let elapsed = call_started.elapsed().as_millis() as u64;
        let (status, record) = model_call(&outcome, providers, asked, &model, elapsed);
        used += record.usage.input_tokens + record.usage.output_tokens;
        let mut involved: Vec<String> = outcome
            .attempts
            .iter()
            .map(|a| a.provider.clone())
            .collect();
        involved.extend(outcome.provider.clone());
        involved.sort();
        involved.dedup();
        setup
            .health
            .report(&link, setup.chain.breakers(), providers, &involved);
        let finished = link
            .command(Command::FinishModelCall {
                run_id: run_id.clone(),
                step,
                status,
                call: Box::new(record),
            })
            .await;
        if let Err(e) = finished {
            return dropped(&format!("the end of step {step}"), &e);
        }
        step += 1;
        match outcome.result {
            Ok(answer) if answer.tool_calls.is_empty() || assignment.probe => {
                return finish(&mut link, run, RunEnd::Succeeded, None).await;
            }
            Ok(answer) => {
                pending = answer
                    .tool_calls
                    .iter()
                    .map(|t| warren_protocol::step::ToolCallRequest {
                        id: t.id.clone(),
                        name: t.name.clone(),
                        arguments: t.arguments.clone(),
                    })
                    .collect();
                convo.messages.push(ChatMessage::Assistant {
                    text: answer.text,
                    tool_calls: answer.tool_calls,
                });
            }
            Err(e) => {
                let (end, why) = match stop.why() {
                    Some(stopped) => stopped,
                    None if e.delivered_text() => (
                        RunEnd::Failed,
                        format!("the model's answer broke off: {}", e.message),
                    ),
                    None => (
                        RunEnd::Failed,
                        format!("no provider answered: {}", e.message),
                    ),
                };
                return finish(&mut link, run, end, Some(why)).await;
            }
        }
    }
}

/// The model call's request: the system prompt, the conversation, the tools (none for a
/// provider test), the tool the run's first call must call (`force_tool`, when offered), and
/// at most the tokens the agent has left.
fn request(
    setup: &Setup,
    assignment: &AgentAssignment,
    messages: &[ChatMessage],
    model: String,
    used: u64,
    first_call: bool,
) -> ModelRequest {
    let tools = if assignment.probe {
        Vec::new()
    } else {
        assignment.tools.clone()
    };
    let tool_choice = match assignment.force_tool.map(|t| t.model_name()) {
        Some(name) if first_call && tools.iter().any(|t| t.name == name) => {
            ToolChoice::Required(name.to_owned())
        }
        _ => ToolChoice::Auto,
    };
    let left = assignment
        .agent
        .max_tokens
        .map(|max| u32::try_from(max.saturating_sub(used).max(1)).unwrap_or(u32::MAX));
    ModelRequest {
        model,
        system: assignment.system.clone(),
        messages: messages.to_vec(),
        tools,
        tool_choice,
        max_tokens: if assignment.probe {
            Some(PROBE_TOKENS)
        } else {
            left
        },
        temperature: setup.tuning.temperature,
    }
}

fn timed_out(assignment: &AgentAssignment) -> String {
    format!(
        "timed out after {} (the agent's wall-time limit)",
        crate::duration::format_ms((assignment.agent.max_wall_secs as i64).saturating_mul(1000))
    )
}

/// Sends `report_run_finished` (no log: `lines` 0) and says how the run ended.
async fn finish(link: &mut Link, run: &Run, end: RunEnd, reason: Option<String>) -> String {
    let said = match &reason {
        Some(reason) => format!("{} ({})", end_word(end), crate::sanitize::line(reason)),
        None => end_word(end).to_owned(),
    };
    match link
        .command(Command::ReportRunFinished {
            run_id: run.id.clone(),
            end,
            exit_code: None,
            reason,
            lines: 0,
        })
        .await
    {
        Ok(_) => said,
        Err(e) => format!("{said}; the server refused the report ({e})"),
    }
}

fn end_word(end: RunEnd) -> &'static str {
    match end {
        RunEnd::Succeeded => "succeeded",
        RunEnd::Failed => "failed",
        RunEnd::Cancelled => "cancelled",
        RunEnd::TimedOut => "timed out",
    }
}

/// The server refused something of the run (it is not this worker's any more) or the worker
/// is going: the run is let go without a report.
fn dropped(what: &str, e: &LinkError) -> String {
    format!(
        "dropped: the server did not take {what} ({})",
        crate::sanitize::line(&e.to_string())
    )
}
