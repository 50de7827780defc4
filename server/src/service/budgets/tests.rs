//! Budgets against a real redb store in a temporary directory: commands applied as the writer
//! applies them (permission check, service, event, follow-ups, in one transaction), finished
//! model calls as the `run_step` events the agent runs store.

use redb::ReadableTable;
use tempfile::TempDir;
use warren_protocol::account::TokenScope;
use warren_protocol::agent::{AgentRun, Price, ProviderKind, Usage};
use warren_protocol::budget::{Budget, BudgetPeriod, BudgetScope, UsageRow};
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::{ModelCall, RunStep, StepDetail, StepStatus};
use warren_protocol::{Change, Command, ErrorCode, Event, Id, Role};

use super::*;
use crate::audit::Source;
use crate::runs::RunState;
use crate::runs::effects::Effects;
use crate::service::{self, append_event, follow, next_seq};
use crate::store::Store;
use crate::store::tables::{AUDIT, RUNS};

/// 2026-12-05 (a Saturday) 15:30 UTC.
const NOW: i64 = 1_796_484_600_000;
/// 2027-01-02 12:00 UTC: next month.
const NEXT_MONTH: i64 = 1_798_891_200_000;

struct World {
    _dir: TempDir,
    store: Store,
    ws: Id,
    owner: Id,
    room: Id,
    agent: Id,
    agent_member: Id,
    provider: Id,
    runs: u64,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::create(&dir.path().join("data")).expect("store");
        let boot = service::workspace::bootstrap(&store, "ada", "Acme").expect("bootstrap");
        let room = {
            let txn = store.begin_read().expect("read");
            crate::store::read::snapshot(&txn, &boot.workspace.id)
                .expect("read")
                .expect("state")
                .rooms[0]
                .id
                .clone()
        };
        let mut world = World {
            _dir: dir,
            store,
            ws: boot.workspace.id,
            owner: boot.owner.id,
            room,
            agent: Id::parse("agent_x").expect("id"),
            agent_member: Id::parse("usr_x").expect("id"),
            provider: Id::parse("prov_x").expect("id"),
            runs: 0,
        };
        let events = world
            .owner_does(
                &Command::CreateProvider {
                    provider_id: None,
                    name: "local".into(),
                    kind: ProviderKind::Openai,
                    base_url: "http://127.0.0.1:8080/v1".into(),
                    key_env: None,
                    models: vec!["m".into()],
                    price: Price::default(),
                    context_tokens: None,
                },
                NOW,
            )
            .expect("provider");
        let Change::ProviderCreated { provider } = &events[0].change else {
            panic!("{events:?}")
        };
        world.provider = provider.id.clone();
        let events = world
            .owner_does(
                &Command::CreateAgent {
                    agent_id: None,
                    name: "reviewer".into(),
                    providers: vec![world.provider.clone()],
                    model: None,
                    prompt: String::new(),
                    tools: vec![],
                    auto_approve: vec![],
                    max_steps: None,
                    max_tokens: None,
                    max_wall_secs: None,
                },
                NOW,
            )
            .expect("agent");
        let Change::AgentCreated { agent } = &events[0].change else {
            panic!("{events:?}")
        };
        world.agent = agent.id.clone();
        world.agent_member = agent.member_id.clone();
        world
    }

    /// Applies `command` as `actor` with `role` at `now`, as the writer does; returns its event
    /// and the events that follow it.
    fn does(
        &self,
        actor: &Id,
        role: Role,
        command: &Command,
        now: i64,
    ) -> Result<Vec<Event>, ApplyError> {
        let txn = self.store.begin_write().expect("write");
        let ctx = Ctx {
            workspace: &self.ws,
            actor,
            role,
            scope: TokenScope::Full,
            now,
            seq: next_seq(&txn, &self.ws).expect("seq"),
            from: Source::Unknown,
        };
        ctx.check(command)?;
        let state = RunState::default();
        let mut fx = Effects::default();
        let change = service::apply(&txn, &ctx, command, &state, &mut fx)?;
        let (event, _) = append_event(&txn, &ctx, None, change).expect("append");
        let mut events = vec![event.clone()];
        let follow = follow::follow_ups(&txn, &event, follow::Before::default())?;
        events.extend(follow.into_iter().map(|(e, _)| e));
        txn.commit().expect("commit");
        Ok(events)
    }

    fn owner_does(&self, command: &Command, now: i64) -> Result<Vec<Event>, ApplyError> {
        self.does(&self.owner, Role::Owner, command, now)
    }

    fn set(&self, scope: BudgetScope, limit: u64, now: i64) -> Vec<Event> {
        self.owner_does(
            &Command::SetBudget {
                scope,
                limit,
                period: BudgetPeriod::Month,
            },
            now,
        )
        .expect("set_budget")
    }

    fn agent_scope(&self) -> BudgetScope {
        BudgetScope::Agent {
            agent_id: self.agent.clone(),
        }
    }

    /// Stores an agent run of the agent (in the room) with `status`, by its `run_created`.
    fn run(&mut self, status: RunStatus, paused_reason: Option<&str>) -> Run {
        self.runs += 1;
        let run = Run {
            id: Id::parse(&format!("run_{}", self.runs)).expect("id"),
            number: self.runs,
            job_id: self.agent.clone(),
            job_name: "reviewer".into(),
            params: vec![],
            status,
            requested_by: self.owner.clone(),
            card_id: None,
            room_id: Some(self.room.clone()),
            retry_of: None,
            attempt: 1,
            worker_id: None,
            decided_by: None,
            created_at: NOW,
            queued_at: Some(NOW),
            not_before: None,
            started_at: Some(NOW),
            finished_at: None,
            exit_code: None,
            reason: paused_reason.map(Into::into),
            lines: 0,
            log_bytes: 0,
            parent_run_id: None,
            agent: Some(Box::new(AgentRun {
                agent_id: self.agent.clone(),
                prompt: "what blocks the release?".into(),
                message_id: None,
                reply_message_id: None,
                probe_provider_id: None,
                steps: 0,
                usage: Usage::default(),
                cost: 0,
                paused_reason: paused_reason.map(Into::into),
                force_tool: None,
            })),
        };
        let txn = self.store.begin_write().expect("write");
        txn.open_table(RUNS)
            .expect("runs")
            .insert(
                (self.ws.as_str(), run.id.as_str()),
                crate::store::encode("runs", &run)
                    .expect("encode")
                    .as_slice(),
            )
            .expect("insert");
        self.append(&txn, Change::RunCreated { run: run.clone() }, NOW);
        txn.commit().expect("commit");
        run
    }

    fn append(&self, txn: &redb::WriteTransaction, change: Change, now: i64) -> Vec<Event> {
        let ctx = Ctx {
            workspace: &self.ws,
            actor: &self.owner,
            role: Role::Bot,
            scope: TokenScope::Full,
            now,
            seq: next_seq(txn, &self.ws).expect("seq"),
            from: Source::Unknown,
        };
        let (event, _) = append_event(txn, &ctx, None, change).expect("append");
        let follow = follow::follow_ups(txn, &event, follow::Before::default()).expect("follow");
        let mut out = vec![event];
        out.extend(follow.into_iter().map(|(e, _)| e));
        out
    }

    /// The worker's report that model call `n` of `run` ended (`status`) costing `cost`;
    /// returns the `run_step` event and what follows it.
    fn finish_call(
        &self,
        run: &Run,
        n: u32,
        status: StepStatus,
        cost: u64,
        now: i64,
    ) -> Vec<Event> {
        let step = RunStep {
            run_id: run.id.clone(),
            n,
            status,
            started_at: now - 1_000,
            finished_at: status.is_final().then_some(now),
            detail: StepDetail::ModelCall(ModelCall {
                provider_id: self.provider.clone(),
                provider: "local".into(),
                model: "m".into(),
                usage: Usage {
                    input_tokens: 100,
                    output_tokens: 20,
                    counted: false,
                },
                cost,
                latency_ms: 900,
                first_token_ms: Some(100),
                attempts: vec![],
                text: "ok".into(),
                partial: false,
                tool_calls: vec![],
                finish_reason: Some("stop".into()),
                error: None,
            }),
        };
        let txn = self.store.begin_write().expect("write");
        let events = self.append(&txn, Change::RunStep { step }, now);
        txn.commit().expect("commit");
        events
    }

    fn check(&self, run: &Run, now: i64) -> Option<String> {
        let txn = self.store.begin_write().expect("write");
        let answer = check(&txn, &self.ws, run, now).expect("check");
        txn.abort().expect("abort");
        answer
    }

    fn budgets(&self, now: i64) -> Vec<Budget> {
        let txn = self.store.begin_read().expect("read");
        reads::budgets(&txn, self.ws.as_str(), now).expect("budgets")
    }

    fn run_record(&self, run: &Run) -> Run {
        let txn = self.store.begin_read().expect("read");
        crate::store::run_reads::run(&txn, &self.ws, &run.id)
            .expect("read")
            .expect("the run")
    }

    /// One tick of the run scheduler at `now` (as the writer's timer does); returns the events
    /// it recorded.
    fn tick(&self, state: &RunState, now: i64) -> Vec<Event> {
        let txn = self.store.begin_write().expect("write");
        let mut fx = Effects::default();
        crate::runs::assign::schedule(&txn, now, state, &mut fx).expect("schedule");
        txn.commit().expect("commit");
        fx.events.into_iter().map(|(_, e, _)| e).collect()
    }

    /// Problems `warren-server check` finds with budgets (runs stored by hand have no number
    /// index, so only budget problems count here). The store is closed first.
    fn budget_problems(self) -> Vec<String> {
        let World { _dir, store, .. } = self;
        let path = store.path().to_path_buf();
        drop(store);
        let report = crate::check::check_file(&path);
        assert!(!report.in_use && report.workspaces.len() == 1, "{report:?}");
        report
            .problems
            .into_iter()
            .filter(|p| p.contains("budget"))
            .collect()
    }
}

