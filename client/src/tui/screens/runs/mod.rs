//! The Runs screen: every run of the workspace, live (status, number, job, who, when, how long,
//! on which worker, for which card), and one run opened: its header (status, parameters with
//! secrets masked, times, exit code, lines, the job's recent runs at a glance) over its log in
//! the log viewer, fed from the server a window at a time ([`remote`]). What its keys do is in
//! [`keys`], how it is drawn in [`draw`] and [`glance`].

pub mod agent;
pub mod agent_draw;
pub mod agent_steps;
pub mod draw;
pub mod glance;
mod keys;
pub mod remote;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::{Change, Event, Id};

use super::{Screen, Tab};
use crate::keymap::{Action, Context};
use crate::logview::{KeyNames, LogView};
use crate::tui::app::App;
use crate::tui::input::new_id;
use crate::tui::net::NetRequest;
use crate::tui::prompt::{Prompt, PromptFor};
use crate::tui::screens::chat::slash;
use crate::tui::state::Overlay;
use warren_protocol::Command;
use remote::RemoteLog;

/// The Runs screen, as registered in [`super::Tab`].
pub struct Runs;

/// The one Runs screen.
pub static SCREEN: Runs = Runs;

/// Lines of the live tail asked for when a run is opened (the rest is paged as you scroll).
pub const TAIL: u64 = 200;

/// What the Runs screen remembers.
#[derive(Debug, Default)]
pub struct RunsUi {
    /// The selected row of the list (an index into the model's runs, newest first).
    pub selected: usize,
    /// The run shown with its log, if one is open.
    pub open: Option<OpenRun>,
    /// A run this client started: opened as soon as the server confirms it.
    pub go_to_run: Option<Id>,
    /// The clock the screen reads durations against, fixed by tests (`None`: the real one).
    pub frozen_now: Option<i64>,
}

/// A run opened on the Runs screen.
#[derive(Debug)]
pub struct OpenRun {
    pub run_id: Id,
    pub log: LogView<RemoteLog>,
    /// For an agent run: its steps are shown instead of the log.
    pub agent: Option<agent::AgentRunUi>,
}

impl Screen for Runs {
    fn title(&self) -> &'static str {
        "Runs"
    }

    fn label(&self, app: &App) -> String {
        let active = app
            .view()
            .runs
            .iter()
            .filter(|r| !r.status.is_final())
            .count();
        if active > 0 {
            format!("{} ({active})", self.title())
        } else {
            self.title().to_owned()
        }
    }

    fn context(&self, app: &App) -> Context {
        match &app.runs.open {
            Some(open) if open.agent.is_some() => Context::Agent,
            Some(open) => open.log.context(),
            None => Context::Runs,
        }
    }

    fn perform(&self, app: &mut App, action: Action, context: Context) -> bool {
        keys::perform(app, action, context)
    }

    fn type_key(&self, app: &mut App, context: Context, key: KeyEvent) -> bool {
        if context != Context::LogPrompt {
            return false;
        }
        if let Some(open) = app.runs.open.as_mut() {
            open.log.type_key(&key);
        }
        true
    }

    fn paste(&self, app: &mut App, context: Context, text: &str) -> bool {
        if context != Context::LogPrompt {
            return false;
        }
        if let Some(open) = app.runs.open.as_mut() {
            open.log.paste(text);
        }
        true
    }

    fn on_event(&self, app: &mut App, event: &Event) {
        if let Change::RunCreated { run } = &event.change
            && app.runs.go_to_run.as_ref() == Some(&run.id)
        {
            app.runs.go_to_run = None;
            app.runs.selected = 0;
            let run = run.clone();
            app.open_run(&run);
        }
        if let Change::RunUpdated { run, .. } = &event.change
            && let Some(open) = app.runs.open.as_mut()
            && open.run_id == run.id
        {
            open.log
                .source_mut()
                .set_stored(run.lines, run.status.is_final());
        }
    }

    fn clamp(&self, app: &mut App) {
        let n = app.view().runs.len();
        app.runs.selected = app.runs.selected.min(n.saturating_sub(1));
    }

    fn forget(&self, app: &mut App) {
        app.close_run();
        app.runs = RunsUi::default();
    }

    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        draw::render(app, frame, area);
    }
}

/// The run's status as a glyph and a word, as the list and the header show it.
pub fn status_label(status: RunStatus) -> (&'static str, &'static str) {
    match status {
        RunStatus::AwaitingApproval => ("⏸", "awaiting approval"),
        RunStatus::Queued => ("○", "queued"),
        RunStatus::Assigned => ("◔", "assigned"),
        RunStatus::Running => ("●", "running"),
        RunStatus::Succeeded => ("✓", "succeeded"),
        RunStatus::Failed => ("✗", "failed"),
        RunStatus::Cancelled => ("⊘", "cancelled"),
        RunStatus::TimedOut => ("⧗", "timed out"),
        RunStatus::Lost => ("?", "lost"),
        RunStatus::Rejected => ("⊘", "rejected"),
        RunStatus::Paused => ("⏸", "paused"),
    }
}

