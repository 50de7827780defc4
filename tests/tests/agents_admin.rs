//! The agents service's administration against a real server over real WebSockets: providers
//! (validation with errors that say what to do, who may manage them, unique names, health
//! reports from workers, the `providers` query and the snapshot, a restart and
//! `warren-server check`) and agents (members of their own whose events follow the agent's).

use warren_e2e::{Client, Server, connect_hello};
use warren_protocol::agent::{HealthState, Price, ProviderErrorClass, ProviderKind};
use warren_protocol::tool::ToolName;
use warren_protocol::{Change, Command, ErrorCode, Id, Query, QueryResult, ServerMessage};

/// Sends `command` and returns the error's code and message.
async fn refused(c: &mut Client, command: &Command) -> (ErrorCode, String) {
    let id = c.send_command(command).await.expect("send");
    match c.try_answer(&id).await {
        Ok(ServerMessage::Error { code, message, .. }) => (code, message),
        other => panic!("expected an error for {command:?}, got {other:?}"),
    }
}

fn add_provider(name: &str, base_url: &str, key_env: Option<&str>) -> Command {
    Command::CreateProvider {
        provider_id: None,
        name: name.into(),
        kind: ProviderKind::Openai,
        base_url: base_url.into(),
        key_env: key_env.map(Into::into),
        models: vec!["gpt-4o-mini".into()],
        price: Price {
            input_per_mtok: 150_000,
            output_per_mtok: 600_000,
        },
        context_tokens: Some(128_000),
    }
}

/// `command` (a `create_provider`) with other models and prices.
fn with_models(mut command: Command, new_models: &[&str], new_price: Price) -> Command {
    if let Command::CreateProvider { models, price, .. } = &mut command {
        *models = new_models.iter().map(|m| (*m).to_owned()).collect();
        *price = new_price;
    }
    command
}

