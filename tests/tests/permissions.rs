//! Roles against a real server: every command of the permission table is sent by every role and
//! is applied exactly when the table says so (a new command without a sample here fails the
//! test); the own-card and own-message rules; owners are protected; and a removed member loses
//! access at once — commands, queries and the live subscription.

use std::collections::HashMap;

use warren_e2e::client::Client;
use warren_e2e::{Server, connect_hello};
use warren_protocol::agent::{HealthState, ProviderKind};
use warren_protocol::budget::{BudgetPeriod, BudgetScope};
use warren_protocol::permission::{self, ROLES};
use warren_protocol::step::{Decision, ModelCall, StepStatus};
use warren_protocol::{
    Change, Command, ErrorCode, Id, Position, Priority, Query, Role, ServerMessage, WorkspaceState,
};

/// The owner's connection, which sets up what each attempt acts on.
struct Setup {
    owner: Client,
    state: WorkspaceState,
    n: u32,
    /// Jobs whose runs no worker takes (tag `nowhere`): plain and protected.
    jobs: HashMap<bool, Id>,
    /// The run assigned to each role's actor acting as a worker.
    worker_runs: HashMap<Role, Id>,
}

impl Setup {
    fn unique(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}-{}", self.n)
    }

    fn board(&self) -> Id {
        self.state.boards[0].id.clone()
    }

    fn column(&self, i: usize) -> Id {
        self.state.boards[0].columns[i].id.clone()
    }

    fn room(&self) -> Id {
        self.state.rooms[0].id.clone()
    }

    fn member(&self, name: &str) -> Id {
        self.state
            .members
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.user_id.clone())
            .unwrap_or_else(|| panic!("no member {name}"))
    }

    async fn owner_card(&mut self) -> Id {
        let title = self.unique("card");
        let ack = self.owner.command(&card(self.board(), &title)).await;
        let Change::CardCreated { card } = ack.event.change else {
            panic!("{:?}", ack.event.change)
        };
        card.id
    }

    async fn owner_column(&mut self) -> Id {
        let name = self.unique("col");
        let ack = self
            .owner
            .command(&Command::AddColumn {
                board_id: self.board(),
                column_id: None,
                name: name.clone(),
                index: None,
            })
            .await;
        let Change::BoardUpdated { board } = ack.event.change else {
            panic!("{:?}", ack.event.change)
        };
        board
            .columns
            .into_iter()
            .find(|c| c.name == name)
            .map(|c| c.id)
            .expect("the new column")
    }

    /// A job no worker takes (`protected` or not).
    async fn owner_job(&mut self, protected: bool) -> Id {
        if let Some(id) = self.jobs.get(&protected) {
            return id.clone();
        }
        let name = self.unique("job");
        let id = created_job(&mut self.owner, &name, &["nowhere"], protected).await;
        self.jobs.insert(protected, id.clone());
        id
    }

    /// A provider of the owner's (made anew each call, so deleting one never breaks the next).
    async fn owner_provider(&mut self) -> Id {
        let name = self.unique("provider");
        match self.owner.command(&provider(&name)).await.event.change {
            Change::ProviderCreated { provider } => provider.id,
            other => panic!("expected provider_created, got {other:?}"),
        }
    }

    /// An agent of the owner's, with a provider of its own.
    async fn owner_agent(&mut self) -> Id {
        let provider = self.owner_provider().await;
        let name = self.unique("agent");
        match self
            .owner
            .command(&agent(&name, provider))
            .await
            .event
            .change
        {
            Change::AgentCreated { agent } => agent.id,
            other => panic!("expected agent_created, got {other:?}"),
        }
    }

    /// A run of the owner's that no worker takes (awaiting approval when `protected`).
    async fn owner_run(&mut self, protected: bool) -> Id {
        let job = self.owner_job(protected).await;
        let ack = self.owner.command(&start_run(&job)).await;
        let Change::RunCreated { run } = ack.event.change else {
            panic!("{:?}", ack.event.change)
        };
        run.id
    }

    /// A run of the owner's that has ended (cancelled).
    async fn owner_finished_run(&mut self) -> Id {
        let run = self.owner_run(false).await;
        self.owner
            .command(&Command::CancelRun {
                run_id: run.clone(),
                reason: None,
            })
            .await;
        run
    }

    /// A run assigned to `actor`, which says `worker_hello` for it (roles with run:execute).
    async fn worker_run(&mut self, role: Role, actor: &mut Client) -> Id {
        if let Some(id) = self.worker_runs.get(&role) {
            return id.clone();
        }
        let tag = format!("perm-{}", role.as_str());
        actor
            .send_json(
                &serde_json::json!({"type": "worker_hello", "tags": [tag], "concurrency": 1}),
            )
            .await
            .expect("send worker_hello");
        actor
            .expect_until("worker_welcome", |c| {
                c.run_frames
                    .iter()
                    .any(|f| matches!(f, ServerMessage::WorkerWelcome { .. }))
            })
            .await;
        let name = self.unique("worker-job");
        let job = created_job(&mut self.owner, &name, &[tag.as_str()], false).await;
        let ack = self.owner.command(&start_run(&job)).await;
        let Change::RunCreated { run } = ack.event.change else {
            panic!("{:?}", ack.event.change)
        };
        actor
            .expect_until("assign", |c| {
                c.run_frames
                    .iter()
                    .any(|f| matches!(f, ServerMessage::Assign { run: r, .. } if r.id == run.id))
            })
            .await;
        self.worker_runs.insert(role, run.id.clone());
        run.id
    }

    async fn owner_message(&mut self) -> Id {
        let room = self.room();
        message_by(&mut self.owner, room).await
    }
}