/// The alert messages among `events`, as (author, body).
fn alerts(events: &[Event]) -> Vec<(Id, String)> {
    events
        .iter()
        .filter_map(|e| match &e.change {
            Change::MessagePosted { message } => {
                Some((message.author.clone(), message.body.clone()))
            }
            _ => None,
        })
        .collect()
}

fn spent_in(events: &[Event]) -> Vec<(BudgetScope, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.change {
            Change::BudgetSet { budget } => Some((budget.scope.clone(), budget.spent)),
            _ => None,
        })
        .collect()
}

fn refusal(result: Result<Vec<Event>, ApplyError>) -> (ErrorCode, String) {
    match result {
        Err(ApplyError::Rejected(e)) => (e.code, e.message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn set_budget_is_validated_needs_budget_manage_and_is_audited() {
    let world = World::new();
    let (code, message) = refusal(world.owner_does(
        &Command::SetBudget {
            scope: BudgetScope::Workspace,
            limit: 0,
            period: BudgetPeriod::Day,
        },
        NOW,
    ));
    assert_eq!(code, ErrorCode::Validation);
    assert!(
        message.contains("more than $0") && message.contains("warren budget clear"),
        "{message}"
    );
    let (code, message) = refusal(world.owner_does(
        &Command::SetBudget {
            scope: BudgetScope::Agent {
                agent_id: Id::parse("agent_gone").expect("id"),
            },
            limit: 5_000_000,
            period: BudgetPeriod::Month,
        },
        NOW,
    ));
    assert_eq!(code, ErrorCode::NotFound);
    assert!(
        message.contains("agent_gone") && message.contains("warren agent list"),
        "{message}"
    );
    let (code, message) = refusal(world.does(
        &world.agent_member,
        Role::Member,
        &Command::SetBudget {
            scope: BudgetScope::Workspace,
            limit: 5_000_000,
            period: BudgetPeriod::Month,
        },
        NOW,
    ));
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("budget:manage"), "{message}");
    let (code, message) = refusal(world.owner_does(
        &Command::ClearBudget {
            scope: world.agent_scope(),
        },
        NOW,
    ));
    assert_eq!(code, ErrorCode::NotFound);
    assert!(
        message.contains("agent reviewer has no budget"),
        "{message}"
    );

    let events = world.set(world.agent_scope(), 5_000_000, NOW);
    let Change::BudgetSet { budget } = &events[0].change else {
        panic!("{events:?}")
    };
    assert_eq!(budget.spent, 0);
    assert_eq!(budget.period_start, period::start(BudgetPeriod::Month, NOW));
    assert_eq!(&budget.set_by, &world.owner);
    world
        .owner_does(
            &Command::ClearBudget {
                scope: world.agent_scope(),
            },
            NOW,
        )
        .expect("cleared");
    assert!(world.budgets(NOW).is_empty());
    let txn = world.store.begin_read().expect("read");
    let audit: Vec<String> = txn
        .open_table(AUDIT)
        .expect("audit")
        .iter()
        .expect("iter")
        .map(|row| String::from_utf8_lossy(row.expect("row").1.value()).into_owned())
        .filter(|text| text.contains("budget."))
        .collect();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit[0].contains("budget.set") && audit[0].contains("$5.00/month"));
    assert!(audit[1].contains("budget.clear") && audit[1].contains("agent reviewer"));
}

#[test]
fn spending_counts_usage_moves_spent_and_alerts_once_per_threshold_then_check_refuses() {
    let mut world = World::new();
    world.set(world.agent_scope(), 1_000_000, NOW);
    world.set(BudgetScope::Workspace, 100_000_000, NOW);
    let run = world.run(RunStatus::Running, None);
    assert_eq!(world.check(&run, NOW), None);

    // A call still streaming counts nothing.
    let events = world.finish_call(&run, 1, StepStatus::Running, 300_000, NOW);
    assert_eq!(events.len(), 1, "{events:?}");

    // 30 %: both budgets move, no alert.
    let events = world.finish_call(&run, 1, StepStatus::Done, 300_000, NOW);
    assert_eq!(
        spent_in(&events),
        [
            (BudgetScope::Workspace, 300_000),
            (world.agent_scope(), 300_000)
        ]
    );
    assert!(alerts(&events).is_empty());
    // 60 %: the 50 % alert, by the agent's member, in the run's room.
    let events = world.finish_call(&run, 2, StepStatus::Done, 300_000, NOW);
    let said = alerts(&events);
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0].0, world.agent_member);
    assert_eq!(
        said[0].1,
        "⚠ 50% of the monthly budget of agent reviewer is spent: $0.60 of $1.00 this month."
    );
    // 90 %: 75 and 90 are reached at once — one alert, the higher.
    let events = world.finish_call(&run, 3, StepStatus::Failed, 300_000, NOW);
    let said = alerts(&events);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].1.starts_with("⚠ 90% of the monthly budget"),
        "{said:?}"
    );
    assert_eq!(world.check(&run, NOW), None, "90 % still allows a call");
    // 120 %: exhausted, said once; a later call (one in flight) says nothing more.
    let events = world.finish_call(&run, 4, StepStatus::Done, 300_000, NOW);
    let said = alerts(&events);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].1.starts_with(
            "⛔ The monthly budget of agent reviewer is exhausted: $1.20 of $1.00 this month."
        ),
        "{said:?}"
    );
    let events = world.finish_call(&run, 5, StepStatus::Cancelled, 300_000, NOW);
    assert!(alerts(&events).is_empty(), "{events:?}");
    let reason = world.check(&run, NOW).expect("exhausted");
    assert_eq!(
        reason,
        "budget exhausted: agent reviewer, $1.50 of $1.00 this month — raise it above $1.00 with \
         `warren budget set --agent reviewer AMOUNTusd/month` or remove it with \
         `warren budget clear --agent reviewer`"
    );

    // Usage: one row for the day, agent, provider and room.
    let txn = world.store.begin_read().expect("read");
    let rows = reads::usage(&txn, world.ws.as_str(), NOW, None, NOW).expect("usage");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].day, "2026-12-05");
    assert_eq!(rows[0].calls, 5);
    assert_eq!(rows[0].cost, 1_500_000);
    assert_eq!(rows[0].usage.input_tokens, 500);
    assert_eq!(rows[0].room_id.as_ref(), Some(&world.room));
    assert!(
        reads::usage(&txn, world.ws.as_str(), NEXT_MONTH, None, NEXT_MONTH)
            .expect("usage")
            .is_empty()
    );
    let backwards = reads::usage(&txn, world.ws.as_str(), NEXT_MONTH, Some(NOW), NOW)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(backwards.contains("swap them"), "{backwards}");
    drop(txn);

    // Next month the budget counts from 0 (in check and the query, before any spending)…
    assert_eq!(world.check(&run, NEXT_MONTH), None);
    let now = world
        .budgets(NEXT_MONTH)
        .into_iter()
        .find(|b| b.scope == world.agent_scope())
        .expect("the agent's budget");
    assert_eq!(now.spent, 0);
    assert_eq!(
        now.period_start,
        period::start(BudgetPeriod::Month, NEXT_MONTH)
    );
    // …and its alerts start again.
    let events = world.finish_call(&run, 6, StepStatus::Done, 600_000, NEXT_MONTH);
    assert!(spent_in(&events).contains(&(world.agent_scope(), 600_000)));
    assert_eq!(alerts(&events).len(), 1);
    assert_eq!(world.budget_problems(), Vec::<String>::new());
}

