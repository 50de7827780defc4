//! What the app does for agents: which streams it watches (the room on screen, the agent run
//! open), the answers of the agent queries, the approval prompt on screen and the keys that
//! answer it, and the agent runs of a room.

use crossterm::event::KeyEvent;
use tokio::time::Instant;
use warren_protocol::permission::Permission;
use warren_protocol::run::Run;
use warren_protocol::step::{Decision, RunStep, StepDetail};
use warren_protocol::{Change, Command, Id};

use crate::keymap::{Action, Context, KeyBinding};
use crate::tui::app::App;
use crate::tui::net::NetRequest;
use crate::tui::prompt::{Prompt, PromptFor};
use crate::tui::screens::Tab;
use crate::tui::state::ConnState;

impl App {
    /// Brings what depends on the screen up to date after a key or a server frame: the watched
    /// streams and the approval prompt on screen (whose wait starts at `now` when it is new).
    pub fn refresh_agents(&mut self, now: Instant) {
        self.sync_watches();
        let shown = self.shown_approval();
        self.approval.show(shown, now);
    }

    /// Sends `run_watch`/`run_unwatch` so that the room on screen (in a workspace with agents)
    /// and the agent run open are watched, and nothing else.
    fn sync_watches(&mut self) {
        if self.conn != ConnState::Connected {
            return;
        }
        let room = (self.tab == Tab::Chat && !self.view().agents.agents.is_empty())
            .then(|| self.current_room())
            .flatten();
        if room != self.streams.watched_room {
            if let Some(old) = self.streams.watched_room.take() {
                self.outbound.push(NetRequest::Unwatch {
                    run_id: None,
                    room_id: Some(old),
                });
            }
            if let Some(new) = room {
                self.watch(None, Some(new));
            }
        }
        self.ask_waiting_steps();
        let run = (self.tab == Tab::Runs)
            .then_some(self.runs.open.as_ref())
            .flatten()
            .filter(|open| open.agent.is_some())
            .map(|open| open.run_id.clone());
        if run != self.streams.watched_run {
            if let Some(old) = self.streams.watched_run.take() {
                self.outbound.push(NetRequest::Unwatch {
                    run_id: Some(old),
                    room_id: None,
                });
            }
            if let Some(new) = run {
                self.watch(Some(new), None);
            }
        }
    }

    /// Asks once for the steps of agent runs in the watched room that wait for a decision but
    /// whose waiting step this client has not seen (it started after the run began waiting), so
    /// the room can show their prompt.
    fn ask_waiting_steps(&mut self) {
        let Some(room) = self.streams.watched_room.clone() else {
            return;
        };
        let numbers: Vec<u64> = self
            .agent_runs_in(&room)
            .into_iter()
            .filter(|r| r.status == warren_protocol::run::RunStatus::AwaitingApproval)
            .filter(|r| self.view().agents.awaiting(&r.id).is_none())
            .map(|r| r.number)
            .collect();
        for number in numbers {
            if self.streams.steps_asked.insert(number) {
                self.outbound.push(NetRequest::RunSteps { number });
            }
        }
    }

    fn watch(&mut self, run_id: Option<Id>, room_id: Option<Id>) {
        let Ok(request_id) = crate::connection::new_request_id() else {
            return;
        };
        self.streams.watch_requests.insert(request_id.clone());
        self.streams.watched_room = room_id.clone().or(self.streams.watched_room.take());
        self.streams.watched_run = run_id.clone().or(self.streams.watched_run.take());
        self.outbound.push(NetRequest::Watch {
            request_id,
            run_id,
            room_id,
        });
    }

    /// Ends the streams a change finished: a step stored final, a run ended.
    pub(crate) fn streams_after(&mut self, change: &Change) {
        match change {
            Change::RunStep { step } if step.status.is_final() => {
                self.streams.finish(&step.run_id, step.n);
            }
            Change::RunUpdated { run, .. } if run.status.is_final() => {
                self.streams.finish_run(&run.id);
            }
            _ => {}
        }
    }

    /// The answer to the `run` query of an open agent run.
    pub(crate) fn on_run_steps(
        &mut self,
        number: u64,
        answer: Result<(Run, Vec<RunStep>), String>,
    ) {
        match answer {
            Ok((run, steps)) => {
                self.model.agents.put_steps(&run.id, steps);
                self.reproject();
            }
            Err(why) => {
                let why = crate::sanitize::line(&why);
                self.notify(
                    format!(
                        "Could not load the steps of r{number}: {why} — they show as they happen"
                    ),
                    true,
                );
            }
        }
    }

    /// The answer to the `budgets` query.
    pub(crate) fn on_budgets(
        &mut self,
        answer: Result<Vec<warren_protocol::budget::Budget>, String>,
    ) {
        match answer {
            Ok(budgets) => {
                self.model.agents.budgets = Some(budgets);
                self.stats.budgets_error = None;
                self.reproject();
            }
            Err(why) => self.stats.budgets_error = Some(crate::sanitize::line(&why)),
        }
    }

    /// Whether something on screen moves by itself: a spinner of an agent writing in the room on
    /// screen, or the elapsed time of the agent run open.
    pub fn animating(&self) -> bool {
        let running = |r: &Run| r.status == warren_protocol::run::RunStatus::Running;
        match self.tab {
            Tab::Chat => self
                .current_room()
                .is_some_and(|room| self.agent_runs_in(&room).into_iter().any(running)),
            Tab::Runs => self
                .runs
                .open
                .as_ref()
                .filter(|o| o.agent.is_some())
                .and_then(|o| self.view().runs.iter().find(|r| r.id == o.run_id))
                .is_some_and(running),
            _ => false,
        }
    }