async fn message_by(author: &mut Client, room_id: Id) -> Id {
    let ack = author
        .command(&Command::PostMessage {
            message_id: None,
            room_id,
            body: "hello".into(),
        })
        .await;
    let Change::MessagePosted { message } = ack.event.change else {
        panic!("{:?}", ack.event.change)
    };
    message.id
}

async fn created_job(owner: &mut Client, name: &str, tags: &[&str], protected: bool) -> Id {
    let ack = owner
        .command(&Command::CreateJob {
            job_id: None,
            name: name.into(),
            command: "true".into(),
            description: String::new(),
            params: vec![],
            timeout_secs: None,
            retries: 0,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            protected,
            concurrency: None,
        })
        .await;
    let Change::JobCreated { job } = ack.event.change else {
        panic!("{:?}", ack.event.change)
    };
    job.id
}

fn start_run(job: &Id) -> Command {
    Command::StartRun {
        run_id: None,
        job_id: job.clone(),
        params: Default::default(),
        card_id: None,
        room_id: None,
    }
}

fn card(board: Id, title: &str) -> Command {
    Command::CreateCard {
        card_id: None,
        board_id: board,
        column_id: None,
        title: title.into(),
        description: String::new(),
        labels: vec![],
        assignee: None,
        priority: Priority::None,
        position: Position::Bottom,
    }
}

