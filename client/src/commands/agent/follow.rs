//! Following an agent run to its end from the shell (`agent ask --follow`, `provider test
//! --follow`). The workspace's events bring each finished step (`run_step`) and the run's status
//! (`run_updated`); `run_watch` brings the text of a model call while it streams
//! (`run_watching`, then `agent_delta`), re-sent after every (re)subscription so a reconnect
//! resumes streaming. The answer goes to stdout as it arrives (through [`StreamText`]: repeats
//! skipped, a gap filled by the finished step, escape sequences removed); tool calls, approvals
//! waiting and pauses are one line each on stderr. A server that does not stream yet refuses
//! `run_watch`: then each model call's text appears when its step finishes.

use std::collections::HashMap;

use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::{RunStep, StepDetail, StepStatus};
use warren_protocol::{Change, ClientMessage, Query, QueryResult, ServerMessage};

use crate::agent_output::steps::{approval_line, cut, tokens};
use crate::agent_output::{AgentNames, class_word};
use crate::commands::Out;
use crate::connection::new_request_id;
use crate::error::ClientError;
use crate::sanitize;
use crate::session::Session;
use crate::stream_text::{Placed, StreamText};

/// What to show while following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The answer's text, streamed to stdout.
    Answer,
    /// A provider test: one line saying how the call went.
    Probe,
}

/// The state of one followed run.
struct Follower<'a> {
    out: &'a mut Out,
    names: &'a AgentNames,
    mode: Mode,
    run: Run,
    text: StreamText,
    /// The last status shown per step, so a repeated event prints nothing.
    shown: HashMap<u32, StepStatus>,
    /// The step whose text is on the current stdout line (to end it before other output).
    open_line: Option<u32>,
}

impl Follower<'_> {
    fn print_text(&mut self, step: u32, piece: &str) -> Result<(), ClientError> {
        if piece.is_empty() || self.out.is_json() || self.mode != Mode::Answer {
            return Ok(());
        }
        self.out.raw(piece)?;
        self.open_line = (!self.text.ends_with_newline(step)).then_some(step);
        Ok(())
    }

    /// Ends a line of streamed text before anything else is printed.
    fn close_line(&mut self) -> Result<(), ClientError> {
        if self.open_line.take().is_some() {
            self.out.raw("\n")?;
        }
        Ok(())
    }

    fn note(&mut self, line: &str) -> Result<(), ClientError> {
        self.close_line()?;
        eprintln!("{line}");
        Ok(())
    }

    fn delta(&mut self, step: u32, offset: u64, piece: &str) -> Result<(), ClientError> {
        if let Placed::Text(new) = self.text.delta(step, offset, piece) {
            self.print_text(step, &new)?;
        }
        Ok(())
    }

    fn step(&mut self, step: &RunStep) -> Result<(), ClientError> {
        if step.run_id != self.run.id || self.shown.get(&step.n) == Some(&step.status) {
            return Ok(());
        }
        self.shown.insert(step.n, step.status);
        if self.out.is_json() {
            return self.out.json(step);
        }
        let label = self.run.label();
        match &step.detail {
            StepDetail::ModelCall(call) => {
                if !step.status.is_final() {
                    return Ok(());
                }
                let rest = self.text.finish(step.n, &call.text);
                self.print_text(step.n, &rest)?;
                self.close_line()?;
                if self.mode == Mode::Probe {
                    let outcome = match (&call.error, step.status) {
                        (Some(e), _) => format!(
                            "failed: {}{}",
                            e.class
                                .map(|c| format!("{}: ", class_word(c)))
                                .unwrap_or_default(),
                            sanitize::line(&e.message)
                        ),
                        (None, StepStatus::Done) => format!(
                            "answered in {} ms{}, tokens {}: {}",
                            call.latency_ms,
                            call.first_token_ms
                                .map(|ms| format!(" (first token {ms} ms)"))
                                .unwrap_or_default(),
                            tokens(&call.usage),
                            cut(&sanitize::line(&call.text), 200)
                        ),
                        (None, other) => other.as_str().to_owned(),
                    };
                    self.out.text(&format!(
                        "{} / {} {outcome}",
                        sanitize::line(&call.provider),
                        sanitize::line(&call.model)
                    ))?;
                }
                for a in &call.attempts {
                    self.note(&format!(
                        "warren: {label} step {}: skipped {} / {}: {}: {}",
                        step.n,
                        sanitize::line(&a.provider),
                        sanitize::line(&a.model),
                        class_word(a.class),
                        sanitize::line(&a.message)
                    ))?;
                }
                if self.mode == Mode::Answer
                    && let Some(e) = &call.error
                {
                    let partial = if call.partial {
                        " (the text above is partial)"
                    } else {
                        ""
                    };
                    self.note(&format!(
                        "warren: {label} step {}: {} / {} {}{partial}: {}",
                        step.n,
                        sanitize::line(&call.provider),
                        sanitize::line(&call.model),
                        step.status.as_str(),
                        sanitize::line(&e.message)
                    ))?;
                }
            }
            StepDetail::ToolCall(tool) => {
                let name = tool
                    .tool
                    .map_or_else(|| sanitize::line(&tool.name), |t| t.as_str().to_owned());
                let args = cut(&sanitize::line(&tool.arguments), 200);
                let line = match step.status {
                    StepStatus::AwaitingApproval => format!(
                        "warren: {label} waits for approval of {name} {args} — 'warren run approve {label}' (--always to allow it from now on) or 'warren run reject {label} --reason WHY'"
                    ),
                    StepStatus::Running => format!("warren: {label} calls {name} {args}"),
                    StepStatus::Rejected => format!(
                        "warren: {label} {name} {}",
                        tool.approval.as_ref().map_or_else(
                            || "rejected".to_owned(),
                            |a| approval_line(a, self.names)
                        )
                    ),
                    status => {
                        let result = tool
                            .result
                            .as_deref()
                            .map(|r| cut(&sanitize::line(r), 200))
                            .unwrap_or_default();
                        let what = if tool.is_error { "error" } else { "→" };
                        format!("warren: {label} {name} {} {what} {result}", status.as_str())
                    }
                };
                self.note(&line)?;
            }
        }
        Ok(())
    }

    /// Takes a new state of the run; true when it has ended.
    fn run_updated(&mut self, run: &Run) -> Result<bool, ClientError> {
        if run.id != self.run.id {
            return Ok(false);
        }
        let before = self.run.status;
        self.run = run.clone();
        if run.status == RunStatus::Paused && before != RunStatus::Paused {
            let reason = run
                .agent
                .as_ref()
                .and_then(|a| a.paused_reason.as_deref())
                .map_or_else(|| "a budget is exhausted".to_owned(), sanitize::line);
            let label = run.label();
            self.note(&format!(
                "warren: {label} paused: {reason} — it goes on when an admin raises the budget ('warren budget list'), or stop it with 'warren run cancel {label}'"
            ))?;
        }
        Ok(run.status.is_final())
    }

    /// Catches up from the stored run and steps (after a snapshot skipped events).
    async fn catch_up(&mut self, session: &Session) -> Result<bool, ClientError> {
        let result = session
            .query(Query::Run {
                number: self.run.number,
            })
            .await?;
        let QueryResult::Run { run, steps } = result else {
            return Err(ClientError::Protocol("expected a run result".to_owned()));
        };
        for step in &steps {
            self.step(step)?;
        }
        self.run_updated(&run)
    }
}