    /// Whether I may decide tool calls (`run:approve`).
    pub fn may_decide(&self) -> bool {
        self.my_role()
            .is_some_and(|role| role.may(Permission::RunApprove))
    }

    /// The agent runs answering in `room`, newest first.
    pub fn agent_runs_in(&self, room: &Id) -> Vec<&Run> {
        self.view()
            .runs
            .iter()
            .filter(|r| r.agent.is_some() && r.room_id.as_ref() == Some(room))
            .collect()
    }

    /// The agent run a message asked or answered, if any.
    pub fn run_of_message(&self, message: &Id) -> Option<&Run> {
        self.view().runs.iter().find(|r| {
            r.agent.as_ref().is_some_and(|a| {
                a.message_id.as_ref() == Some(message)
                    || a.reply_message_id.as_ref() == Some(message)
            })
        })
    }

    /// The tool call waiting for a decision that the screen shows a prompt for, as (run, step):
    /// in the open agent run, or the newest one in the room on screen. None while a window is
    /// open, while writing, or for members who may not decide.
    pub fn shown_approval(&self) -> Option<(Id, u32)> {
        if self.overlay.is_some() || !self.may_decide() {
            return None;
        }
        let agents = &self.view().agents;
        match self.tab {
            Tab::Runs => {
                let open = self.runs.open.as_ref().filter(|o| o.agent.is_some())?;
                agents
                    .awaiting(&open.run_id)
                    .map(|s| (s.run_id.clone(), s.n))
            }
            Tab::Chat if !self.chat.composing => {
                let room = self.current_room()?;
                self.agent_runs_in(&room)
                    .into_iter()
                    .find_map(|run| agents.awaiting(&run.id))
                    .map(|s| (s.run_id.clone(), s.n))
            }
            _ => None,
        }
    }

    /// A key for the approval prompt on screen: answers it (`y`, `a`, `n` by default) unless it
    /// came too soon after the prompt appeared, when it is dropped. Says whether the key was
    /// the prompt's; other keys go to the screen.
    pub(crate) fn approval_key(&mut self, key: &KeyEvent, now: Instant) -> bool {
        let Some((run_id, step)) = self.approval.prompt().cloned() else {
            return false;
        };
        if self.shown_approval().as_ref() != Some(&(run_id.clone(), step)) {
            return false;
        }
        let Some(action) = self
            .keymap
            .action_for_key(Context::Approval, KeyBinding::from_event(key))
            .filter(|a| {
                matches!(
                    a,
                    Action::ApproveOnce | Action::ApproveAlways | Action::ApproveReject
                )
            })
        else {
            // Not an answer (quit, say): the screen under the prompt reads it.
            return false;
        };
        if !self.approval.accepts(now) {
            // Typed before the prompt could be read: not an answer, and the user is told.
            let key = KeyBinding::from_event(key);
            self.notify(
                format!("{key} came too soon after the approval prompt appeared: press it again to answer"),
                false,
            );
            return true;
        }
        self.decide(action, run_id, step);
        true
    }

    /// Performs an approval action on the tool call (`run_id`, `step`).
    pub(crate) fn decide(&mut self, action: Action, run_id: Id, step: u32) {
        let decision = match action {
            Action::ApproveOnce => Decision::ApproveOnce,
            Action::ApproveAlways => Decision::ApproveAlways,
            Action::ApproveReject => {
                let tool = self
                    .tool_of(&run_id, step)
                    .unwrap_or_else(|| "the tool".into());
                self.open_prompt(Prompt::new(
                    format!(
                        "Reject {tool}: why? (the model reads it; enter with nothing gives none)"
                    ),
                    "",
                    PromptFor::RejectTool { run_id, step },
                ));
                return;
            }
            _ => return,
        };
        self.submit(Command::DecideTool {
            run_id,
            step,
            decision,
            reason: None,
        });
    }

    /// The tool name of a tool-call step (`card.create`, or the name the model used).
    pub fn tool_of(&self, run_id: &Id, step: u32) -> Option<String> {
        let s = self
            .view()
            .agents
            .steps_of(run_id)
            .iter()
            .find(|s| s.n == step)?;
        match &s.detail {
            StepDetail::ToolCall(t) => Some(
                t.tool
                    .map_or_else(|| t.name.clone(), |tool| tool.as_str().to_owned()),
            ),
            StepDetail::ModelCall(_) => None,
        }
    }

    /// The name of the agent of `run` (its member name).
    pub fn agent_name(&self, run: &Run) -> String {
        run.agent
            .as_ref()
            .and_then(|a| self.view().agents.agent(&a.agent_id))
            .map_or_else(|| run.job_name.clone(), |a| a.name.clone())
    }

    /// The member an agent run speaks as, when the agent still exists.
    pub fn agent_member(&self, run: &Run) -> Option<Id> {
        let agent = run.agent.as_ref()?;
        self.view()
            .agents
            .agent(&agent.agent_id)
            .map(|a| a.member_id.clone())
    }

    /// Opens the agent run in the Runs tab (from its message in a room).
    pub fn open_agent_run(&mut self, run_id: &Id) {
        if let Some(run) = self.view().runs.iter().find(|r| &r.id == run_id).cloned() {
            self.open_run(&run);
            self.on_tab_change();
        }
    }
}