#[test]
fn concurrent_runs_overshoot_by_at_most_one_call_each() {
    let mut world = World::new();
    world.set(world.agent_scope(), 1_000_000, NOW);
    let runs: Vec<Run> = (0..3)
        .map(|_| world.run(RunStatus::Running, None))
        .collect();
    // 90 % spent; each run checks before its call, and all three start while it is 90 %.
    world.finish_call(&runs[0], 1, StepStatus::Done, 900_000, NOW);
    for run in &runs {
        assert_eq!(world.check(run, NOW), None);
    }
    for run in &runs {
        world.finish_call(run, 2, StepStatus::Done, 400_000, NOW);
    }
    let budget = world.budgets(NOW).remove(0);
    // Over by exactly the calls that were in flight, one per run, and no further call starts.
    assert_eq!(budget.spent, 900_000 + 3 * 400_000);
    assert!(budget.spent - budget.limit <= 3 * 400_000);
    for run in &runs {
        assert!(world.check(run, NOW).is_some());
    }
}

#[test]
fn raising_or_clearing_an_exhausted_budget_queues_the_runs_it_paused() {
    let mut world = World::new();
    world.set(world.agent_scope(), 1_000_000, NOW);
    world.set(
        BudgetScope::Room {
            room_id: world.room.clone(),
        },
        1_000_000,
        NOW,
    );
    let spender = world.run(RunStatus::Running, None);
    world.finish_call(&spender, 1, StepStatus::Done, 1_000_000, NOW);
    let reason = world.check(&spender, NOW).expect("exhausted");
    let paused = world.run(RunStatus::Paused, Some(&reason));
    let done = world.run(RunStatus::Succeeded, None);

    // Raising the agent's budget is not enough: the room's is spent too.
    let events = world.set(world.agent_scope(), 2_000_000, NOW);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(world.run_record(&paused).status, RunStatus::Paused);
    // A budget set mid-period starts from what the scope already spent (the usage rows).
    let room_budget = world
        .budgets(NOW)
        .into_iter()
        .find(|b| matches!(b.scope, BudgetScope::Room { .. }))
        .expect("room budget");
    assert_eq!(room_budget.spent, 1_000_000);

    // Clearing the room's budget lets it go: back to queued, reason gone, one run_updated.
    let events = world.owner_does(
        &Command::ClearBudget {
            scope: BudgetScope::Room {
                room_id: world.room.clone(),
            },
        },
        NOW + 5,
    );
    let events = events.expect("cleared");
    let moved: Vec<&Run> = events
        .iter()
        .filter_map(|e| match &e.change {
            Change::RunUpdated { run, from } => {
                assert_eq!(*from, RunStatus::Paused);
                Some(run)
            }
            _ => None,
        })
        .collect();
    assert_eq!(moved.len(), 1, "{events:?}");
    assert_eq!(moved[0].id, paused.id);
    let record = world.run_record(&paused);
    assert_eq!(record.status, RunStatus::Queued);
    assert_eq!(record.queued_at, Some(NOW + 5));
    assert_eq!(record.reason, None);
    assert_eq!(
        record.agent.as_ref().and_then(|a| a.paused_reason.clone()),
        None
    );
    assert_eq!(world.run_record(&done).status, RunStatus::Succeeded);

    // A budget set with a lower limit than spent pauses nothing by itself, and posts no alert.
    let events = world.set(BudgetScope::Workspace, 500_000, NOW + 6);
    assert!(alerts(&events).is_empty());
    let Change::BudgetSet { budget } = &events[0].change else {
        panic!("{events:?}")
    };
    assert_eq!(budget.spent, 1_000_000);
    assert_eq!(world.budget_problems(), Vec::<String>::new());
}

