//! The worker's agent loop (issue 9): an `assign` frame with an `agent` part becomes an
//! [`AgentRun`], a task that calls the agent's model providers (keys from this worker's
//! environment) and talks to the server through the worker loop's connection. Workers keep no
//! state of a run: everything needed is in the assignment, so a run resumed after an approval,
//! a raised budget or a lost worker continues from its stored steps on any worker.
//!
//! - [`resume`]: the assignment's steps back into a conversation, the tool calls still owed,
//!   the next step's number.
//! - [`turn`]: the loop — `start_model_call`, the chain call, `finish_model_call`, tool calls —
//!   and how the run ends (`report_run_finished`, or left to the server).
//! - [`deltas`]: streamed text into coalesced `agent_delta` frames with byte offsets.
//! - [`step`]: a chain call's outcome as the stored step (`ModelCall`).
//! - [`tools`]: `call_tool` and what its ack means for the run.
//! - [`health`]: `report_provider_health` on breaker changes, throttled.
//! - [`link`]: commands over whatever connection the worker loop has now, each applied once.

pub mod deltas;
pub mod health;
pub mod link;
pub mod resume;
pub mod step;
pub mod tools;
mod turn;

use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use warren_protocol::Id;
use warren_protocol::agent::AgentAssignment;
use warren_protocol::run::{Run, RunEnd};

use crate::provider::{Cancel, Chain};
use health::HealthReports;
use link::Link;

/// Adjustments of every model call of this worker, for small local models (tests): the
/// sampling temperature. (A forced tool is the run's, not the worker's: the assignment's
/// `force_tool`, from `ask_agent`'s `tool`.)
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tuning {
    pub temperature: Option<f32>,
}

impl Tuning {
    /// From `WARREN_AGENT_TEMPERATURE`; unset or unparsable values are ignored.
    pub fn from_env() -> Tuning {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Tuning {
            temperature: var("WARREN_AGENT_TEMPERATURE").and_then(|t| t.trim().parse().ok()),
        }
    }
}

/// What every agent run of a worker shares: the provider chain (and so the breakers), the
/// health reports, the tuning.
pub struct Setup {
    pub chain: Chain,
    pub health: Arc<HealthReports>,
    pub tuning: Tuning,
}

impl Setup {
    pub fn new(chain: Chain, tuning: Tuning) -> Setup {
        Setup {
            chain,
            health: Arc::default(),
            tuning,
        }
    }
}

/// Stopping a run early: the first reason wins (a cancel, the wall time, the worker stopping),
/// and the model call under way is interrupted, keeping its partial text.
pub struct Stop {
    flag: watch::Sender<bool>,
    why: Mutex<Option<(RunEnd, String)>>,
}

impl Stop {
    fn new() -> Stop {
        Stop {
            flag: watch::channel(false).0,
            why: Mutex::new(None),
        }
    }

    /// Stops the run: it ends as `end`, `why` its reason.
    pub fn raise(&self, end: RunEnd, why: &str) {
        let mut slot = self.why.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some((end, why.to_owned()));
        }
        drop(slot);
        self.flag.send_replace(true);
    }

    /// How the run ends, once stopped.
    pub fn why(&self) -> Option<(RunEnd, String)> {
        self.why.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn cancel(&self) -> Cancel {
        Cancel::from_receiver(self.flag.subscribe())
    }
}

/// An agent run this worker holds.
pub struct AgentRun {
    pub run: Run,
    /// `r9 reviewer`, as the worker's log names it (sanitised).
    pub label: String,
    stop: Arc<Stop>,
    task: JoinHandle<()>,
}

impl AgentRun {
    /// Starts driving the run; `ended(run_id, line)` is called with what the worker's log
    /// should say once the run has ended here (reported, or left to the server).
    pub fn start(
        setup: Arc<Setup>,
        run: Run,
        assignment: AgentAssignment,
        link: Link,
        ended: impl FnOnce(Id, String) + Send + 'static,
    ) -> AgentRun {
        let label = format!("{} {}", run.label(), crate::sanitize::line(&run.job_name));
        let stop = Arc::new(Stop::new());
        let task = {
            let (run, stop) = (run.clone(), stop.clone());
            tokio::spawn(async move {
                let line = turn::drive(&setup, &run, &assignment, link, &stop).await;
                ended(run.id, line);
            })
        };
        AgentRun {
            run,
            label,
            stop,
            task,
        }
    }

    /// Interrupts the run: the model call under way stops (its partial text is kept), the step
    /// and the run end as `end`.
    pub fn stop(&self, end: RunEnd, why: &str) {
        self.stop.raise(end, why);
    }

    /// Lets go of the run without reporting anything (the server no longer gives it to this
    /// worker).
    pub fn abandon(&self) {
        self.task.abort();
    }
}

impl Drop for AgentRun {
    fn drop(&mut self) {
        self.task.abort();
    }
}