/// A command named `name` for `role` to try, on something the actor does not own (except
/// `edit_message`, which only ever applies to your own message). Every name in
/// `permission::COMMANDS` needs an arm: a new command without one fails here.
async fn sample(setup: &mut Setup, name: &str, role: Role, actor: &mut Client) -> Command {
    match name {
        "create_board" => Command::CreateBoard {
            board_id: None,
            name: setup.unique("board"),
            columns: None,
        },
        "rename_board" => Command::RenameBoard {
            board_id: setup.board(),
            name: setup.unique("Main"),
        },
        "add_column" => Command::AddColumn {
            board_id: setup.board(),
            column_id: None,
            name: setup.unique("col"),
            index: None,
        },
        "rename_column" => Command::RenameColumn {
            board_id: setup.board(),
            column_id: setup.owner_column().await,
            name: setup.unique("renamed"),
        },
        "move_column" => Command::MoveColumn {
            board_id: setup.board(),
            column_id: setup.column(0),
            index: 0,
        },
        "delete_column" => Command::DeleteColumn {
            board_id: setup.board(),
            column_id: setup.owner_column().await,
            move_cards_to: None,
        },
        "create_card" => card(setup.board(), &setup.unique("card")),
        "update_card" => Command::UpdateCard {
            card_id: setup.owner_card().await,
            title: Some(setup.unique("retitled")),
            description: None,
            labels: None,
            assignee: None,
            priority: None,
        },
        "move_card" => Command::MoveCard {
            card_id: setup.owner_card().await,
            column_id: setup.column(1),
            position: Position::Top,
        },
        "delete_card" => Command::DeleteCard {
            card_id: setup.owner_card().await,
        },
        "create_room" => Command::CreateRoom {
            room_id: None,
            name: setup.unique("room"),
            topic: String::new(),
        },
        "post_message" => Command::PostMessage {
            message_id: None,
            room_id: setup.room(),
            body: "hi".into(),
        },
        "edit_message" => Command::EditMessage {
            message_id: message_by(actor, setup.room()).await,
            body: "edited".into(),
        },
        "delete_message" => Command::DeleteMessage {
            message_id: setup.owner_message().await,
        },
        "rename_workspace" => Command::RenameWorkspace {
            name: setup.unique("Acme"),
        },
        "set_member_role" => Command::SetMemberRole {
            user_id: setup.member("v1"),
            role: Role::Viewer,
        },
        "remove_member" => Command::RemoveMember {
            user_id: setup.member(match role {
                Role::Owner => "v2",
                Role::Admin => "v3",
                _ => "v4",
            }),
        },
        // The real name (rename_workspace changes it): an owner's attempt deletes the workspace,
        // so owners go last and this is the table's last command.
        "delete_workspace" => Command::DeleteWorkspace {
            name: setup.owner.snapshot().await.workspace.name,
        },
        "create_job" => Command::CreateJob {
            job_id: None,
            name: setup.unique("job"),
            command: "true".into(),
            description: String::new(),
            params: vec![],
            timeout_secs: None,
            retries: 0,
            tags: vec![],
            protected: false,
            concurrency: None,
        },
        "update_job" => Command::UpdateJob {
            job_id: setup.owner_job(false).await,
            name: None,
            command: None,
            description: Some(setup.unique("about")),
            params: None,
            timeout_secs: None,
            retries: None,
            tags: None,
            protected: None,
            concurrency: None,
        },
        "delete_job" => {
            let name = setup.unique("doomed");
            let job_id = created_job(&mut setup.owner, &name, &[], false).await;
            Command::DeleteJob { job_id }
        }
        "start_run" => start_run(&setup.owner_job(false).await),
        "cancel_run" => Command::CancelRun {
            run_id: setup.owner_run(false).await,
            reason: None,
        },
        "approve_run" => Command::ApproveRun {
            run_id: setup.owner_run(true).await,
        },
        "reject_run" => Command::RejectRun {
            run_id: setup.owner_run(true).await,
            reason: None,
        },
        "retry_run" => Command::RetryRun {
            run_id: setup.owner_finished_run().await,
            new_run_id: None,
            params: Default::default(),
        },
        "report_run_started" | "report_run_finished" => {
            let run_id = if role.may(permission::Permission::RunExecute) {
                setup.worker_run(role, actor).await
            } else {
                setup.owner_run(false).await
            };
            if name == "report_run_started" {
                Command::ReportRunStarted { run_id }
            } else {
                Command::ReportRunFinished {
                    run_id,
                    end: warren_protocol::run::RunEnd::Succeeded,
                    exit_code: Some(0),
                    reason: None,
                    lines: 0,
                }
            }
        }
        "create_provider" => provider(&setup.unique("provider")),
        "update_provider" => Command::UpdateProvider {
            provider_id: setup.owner_provider().await,
            name: None,
            base_url: Some("http://127.0.0.1:9/v1".into()),
            key_env: None,
            models: None,
            price: None,
            context_tokens: None,
        },
        "delete_provider" => Command::DeleteProvider {
            provider_id: setup.owner_provider().await,
        },
        "report_provider_health" => Command::ReportProviderHealth {
            provider_id: setup.owner_provider().await,
            state: HealthState::Degraded,
            last_error: None,
            message: None,
        },
        "create_agent" => {
            let provider = setup.owner_provider().await;
            agent(&setup.unique("agent"), provider)
        }
        "update_agent" => Command::UpdateAgent {
            agent_id: setup.owner_agent().await,
            name: None,
            providers: None,
            model: None,
            prompt: Some(setup.unique("prompt")),
            tools: None,
            auto_approve: None,
            max_steps: None,
            max_tokens: None,
            max_wall_secs: None,
            disabled: None,
        },
        "delete_agent" => Command::DeleteAgent {
            agent_id: setup.owner_agent().await,
        },
        "test_provider" => Command::TestProvider {
            run_id: None,
            provider_id: setup.owner_provider().await,
        },
        "ask_agent" => Command::AskAgent {
            run_id: None,
            agent_id: setup.owner_agent().await,
            prompt: "hello".into(),
            room_id: None,
            card_id: None,
            tool: None,
        },
        "decide_tool" => Command::DecideTool {
            run_id: setup.owner_run(false).await,
            step: 1,
            decision: Decision::ApproveOnce,
            reason: None,
        },
        "revoke_approval" => Command::RevokeApproval {
            grant_id: Id::parse("grant_nothere00000000").expect("id"),
        },
        "set_budget" => Command::SetBudget {
            scope: BudgetScope::Workspace,
            limit: 1_000_000,
            period: BudgetPeriod::Month,
        },
        "clear_budget" => Command::ClearBudget {
            scope: BudgetScope::Workspace,
        },
        "start_model_call" => Command::StartModelCall {
            run_id: setup.owner_run(false).await,
            step: 1,
            provider_id: setup.owner_provider().await,
            model: "m".into(),
        },
        "finish_model_call" => Command::FinishModelCall {
            run_id: setup.owner_run(false).await,
            step: 1,
            status: StepStatus::Done,
            call: Box::new(ModelCall {
                provider_id: setup.owner_provider().await,
                provider: "p".into(),
                model: "m".into(),
                usage: Default::default(),
                cost: 0,
                latency_ms: 0,
                first_token_ms: None,
                attempts: vec![],
                text: String::new(),
                partial: false,
                tool_calls: vec![],
                finish_reason: None,
                error: None,
            }),
        },
        "call_tool" => Command::CallTool {
            run_id: setup.owner_run(false).await,
            step: 1,
            call_id: "c".into(),
            name: "search".into(),
            arguments: "{}".into(),
        },
        other => panic!("no sample for command {other}: add one to tests/tests/permissions.rs"),
    }
}

