//! What the Runs screen's keys do: moving through the list, opening and closing a run, the run
//! actions (cancel after a question, approve, reject with a reason, retry), and, with a run
//! open, the log viewer's actions (`log_…`, and `confirm`/`cancel` in its prompt), which the
//! viewer performs itself.

use warren_protocol::Command;
use warren_protocol::run::RunStatus;

use crate::keymap::{Action, Context};
use crate::logview::LogAction;
use crate::tui::app::App;
use crate::tui::input::vertical_delta;
use crate::tui::prompt::{Prompt, PromptFor};
use crate::tui::screens::Tab;
use crate::tui::state::{Confirmable, Overlay};

/// Performs `action` if it is the Runs screen's (see [`crate::tui::screens::Screen::perform`]).
pub(super) fn perform(app: &mut App, action: Action, context: Context) -> bool {
    if super::agent::perform(app, action, context) {
        return true;
    }
    if matches!(context, Context::Log | Context::LogPrompt)
        && let Some(open) = app.runs.open.as_mut()
        && open.log.perform(action)
    {
        return true;
    }
    if LogAction::from_action(action).is_some() {
        // From the palette, with no run open.
        app.notify("Open a run first: its log is where this works (3, then enter)", false);
        return true;
    }
    match action {
        Action::ShowRuns => app.show(Tab::Runs),
        Action::RunOpen => match app.current_run() {
            Some(run) => app.open_run(&run),
            None => app.notify("No run to open yet: start one with 'warren job run NAME'", false),
        },
        Action::RunClose => app.close_run(),
        Action::RunStart => app.ask_run(None),
        Action::CardRun => match app.selected_card() {
            Some(card) => app.ask_run(Some(card.id)),
            None => app.notify("Select a card first", false),
        },
        Action::RunCancel => with_run(app, "cancel", |app, run| {
            if run.status.is_final() {
                app.notify(format!("{} has already {}", run.label(), run.status.as_str()), false);
            } else {
                app.overlay = Some(Overlay::Confirm {
                    prompt: format!(
                        "Cancel {} ({})? Its processes are stopped.",
                        run.label(),
                        run.job_name
                    ),
                    what: Confirmable::CancelRun(run.id.clone()),
                });
            }
        }),
        Action::RunApprove => with_run(app, "approve", |app, run| {
            if run.status == RunStatus::AwaitingApproval {
                app.submit(Command::ApproveRun {
                    run_id: run.id.clone(),
                });
            } else {
                app.notify(format!("{} is not waiting for an approval", run.label()), false);
            }
        }),
        Action::RunReject => with_run(app, "reject", |app, run| {
            if run.status == RunStatus::AwaitingApproval {
                app.open_prompt(Prompt::new(
                    format!("Reject {}: why? (enter with nothing says no reason)", run.label()),
                    "",
                    PromptFor::RejectRun {
                        run_id: run.id.clone(),
                    },
                ));
            } else {
                app.notify(format!("{} is not waiting for an approval", run.label()), false);
            }
        }),
        Action::RunRetry => with_run(app, "retry", |app, run| {
            if run.status.is_final() {
                app.submit(Command::RetryRun {
                    run_id: run.id.clone(),
                    new_run_id: None,
                    params: Default::default(),
                });
            } else {
                app.notify(format!("{} has not finished yet", run.label()), false);
            }
        }),
        _ => match vertical_delta(action) {
            Some(delta) if context == Context::Runs => {
                let n = app.view().runs.len();
                if n > 0 {
                    let at = app.runs.selected as isize + delta;
                    app.runs.selected = at.clamp(0, n as isize - 1) as usize;
                }
            }
            _ => return false,
        },
    }
    true
}

fn with_run(app: &mut App, verb: &str, act: impl FnOnce(&mut App, &warren_protocol::run::Run)) {
    match app.current_run() {
        Some(run) => act(app, &run),
        None => app.notify(format!("No run selected to {verb}"), false),
    }
}
