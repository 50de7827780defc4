//! The OpenAI chat completions dialect, which every OpenAI-compatible server speaks (OpenAI,
//! Groq, OpenRouter, vLLM, llama.cpp, Ollama's `/v1`): `POST {base}/chat/completions` with
//! `stream: true` and `stream_options.include_usage`, answered by SSE `data:` lines of chunks
//! (`delta.content`, `delta.tool_calls` in pieces by `index`, `finish_reason`, a last chunk with
//! `usage`), then `data: [DONE]`. The key goes in `Authorization: Bearer`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::config::{ApiKey, ProviderConfig};
use super::dialect::{Built, Decode, class_of_error_type, secret_header, unparsable};
use super::error::CallError;
use super::request::{ChatMessage, FinishReason, ModelRequest, ToolChoice};
use super::turn::Turn;

/// The request body and headers.
pub fn build(
    config: &ProviderConfig,
    key: Option<&ApiKey>,
    request: &ModelRequest,
) -> Result<Built, CallError> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for message in &request.messages {
        messages.push(match message {
            ChatMessage::User { text } => json!({"role": "user", "content": text}),
            ChatMessage::Assistant { text, tool_calls } if tool_calls.is_empty() => {
                json!({"role": "assistant", "content": text})
            }
            ChatMessage::Assistant { text, tool_calls } => json!({
                "role": "assistant",
                // An empty string, not null: llama.cpp's server refuses a null content.
                "content": text,
                "tool_calls": tool_calls.iter().map(|c| json!({
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                })).collect::<Vec<_>>(),
            }),
            ChatMessage::ToolResult {
                call_id, content, ..
            } => json!({"role": "tool", "tool_call_id": call_id, "content": content}),
        });
    }
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters,
                }})
            })
            .collect();
        body["tool_choice"] = match &request.tool_choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required(name) => json!({"type": "function", "function": {"name": name}}),
        };
    }
    if let Some(max) = request.max_tokens {
        body["max_tokens"] = json!(max);
    }
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    let mut headers = Vec::new();
    if let Some(key) = key {
        headers.push(secret_header(
            "authorization",
            &format!("Bearer {}", key.expose()),
        )?);
    }
    Ok(Built {
        url: format!("{}/chat/completions", config.base()),
        headers,
        body,
    })
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<UsageJson>,
    error: Option<ErrorJson>,
}

#[derive(Deserialize)]
struct Choice {
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    tool_calls: Option<Vec<ToolDelta>>,
}

#[derive(Deserialize)]
struct ToolDelta {
    index: Option<u64>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct UsageJson {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorJson {
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<Value>,
}

/// The stream's decoder.
#[derive(Default)]
pub struct Decoder;

impl Decode for Decoder {
    fn feed(&mut self, _event: &str, data: &str, turn: &mut Turn<'_>) -> Result<(), CallError> {
        let data = data.trim();
        if data == "[DONE]" {
            turn.complete = true;
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| unparsable(data, &e))?;
        if let Some(error) = chunk.error {
            // The type and the code together: `{"type": "requests", "code": "rate_limit_exceeded"}`.
            let kind = format!(
                "{} {}",
                error.kind.as_deref().unwrap_or(""),
                error
                    .code
                    .as_ref()
                    .map(Value::to_string)
                    .unwrap_or_default()
            );
            return Err(CallError::new(
                class_of_error_type(&kind),
                format!(
                    "the stream reported an error: {}",
                    error.message.unwrap_or_else(|| kind.trim().to_string())
                ),
            ));
        }
        for choice in chunk.choices {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content {
                    turn.text(&text);
                }
                for (i, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
                    let function = call.function;
                    turn.tool(
                        call.index.unwrap_or(i as u64),
                        call.id.as_deref(),
                        function.as_ref().and_then(|f| f.name.as_deref()),
                        function
                            .as_ref()
                            .and_then(|f| f.arguments.as_deref())
                            .unwrap_or(""),
                    );
                }
            }
            if let Some(reason) = choice.finish_reason {
                turn.finish_reason = Some(finish_reason(&reason));
                turn.complete = true;
            }
        }
        if let Some(usage) = chunk.usage {
            turn.input_tokens = usage.prompt_tokens.or(turn.input_tokens);
            turn.output_tokens = usage.completion_tokens.or(turn.output_tokens);
        }
        Ok(())
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;
    use warren_protocol::agent::{Price, ProviderErrorClass, ProviderKind};

    use super::*;
    use crate::provider::request::{ToolCall, ToolSpec};

    fn decode(
        events: &[&str],
    ) -> (
        Result<(), CallError>,
        Vec<String>,
        crate::provider::Completion,
        bool,
    ) {
        let mut seen = Vec::new();
        let mut on_delta = |s: &str| seen.push(s.to_string());
        let mut turn = Turn::new(Instant::now(), &mut on_delta);
        let mut decoder = Decoder;
        let mut result = Ok(());
        for data in events {
            result = decoder.feed("message", data, &mut turn);
            if result.is_err() {
                break;
            }
        }
        let complete = turn.complete;
        let done = turn.finish(400, true);
        (result, seen, done, complete)
    }

    #[test]
    fn text_usage_and_done_are_read() {
        let (result, seen, done, complete) = decode(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}"#,
            "[DONE]",
        ]);
        assert!(result.is_ok() && complete);
        assert_eq!(seen, ["Hel", "lo"]);
        assert_eq!(done.text, "Hello");
        assert_eq!(done.finish_reason, Some(FinishReason::Stop));
        assert_eq!((done.usage.input_tokens, done.usage.output_tokens), (12, 2));
        assert!(!done.usage.counted);
    }

