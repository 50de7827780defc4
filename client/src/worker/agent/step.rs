//! A finished chain call as the step the server stores (`finish_model_call`): which provider
//! answered (by id), the model, tokens (counted when the provider reported none), cost at that
//! provider's prices, latency, every failed try or skip before the answer, the text (what
//! arrived, marked partial, when the stream broke or the run was cancelled) and the tool calls.

use warren_protocol::agent::{Provider, ProviderErrorClass};
use warren_protocol::step::{ModelCall, ProviderAttempt, StepError, StepStatus, ToolCallRequest};

use crate::provider::ChainOutcome;

/// Most text of one step sent in `finish_model_call`, in bytes: the frame must stay well under
/// the server's frame limit (the server keeps at most `MAX_STEP_TEXT_BYTES` anyway).
pub const MAX_SENT_TEXT: usize = 192 * 1024;

/// The step's status and record for a chain call that ended as `outcome`. `asked` is the
/// provider named in `start_model_call` (recorded when no provider was tried at all);
/// `elapsed_ms` is the whole call's time, for a call that ended without an answer.
pub fn model_call(
    outcome: &ChainOutcome,
    providers: &[Provider],
    asked: &Provider,
    model: &str,
    elapsed_ms: u64,
) -> (StepStatus, ModelCall) {
    let by_name = |name: &str| providers.iter().find(|p| p.name == name);
    let answered = outcome
        .provider
        .as_deref()
        .and_then(by_name)
        .unwrap_or(asked);
    let attempts = outcome
        .attempts
        .iter()
        .map(|a| ProviderAttempt {
            provider_id: by_name(&a.provider).map_or_else(|| asked.id.clone(), |p| p.id.clone()),
            provider: a.provider.clone(),
            model: a.model.clone(),
            class: a.class,
            message: a.message.clone(),
            after_ms: a.after_ms,
        })
        .collect();
    let (status, completion, error, partial) = match &outcome.result {
        Ok(c) => (StepStatus::Done, Some(c), None, false),
        Err(e) => {
            let status = if e.class == ProviderErrorClass::Cancelled {
                StepStatus::Cancelled
            } else {
                StepStatus::Failed
            };
            let error = StepError {
                class: Some(e.class),
                message: e.message.clone(),
            };
            (status, e.partial.as_deref(), Some(error), true)
        }
    };
    let usage = completion.map(|c| c.usage).unwrap_or_default();
    let call = ModelCall {
        provider_id: answered.id.clone(),
        provider: answered.name.clone(),
        model: outcome.model.clone().unwrap_or_else(|| model.to_owned()),
        usage,
        cost: answered.price.cost(usage),
        latency_ms: completion
            .filter(|_| status == StepStatus::Done)
            .map_or(elapsed_ms, |c| c.latency_ms),
        first_token_ms: completion.and_then(|c| c.first_token_ms),
        attempts,
        text: completion.map(|c| cut(&c.text)).unwrap_or_default(),
        partial,
        tool_calls: completion
            .filter(|_| status == StepStatus::Done)
            .map(|c| {
                c.tool_calls
                    .iter()
                    .map(|t| ToolCallRequest {
                        id: t.id.clone(),
                        name: t.name.clone(),
                        arguments: t.arguments.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        finish_reason: completion
            .and_then(|c| c.finish_reason.as_ref())
            .map(|f| f.as_str().to_owned()),
        error,
    };
    (status, call)
}

/// `text` cut to [`MAX_SENT_TEXT`] bytes, between characters.
fn cut(text: &str) -> String {
    if text.len() <= MAX_SENT_TEXT {
        return text.to_owned();
    }
    let mut at = MAX_SENT_TEXT;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at].to_owned()
}

#[cfg(test)]
mod tests {
    use warren_protocol::Id;
    use warren_protocol::agent::{Price, ProviderKind, Usage};

    use super::*;
    use crate::provider::{Attempt, CallError, Completion, FinishReason, ToolCall};

    fn provider(id: &str, name: &str, price_in: u64) -> Provider {
        Provider {
            id: Id::parse(id).expect("an id"),
            name: name.into(),
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:1/v1".into(),
            key_env: None,
            models: vec!["m".into()],
            price: Price {
                input_per_mtok: price_in,
                output_per_mtok: 0,
            },
            context_tokens: None,
            health: None,
            created_by: Id::parse("usr_8d3f6h1k4m7p0r2t").expect("an id"),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn completion(text: &str) -> Completion {
        Completion {
            text: text.into(),
            tool_calls: vec![ToolCall {
                id: "call_0".into(),
                name: "search".into(),
                arguments: "{\"query\":\"x\"}".into(),
            }],
            usage: Usage {
                input_tokens: 1_000_000,
                output_tokens: 3,
                counted: true,
            },
            finish_reason: Some(FinishReason::ToolCalls),
            first_token_ms: Some(5),
            latency_ms: 40,
        }
    }

    #[test]
    fn an_answer_after_a_fallback_names_the_answering_provider_and_every_attempt() {
        let first = provider("prov_6f9h2k5m8p1r4t7w", "hosted", 0);
        let second = provider("prov_2m5p8r1t4w7y0b3d", "local", 2_000_000);
        let outcome = ChainOutcome {
            result: Ok(completion("hi")),
            provider: Some("local".into()),
            model: Some("m".into()),
            attempts: vec![Attempt {
                provider: "hosted".into(),
                model: "m".into(),
                class: ProviderErrorClass::RateLimit,
                message: "HTTP 429".into(),
                retry_after: None,
                after_ms: 7,
                wait_ms: None,
            }],
        };
        let providers = [first.clone(), second.clone()];
        let (status, call) = model_call(&outcome, &providers, &first, "m", 99);
        assert_eq!(status, StepStatus::Done);
        assert_eq!(call.provider_id, second.id);
        assert_eq!(call.attempts.len(), 1);
        assert_eq!(call.attempts[0].provider_id, first.id);
        assert_eq!(call.attempts[0].class, ProviderErrorClass::RateLimit);
        assert!(call.usage.counted);
        assert_eq!(call.cost, 2_000_000, "a million input tokens at $2/Mtok");
        assert_eq!((call.latency_ms, call.first_token_ms), (40, Some(5)));
        assert_eq!(call.tool_calls.len(), 1);
        assert_eq!(call.finish_reason.as_deref(), Some("tool_calls"));
        assert!(!call.partial && call.error.is_none());
    }

    #[test]
    fn a_cancelled_call_keeps_its_partial_text_and_asks_no_tools() {
        let p = provider("prov_6f9h2k5m8p1r4t7w", "local", 0);
        let mut e = CallError::cancelled();
        e.partial = Some(Box::new(completion("The release waits on")));
        let outcome = ChainOutcome {
            result: Err(e),
            provider: Some("local".into()),
            model: Some("m".into()),
            attempts: vec![],
        };
        let (status, call) = model_call(&outcome, std::slice::from_ref(&p), &p, "m", 99);
        assert_eq!(status, StepStatus::Cancelled);
        assert!(call.partial);
        assert_eq!(call.text, "The release waits on");
        assert!(call.tool_calls.is_empty());
        assert_eq!(call.latency_ms, 99);
        assert_eq!(
            call.error.map(|e| e.class),
            Some(Some(ProviderErrorClass::Cancelled))
        );
    }

    #[test]
    fn failing_everywhere_is_a_failed_step_with_the_last_error() {
        let p = provider("prov_6f9h2k5m8p1r4t7w", "local", 0);
        let outcome = ChainOutcome {
            result: Err(CallError::new(ProviderErrorClass::Server, "HTTP 500")),
            provider: None,
            model: None,
            attempts: vec![],
        };
        let (status, call) = model_call(&outcome, std::slice::from_ref(&p), &p, "m", 12);
        assert_eq!(status, StepStatus::Failed);
        assert_eq!(call.provider_id, p.id);
        assert_eq!(call.model, "m");
        assert_eq!(call.error.map(|e| e.message).as_deref(), Some("HTTP 500"));
        assert_eq!(cut(&"x".repeat(MAX_SENT_TEXT + 9)).len(), MAX_SENT_TEXT);
    }
}
