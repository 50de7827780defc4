//! The agents part of the client's replica (issue 9): providers and agents from the snapshot and
//! their events, budgets from the `budgets` query and `budget_*` events, and the steps of agent
//! runs from the `run` query and `run_step` events. Every string is sanitised on the way in,
//! like the rest of [`super::model`]. Streamed text (ephemeral) is kept apart in [`stream`]; the
//! guard against answering an approval by accident in [`guard`].

pub mod app;
pub mod guard;
pub mod stream;

use std::collections::HashMap;

use warren_protocol::agent::{Agent, Provider};
use warren_protocol::budget::{Budget, BudgetScope};
use warren_protocol::run::Run;
use warren_protocol::step::{RunStep, StepDetail, StepStatus};
use warren_protocol::{Change, Id};

use crate::sanitize;

/// Providers, agents, budgets and the steps of agent runs, as far as this client knows them.
#[derive(Debug, Clone, Default)]
pub struct Agents {
    /// By name.
    pub providers: Vec<Provider>,
    /// By name.
    pub agents: Vec<Agent>,
    /// From the `budgets` query (`None` until it answered), kept current by `budget_*` events.
    pub budgets: Option<Vec<Budget>>,
    /// Steps per run, in step order.
    pub steps: HashMap<Id, Vec<RunStep>>,
}

fn clean_provider(mut p: Provider) -> Provider {
    p.name = sanitize::line(&p.name);
    p.base_url = sanitize::line(&p.base_url);
    p.models = p.models.iter().map(|m| sanitize::line(m)).collect();
    if let Some(h) = p.health.as_mut() {
        h.message = h.message.as_deref().map(sanitize::line);
    }
    p
}

fn clean_agent(mut a: Agent) -> Agent {
    a.name = sanitize::line(&a.name);
    a.prompt = sanitize::block(&a.prompt);
    a.model = a.model.as_deref().map(sanitize::line);
    a
}

/// Model text, tool arguments and results are untrusted: no escape sequence reaches the screen.
pub fn clean_step(mut step: RunStep) -> RunStep {
    match &mut step.detail {
        StepDetail::ModelCall(call) => {
            call.provider = sanitize::line(&call.provider);
            call.model = sanitize::line(&call.model);
            call.text = sanitize::block(&call.text);
            for a in &mut call.attempts {
                a.provider = sanitize::line(&a.provider);
                a.model = sanitize::line(&a.model);
                a.message = sanitize::line(&a.message);
            }
            for t in &mut call.tool_calls {
                t.name = sanitize::line(&t.name);
                t.arguments = sanitize::block(&t.arguments);
            }
            if let Some(e) = call.error.as_mut() {
                e.message = sanitize::line(&e.message);
            }
        }
        StepDetail::ToolCall(tool) => {
            tool.name = sanitize::line(&tool.name);
            tool.call_id = sanitize::line(&tool.call_id);
            tool.arguments = sanitize::block(&tool.arguments);
            tool.result = tool.result.as_deref().map(sanitize::block);
            if let Some(a) = tool.approval.as_mut() {
                a.reason = a.reason.as_deref().map(sanitize::line);
            }
        }
    }
    step
}

impl Agents {
    /// Takes the lists of a snapshot. Steps and budgets are kept: events after it keep them
    /// current (a run's steps are asked for again when it is opened).
    pub fn apply_snapshot(&mut self, providers: Vec<Provider>, agents: Vec<Agent>) {
        self.providers = providers.into_iter().map(clean_provider).collect();
        self.agents = agents.into_iter().map(clean_agent).collect();
        self.sort();
    }

    fn sort(&mut self) {
        self.providers.sort_by_cached_key(|p| p.name.to_lowercase());
        self.agents.sort_by_cached_key(|a| a.name.to_lowercase());
    }

    /// Applies an agents change; other changes are left alone.
    pub fn apply(&mut self, change: &Change) {
        match change.clone() {
            Change::ProviderCreated { provider } | Change::ProviderUpdated { provider } => {
                self.providers.retain(|p| p.id != provider.id);
                self.providers.push(clean_provider(provider));
                self.sort();
            }
            Change::ProviderDeleted { provider_id } => {
                self.providers.retain(|p| p.id != provider_id);
            }
            Change::AgentCreated { agent } | Change::AgentUpdated { agent } => {
                self.agents.retain(|a| a.id != agent.id);
                self.agents.push(clean_agent(agent));
                self.sort();
            }
            Change::AgentDeleted { agent_id } => self.agents.retain(|a| a.id != agent_id),
            Change::RunStep { step } => self.put_step(step),
            Change::BudgetSet { budget } => {
                let list = self.budgets.get_or_insert_with(Vec::new);
                list.retain(|b| b.scope != budget.scope);
                list.push(budget);
                list.sort_by(|a, b| a.scope.cmp(&b.scope));
            }
            Change::BudgetCleared { scope } => {
                if let Some(list) = self.budgets.as_mut() {
                    list.retain(|b| b.scope != scope);
                }
            }
            _ => {}
        }
    }