async fn created_provider(c: &mut Client, command: &Command) -> warren_protocol::agent::Provider {
    match c.command(command).await.event.change {
        Change::ProviderCreated { provider } => provider,
        other => panic!("expected provider_created, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_are_validated_managed_by_admins_and_survive_a_restart() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira = server.add_member("mira", "member").await;
    let worker = server.add_member("build-1", "bot").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let mut mira = connect_hello(server.addr, &mira).await;

    // Bad input is refused with a message that says what to do.
    let cases: [(Command, &str); 4] = [
        (
            add_provider("openai", "api.openai.com/v1", None),
            "must start with http:// or https://",
        ),
        (
            add_provider("openai", "https://api.openai.com/v1", Some("sk-live-123")),
            "never the key itself",
        ),
        (
            with_models(
                add_provider("openai", "https://api.openai.com/v1", None),
                &[],
                Price::default(),
            ),
            "at least one model",
        ),
        (
            add_provider("  ", "https://api.openai.com/v1", None),
            "must not be empty",
        ),
    ];
    for (command, says) in &cases {
        let (code, message) = refused(&mut ada, command).await;
        assert_eq!(code, ErrorCode::Validation, "{message}");
        assert!(message.contains(says), "{message:?} should say {says:?}");
    }

    // Members may not manage providers; the refusal names the permission.
    let (code, message) = refused(
        &mut mira,
        &add_provider("openai", "https://api.openai.com/v1", None),
    )
    .await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("provider:manage"), "{message}");

    let hosted = created_provider(
        &mut ada,
        &add_provider(
            "openai",
            "https://api.openai.com/v1/",
            Some("OPENAI_API_KEY"),
        ),
    )
    .await;
    assert_eq!(hosted.base_url, "https://api.openai.com/v1");
    assert_eq!(hosted.key_env.as_deref(), Some("OPENAI_API_KEY"));
    let local = created_provider(
        &mut ada,
        &with_models(
            add_provider("Local", "http://127.0.0.1:8080/v1", None),
            &["smollm2"],
            Price::default(),
        ),
    )
    .await;

    // Names are unique ignoring case.
    let (code, message) = refused(
        &mut ada,
        &add_provider("OPENAI", "https://example.com/v1", None),
    )
    .await;
    assert_eq!(code, ErrorCode::Conflict);
    assert!(message.contains("already exists"), "{message}");

    // Update only what is given; null clears the key variable.
    let change = ada
        .command(&Command::UpdateProvider {
            provider_id: hosted.id.clone(),
            name: None,
            base_url: None,
            key_env: Some(None),
            models: Some(vec!["gpt-4o".into(), "gpt-4o-mini".into()]),
            price: None,
            context_tokens: None,
        })
        .await
        .event
        .change;
    let Change::ProviderUpdated { provider } = change else {
        panic!("expected provider_updated, got {change:?}");
    };
    assert_eq!(provider.key_env, None);
    assert_eq!(provider.models, ["gpt-4o", "gpt-4o-mini"]);
    assert_eq!(provider.price, hosted.price, "untouched fields stay");

    // A worker reports health; people may not.
    let health = Command::ReportProviderHealth {
        provider_id: local.id.clone(),
        state: HealthState::CircuitOpen,
        last_error: Some(ProviderErrorClass::Network),
        message: Some("connection refused\u{1b}[2J (127.0.0.1:8080)".into()),
    };
    let (code, _) = refused(&mut mira, &health).await;
    assert_eq!(code, ErrorCode::Forbidden);
    let mut bot = connect_hello(server.addr, &worker).await;
    let change = bot.command(&health).await.event.change;
    let Change::ProviderUpdated { provider } = change else {
        panic!("expected provider_updated, got {change:?}");
    };
    let reported = provider.health.expect("health stored");
    assert_eq!(reported.state, HealthState::CircuitOpen);
    assert_eq!(reported.last_error, Some(ProviderErrorClass::Network));
    let text = reported.message.unwrap_or_default();
    assert!(
        !text.contains('\u{1b}'),
        "no escape reaches a client: {text:?}"
    );

    // The query and the snapshot list them by name, after a restart too.
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let QueryResult::Providers { providers } = ada.query(&Query::Providers).await else {
        panic!("expected providers");
    };
    let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Local", "openai"]);
    assert_eq!(
        providers[0].health.as_ref().map(|h| h.state),
        Some(HealthState::CircuitOpen)
    );
    let state = ada.snapshot().await;
    assert_eq!(state.providers, providers);

    // Delete, and an unknown id says how to find one.
    let change = ada
        .command(&Command::DeleteProvider {
            provider_id: hosted.id.clone(),
        })
        .await
        .event
        .change;
    assert!(matches!(change, Change::ProviderDeleted { provider_id } if provider_id == hosted.id));
    let (code, message) = refused(
        &mut ada,
        &Command::DeleteProvider {
            provider_id: Id::parse("prov_nothere0000000000").expect("id"),
        },
    )
    .await;
    assert_eq!(code, ErrorCode::NotFound);
    assert!(message.contains("warren provider list"), "{message}");
    server.kill_9().await;
    server.assert_store_checks_out().await;
}

fn add_agent(name: &str, providers: Vec<Id>, tools: Vec<ToolName>, auto: Vec<ToolName>) -> Command {
    Command::CreateAgent {
        agent_id: None,
        name: name.into(),
        providers,
        model: None,
        prompt: "You review release plans. Be brief.".into(),
        tools,
        auto_approve: auto,
        max_steps: None,
        max_tokens: None,
        max_wall_secs: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_are_members_that_come_and_go_with_their_events() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let mut mira = connect_hello(server.addr, &mira_token).await;
    mira.subscribe(None).await;
    let local = created_provider(
        &mut ada,
        &with_models(
            add_provider("local", "http://127.0.0.1:8080/v1", None),
            &["smollm2"],
            Price::default(),
        ),
    )
    .await;
    let chain = vec![local.id.clone()];

    // Bad input says what to do; members may not add agents.
    let unknown = Id::parse("prov_nothere0000000000").expect("id");
    let cases: [(Command, ErrorCode, &str); 5] = [
        (
            add_agent("code reviewer", chain.clone(), vec![], vec![]),
            ErrorCode::Validation,
            "\"code-reviewer\"",
        ),
        (
            add_agent("reviewer", vec![], vec![], vec![]),
            ErrorCode::Validation,
            "warren provider add",
        ),
        (
            add_agent("reviewer", vec![unknown], vec![], vec![]),
            ErrorCode::NotFound,
            "warren provider list",
        ),
        (
            add_agent(
                "reviewer",
                chain.clone(),
                vec![ToolName::Search],
                vec![ToolName::JobRun],
            ),
            ErrorCode::Validation,
            "not among its tools",
        ),
        (
            add_agent("Mira", chain.clone(), vec![], vec![]),
            ErrorCode::Conflict,
            "@Mira would be ambiguous",
        ),
    ];
    for (command, want, says) in &cases {
        let (code, message) = refused(&mut ada, command).await;
        assert_eq!(code, *want, "{message}");
        assert!(message.contains(says), "{message:?} should say {says:?}");
    }
    let (code, message) = refused(
        &mut mira,
        &add_agent("reviewer", chain.clone(), vec![], vec![]),
    )
    .await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("agent:manage"), "{message}");

    // Created: the ack is agent_created, and every subscriber then sees its member join.
    let ack = ada
        .command(&add_agent(
            "reviewer",
            chain.clone(),
            vec![ToolName::CardCreate, ToolName::Search],
            vec![],
        ))
        .await;
    let Change::AgentCreated { agent } = ack.event.change else {
        panic!("expected agent_created, got {:?}", ack.event.change);
    };
    assert_eq!(agent.max_steps, warren_protocol::agent::DEFAULT_MAX_STEPS);
    assert!(agent.asks_for(ToolName::CardCreate));
    assert!(!agent.asks_for(ToolName::Search), "reading never asks");
    let seq = ack.seq;
    let member_id = agent.member_id.clone();
    mira.expect_until("the agent's member_added", |c| {
        c.events.iter().any(|e| {
            e.seq == seq + 1
                && matches!(&e.change, Change::MemberAdded { member }
                    if member.user_id == member_id && member.name == "reviewer"
                        && member.role == warren_protocol::Role::Member)
        })
    })
    .await;

    // Its provider cannot go while it is in the chain; its member cannot be removed as a member.
    let (code, message) = refused(
        &mut ada,
        &Command::DeleteProvider {
            provider_id: local.id.clone(),
        },
    )
    .await;
    assert_eq!(code, ErrorCode::Conflict);
    assert!(message.contains("reviewer"), "{message}");
    let (code, message) = refused(
        &mut ada,
        &Command::RemoveMember {
            user_id: agent.member_id.clone(),
        },
    )
    .await;
    assert_eq!(code, ErrorCode::Conflict);
    assert!(message.contains("warren agent rm reviewer"), "{message}");

    // A rename renames the member; disabling keeps it.
    let ack = ada
        .command(&Command::UpdateAgent {
            agent_id: agent.id.clone(),
            name: Some("critic".into()),
            providers: None,
            model: Some(Some("smollm2".into())),
            prompt: None,
            tools: Some(vec![ToolName::Search]),
            auto_approve: None,
            max_steps: Some(5),
            max_tokens: None,
            max_wall_secs: None,
            disabled: Some(true),
        })
        .await;
    let Change::AgentUpdated { agent: updated } = ack.event.change else {
        panic!("expected agent_updated");
    };
    assert_eq!(updated.name, "critic");
    assert_eq!(updated.tools, [ToolName::Search]);
    assert!(updated.disabled);
    let seq = ack.seq;
    mira.expect_until("the member's rename", |c| {
        c.events.iter().any(|e| {
            e.seq == seq + 1
                && matches!(&e.change, Change::MemberUpdated { member } if member.name == "critic")
        })
    })
    .await;

    // The snapshot and the query agree, after a restart too.
    server.restart().await;
    let mut ada = connect_hello(server.addr, &server.token).await;
    let state = ada.snapshot().await;
    assert_eq!(state.agents, std::slice::from_ref(&updated));
    assert!(
        state
            .members
            .iter()
            .any(|m| m.user_id == updated.member_id && m.name == "critic")
    );
    let QueryResult::Agents { agents } = ada.query(&Query::Agents).await else {
        panic!("expected agents");
    };
    assert_eq!(agents, std::slice::from_ref(&updated));

    // Deleting the agent removes its member.
    let mut mira = connect_hello(server.addr, &mira_token).await;
    mira.subscribe(None).await;
    let ack = ada
        .command(&Command::DeleteAgent {
            agent_id: updated.id.clone(),
        })
        .await;
    assert!(matches!(ack.event.change, Change::AgentDeleted { .. }));
    let seq = ack.seq;
    let member_id = updated.member_id.clone();
    mira.expect_until("the member's removal", |c| {
        c.events.iter().any(|e| {
            e.seq == seq + 1
                && matches!(&e.change, Change::MemberRemoved { user_id } if *user_id == member_id)
        })
    })
    .await;
    server.kill_9().await;
    server.assert_store_checks_out().await;
}
