//! The agents service's administration against a real server over real WebSockets: providers
//! (validation with errors that say what to do, who may manage them, unique names, health
//! reports from workers, the `providers` query and the snapshot, a restart and
//! `warren-server check`).

use warren_e2e::{Client, Server, connect_hello};
use warren_protocol::agent::{HealthState, Price, ProviderErrorClass, ProviderKind};
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
        &add_provider("openai", "https://api.openai.com/v1/", Some("OPENAI_API_KEY")),
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
    assert!(!text.contains('\u{1b}'), "no escape reaches a client: {text:?}");

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