#[test]
fn the_scheduler_queues_a_paused_run_again_when_the_period_of_every_budget_over_it_ends() {
    let mut world = World::new();
    // The agent's budget is monthly, the room's daily; one $1 call spends both.
    world.set(world.agent_scope(), 1_000_000, NOW);
    world
        .owner_does(
            &Command::SetBudget {
                scope: BudgetScope::Room {
                    room_id: world.room.clone(),
                },
                limit: 1_000_000,
                period: BudgetPeriod::Day,
            },
            NOW,
        )
        .expect("room budget");
    let spender = world.run(RunStatus::Running, None);
    world.finish_call(&spender, 1, StepStatus::Done, 1_000_000, NOW);
    let reason = world.check(&spender, NOW).expect("exhausted");
    let paused = world.run(RunStatus::Paused, Some(&reason));
    let state = RunState::default();
    let tomorrow = period::start(BudgetPeriod::Day, NOW) + 86_400_000;
    let january = period::start(BudgetPeriod::Month, NEXT_MONTH);

    // Within the period, and after the room's day ended while the agent's month goes on: the
    // run stays paused and the ticks record nothing.
    for now in [NOW + 500, tomorrow - 1, tomorrow, january - 1] {
        let events = world.tick(&state, now);
        assert!(events.is_empty(), "at {now}: {events:?}");
        assert_eq!(world.run_record(&paused).status, RunStatus::Paused);
    }
    assert!(
        world
            .check(&paused, january - 1)
            .is_some_and(|why| why.contains("agent")),
        "the monthly budget is what holds it"
    );

    // The first tick of January: the month ended, so it is queued again, once.
    let events = world.tick(&state, january);
    let moved: Vec<(&Run, RunStatus)> = events
        .iter()
        .filter_map(|e| match &e.change {
            Change::RunUpdated { run, from } => Some((run, *from)),
            _ => None,
        })
        .collect();
    assert_eq!(moved.len(), 1, "{events:?}");
    assert_eq!(moved[0].0.id, paused.id);
    assert_eq!(moved[0].1, RunStatus::Paused);
    let record = world.run_record(&paused);
    assert_eq!(record.status, RunStatus::Queued);
    assert_eq!(record.queued_at, Some(january));
    assert_eq!(record.reason, None);
    assert_eq!(
        record.agent.as_ref().and_then(|a| a.paused_reason.clone()),
        None
    );
    assert!(world.tick(&state, january + 500).is_empty());
    assert_eq!(world.run_record(&paused).status, RunStatus::Queued);
    assert_eq!(world.run_record(&spender).status, RunStatus::Running);
}