    /// Stores or replaces one step.
    pub fn put_step(&mut self, step: RunStep) {
        let step = clean_step(step);
        let list = self.steps.entry(step.run_id.clone()).or_default();
        match list.binary_search_by_key(&step.n, |s| s.n) {
            Ok(i) => list[i] = step,
            Err(i) => list.insert(i, step),
        }
    }

    /// Takes a run's steps from the `run` query (events that came meanwhile are kept where newer).
    pub fn put_steps(&mut self, run_id: &Id, steps: Vec<RunStep>) {
        let known = self.steps.remove(run_id).unwrap_or_default();
        for step in steps.into_iter().filter(|s| &s.run_id == run_id) {
            self.put_step(step);
        }
        for step in known {
            let stale = self.steps.get(run_id).is_some_and(|list| {
                list.iter()
                    .any(|s| s.n == step.n && (s.status.is_final() || s.status == step.status))
            });
            if !stale {
                self.put_step(step);
            }
        }
    }

    /// A run's steps, in order.
    pub fn steps_of(&self, run_id: &Id) -> &[RunStep] {
        self.steps.get(run_id).map_or(&[], Vec::as_slice)
    }

    /// The agent by id.
    pub fn agent(&self, id: &Id) -> Option<&Agent> {
        self.agents.iter().find(|a| &a.id == id)
    }

    /// The provider by id.
    pub fn provider(&self, id: &Id) -> Option<&Provider> {
        self.providers.iter().find(|p| &p.id == id)
    }

    /// The step of `run` waiting for a person's decision, if any.
    pub fn awaiting(&self, run_id: &Id) -> Option<&RunStep> {
        self.steps_of(run_id)
            .iter()
            .find(|s| s.status == StepStatus::AwaitingApproval)
    }

    /// The budgets `run` falls under (workspace, its agent, its room), with what is left.
    pub fn budgets_of(&self, run: &Run) -> Vec<&Budget> {
        let Some(agent) = &run.agent else {
            return Vec::new();
        };
        self.budgets
            .iter()
            .flatten()
            .filter(|b| match &b.scope {
                BudgetScope::Workspace => true,
                BudgetScope::Agent { agent_id } => agent_id == &agent.agent_id,
                BudgetScope::Room { room_id } => run.room_id.as_ref() == Some(room_id),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_protocol::step::{ModelCall, ToolCallStep};

    fn id(prefix: &str, n: u8) -> Id {
        Id::from_random(prefix, [n; 10])
    }

    fn tool_step(n: u32, status: StepStatus, result: Option<&str>) -> RunStep {
        RunStep {
            run_id: id("run", 1),
            n,
            status,
            started_at: 0,
            finished_at: None,
            detail: StepDetail::ToolCall(ToolCallStep {
                call_id: "call_0".into(),
                tool: None,
                name: "card_create".into(),
                arguments: "{\"title\":\"\u{1b}[31mred\"}".into(),
                result: result.map(str::to_owned),
                is_error: false,
                child_run_id: None,
                approval: None,
            }),
        }
    }

    #[test]
    fn steps_are_kept_in_order_replaced_and_sanitised() {
        let mut agents = Agents::default();
        agents.apply(&Change::RunStep {
            step: tool_step(2, StepStatus::AwaitingApproval, None),
        });
        agents.apply(&Change::RunStep {
            step: RunStep {
                run_id: id("run", 1),
                n: 1,
                status: StepStatus::Done,
                started_at: 0,
                finished_at: Some(1),
                detail: StepDetail::ModelCall(ModelCall {
                    provider_id: id("prov", 1),
                    provider: "local".into(),
                    model: "smollm2".into(),
                    usage: Default::default(),
                    cost: 0,
                    latency_ms: 0,
                    first_token_ms: None,
                    attempts: vec![],
                    text: "hi\u{1b}]0;title\u{7}".into(),
                    partial: false,
                    tool_calls: vec![],
                    finish_reason: None,
                    error: None,
                }),
            },
        });
        let steps = agents.steps_of(&id("run", 1));
        assert_eq!(steps.iter().map(|s| s.n).collect::<Vec<_>>(), [1, 2]);
        let StepDetail::ToolCall(tool) = &steps[1].detail else {
            panic!("tool step");
        };
        assert!(!tool.arguments.contains('\u{1b}'));
        let StepDetail::ModelCall(call) = &steps[0].detail else {
            panic!("model step");
        };
        assert_eq!(call.text, "hi");
        assert!(agents.awaiting(&id("run", 1)).is_some());
        agents.apply(&Change::RunStep {
            step: tool_step(2, StepStatus::Done, Some("created #7")),
        });
        assert!(agents.awaiting(&id("run", 1)).is_none());
    }

    #[test]
    fn a_query_answer_does_not_undo_a_newer_event() {
        let mut agents = Agents::default();
        agents.put_step(tool_step(2, StepStatus::Done, Some("created #7")));
        // The query was read before the decision: its step still waits.
        agents.put_steps(
            &id("run", 1),
            vec![tool_step(2, StepStatus::AwaitingApproval, None)],
        );
        assert_eq!(agents.steps_of(&id("run", 1))[0].status, StepStatus::Done);
    }
}