/// Follows `run` (created by the command answered with sequence `since`) until it ends, then
/// turns how it ended into the exit status.
pub async fn follow_run(
    session: &mut Session,
    out: &mut Out,
    run: &Run,
    since: u64,
    mode: Mode,
    names: &AgentNames,
) -> Result<(), ClientError> {
    let mut f = Follower {
        out,
        names,
        mode,
        run: run.clone(),
        text: StreamText::new(),
        shown: HashMap::new(),
        open_line: None,
    };
    session.conn.subscribe(&session.workspace.id, Some(since))?;
    let mut last = since;
    let mut watch_id = None;
    let done = loop {
        match session.next_push_resuming(last).await? {
            ServerMessage::Event { event } => {
                last = event.seq;
                match &event.change {
                    Change::RunStep { step } => f.step(step)?,
                    Change::RunUpdated { run, .. } if f.run_updated(run)? => break true,
                    _ => {}
                }
            }
            // Caught up (again, after a reconnect): ask for the streaming text.
            ServerMessage::Synced { .. } => {
                let id = new_request_id()?;
                session.conn.handle().send(ClientMessage::RunWatch {
                    request_id: id.clone(),
                    workspace_id: Some(session.workspace.id.clone()),
                    run_id: Some(f.run.id.clone()),
                    room_id: None,
                })?;
                watch_id = Some(id);
            }
            ServerMessage::RunWatching {
                request_id,
                partials,
            } if Some(&request_id) == watch_id.as_ref() => {
                let run_id = f.run.id.clone();
                for p in partials.iter().filter(|p| p.run_id == run_id) {
                    f.delta(p.step, 0, &p.text)?;
                }
            }
            ServerMessage::AgentDelta {
                run_id,
                step,
                offset,
                text,
            } if run_id == f.run.id => f.delta(step, offset, &text)?,
            // The server skipped ahead: read the run and its steps as they are now.
            ServerMessage::Snapshot { state } => {
                last = last.max(state.seq);
                if f.catch_up(session).await? {
                    break true;
                }
            }
            // A refused `run_watch` (a server that does not stream): the finished steps still
            // come as events, so the answer still arrives, step by step.
            _ => {}
        }
    };
    f.close_line()?;
    if done && f.out.is_json() {
        f.out.json(&f.run)?;
    }
    crate::commands::run::outcome(&f.run)
}
