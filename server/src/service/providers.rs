//! Model providers: adding, changing and removing the HTTP APIs agents call, and storing the
//! health workers report. Names are unique in a workspace ignoring ASCII case; keys are never
//! here (only the name of the environment variable that holds one on the workers); every change
//! by a person is audited (`provider.create`, `provider.update`, `provider.delete`).

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::agent::{
    Agent, HealthState, MAX_AGENT_NAME_CHARS, MAX_CHAIN, Price, Provider, ProviderErrorClass,
    ProviderHealth, ProviderKind,
};
use warren_protocol::{Change, ErrorCode, Id};

use super::{ApplyError, Ctx, pick_id, text};
use crate::audit::{details, target};
use crate::store::encode;
use crate::store::read::{get_json, list_in_workspace};
use crate::store::tables::{AGENTS, PROVIDERS};

/// Longest base URL, in bytes.
const MAX_URL_BYTES: usize = 2048;
/// Longest model name, in characters.
const MAX_MODEL_CHARS: usize = 200;
/// Longest environment variable name, in characters.
const MAX_ENV_CHARS: usize = 128;
/// Largest context window accepted, in tokens.
const MAX_CONTEXT_TOKENS: u32 = 100_000_000;
/// Longest health message kept, in characters.
const MAX_HEALTH_MESSAGE_CHARS: usize = 300;

fn invalid(message: impl Into<String>) -> ApplyError {
    ApplyError::reject(ErrorCode::Validation, message)
}

/// The fields of a `create_provider` command.
pub struct NewProvider<'a> {
    pub provider_id: Option<&'a Id>,
    pub name: &'a str,
    pub kind: ProviderKind,
    pub base_url: &'a str,
    pub key_env: Option<&'a str>,
    pub models: &'a [String],
    pub price: Price,
    pub context_tokens: Option<u32>,
}

/// The fields of an `update_provider` command (absent: unchanged).
pub struct ProviderChanges<'a> {
    pub name: Option<&'a str>,
    pub base_url: Option<&'a str>,
    pub key_env: Option<Option<&'a str>>,
    pub models: Option<&'a [String]>,
    pub price: Option<Price>,
    pub context_tokens: Option<Option<u32>>,
}

/// A provider name: one line, at most [`MAX_AGENT_NAME_CHARS`] characters.
fn name(value: &str) -> Result<String, ApplyError> {
    text::one_line("a provider name", value, MAX_AGENT_NAME_CHARS)
}

/// An `http://` or `https://` URL without spaces or control characters; a trailing `/` is
/// dropped so paths join cleanly.
fn base_url(value: &str) -> Result<String, ApplyError> {
    let url = value.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() => {}
        _ => {
            return Err(invalid(format!(
                "the base URL {url:?} must start with http:// or https:// and name a host, e.g. \
                 https://api.openai.com/v1 or http://127.0.0.1:8080/v1"
            )));
        }
    }
    if url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!(
            "the base URL must be at most {MAX_URL_BYTES} bytes without spaces or control characters"
        )));
    }
    Ok(url.to_owned())
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn key_env(value: &str) -> Result<String, ApplyError> {
    let value = value.trim();
    let mut chars = value.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && value.len() <= MAX_ENV_CHARS;
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(format!(
            "{value:?} is not an environment variable name; give the variable's name (such as \
             OPENAI_API_KEY), never the key itself"
        )))
    }
}

/// One to [`MAX_CHAIN`] model names, each one word, no duplicates.
fn models(values: &[String]) -> Result<Vec<String>, ApplyError> {
    if values.is_empty() {
        return Err(invalid(
            "a provider needs at least one model; give the model its server serves, e.g. --model gpt-4o-mini",
        ));
    }
    if values.len() > MAX_CHAIN {
        return Err(invalid(format!(
            "a provider lists at most {MAX_CHAIN} models; this one has {}",
            values.len()
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let model = text::one_line("a model name", value, MAX_MODEL_CHARS)?;
        if model.chars().any(char::is_whitespace) {
            return Err(invalid(format!(
                "the model name {model:?} must not contain spaces"
            )));
        }
        if out.contains(&model) {
            return Err(invalid(format!("the model {model:?} is listed twice")));
        }
        out.push(model);
    }
    Ok(out)
}

fn context_tokens(value: Option<u32>) -> Result<Option<u32>, ApplyError> {
    match value {
        Some(0) => Err(invalid(
            "a context window of 0 tokens is no window; leave it out if you do not know it",
        )),
        Some(n) if n > MAX_CONTEXT_TOKENS => Err(invalid(format!(
            "a context window of {n} tokens is more than {MAX_CONTEXT_TOKENS}; check the number"
        ))),
        other => Ok(other),
    }
}

/// Loads a provider of the workspace or says how to find one.
pub fn load(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    provider_id: &Id,
) -> Result<Provider, ApplyError> {
    get_json(
        &txn.open_table(PROVIDERS)?,
        "providers",
        (ctx.ws(), provider_id.as_str()),
    )?
    .ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!(
                "no provider {provider_id} in this workspace; list providers with `warren provider list`"
            ),
        )
    })
}

fn name_taken(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    name: &str,
    except: Option<&Id>,
) -> Result<(), ApplyError> {
    let all: Vec<Provider> = list_in_workspace(&txn.open_table(PROVIDERS)?, "providers", ctx.ws())?;
    text::refuse_taken_name(
        "provider",
        name,
        except,
        all.iter().map(|x| (x.name.as_str(), &x.id)),
    )
}

