//! The fallback chain ([`Chain::call`]): the providers of an agent tried in order. A transient
//! failure is retried on the same provider after a backoff (or its `Retry-After`), at most
//! `max_tries` times, then the next provider is tried; `auth` and `bad_request` go to the next
//! provider at once; a cancel stops everything; a provider whose circuit is open is skipped.
//! Once text has reached the screens a failure is never retried: the partial answer is returned.
//! Every try and skip is an [`Attempt`], so the run's step can say why a provider was passed
//! over.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use warren_protocol::agent::ProviderErrorClass;

use super::backoff::{self, Next, RetryPolicy};
use super::breaker::{Admission, Breakers};
use super::call::{self, Provider, Timeouts};
use super::cancel::Cancel;
use super::config::ProviderConfig;
use super::error::CallError;
use super::request::{Completion, ModelRequest};

/// The chain's rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChainSettings {
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
}

/// One try of one provider that did not answer (or a skip of an open circuit).
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub provider: String,
    pub model: String,
    pub class: ProviderErrorClass,
    pub message: String,
    /// The wait the provider asked for.
    pub retry_after: Option<Duration>,
    /// When the try ended, counted from the start of the chain call.
    pub after_ms: u64,
    /// How long the chain then waited before trying the same provider again (`None`: it went on
    /// to the next provider, or stopped).
    pub wait_ms: Option<u64>,
}

/// What a chain call came to.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainOutcome {
    pub result: Result<Completion, CallError>,
    /// The provider and model that answered (or failed last).
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Every failed try and skip, in order.
    pub attempts: Vec<Attempt>,
}

/// Calls providers with retries, fallback and the breakers.
#[derive(Debug, Clone)]
pub struct Chain {
    client: reqwest::Client,
    settings: ChainSettings,
    breakers: Arc<Breakers>,
}

impl Chain {
    /// A chain on the process's shared breakers.
    pub fn new(settings: ChainSettings) -> Result<Chain, CallError> {
        Chain::with_breakers(settings, Breakers::shared())
    }

    /// A chain on its own breakers (tests; a process with its own policy).
    pub fn with_breakers(
        settings: ChainSettings,
        breakers: Arc<Breakers>,
    ) -> Result<Chain, CallError> {
        Ok(Chain {
            client: call::http_client(&settings.timeouts)?,
            settings,
            breakers,
        })
    }

    pub fn breakers(&self) -> &Arc<Breakers> {
        &self.breakers
    }

    /// Asks `providers` in order for an answer to `request`, streaming its text to `on_delta`.
    pub async fn call(
        &self,
        providers: &[ProviderConfig],
        request: &ModelRequest,
        cancel: &Cancel,
        mut on_delta: impl FnMut(&str) + Send,
    ) -> ChainOutcome {
        let started = Instant::now();
        let mut run = Run {
            attempts: Vec::new(),
            started,
        };
        let mut last: Option<(String, String, CallError)> = None;
        for config in providers {
            let Some(model) = config.model_for(&request.model) else {
                let e = CallError::new(
                    ProviderErrorClass::BadRequest,
                    format!(
                        "provider {}: no model to ask; give the agent a model (--model) or the \
                         provider one (warren provider add {} … --model M)",
                        config.name, config.name
                    ),
                );
                run.record(&config.name, "", &e);
                last = Some((config.name.clone(), String::new(), e));
                continue;
            };
            let request = ModelRequest {
                model: model.clone(),
                ..request.clone()
            };
            let provider =
                Provider::with_client(config.clone(), self.client.clone(), self.settings.timeouts);
            let mut tries = 0;
            let e = loop {
                let permit = match self.breakers.admit(&config.name) {
                    Admission::Go(permit) => permit,
                    Admission::Skip {
                        retry_in,
                        last_class,
                    } => {
                        let e = CallError::new(
                            last_class.unwrap_or(ProviderErrorClass::Server),
                            format!(
                                "provider {}: circuit open after repeated failures; skipped \
                                 (next probe in {})",
                                config.name,
                                crate::duration::format_ms(retry_in.as_millis() as i64)
                            ),
                        );
                        run.record(&config.name, &model, &e);
                        break e;
                    }
                };
                tries += 1;
                let e = match provider.stream_dyn(&request, cancel, &mut on_delta).await {
                    Ok(completion) => {
                        permit.success();
                        return run.end(Ok(completion), &config.name, &model);
                    }
                    Err(e) => e,
                };
                permit.failure(e.class, &e.message);
                run.record(&config.name, &model, &e);
                if e.class == ProviderErrorClass::Cancelled || e.delivered_text() {
                    return run.end(Err(e), &config.name, &model);
                }
                if !e.class.is_transient() {
                    break e;
                }
                match self
                    .settings
                    .retry
                    .next(tries, e.retry_after, backoff::random())
                {
                    Next::MoveOn => break e,
                    Next::Wait(wait) => {
                        if let Some(attempt) = run.attempts.last_mut() {
                            attempt.wait_ms = Some(wait.as_millis() as u64);
                        }
                        tokio::select! {
                            biased;
                            _ = cancel.cancelled() => {
                                return run.end(Err(CallError::cancelled()), &config.name, &model);
                            }
                            _ = tokio::time::sleep(wait) => {}
                        }
                    }
                }
            };
            last = Some((config.name.clone(), model, e));
        }
        match last {
            Some((provider, model, e)) => run.end(Err(e), &provider, &model),
            None => run.end(
                Err(CallError::new(
                    ProviderErrorClass::BadRequest,
                    "no provider to ask; add one with warren provider add NAME --kind openai \
                     --base-url URL and give it to the agent",
                )),
                "",
                "",
            ),
        }
    }
}

/// The attempts of one chain call so far.
struct Run {
    attempts: Vec<Attempt>,
    started: Instant,
}

impl Run {
    fn record(&mut self, provider: &str, model: &str, e: &CallError) {
        self.attempts.push(Attempt {
            provider: provider.to_string(),
            model: model.to_string(),
            class: e.class,
            message: e.message.clone(),
            retry_after: e.retry_after,
            after_ms: self.started.elapsed().as_millis() as u64,
            wait_ms: None,
        });
    }

    fn end(
        self,
        result: Result<Completion, CallError>,
        provider: &str,
        model: &str,
    ) -> ChainOutcome {
        let named = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ChainOutcome {
            result,
            provider: named(provider),
            model: named(model),
            attempts: self.attempts,
        }
    }
}
