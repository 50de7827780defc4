//! An agent run opened on the Runs screen: what the view remembers (the selected step, the tool
//! calls opened) and what its keys do (move, open or fold a step, esc to interrupt the turn).
//! How it is drawn is in [`super::agent_draw`]; the approval prompt's keys are read before these
//! (see [`crate::tui::agents::app`]).

use std::collections::BTreeSet;

use warren_protocol::Command;
use warren_protocol::run::RunStatus;

use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::input::vertical_delta;

/// What the agent run view remembers.
#[derive(Debug, Default, Clone)]
pub struct AgentRunUi {
    /// The selected step, as an index into the run's steps.
    pub selected: usize,
    /// Step numbers opened (a tool call's arguments and result shown in full).
    pub unfolded: BTreeSet<u32>,
}

/// Whether the agent streams a turn now (esc interrupts it).
pub fn streaming(status: RunStatus) -> bool {
    matches!(status, RunStatus::Running | RunStatus::Assigned)
}

/// Performs `action` if it is the agent run view's; says whether it was.
pub(super) fn perform(app: &mut App, action: Action, context: Context) -> bool {
    if context != Context::Agent {
        return false;
    }
    let Some(run) = app.current_run() else {
        return false;
    };
    let steps: Vec<u32> = app
        .view()
        .agents
        .steps_of(&run.id)
        .iter()
        .map(|s| s.n)
        .collect();
    let Some(ui) = app.runs.open.as_mut().and_then(|o| o.agent.as_mut()) else {
        return false;
    };
    match action {
        Action::StepToggle => {
            if let Some(n) = steps.get(ui.selected.min(steps.len().saturating_sub(1)))
                && !ui.unfolded.remove(n)
            {
                ui.unfolded.insert(*n);
            }
        }
        Action::AgentInterrupt => {
            if streaming(run.status) {
                app.submit(Command::CancelRun {
                    run_id: run.id.clone(),
                    reason: Some("interrupted from the run view".into()),
                });
                app.notify(format!("Interrupting {}…", run.label()), false);
            } else {
                app.close_run();
            }
        }
        _ => match vertical_delta(action) {
            Some(delta) => {
                let n = steps.len();
                if n > 0 {
                    let at = ui.selected.min(n - 1) as isize + delta;
                    ui.selected = at.clamp(0, n as isize - 1) as usize;
                }
            }
            None => return false,
        },
    }
    true
}