#[test]
fn the_store_check_replays_budgets_and_finds_a_budget_its_events_do_not_explain() {
    let mut world = World::new();
    world.set(world.agent_scope(), 1_000_000, NOW);
    let run = world.run(RunStatus::Running, None);
    world.finish_call(&run, 1, StepStatus::Done, 250_000, NOW);
    let txn = world.store.begin_write().expect("write");
    {
        let key = scope_key(&world.agent_scope());
        let mut table = txn.open_table(BUDGETS).expect("budgets");
        let mut record: BudgetRecord =
            get_json(&table, "budgets", (world.ws.as_str(), key.as_str()))
                .expect("read")
                .expect("stored");
        assert_eq!(record.budget.spent, 250_000);
        record.budget.spent = 0;
        table
            .insert(
                (world.ws.as_str(), key.as_str()),
                encode("budgets", &record).expect("encode").as_slice(),
            )
            .expect("tamper");
        let mut stray = record.clone();
        stray.budget.scope = BudgetScope::Workspace;
        table
            .insert(
                (world.ws.as_str(), "workspace"),
                encode("budgets", &stray).expect("encode").as_slice(),
            )
            .expect("stray");
    }
    txn.commit().expect("commit");
    let problems = world.budget_problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("differs from what its events say"),
        "{problems:?}"
    );
    assert!(problems[1].contains("no event set it"), "{problems:?}");
}

