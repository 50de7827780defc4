//! The Gemini API dialect: `POST {base}/models/{model}:streamGenerateContent?alt=sse` with the
//! key in `x-goog-api-key`, answered by SSE `data:` chunks of `candidates[0].content.parts`
//! (`text`, or a whole `functionCall` with `name` and `args`), `finishReason`, and cumulative
//! `usageMetadata`. The stream has no end marker: a finish reason makes it complete. Gemini gives
//! function calls no ids; they are numbered `call_0`, `call_1`, ….

use serde::Deserialize;
use serde_json::{Value, json};

use super::config::{ApiKey, ProviderConfig};
use super::dialect::{
    Built, Decode, arguments_value, class_of_error_type, secret_header, unparsable,
};
use super::error::CallError;
use super::request::{ChatMessage, FinishReason, ModelRequest, ToolChoice};
use super::turn::Turn;

/// The request body and headers. Consecutive messages of one role are merged; tool results are
/// `functionResponse` parts of a user turn.
pub fn build(
    config: &ProviderConfig,
    key: Option<&ApiKey>,
    request: &ModelRequest,
) -> Result<Built, CallError> {
    let mut contents: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in &request.messages {
        let (role, parts) = match message {
            ChatMessage::User { text } => ("user", vec![json!({"text": text})]),
            ChatMessage::Assistant { text, tool_calls } => {
                let mut parts = Vec::new();
                if !text.is_empty() {
                    parts.push(json!({"text": text}));
                }
                for call in tool_calls {
                    parts.push(json!({"functionCall": {"name": call.name, "args": arguments_value(&call.arguments)}}));
                }
                ("model", parts)
            }
            ChatMessage::ToolResult { name, content, .. } => (
                "user",
                vec![json!({"functionResponse": {"name": name, "response": {"content": content}}})],
            ),
        };
        match contents.last_mut() {
            Some((last, all)) if *last == role => all.extend(parts),
            _ => contents.push((role, parts)),
        }
    }
    let mut body = json!({
        "contents": contents
            .into_iter()
            .map(|(role, parts)| json!({"role": role, "parts": parts}))
            .collect::<Vec<_>>(),
    });
    if !request.system.is_empty() {
        body["systemInstruction"] = json!({"parts": [{"text": request.system}]});
    }
    if !request.tools.is_empty() {
        body["tools"] = json!([{"functionDeclarations": request.tools.iter().map(|t| json!({
            "name": t.name, "description": t.description, "parameters": t.parameters,
        })).collect::<Vec<_>>()}]);
        body["toolConfig"] = json!({"functionCallingConfig": match &request.tool_choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        }});
    }
    let mut generation = serde_json::Map::new();
    if let Some(max) = request.max_tokens {
        generation.insert("maxOutputTokens".into(), json!(max));
    }
    if let Some(t) = request.temperature {
        generation.insert("temperature".into(), json!(t));
    }
    if !generation.is_empty() {
        body["generationConfig"] = Value::Object(generation);
    }
    let mut headers = Vec::new();
    if let Some(key) = key {
        headers.push(secret_header("x-goog-api-key", key.expose())?);
    }
    let model = request.model.trim_start_matches("models/");
    Ok(Built {
        url: format!(
            "{}/models/{model}:streamGenerateContent?alt=sse",
            config.base()
        ),
        headers,
        body,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk {
    #[serde(default)]
    candidates: Vec<Candidate>,
    usage_metadata: Option<UsageJson>,
    error: Option<ErrorJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<ContentJson>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ContentJson {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    text: Option<String>,
    function_call: Option<FunctionCall>,
    #[serde(default)]
    thought: bool,
}

#[derive(Deserialize)]
struct FunctionCall {
    name: String,
    #[serde(default)]
    args: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageJson {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorJson {
    message: Option<String>,
    status: Option<String>,
}

/// The stream's decoder.
#[derive(Default)]
pub struct Decoder {
    calls: u64,
}

impl Decode for Decoder {
    fn feed(&mut self, _event: &str, data: &str, turn: &mut Turn<'_>) -> Result<(), CallError> {
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| unparsable(data, &e))?;
        if let Some(error) = chunk.error {
            let status = error.status.unwrap_or_default();
            return Err(CallError::new(
                class_of_error_type(&status),
                format!(
                    "the stream reported an error: {}",
                    error.message.unwrap_or_else(|| status.clone())
                ),
            ));
        }
        if let Some(candidate) = chunk.candidates.into_iter().next() {
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                if let Some(call) = part.function_call {
                    let args = match call.args {
                        Value::Null => "{}".to_string(),
                        other => other.to_string(),
                    };
                    turn.tool(
                        self.calls,
                        Some(&format!("call_{}", self.calls)),
                        Some(&call.name),
                        &args,
                    );
                    self.calls += 1;
                } else if !part.thought {
                    turn.text(part.text.as_deref().unwrap_or(""));
                }
            }
            if let Some(reason) = candidate.finish_reason {
                turn.complete = true;
                turn.finish_reason = Some(match reason.as_str() {
                    _ if self.calls > 0 => FinishReason::ToolCalls,
                    "STOP" => FinishReason::Stop,
                    "MAX_TOKENS" => FinishReason::Length,
                    "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => {
                        FinishReason::ContentFilter
                    }
                    other => FinishReason::Other(other.to_ascii_lowercase()),
                });
            }
        }
        if let Some(usage) = chunk.usage_metadata {
            turn.input_tokens = usage.prompt_token_count.or(turn.input_tokens);
            if let Some(out) = usage.candidates_token_count {
                turn.output_tokens = Some(out + usage.thoughts_token_count.unwrap_or(0));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;
    use warren_protocol::agent::{Price, ProviderKind};

    use super::*;

    #[test]
    fn chunks_give_text_function_calls_and_usage() {
        let mut on_delta = |_: &str| {};
        let mut turn = Turn::new(Instant::now(), &mut on_delta);
        let mut decoder = Decoder::default();
        for data in [
            r#"{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1}}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"lo"},{"functionCall":{"name":"search","args":{"q":"x"}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":5,"totalTokenCount":13}}"#,
        ] {
            decoder.feed("message", data, &mut turn).expect("chunk");
        }
        assert!(turn.complete);
        let done = turn.finish(0, false);
        assert_eq!(done.text, "Hello");
        assert_eq!(done.tool_calls[0].id, "call_0");
        assert_eq!(done.tool_calls[0].arguments, r#"{"q":"x"}"#);
        assert_eq!(done.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!((done.usage.input_tokens, done.usage.output_tokens), (8, 5));
    }

    #[test]
    fn the_request_names_the_model_in_the_url_and_forces_a_tool_with_any() {
        let config = ProviderConfig {
            name: "g".into(),
            kind: ProviderKind::Gemini,
            base_url: "https://generativelanguage.googleapis.com/v1beta".into(),
            key_env: None,
            models: vec![],
            price: Price::default(),
            context_tokens: None,
        };
        let request = ModelRequest {
            model: "models/gemini-2.5-flash".into(),
            system: "s".into(),
            messages: vec![ChatMessage::User { text: "hi".into() }],
            tools: vec![crate::provider::ToolSpec {
                name: "search".into(),
                description: "d".into(),
                parameters: json!({"type": "object"}),
            }],
            tool_choice: ToolChoice::Required("search".into()),
            max_tokens: Some(10),
            temperature: None,
        };
        let key = crate::provider::config::tests_key("AIza-secret");
        let built = build(&config, Some(&key), &request).expect("built");
        assert_eq!(
            built.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            built.body["toolConfig"]["functionCallingConfig"]["mode"],
            "ANY"
        );
        assert_eq!(built.body["generationConfig"]["maxOutputTokens"], 10);
        assert!(!built.body.to_string().contains("AIza-secret") && !built.url.contains("AIza"));
        assert_eq!(built.headers[0].0.as_str(), "x-goog-api-key");
    }
}