fn store(txn: &WriteTransaction, ctx: &Ctx<'_>, provider: &Provider) -> Result<(), ApplyError> {
    txn.open_table(PROVIDERS)?.insert(
        (ctx.ws(), provider.id.as_str()),
        encode("providers", provider)?.as_slice(),
    )?;
    Ok(())
}

pub fn create_provider(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    new: &NewProvider<'_>,
) -> Result<Change, ApplyError> {
    let provider = Provider {
        id: pick_id(new.provider_id, "prov")?,
        name: name(new.name)?,
        kind: new.kind,
        base_url: base_url(new.base_url)?,
        key_env: new.key_env.map(key_env).transpose()?,
        models: models(new.models)?,
        price: new.price,
        context_tokens: context_tokens(new.context_tokens)?,
        health: None,
        created_by: ctx.actor.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    if txn
        .open_table(PROVIDERS)?
        .get((ctx.ws(), provider.id.as_str()))?
        .is_some()
    {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("provider {} already exists", provider.id),
        ));
    }
    name_taken(txn, ctx, &provider.name, None)?;
    store(txn, ctx, &provider)?;
    ctx.audit(
        txn,
        "provider.create",
        Some(target::provider(&provider)),
        details([("kind", provider.kind.as_str())]),
    )?;
    Ok(Change::ProviderCreated { provider })
}

pub fn update_provider(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    provider_id: &Id,
    changes: &ProviderChanges<'_>,
) -> Result<Change, ApplyError> {
    let mut provider = load(txn, ctx, provider_id)?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(value) = changes.name {
        let value = name(value)?;
        name_taken(txn, ctx, &value, Some(&provider.id))?;
        provider.name = value;
        changed.push("name");
    }
    if let Some(value) = changes.base_url {
        provider.base_url = base_url(value)?;
        changed.push("base_url");
    }
    if let Some(value) = changes.key_env {
        provider.key_env = value.map(key_env).transpose()?;
        changed.push("key_env");
    }
    if let Some(value) = changes.models {
        provider.models = models(value)?;
        changed.push("models");
    }
    if let Some(value) = changes.price {
        provider.price = value;
        changed.push("price");
    }
    if let Some(value) = changes.context_tokens {
        provider.context_tokens = context_tokens(value)?;
        changed.push("context_tokens");
    }
    provider.updated_at = ctx.now;
    store(txn, ctx, &provider)?;
    ctx.audit_update(
        txn,
        "provider.update",
        target::provider(&provider),
        &changed,
    )?;
    Ok(Change::ProviderUpdated { provider })
}

pub fn delete_provider(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    provider_id: &Id,
) -> Result<Change, ApplyError> {
    let provider = load(txn, ctx, provider_id)?;
    let agents: Vec<Agent> = list_in_workspace(&txn.open_table(AGENTS)?, "agents", ctx.ws())?;
    let users: Vec<&str> = agents
        .iter()
        .filter(|a| a.providers.contains(&provider.id))
        .map(|a| a.name.as_str())
        .collect();
    if !users.is_empty() {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "the provider {:?} is in the chain of {}; change their providers first (`warren agent edit NAME --provider …`)",
                provider.name,
                users.join(", ")
            ),
        ));
    }
    txn.open_table(PROVIDERS)?
        .remove((ctx.ws(), provider.id.as_str()))?;
    ctx.audit(
        txn,
        "provider.delete",
        Some(target::provider(&provider)),
        details([]),
    )?;
    Ok(Change::ProviderDeleted {
        provider_id: provider.id,
    })
}

/// A worker's report of a provider's breaker. Stored on the provider as its `health`; not
/// audited (it is the machine's view, not a person's change).
pub fn report_health(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    provider_id: &Id,
    state: HealthState,
    last_error: Option<ProviderErrorClass>,
    message: Option<&str>,
) -> Result<Change, ApplyError> {
    let mut provider = load(txn, ctx, provider_id)?;
    let message = message.map(|m| {
        let clean: String = m
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_HEALTH_MESSAGE_CHARS)
            .collect();
        clean.trim().to_owned()
    });
    provider.health = Some(ProviderHealth {
        state,
        last_error,
        message: message.filter(|m| !m.is_empty()),
        at: ctx.now,
        worker_id: ctx.actor.clone(),
    });
    store(txn, ctx, &provider)?;
    Ok(Change::ProviderUpdated { provider })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_need_a_scheme_and_a_host_and_lose_a_trailing_slash() {
        assert_eq!(
            base_url(" https://api.openai.com/v1/ ").ok(),
            Some("https://api.openai.com/v1".to_owned())
        );
        assert!(base_url("api.openai.com").is_err());
        assert!(base_url("http://").is_err());
        assert!(base_url("http://a b").is_err());
    }

    #[test]
    fn key_env_is_a_variable_name_never_a_key() {
        assert!(key_env("OPENAI_API_KEY").is_ok());
        let err = key_env("sk-abc123")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("never the key itself"), "{err}");
    }

    #[test]
    fn models_are_required_single_words_without_duplicates() {
        assert!(models(&[]).is_err());
        assert!(models(&["gpt 4".into()]).is_err());
        assert!(models(&["a".into(), "a".into()]).is_err());
        assert_eq!(
            models(&["smollm2".into()]).ok(),
            Some(vec!["smollm2".to_owned()])
        );
    }
}