#[test]
fn usage_answers_a_range_of_days_and_refuses_more_rows_than_a_frame_should_carry() {
    let world = World::new();
    let row = |day: &str, n: usize| UsageRow {
        day: day.to_owned(),
        agent_id: world.agent.clone(),
        provider_id: world.provider.clone(),
        room_id: None,
        usage: Usage::default(),
        cost: n as u64,
        calls: 1,
    };
    let txn = world.store.begin_write().expect("write");
    {
        let mut table = txn.open_table(crate::store::tables::USAGE).expect("usage");
        for (day, rooms) in [
            ("2026-12-04", 1),
            ("2026-12-05", reads::MAX_USAGE_ROWS),
            ("2026-12-06", 1),
        ] {
            for n in 0..rooms {
                let room = format!("room_{n:05}");
                table
                    .insert(
                        (
                            world.ws.as_str(),
                            day,
                            world.agent.as_str(),
                            world.provider.as_str(),
                            room.as_str(),
                        ),
                        encode("usage", &row(day, n)).expect("encode").as_slice(),
                    )
                    .expect("insert");
            }
        }
    }
    txn.commit().expect("commit");
    let txn = world.store.begin_read().expect("read");
    let day = 86_400_000;
    let only = |since: i64, until: i64| {
        reads::usage(&txn, world.ws.as_str(), since, Some(until), NOW)
            .expect("usage")
            .into_iter()
            .map(|r| r.day)
            .collect::<Vec<_>>()
    };
    assert_eq!(only(NOW - day, NOW - day), ["2026-12-04"]);
    assert_eq!(only(NOW + day, NOW + 5 * day), ["2026-12-06"]);
    let too_many = reads::usage(&txn, world.ws.as_str(), NOW - day, Some(NOW), NOW)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        too_many.contains("more than 5000 usage rows from 2026-12-04 to 2026-12-05"),
        "{too_many}"
    );
}