    #[test]
    fn a_stream_without_usage_is_counted() {
        let (_, _, done, _) = decode(&[
            r#"{"choices":[{"delta":{"content":"a"}}]}"#,
            r#"{"choices":[{"delta":{"content":"b"}}]}"#,
            r#"{"choices":[{"delta":{"content":"c"}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ]);
        assert!(done.usage.counted);
        assert_eq!(
            (done.usage.input_tokens, done.usage.output_tokens),
            (100, 3)
        );
    }

    #[test]
    fn tool_calls_are_assembled_by_index() {
        let (result, seen, done, _) = decode(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"card_create","arguments":""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"search","arguments":"{\"q\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"title\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Ship\"}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"x\"}"}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ]);
        assert!(result.is_ok());
        assert!(seen.is_empty());
        assert_eq!(done.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(
            done.tool_calls,
            [
                ToolCall {
                    id: "call_1".into(),
                    name: "card_create".into(),
                    arguments: r#"{"title":"Ship"}"#.into()
                },
                ToolCall {
                    id: "call_2".into(),
                    name: "search".into(),
                    arguments: r#"{"q":"x"}"#.into()
                },
            ]
        );
    }

    #[test]
    fn a_tool_name_repeated_in_every_piece_is_kept_once() {
        // llama.cpp's server sends the whole name again with each piece of the arguments.
        let (result, _, done, _) = decode(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"card_create","arguments":"{\"title\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"card_create","arguments":"\"x\"}"}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ]);
        assert!(result.is_ok());
        assert_eq!(done.tool_calls.len(), 1);
        assert_eq!(done.tool_calls[0].name, "card_create");
        assert_eq!(done.tool_calls[0].arguments, r#"{"title":"x"}"#);
    }

    #[test]
    fn errors_in_the_stream_and_malformed_events_are_classified() {
        let (result, _, done, complete) = decode(&[
            r#"{"choices":[{"delta":{"content":"par"}}]}"#,
            r#"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#,
        ]);
        let err = result.expect_err("stream error");
        assert_eq!(err.class, ProviderErrorClass::RateLimit);
        assert!(
            err.message.contains("Rate limit reached"),
            "{}",
            err.message
        );
        assert_eq!(done.text, "par");
        assert!(!complete);

        let (result, _, _, _) = decode(&[r#"{"error":{"message":"boom","type":"server_error"}}"#]);
        assert_eq!(
            result.expect_err("server").class,
            ProviderErrorClass::Server
        );

        let (result, _, _, _) = decode(&[r#"{"choices":[{"delta":{"content":"a"}}"#]);
        let err = result.expect_err("malformed");
        assert_eq!(err.class, ProviderErrorClass::BadResponse);
        assert!(err.message.contains("does not parse"), "{}", err.message);
    }

    #[test]
    fn the_request_carries_tools_choice_usage_option_and_the_key_as_a_header_only() {
        let config = ProviderConfig {
            name: "local".into(),
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:8080/v1/".into(),
            key_env: None,
            models: vec![],
            price: Price::default(),
            context_tokens: None,
        };
        let request = ModelRequest {
            model: "smol".into(),
            system: "be brief".into(),
            messages: vec![
                ChatMessage::User { text: "hi".into() },
                ChatMessage::Assistant {
                    text: String::new(),
                    tool_calls: vec![ToolCall {
                        id: "c1".into(),
                        name: "search".into(),
                        arguments: "{}".into(),
                    }],
                },
                ChatMessage::ToolResult {
                    call_id: "c1".into(),
                    name: "search".into(),
                    content: "nothing".into(),
                },
            ],
            tools: vec![ToolSpec {
                name: "search".into(),
                description: "find".into(),
                parameters: json!({"type": "object"}),
            }],
            tool_choice: ToolChoice::Required("search".into()),
            max_tokens: Some(64),
            temperature: Some(0.0),
        };
        let key = crate::provider::config::tests_key("sk-secret-1");
        let built = build(&config, Some(&key), &request).expect("built");
        assert_eq!(built.url, "http://127.0.0.1:8080/v1/chat/completions");
        assert_eq!(built.body["stream_options"]["include_usage"], json!(true));
        assert_eq!(built.body["messages"][0]["role"], "system");
        assert_eq!(built.body["messages"][2]["content"], "");
        assert_eq!(built.body["messages"][3]["tool_call_id"], "c1");
        assert_eq!(built.body["tool_choice"]["function"]["name"], "search");
        assert_eq!(built.body["max_tokens"], 64);
        assert!(!built.body.to_string().contains("sk-secret-1"));
        assert_eq!(built.headers.len(), 1);
        assert!(built.headers[0].1.is_sensitive());
        assert_eq!(built.headers[0].1.to_str().ok(), Some("Bearer sk-secret-1"));
    }
}
