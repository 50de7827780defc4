//! `warren run show` for an agent run: the run (agent, question, tokens, cost, why it waits)
//! and its steps — each model call (provider, model, tokens in/out with counted figures marked
//! `~`, cost, latency, why earlier providers were skipped, the text), each tool call (arguments,
//! result) and each approval (who, when, decision, reason).

use warren_protocol::agent::{Usage, format_usd};
use warren_protocol::run::Run;
use warren_protocol::step::{
    Approval, Decision, ModelCall, RunStep, StepDetail, StepStatus, ToolCallStep,
};

use super::{AgentNames, class_word};
use crate::duration;
use crate::localtime::minutes as local_minutes;
use crate::run_output::{duration_ms, status_label};
use crate::sanitize;

/// Longest model text or tool result shown per step in `run show` (the export has it all).
pub const SHOWN_TEXT_CHARS: usize = 2000;

/// Tokens in and out: `812 in / 64 out`, `~812 in / ~64 out` when counted by warren.
pub fn tokens(usage: &Usage) -> String {
    let mark = if usage.counted { "~" } else { "" };
    format!(
        "{mark}{} in / {mark}{} out",
        usage.input_tokens, usage.output_tokens
    )
}

/// A decision in words.
pub fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::ApproveOnce => "approved once",
        Decision::ApproveAlways => "approved always",
        Decision::Reject => "rejected",
    }
}

/// A step's status sign.
pub fn step_glyph(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Running => "●",
        StepStatus::AwaitingApproval => "◇",
        StepStatus::Done => "✓",
        StepStatus::Failed => "✗",
        StepStatus::Rejected => "⊗",
        StepStatus::Cancelled => "⊘",
    }
}

/// Text cut to `max` characters, marked when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}… (cut; 'warren run export' has it all)")
}

/// The header of an agent run and its steps.
pub fn format_agent_run(run: &Run, steps: &[RunStep], names: &AgentNames, now_ms: i64) -> String {
    let mut out = format!(
        "{} @{}  {}\n",
        run.label(),
        sanitize::line(&run.job_name),
        status_label(run.status)
    );
    let mut field = |key: &str, value: String| out.push_str(&format!("  {key:<11}{value}\n"));
    field("id", run.id.to_string());
    if let Some(agent) = &run.agent {
        let question = sanitize::line(&agent.prompt);
        field("asked", cut(&question, 200));
        if let Some(provider) = &agent.probe_provider_id {
            field("probe of", names.provider(provider));
        }
        field(
            "usage",
            format!(
                "{} in {} step(s), {}",
                tokens(&agent.usage),
                agent.steps,
                format_usd(agent.cost)
            ),
        );
        if let Some(reason) = &agent.paused_reason {
            field("paused", sanitize::line(reason));
        }
        if let Some(reply) = &agent.reply_message_id {
            field("answer", format!("message {reply}"));
        }
    }
    field(
        "requested",
        format!(
            "{} by {}",
            local_minutes(run.created_at),
            names.names.member(&run.requested_by)
        ),
    );
    if let Some(room) = &run.room_id {
        field("room", names.names.room(room));
    }
    if let Some(card) = &run.card_id {
        field("card", names.names.card(card));
    }
    if let Some(worker) = &run.worker_id {
        field("worker", names.names.member(worker));
    }
    if let Some(ms) = duration_ms(run, now_ms) {
        field("duration", duration::format_ms(ms));
    }
    if let Some(reason) = &run.reason {
        field("reason", sanitize::line(reason));
    }
    if steps.is_empty() {
        out.push_str("\nno steps yet\n");
        return out;
    }
    out.push_str("\nsteps\n");
    for step in steps {
        out.push_str(&format_step(step, names));
    }
    if let Some(step) = waiting_step(steps) {
        let label = run.label();
        out.push_str(&format!(
            "\nstep {} waits for a decision: 'warren run approve {label}' (add --always to allow this tool from now on) or 'warren run reject {label} --reason WHY'\n",
            step.n
        ));
    }
    out
}

