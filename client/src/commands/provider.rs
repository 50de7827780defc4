//! `warren provider …`: add, list, edit, test and remove the model providers agents call. A
//! provider names the environment variable that holds its key on the workers; the key itself is
//! never read, sent or printed here, and a `--key-env` that looks like a key is refused without
//! echoing it.

use warren_protocol::agent::{Price, Provider, ProviderErrorClass};
use warren_protocol::run::Run;
use warren_protocol::step::StepDetail;
use warren_protocol::{Change, Command, Query, QueryResult};

use crate::agent_output::{self, AgentNames};
use crate::cli::agents::{ProviderAddArgs, ProviderCommand, ProviderEditArgs};
use crate::commands::Out;
use crate::commands::agent::follow;
use crate::error::ClientError;
use crate::resolve::find_provider;
use crate::run_output;
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: ProviderCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        ProviderCommand::Add(args) => add(args, session, out).await,
        ProviderCommand::List => {
            let providers = providers(session).await?;
            if out.is_json() {
                for p in &providers {
                    out.json(p)?;
                }
                return Ok(());
            }
            out.text(&agent_output::format_providers(
                &providers,
                crate::tui::app::now_ms(),
            ))
        }
        ProviderCommand::Edit(args) => edit(args, session, out).await,
        ProviderCommand::Test { provider, follow } => test(&provider, follow, session, out).await,
        ProviderCommand::Rm { provider } => {
            let providers = providers(session).await?;
            let provider = find_provider(&providers, &provider)?;
            session
                .command(Command::DeleteProvider {
                    provider_id: provider.id.clone(),
                })
                .await?;
            out.either(provider, || {
                format!("removed provider {}", sanitize::line(&provider.name))
            })
        }
    }
}

/// Every provider of the workspace, by name.
pub(super) async fn providers(session: &Session) -> Result<Vec<Provider>, ClientError> {
    match session.query(Query::Providers).await? {
        QueryResult::Providers { providers } => Ok(providers),
        _ => Err(ClientError::Protocol(
            "expected a providers result".to_owned(),
        )),
    }
}

/// Checks that `--key-env` names a variable. A value that is not a name is most likely the key
/// itself, so the error never repeats it.
pub(super) fn check_key_env(value: &str) -> Result<String, ClientError> {
    let value = value.trim();
    let mut chars = value.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && value.len() <= 128;
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ClientError::Usage(
            "--key-env takes the NAME of the environment variable that holds the key on the workers (such as OPENAI_API_KEY), never the key itself; what you gave is not a variable name, so it is not repeated here"
                .to_owned(),
        ))
    }
}

async fn add(
    args: ProviderAddArgs,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let key_env = args.key_env.as_deref().map(check_key_env).transpose()?;
    let ack = session
        .command(Command::CreateProvider {
            provider_id: None,
            name: args.name,
            kind: args.kind,
            base_url: args.base_url,
            key_env,
            models: args.models,
            price: Price {
                input_per_mtok: args.price_in.unwrap_or(0),
                output_per_mtok: args.price_out.unwrap_or(0),
            },
            context_tokens: args.context,
        })
        .await?;
    let Change::ProviderCreated { provider } = ack.event.change else {
        return Err(ClientError::Protocol(
            "expected provider_created".to_owned(),
        ));
    };
    out.either(&provider, || {
        let name = sanitize::line(&provider.name);
        let key = provider.key_env.as_deref().map_or_else(
            || " (no key)".to_owned(),
            |k| {
                format!(
                    "; workers read its key from ${}",
                    sanitize::line(k)
                )
            },
        );
        format!(
            "added provider {name} ({}, {}){key} — try it with 'warren provider test {name} --follow'",
            provider.kind.as_str(),
            agent_output::price(&provider.price)
        )
    })
}

