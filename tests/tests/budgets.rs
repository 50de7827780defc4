//! Budgets (issue #9, §19.5) against a real server over real WebSockets: `set_budget` and
//! `clear_budget` for the workspace, an agent and a room (validation with errors that say what
//! to do, `budget:manage` for admins only, the audit log), the `budgets` and `usage` queries for
//! every member, a second client seeing the changes, and persistence across a restart with a
//! store that checks out. Spending, alerts and paused runs need agent runs' model calls: they
//! are covered against a real store in `server/src/service/budgets/tests.rs`.

use warren_e2e::{Client, Server, connect_hello};
use warren_protocol::agent::{Price, ProviderKind};
use warren_protocol::budget::{Budget, BudgetPeriod, BudgetScope};
use warren_protocol::{Change, Command, ErrorCode, Id, Query, QueryResult, ServerMessage};

const DAY_MS: i64 = 86_400_000;

/// Sends `command` and returns the error's code and message.
async fn refused(c: &mut Client, command: &Command) -> (ErrorCode, String) {
    let id = c.send_command(command).await.expect("send");
    match c.try_answer(&id).await {
        Ok(ServerMessage::Error { code, message, .. }) => (code, message),
        other => panic!("expected an error for {command:?}, got {other:?}"),
    }
}

async fn budgets(c: &mut Client) -> Vec<Budget> {
    match c.query(&Query::Budgets).await {
        QueryResult::Budgets { budgets } => budgets,
        other => panic!("expected budgets, got {other:?}"),
    }
}

fn set(scope: BudgetScope, limit: u64, period: BudgetPeriod) -> Command {
    Command::SetBudget {
        scope,
        limit,
        period,
    }
}

