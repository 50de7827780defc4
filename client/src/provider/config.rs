//! A provider as the agent loop knows it: its API dialect, base URL, models, prices and the
//! *name* of the environment variable holding its key. The key itself is read from the worker's
//! environment at call time, held in an [`ApiKey`] whose `Debug` never shows it, and never
//! stored, logged or put in an error.

use std::fmt;

use serde::{Deserialize, Serialize};
use warren_protocol::agent::{Price, ProviderErrorClass, ProviderKind};

use super::error::CallError;

/// One provider of a chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderConfig {
    /// The provider's name in the workspace (`provider add NAME`).
    pub name: String,
    pub kind: ProviderKind,
    /// Where the API lives, without the endpoint's own path: `https://api.openai.com/v1`,
    /// `http://127.0.0.1:8080/v1` (llama.cpp), `https://api.anthropic.com/v1`,
    /// `https://generativelanguage.googleapis.com/v1beta`, `http://127.0.0.1:11434` (Ollama).
    pub base_url: String,
    /// The environment variable holding the key, where the worker runs. `None`: no key is sent
    /// (a local llama.cpp or Ollama).
    pub key_env: Option<String>,
    /// The models this provider serves, the first one the default.
    pub models: Vec<String>,
    pub price: Price,
    /// The models' context window in tokens, when known.
    pub context_tokens: Option<u32>,
}

impl ProviderConfig {
    /// The model to ask this provider for when `requested` was asked of the chain: `requested`
    /// itself if the provider lists it (or lists no models), else the provider's first model.
    pub fn model_for(&self, requested: &str) -> Option<String> {
        if !requested.is_empty()
            && (self.models.is_empty() || self.models.iter().any(|m| m == requested))
        {
            return Some(requested.to_string());
        }
        self.models.first().cloned()
    }

    /// The key from the worker's environment: `Ok(None)` when the provider needs none, an `auth`
    /// error naming the variable (never a value) when it is unset or empty.
    pub(crate) fn key(&self) -> Result<Option<ApiKey>, CallError> {
        let Some(var) = self.key_env.as_deref() else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(value) if !value.trim().is_empty() => Ok(Some(ApiKey(value.trim().to_string()))),
            Ok(_) => Err(CallError::new(
                ProviderErrorClass::Auth,
                format!(
                    "provider {}: the environment variable {var} is empty where this worker runs; \
                     set it to the provider's key and restart the worker",
                    self.name
                ),
            )),
            Err(_) => Err(CallError::new(
                ProviderErrorClass::Auth,
                format!(
                    "provider {}: the environment variable {var} is not set where this worker \
                     runs; set it to the provider's key and restart the worker",
                    self.name
                ),
            )),
        }
    }

    /// `base_url` without a trailing slash, for joining endpoint paths.
    pub(crate) fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

/// A provider's key, read at call time. `Debug` and `Display` print `***`.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// The secret itself, only for the request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A key for other modules' tests.
#[cfg(test)]
pub(crate) fn tests_key(value: &str) -> ApiKey {
    ApiKey(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(key_env: Option<&str>, models: &[&str]) -> ProviderConfig {
        ProviderConfig {
            name: "p".into(),
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:1/v1/".into(),
            key_env: key_env.map(str::to_string),
            models: models.iter().map(|m| m.to_string()).collect(),
            price: Price::default(),
            context_tokens: None,
        }
    }

    #[test]
    fn the_requested_model_is_used_when_listed_else_the_first() {
        let p = provider(None, &["a", "b"]);
        assert_eq!(p.model_for("b").as_deref(), Some("b"));
        assert_eq!(p.model_for("z").as_deref(), Some("a"));
        assert_eq!(p.model_for("").as_deref(), Some("a"));
        assert_eq!(provider(None, &[]).model_for("z").as_deref(), Some("z"));
        assert_eq!(provider(None, &[]).model_for(""), None);
        assert_eq!(p.base(), "http://127.0.0.1:1/v1");
    }

    #[test]
    fn a_missing_key_is_an_auth_error_naming_the_variable() {
        let p = provider(Some("WARREN_TEST_SURELY_UNSET_KEY_VAR"), &["m"]);
        let err = p.key().expect_err("unset");
        assert_eq!(err.class, ProviderErrorClass::Auth);
        assert!(
            err.message.contains("WARREN_TEST_SURELY_UNSET_KEY_VAR"),
            "{}",
            err.message
        );
        assert!(provider(None, &[]).key().expect("no key needed").is_none());
    }

    #[test]
    fn a_key_never_shows_in_debug_or_display() {
        let key = ApiKey("sk-very-secret".into());
        assert!(!format!("{key:?} {key}").contains("sk-very-secret"));
        assert_eq!(key.expose(), "sk-very-secret");
    }
}