async fn edit(
    args: ProviderEditArgs,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let key_env = match (args.no_key_env, args.key_env.as_deref()) {
        (true, _) => Some(None),
        (false, Some(v)) => Some(Some(check_key_env(v)?)),
        (false, None) => None,
    };
    let context_tokens = match (args.no_context, args.context) {
        (true, _) => Some(None),
        (false, Some(n)) => Some(Some(n)),
        (false, None) => None,
    };
    let models = (!args.models.is_empty()).then_some(args.models);
    if args.name.is_none()
        && args.base_url.is_none()
        && key_env.is_none()
        && models.is_none()
        && args.price_in.is_none()
        && args.price_out.is_none()
        && context_tokens.is_none()
    {
        return Err(ClientError::Usage(
            "nothing to change: pass --name, --base-url, --key-env, --no-key-env, --model, --price-in, --price-out, --context or --no-context"
                .to_owned(),
        ));
    }
    let providers = providers(session).await?;
    let provider = find_provider(&providers, &args.provider)?;
    let price = (args.price_in.is_some() || args.price_out.is_some()).then(|| Price {
        input_per_mtok: args.price_in.unwrap_or(provider.price.input_per_mtok),
        output_per_mtok: args.price_out.unwrap_or(provider.price.output_per_mtok),
    });
    let ack = session
        .command(Command::UpdateProvider {
            provider_id: provider.id.clone(),
            name: args.name,
            base_url: args.base_url,
            key_env,
            models,
            price,
            context_tokens,
        })
        .await?;
    let Change::ProviderUpdated { provider } = ack.event.change else {
        return Err(ClientError::Protocol(
            "expected provider_updated".to_owned(),
        ));
    };
    out.either(&provider, || {
        format!("updated provider {}", sanitize::line(&provider.name))
    })
}

async fn test(
    key: &str,
    follow_it: bool,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let providers = providers(session).await?;
    let provider = find_provider(&providers, key)?;
    let ack = session
        .command(Command::TestProvider {
            run_id: None,
            provider_id: provider.id.clone(),
        })
        .await?;
    let Change::RunCreated { run } = ack.event.change else {
        return Err(ClientError::Protocol(
            "expected run_created after test_provider".to_owned(),
        ));
    };
    let name = sanitize::line(&provider.name);
    if follow_it && !out.is_json() {
        eprintln!(
            "{} (testing provider {name})",
            run_output::format_started(&run)
        );
    } else {
        out.either(&run, || {
            format!(
                "{} (testing provider {name}) — see how it went with 'warren run show {}'",
                run_output::format_started(&run),
                run.label()
            )
        })?;
    }
    if !follow_it {
        return Ok(());
    }
    let names = AgentNames::from_state(&session.snapshot().await?);
    let ended = follow::follow_run(session, out, &run, ack.seq, follow::Mode::Probe, &names).await;
    if matches!(ended, Err(ClientError::RunEnded { .. }))
        && !out.is_json()
        && let Some(hint) = key_hint(session, &run, provider).await
    {
        eprintln!("{hint}");
    }
    ended
}

/// After a probe refused for its key (an auth error), what to check, naming the variable —
/// unless the error named it already (unset where the worker runs). `None` for other failures,
/// and when the run cannot be read.
async fn key_hint(session: &Session, run: &Run, provider: &Provider) -> Option<String> {
    let QueryResult::Run { steps, .. } = session
        .query(Query::Run { number: run.number })
        .await
        .ok()?
    else {
        return None;
    };
    let error = steps.iter().rev().find_map(|s| match &s.detail {
        StepDetail::ModelCall(call) => call.error.clone(),
        StepDetail::ToolCall(_) => None,
    })?;
    if error.class != Some(ProviderErrorClass::Auth) {
        return None;
    }
    let name = sanitize::line(&provider.name);
    Some(match provider.key_env.as_deref() {
        Some(var) if error.message.contains(var) => return None,
        Some(var) => format!(
            "warren: provider {name} refused the key: check that ${} holds a valid key for it where the workers run (warren never sees the key), restart them, then 'warren provider test {name} --follow' again",
            sanitize::line(var)
        ),
        None => format!(
            "warren: provider {name} wants a key: name the variable that holds it on the workers with 'warren provider edit {name} --key-env VAR', then 'warren provider test {name} --follow' again"
        ),
    })
}