/// Creates a provider and an agent named `reviewer`; returns the agent's id.
async fn reviewer(ada: &mut Client) -> Id {
    let ack = ada
        .command(&Command::CreateProvider {
            provider_id: None,
            name: "local".into(),
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:8080/v1".into(),
            key_env: None,
            models: vec!["smollm2".into()],
            price: Price::default(),
            context_tokens: None,
        })
        .await;
    let Change::ProviderCreated { provider } = ack.event.change else {
        panic!("{:?}", ack.event.change)
    };
    let ack = ada
        .command(&Command::CreateAgent {
            agent_id: None,
            name: "reviewer".into(),
            providers: vec![provider.id],
            model: None,
            prompt: String::new(),
            tools: vec![],
            auto_approve: vec![],
            max_steps: None,
            max_tokens: None,
            max_wall_secs: None,
        })
        .await;
    let Change::AgentCreated { agent } = ack.event.change else {
        panic!("{:?}", ack.event.change)
    };
    agent.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_are_set_listed_cleared_by_admins_and_survive_a_restart() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira = server.add_member("mira", "member").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let mut mira = connect_hello(server.addr, &mira).await;
    mira.subscribe(None).await;
    let state = ada.snapshot().await;
    let room = state.rooms[0].id.clone();
    let agent = reviewer(&mut ada).await;
    let agent_scope = BudgetScope::Agent {
        agent_id: agent.clone(),
    };
    let room_scope = BudgetScope::Room {
        room_id: room.clone(),
    };

    // Bad input says what to do.
    let (code, message) = refused(
        &mut ada,
        &set(BudgetScope::Workspace, 0, BudgetPeriod::Month),
    )
    .await;
    assert_eq!(code, ErrorCode::Validation, "{message}");
    assert!(message.contains("more than $0"), "{message}");
    let (code, message) = refused(
        &mut ada,
        &set(
            BudgetScope::Room {
                room_id: Id::parse("room_nothere").expect("id"),
            },
            1_000_000,
            BudgetPeriod::Day,
        ),
    )
    .await;
    assert_eq!(code, ErrorCode::NotFound, "{message}");
    assert!(message.contains("warren room list"), "{message}");
    let (code, message) = refused(
        &mut ada,
        &Command::ClearBudget {
            scope: BudgetScope::Workspace,
        },
    )
    .await;
    assert_eq!(code, ErrorCode::NotFound, "{message}");
    assert!(message.contains("warren budget list"), "{message}");

    // A member may not set or clear budgets; the refusal names the permission.
    for command in [
        set(BudgetScope::Workspace, 20_000_000, BudgetPeriod::Month),
        Command::ClearBudget {
            scope: BudgetScope::Workspace,
        },
    ] {
        let (code, message) = refused(&mut mira, &command).await;
        assert_eq!(code, ErrorCode::Forbidden, "{message}");
        assert!(message.contains("budget:manage"), "{message}");
    }

    // Set one of each scope; the ack carries the budget with its period's start.
    let before = warren_server::service::now_ms();
    for (scope, limit, period) in [
        (BudgetScope::Workspace, 20_000_000, BudgetPeriod::Month),
        (agent_scope.clone(), 5_000_000, BudgetPeriod::Week),
        (room_scope.clone(), 1_000_000, BudgetPeriod::Day),
    ] {
        let ack = ada.command(&set(scope.clone(), limit, period)).await;
        let Change::BudgetSet { budget } = ack.event.change else {
            panic!("{:?}", ack.event.change)
        };
        assert_eq!(
            (&budget.scope, budget.limit, budget.period),
            (&scope, limit, period)
        );
        assert_eq!(budget.spent, 0);
        assert_eq!(budget.set_by, ack.event.actor);
        assert!(budget.period_start <= before && budget.period_start % DAY_MS == 0);
        let oldest = match period {
            BudgetPeriod::Day => before - DAY_MS,
            BudgetPeriod::Week => before - 7 * DAY_MS,
            BudgetPeriod::Month => before - 31 * DAY_MS,
        };
        assert!(budget.period_start > oldest, "{budget:?}");
    }
    // Replacing a budget keeps one per scope.
    ada.command(&set(
        BudgetScope::Workspace,
        30_000_000,
        BudgetPeriod::Month,
    ))
    .await;

    // Every member reads them, workspace first, then agents, then rooms.
    let listed = budgets(&mut mira).await;
    let scopes: Vec<&BudgetScope> = listed.iter().map(|b| &b.scope).collect();
    assert_eq!(scopes, [&BudgetScope::Workspace, &agent_scope, &room_scope]);
    assert_eq!(listed[0].limit, 30_000_000);
    // Mira's subscription saw each change.
    mira.expect_until("four budget_set events", |c| {
        c.events
            .iter()
            .filter(|e| matches!(e.change, Change::BudgetSet { .. }))
            .count()
            == 4
    })
    .await;

    // Clearing removes it; the other client sees that too.
    let ack = ada
        .command(&Command::ClearBudget {
            scope: room_scope.clone(),
        })
        .await;
    assert_eq!(
        ack.event.change,
        Change::BudgetCleared {
            scope: room_scope.clone()
        }
    );
    mira.expect_until("budget_cleared", |c| {
        c.events
            .iter()
            .any(|e| matches!(e.change, Change::BudgetCleared { .. }))
    })
    .await;
    assert_eq!(budgets(&mut ada).await.len(), 2);

    // Usage: nothing spent yet; a range that runs backwards is refused with what to do.
    match mira
        .query(&Query::Usage {
            since: 0,
            until: None,
        })
        .await
    {
        QueryResult::Usage { rows } => assert!(rows.is_empty(), "{rows:?}"),
        other => panic!("expected usage, got {other:?}"),
    }
    let id = mira.next_request_id();
    mira.send_json(&serde_json::json!({
        "type": "query", "request_id": id,
        "query": {"type": "usage", "since": before + 3 * DAY_MS, "until": before}
    }))
    .await
    .expect("send");
    match mira.try_answer(&id).await {
        Ok(ServerMessage::Error { code, message, .. }) => {
            assert_eq!(code, ErrorCode::Validation, "{message}");
            assert!(message.contains("swap them"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // The audit log names each change.
    let QueryResult::Audit { entries, .. } = ada
        .query(&Query::Audit {
            actor: None,
            action: Some("budget".into()),
            since: None,
            before: None,
            limit: 50,
        })
        .await
    else {
        panic!("expected audit entries")
    };
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "budget.set").count(), 4);
    assert_eq!(actions.iter().filter(|a| **a == "budget.clear").count(), 1);
    assert!(
        entries.iter().any(|e| e.action == "budget.set"
            && e.details.get("limit").map(String::as_str) == Some("$5.00/week")
            && e.target
                .as_ref()
                .is_some_and(|t| t.name == "agent reviewer")),
        "{entries:?}"
    );

    // After a crash and restart the budgets are still there, and the store checks out.
    server.kill_9().await;
    server.assert_store_checks_out().await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let kept = |list: &[Budget]| -> Vec<(BudgetScope, u64, BudgetPeriod)> {
        list.iter()
            .map(|b| (b.scope.clone(), b.limit, b.period))
            .collect()
    };
    assert_eq!(kept(&budgets(&mut ada).await), kept(&listed[..2]));
}