/// One step: a heading line, then indented details.
pub fn format_step(step: &RunStep, names: &AgentNames) -> String {
    let took = step
        .finished_at
        .map(|f| format!(", {}", duration::format_ms(f - step.started_at)))
        .unwrap_or_default();
    match &step.detail {
        StepDetail::ModelCall(call) => {
            let mut out = format!(
                "  {} {}. model call  {} / {}  {}{took}\n",
                step_glyph(step.status),
                step.n,
                sanitize::line(&call.provider),
                sanitize::line(&call.model),
                step.status.as_str()
            );
            model_call_details(&mut out, call);
            out
        }
        StepDetail::ToolCall(tool) => {
            let name = tool
                .tool
                .map_or_else(|| sanitize::line(&tool.name), |t| t.as_str().to_owned());
            let mut out = format!(
                "  {} {}. tool call   {}  {}{took}\n",
                step_glyph(step.status),
                step.n,
                name,
                step.status.as_str()
            );
            tool_call_details(&mut out, tool, names);
            out
        }
    }
}

fn model_call_details(out: &mut String, call: &ModelCall) {
    let mut line = |text: String| out.push_str(&format!("       {text}\n"));
    let first = call
        .first_token_ms
        .map(|ms| format!(", first token {ms} ms"))
        .unwrap_or_default();
    line(format!(
        "tokens {}, {}, {} ms{first}",
        tokens(&call.usage),
        format_usd(call.cost),
        call.latency_ms
    ));
    for a in &call.attempts {
        line(format!(
            "skipped {} / {} after {} ms: {}: {}",
            sanitize::line(&a.provider),
            sanitize::line(&a.model),
            a.after_ms,
            class_word(a.class),
            sanitize::line(&a.message)
        ));
    }
    if let Some(e) = &call.error {
        let class = e
            .class
            .map(|c| format!("{}: ", class_word(c)))
            .unwrap_or_default();
        line(format!("error {class}{}", sanitize::line(&e.message)));
    }
    for t in &call.tool_calls {
        line(format!(
            "asks for {} {}",
            sanitize::line(&t.name),
            cut(&sanitize::line(&t.arguments), 300)
        ));
    }
    if let Some(reason) = &call.finish_reason {
        line(format!("finished: {}", sanitize::line(reason)));
    }
    let text = sanitize::block(&cut(&call.text, SHOWN_TEXT_CHARS));
    if !text.trim().is_empty() {
        let partial = if call.partial { " (partial)" } else { "" };
        line(format!("text{partial}:"));
        for l in text.lines() {
            out.push_str(&format!("         {l}\n"));
        }
    }
}

fn tool_call_details(out: &mut String, tool: &ToolCallStep, names: &AgentNames) {
    let mut line = |text: String| out.push_str(&format!("       {text}\n"));
    line(format!(
        "arguments {}",
        cut(&sanitize::line(&tool.arguments), 500)
    ));
    if let Some(approval) = &tool.approval {
        line(approval_line(approval, names));
    }
    if let Some(child) = &tool.child_run_id {
        line(format!("started run {child}"));
    }
    if let Some(result) = &tool.result {
        let what = if tool.is_error { "error" } else { "result" };
        line(format!(
            "{what} {}",
            cut(&sanitize::line(result), SHOWN_TEXT_CHARS)
        ));
    }
}

/// An approval: waiting since when, or who decided what, when and why.
pub fn approval_line(a: &Approval, names: &AgentNames) -> String {
    match a.decision {
        None => format!(
            "waiting for a decision since {}",
            local_minutes(a.requested_at)
        ),
        Some(d) => {
            let by = a
                .decided_by
                .as_ref()
                .map_or("-".to_owned(), |m| names.names.member(m));
            let at = a.decided_at.map(local_minutes).unwrap_or_default();
            let reason = a
                .reason
                .as_deref()
                .map(|r| format!(": {}", sanitize::line(r)))
                .unwrap_or_default();
            let grant = if a.grant_id.is_some() {
                " (standing grant)"
            } else {
                ""
            };
            format!("{} by {by} at {at}{grant}{reason}", decision_word(d))
        }
    }
}

/// The step waiting for a decision, if any.
pub fn waiting_step(steps: &[RunStep]) -> Option<&RunStep> {
    steps
        .iter()
        .rev()
        .find(|s| s.status == StepStatus::AwaitingApproval)
}