/// The theme key a status is drawn in.
pub fn status_style(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Succeeded => "ui.status.ok",
        RunStatus::Failed | RunStatus::TimedOut | RunStatus::Lost => "ui.error",
        RunStatus::Running | RunStatus::Assigned => "ui.accent",
        RunStatus::AwaitingApproval | RunStatus::Paused => "ui.status.warn",
        RunStatus::Queued | RunStatus::Cancelled | RunStatus::Rejected => "ui.muted",
    }
}

impl App {
    /// Now, in ms since the epoch, for the screen's durations.
    pub fn runs_now(&self) -> i64 {
        self.runs
            .frozen_now
            .unwrap_or_else(crate::tui::app::now_ms)
    }

    /// The run the keys act on: the open one, else the selected row.
    pub fn current_run(&self) -> Option<Run> {
        let runs = &self.view().runs;
        match &self.runs.open {
            Some(open) => runs.iter().find(|r| r.id == open.run_id).cloned(),
            None => runs.get(self.runs.selected).cloned(),
        }
    }

    /// Opens `run` with its log: the live tail is subscribed, older lines come page by page.
    pub fn open_run(&mut self, run: &Run) {
        self.close_run();
        let source = RemoteLog::new(run.id.clone(), run.lines, run.status.is_final());
        let mut log = LogView::new(source, self.theme.support());
        log.set_zone(self.zone.clone());
        log.set_key_names(KeyNames::from_keymap(&self.keymap));
        let agent = run.agent.is_some().then(agent::AgentRunUi::default);
        if agent.is_some() {
            // An agent run's record is its steps, not a log.
            self.outbound.push(NetRequest::RunSteps { number: run.number });
            if self.view().agents.budgets.is_none() {
                self.outbound.push(NetRequest::Budgets);
            }
        } else {
            self.outbound.push(NetRequest::LogFollow {
                run_id: run.id.clone(),
                tail: TAIL,
            });
        }
        self.runs.open = Some(OpenRun {
            run_id: run.id.clone(),
            log,
            agent,
        });
        self.tab = Tab::Runs;
    }

    /// Asks for a job and its parameters to start (for `card`).
    pub fn ask_run(&mut self, card_id: Option<Id>) {
        let names: Vec<&str> = self.view().jobs.iter().map(|j| j.name.as_str()).collect();
        let title = match names.as_slice() {
            [] => "Start a run: no jobs yet (warren job add NAME --command …)".to_owned(),
            names => format!("Start a run — JOB key=value … (jobs: {})", names.join(", ")),
        };
        let mut prompt = Prompt::new(title, "", PromptFor::StartRun { card_id });
        if names.is_empty() {
            prompt.error = Some("add a job first: warren job add NAME --command CMD".into());
        }
        self.open_prompt(prompt);
    }

    /// The answer to the start prompt: starts the run and shows it once the server has it, or
    /// keeps the prompt open saying what is wrong.
    pub(crate) fn start_run_from_prompt(&mut self, card_id: Option<Id>, answer: &str) {
        let refuse = |app: &mut App, why: String| {
            if let Some(Overlay::Prompt(prompt)) = app.overlay.as_mut() {
                prompt.error = Some(why);
            }
        };
        let (job, params) = match slash::parse(&format!("/run {answer}")) {
            Ok(slash::Slash::Run { job, params }) => (job, params),
            Ok(slash::Slash::Message(_)) => return refuse(self, "type a job name".into()),
            Err(why) => return refuse(self, why),
        };
        let Some(job_id) = self.view().job_named(&job).map(|j| j.id.clone()) else {
            return refuse(self, format!("no job named “{job}”"));
        };
        let Some(run_id) = new_id("run") else {
            return refuse(self, "cannot make an id for the run".into());
        };
        self.close_overlay();
        self.runs.go_to_run = Some(run_id.clone());
        self.submit(Command::StartRun {
            run_id: Some(run_id),
            job_id,
            params,
            card_id,
            room_id: None,
        });
        self.show(Tab::Runs);
    }

    /// Closes the open run (and its subscription).
    pub fn close_run(&mut self) {
        if let Some(open) = self.runs.open.take()
            && open.agent.is_none()
        {
            self.outbound.push(NetRequest::LogUnfollow {
                run_id: open.run_id,
            });
        }
    }

    /// Asks for the log pages the open run's viewer needs (after drawing it).
    pub fn request_log_pages(&mut self) {
        if let Some(open) = self.runs.open.as_mut()
            && open.agent.is_none()
        {
            for page in open.log.source_mut().requests() {
                self.outbound.push(NetRequest::LogPage(page));
            }
        }
    }
}