fn provider(name: &str) -> Command {
    Command::CreateProvider {
        provider_id: None,
        name: name.into(),
        kind: ProviderKind::Openai,
        base_url: "http://127.0.0.1:9/v1".into(),
        key_env: None,
        models: vec!["m".into()],
        price: Default::default(),
        context_tokens: None,
    }
}

fn agent(name: &str, provider: Id) -> Command {
    Command::CreateAgent {
        agent_id: None,
        name: name.into(),
        providers: vec![provider],
        model: None,
        prompt: String::new(),
        tools: vec![],
        auto_approve: vec![],
        max_steps: None,
        max_tokens: None,
        max_wall_secs: None,
    }
}

/// Commands whose sample cannot be applied without a run in the right state (a tool call
/// waiting, a run held by this worker): a role the table allows passes the permission check and
/// is refused by the state (never `forbidden`); the agent-run tests apply them for real.
const NEEDS_STATE: &[&str] = &[
    "decide_tool",
    "revoke_approval",
    "start_model_call",
    "finish_model_call",
    "call_tool",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_may_send_exactly_what_the_permission_table_allows() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mut tokens: HashMap<Role, String> = HashMap::new();
    tokens.insert(Role::Owner, server.token.clone());
    for role in [Role::Admin, Role::Member, Role::Viewer, Role::Bot] {
        let token = server.add_member(role.as_str(), role.as_str()).await;
        tokens.insert(role, token);
    }
    for victim in ["v1", "v2", "v3", "v4"] {
        server.add_member(victim, "member").await;
    }
    server.restart().await;

    let mut owner = connect_hello(server.addr, &server.token).await;
    let state = owner.snapshot().await;
    let mut setup = Setup {
        owner,
        state,
        n: 0,
        jobs: HashMap::new(),
        worker_runs: HashMap::new(),
    };
    let mut checked = 0;
    // Deleting the workspace is the last attempt (by the owner, who goes last).
    let commands: Vec<_> = permission::COMMANDS
        .iter()
        .filter(|(n, _)| *n != "delete_workspace")
        .chain(
            permission::COMMANDS
                .iter()
                .filter(|(n, _)| *n == "delete_workspace"),
        )
        .collect();
    // Owners last: their delete_workspace ends the workspace.
    for role in ROLES.into_iter().rev() {
        let mut actor = connect_hello(server.addr, &tokens[&role]).await;
        for (name, need) in commands.iter().copied() {
            let command = sample(&mut setup, name, role, &mut actor).await;
            assert_eq!(command.name(), *name);
            let allowed = role.may(need.permission) || (*name == "edit_message");
            let id = actor.send_command(&command).await.expect("send");
            match actor.try_answer(&id).await {
                Ok(ServerMessage::Ack { .. }) => {
                    assert!(allowed, "{role:?} was allowed {name}, the table says no");
                }
                Ok(ServerMessage::Error { code, message, .. })
                    if allowed && NEEDS_STATE.contains(name) =>
                {
                    assert_ne!(code, ErrorCode::Forbidden, "{role:?} {name}: {message}");
                }
                Ok(ServerMessage::Error { code, message, .. }) => {
                    assert!(
                        !allowed,
                        "{role:?} was refused {name} ({code}: {message}), the table says yes"
                    );
                    assert_eq!(code, ErrorCode::Forbidden, "{role:?} {name}: {message}");
                    assert!(
                        message.contains(need.permission.name())
                            && message.contains(&permission::holders(need.permission)),
                        "the refusal names the permission and who has it: {message}"
                    );
                }
                other => panic!("{role:?} {name}: {other:?}"),
            }
            checked += 1;
        }
        if role == Role::Owner {
            break; // the workspace is gone now
        }
        for query in [
            Query::Snapshot,
            Query::Events {
                since: 0,
                limit: 10,
            },
            Query::Messages {
                room_id: setup.room(),
                before: None,
                limit: 10,
            },
        ] {
            // Every role reads (the table gives workspace:read to all); the call fails otherwise.
            let _ = actor.query(&query).await;
        }
        // The audit log: only the roles the table gives audit:read.
        let need = permission::query_requirement("audit").permission;
        let id = format!("audit-{}", role.as_str());
        actor
            .send_json(&serde_json::json!({"type": "query", "request_id": id, "query": {"type": "audit", "limit": 5}}))
            .await
            .expect("send");
        match actor.try_answer(&id).await {
            Ok(ServerMessage::Result { .. }) => {
                assert!(
                    role.may(need),
                    "{role:?} read the audit log, the table says no"
                );
            }
            Ok(ServerMessage::Error { code, message, .. }) => {
                assert!(!role.may(need), "{role:?} was refused audit: {message}");
                assert_eq!(code, ErrorCode::Forbidden, "{role:?}: {message}");
                assert!(message.contains("audit:read"), "{message}");
            }
            other => panic!("{role:?} audit: {other:?}"),
        }
    }
    assert_eq!(checked, ROLES.len() * permission::COMMANDS.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_cards_and_messages_and_the_last_owner() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let member_token = server.add_member("mira", "member").await;
    let bot_token = server.add_member("ci", "bot").await;
    server.restart().await;
    let mut owner = connect_hello(server.addr, &server.token).await;
    let state = owner.snapshot().await;
    let board = state.boards[0].id.clone();
    let mira_id = state
        .members
        .iter()
        .find(|m| m.name == "mira")
        .map(|m| m.user_id.clone())
        .expect("mira");
    let bot_id = state
        .members
        .iter()
        .find(|m| m.name == "ci")
        .map(|m| m.user_id.clone())
        .expect("ci");
    let mut mira = connect_hello(server.addr, &member_token).await;
    let mut bot = connect_hello(server.addr, &bot_token).await;

    // A member edits and moves their own card, not the owner's.
    let ack = mira.command(&card(board.clone(), "mine")).await;
    let Change::CardCreated { card: mine } = ack.event.change else {
        panic!()
    };
    mira.command(&Command::MoveCard {
        card_id: mine.id.clone(),
        column_id: state.boards[0].columns[2].id.clone(),
        position: Position::Top,
    })
    .await;
    let ack = owner.command(&card(board.clone(), "theirs")).await;
    let Change::CardCreated { card: theirs } = ack.event.change else {
        panic!()
    };
    let id = mira
        .send_command(&Command::DeleteCard {
            card_id: theirs.id.clone(),
        })
        .await
        .expect("send");
    assert_eq!(mira.error_code(&id).await, ErrorCode::Forbidden);

    // A bot moves the card it is assigned, and no other.
    let assign = Command::UpdateCard {
        card_id: theirs.id.clone(),
        title: None,
        description: None,
        labels: None,
        assignee: Some(Some(bot_id.clone())),
        priority: None,
    };
    let to_doing = |card_id: &Id| Command::MoveCard {
        card_id: card_id.clone(),
        column_id: state.boards[0].columns[2].id.clone(),
        position: Position::Top,
    };
    let id = bot.send_command(&to_doing(&theirs.id)).await.expect("send");
    assert_eq!(bot.error_code(&id).await, ErrorCode::Forbidden);
    owner.command(&assign).await;
    bot.command(&to_doing(&theirs.id)).await;

    // Only an admin or owner deletes someone else's message.
    let ack = mira
        .command(&Command::PostMessage {
            message_id: None,
            room_id: state.rooms[0].id.clone(),
            body: "oops".into(),
        })
        .await;
    let Change::MessagePosted { message } = ack.event.change else {
        panic!()
    };
    let delete = Command::DeleteMessage {
        message_id: message.id.clone(),
    };
    let id = bot.send_command(&delete).await.expect("send");
    assert_eq!(bot.error_code(&id).await, ErrorCode::Forbidden);
    owner.command(&delete).await;

    // The last owner can be neither demoted nor removed; an admin cannot touch owners.
    let owner_id = owner.user.clone().expect("welcome").user_id;
    for command in [
        Command::SetMemberRole {
            user_id: owner_id.clone(),
            role: Role::Admin,
        },
        Command::RemoveMember {
            user_id: owner_id.clone(),
        },
    ] {
        let id = owner.send_command(&command).await.expect("send");
        assert_eq!(owner.error_code(&id).await, ErrorCode::Validation);
    }
    owner
        .command(&Command::SetMemberRole {
            user_id: mira_id.clone(),
            role: Role::Admin,
        })
        .await;
    let id = mira
        .send_command(&Command::SetMemberRole {
            user_id: owner_id,
            role: Role::Member,
        })
        .await
        .expect("send");
    assert_eq!(mira.error_code(&id).await, ErrorCode::Forbidden);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_loses_access_at_once() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let token = server.add_member("mira", "member").await;
    server.restart().await;
    let mut owner = connect_hello(server.addr, &server.token).await;
    let state = owner.snapshot().await;
    let mira_id = state
        .members
        .iter()
        .find(|m| m.name == "mira")
        .map(|m| m.user_id.clone())
        .expect("mira");
    let mut mira = connect_hello(server.addr, &token).await;
    let sub = mira.subscribe(None).await;

    let removed = owner
        .command(&Command::RemoveMember {
            user_id: mira_id.clone(),
        })
        .await;
    mira.expect_until("the member_removed event", |c| {
        c.events.iter().any(|e| e.seq == removed.seq)
    })
    .await;
    // Nothing after the removal reaches the removed member's subscription.
    let later = owner
        .command(&card(state.boards[0].id.clone(), "secret"))
        .await;
    let probe = mira
        .send_command(&card(state.boards[0].id.clone(), "still here?"))
        .await
        .expect("send");
    assert_eq!(mira.error_code(&probe).await, ErrorCode::NotFound);
    assert!(
        mira.events.iter().all(|e| e.seq != later.seq),
        "an event after the removal was delivered"
    );
    let id = mira.next_request_id();
    mira.send_json(
        &serde_json::json!({"type": "query", "request_id": id, "query": {"type": "snapshot"}}),
    )
    .await
    .expect("send");
    assert_eq!(mira.error_code(&id).await, ErrorCode::NotFound);
    assert!(sub.synced > 0);
}
