//! `warren run export RUN --format md`: a run and its steps as a Markdown document people can
//! read, file or paste (the JSON export is the `run` query's own result). Text a model or a
//! person wrote goes into fenced blocks longer than any backtick run inside it, after
//! [`sanitize::block`], so it can neither break the document's structure nor carry escape
//! sequences to a terminal that shows the file.

use warren_protocol::agent::format_usd;
use warren_protocol::run::Run;
use warren_protocol::step::{RunStep, StepDetail};

use super::steps::{approval_line, tokens};
use super::{AgentNames, class_word};
use crate::duration;
use crate::localtime::minutes as local_minutes;
use crate::run_output::{duration_ms, word};
use crate::sanitize;

/// A fenced block holding `text` verbatim: the fence is longer than any run of backticks in it.
pub fn fenced(text: &str, info: &str) -> String {
    let mut longest = 0;
    let mut current = 0;
    for c in text.chars() {
        if c == '`' {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let body = text.trim_end_matches('\n');
    format!("{fence}{info}\n{body}\n{fence}\n")
}

/// Inline text for a Markdown line: one line, with characters that would start Markdown
/// structure escaped.
fn inline(text: &str) -> String {
    let line = sanitize::line(text);
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The whole document.
pub fn markdown(run: &Run, steps: &[RunStep], names: &AgentNames, now_ms: i64) -> String {
    let who = if run.is_agent() {
        format!("@{}", inline(&run.job_name))
    } else {
        inline(&run.job_name)
    };
    let mut out = format!("# {} {who} — {}\n\n", run.label(), word(run.status));
    let mut row = |key: &str, value: String| out.push_str(&format!("- **{key}:** {value}\n"));
    row("run", format!("`{}`", run.id));
    row(
        "requested",
        format!(
            "{} by {}",
            local_minutes(run.created_at),
            inline(&names.names.member(&run.requested_by))
        ),
    );
    if let Some(room) = &run.room_id {
        row("room", inline(&names.names.room(room)));
    }
    if let Some(card) = &run.card_id {
        row("card", inline(&names.names.card(card)));
    }
    if let Some(worker) = &run.worker_id {
        row("worker", inline(&names.names.member(worker)));
    }
    if let Some(ms) = duration_ms(run, now_ms) {
        row("duration", duration::format_ms(ms));
    }
    if let Some(agent) = &run.agent {
        row(
            "usage",
            format!(
                "{} tokens in {} step(s), {}",
                tokens(&agent.usage),
                agent.steps,
                format_usd(agent.cost)
            ),
        );
        if agent.usage.counted {
            row(
                "note",
                "figures marked ~ were counted by warren (the provider reported none)".to_owned(),
            );
        }
        if let Some(reason) = &agent.paused_reason {
            row("paused", inline(reason));
        }
    }
    if let Some(reason) = &run.reason {
        row("reason", inline(reason));
    }
    if let Some(agent) = &run.agent {
        out.push_str("\n## Question\n\n");
        out.push_str(&fenced(&sanitize::block(&agent.prompt), "text"));
    } else {
        out.push_str(&format!(
            "\nA job run: its output is its log, printed by `warren log {}`.\n",
            run.label()
        ));
    }
    if !steps.is_empty() {
        out.push_str("\n## Steps\n");
    }
    for step in steps {
        out.push('\n');
        out.push_str(&step_markdown(step, names));
    }
    out
}

fn step_markdown(step: &RunStep, names: &AgentNames) -> String {
    let took = step
        .finished_at
        .map(|f| format!(", {}", duration::format_ms(f - step.started_at)))
        .unwrap_or_default();
    let mut out = String::new();
    match &step.detail {
        StepDetail::ModelCall(call) => {
            out.push_str(&format!(
                "### {}. Model call: {} / {} ({}{took})\n\n",
                step.n,
                inline(&call.provider),
                inline(&call.model),
                step.status.as_str()
            ));
            out.push_str(&format!("- **tokens:** {}\n", tokens(&call.usage)));
            out.push_str(&format!("- **cost:** {}\n", format_usd(call.cost)));
            let first = call
                .first_token_ms
                .map(|ms| format!(" (first token {ms} ms)"))
                .unwrap_or_default();
            out.push_str(&format!("- **latency:** {} ms{first}\n", call.latency_ms));
            for a in &call.attempts {
                out.push_str(&format!(
                    "- **skipped** {} / {} after {} ms: {}: {}\n",
                    inline(&a.provider),
                    inline(&a.model),
                    a.after_ms,
                    class_word(a.class),
                    inline(&a.message)
                ));
            }
            if let Some(e) = &call.error {
                let class = e
                    .class
                    .map(|c| format!("{}: ", class_word(c)))
                    .unwrap_or_default();
                out.push_str(&format!("- **error:** {class}{}\n", inline(&e.message)));
            }
            if let Some(reason) = &call.finish_reason {
                out.push_str(&format!("- **finished:** {}\n", inline(reason)));
            }
            for t in &call.tool_calls {
                out.push_str(&format!("- **asks for** `{}`:\n\n", inline(&t.name)));
                out.push_str(&fenced(&sanitize::block(&t.arguments), "json"));
            }
            if !call.text.is_empty() {
                let partial = if call.partial {
                    " (partial: the stream broke off)"
                } else {
                    ""
                };
                out.push_str(&format!("\nText{partial}:\n\n"));
                out.push_str(&fenced(&sanitize::block(&call.text), "text"));
            }
        }
        StepDetail::ToolCall(tool) => {
            let name = tool
                .tool
                .map_or_else(|| inline(&tool.name), |t| t.as_str().to_owned());
            out.push_str(&format!(
                "### {}. Tool call: {name} ({}{took})\n\nArguments:\n\n",
                step.n,
                step.status.as_str()
            ));
            out.push_str(&fenced(&sanitize::block(&tool.arguments), "json"));
            if let Some(a) = &tool.approval {
                out.push_str(&format!(
                    "\n- **approval:** {}\n",
                    inline(&approval_line(a, names))
                ));
            }
            if let Some(child) = &tool.child_run_id {
                out.push_str(&format!("- **started run:** `{child}`\n"));
            }
            if let Some(result) = &tool.result {
                let what = if tool.is_error { "Error" } else { "Result" };
                out.push_str(&format!("\n{what}:\n\n"));
                out.push_str(&fenced(&sanitize::block(result), "text"));
            }
        }
    }
    out
}
