//! The Anthropic Messages API dialect: `POST {base}/messages` with `stream: true`, the key in
//! `x-api-key` and `anthropic-version`; answered by SSE events: `message_start` (input usage),
//! `content_block_start` (a text block, or a `tool_use` with its id and name),
//! `content_block_delta` (`text_delta`, or `input_json_delta` pieces of a tool's input),
//! `message_delta` (stop reason, output usage), `message_stop`, `ping`, `error`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::config::{ApiKey, ProviderConfig};
use super::dialect::{
    Built, Decode, arguments_value, class_of_error_type, header, secret_header, unparsable,
};
use super::error::CallError;
use super::request::{ChatMessage, FinishReason, ModelRequest, ToolChoice};
use super::turn::Turn;

/// The API version sent in `anthropic-version`.
pub const API_VERSION: &str = "2023-06-01";
/// `max_tokens` is required by the API; this when the request names none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The request body and headers. Consecutive messages of one role are merged (the API wants
/// user and assistant to alternate; tool results are user content).
pub fn build(
    config: &ProviderConfig,
    key: Option<&ApiKey>,
    request: &ModelRequest,
) -> Result<Built, CallError> {
    let mut messages: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in &request.messages {
        let (role, blocks) = match message {
            ChatMessage::User { text } => ("user", vec![json!({"type": "text", "text": text})]),
            ChatMessage::Assistant { text, tool_calls } => {
                let mut blocks = Vec::new();
                if !text.is_empty() {
                    blocks.push(json!({"type": "text", "text": text}));
                }
                for call in tool_calls {
                    blocks.push(json!({
                        "type": "tool_use", "id": call.id, "name": call.name,
                        "input": arguments_value(&call.arguments),
                    }));
                }
                ("assistant", blocks)
            }
            ChatMessage::ToolResult {
                call_id, content, ..
            } => (
                "user",
                vec![json!({"type": "tool_result", "tool_use_id": call_id, "content": content})],
            ),
        };
        match messages.last_mut() {
            Some((last, content)) if *last == role => content.extend(blocks),
            _ => messages.push((role, blocks)),
        }
    }
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": messages
            .into_iter()
            .map(|(role, content)| json!({"role": role, "content": content}))
            .collect::<Vec<_>>(),
        "stream": true,
    });
    if !request.system.is_empty() {
        body["system"] = json!(request.system);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        body["tool_choice"] = match &request.tool_choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Required(name) => json!({"type": "tool", "name": name}),
        };
    }
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    let mut headers = vec![header("anthropic-version", API_VERSION)];
    if let Some(key) = key {
        headers.push(secret_header("x-api-key", key.expose())?);
    }
    Ok(Built {
        url: format!("{}/messages", config.base()),
        headers,
        body,
    })
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    index: Option<u64>,
    message: Option<MessageJson>,
    content_block: Option<Block>,
    delta: Option<DeltaJson>,
    usage: Option<UsageJson>,
    error: Option<ErrorJson>,
}

#[derive(Deserialize)]
struct MessageJson {
    usage: Option<UsageJson>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    name: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct DeltaJson {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    partial_json: Option<String>,
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct UsageJson {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

impl UsageJson {
    /// Input tokens, cache writes and reads included (each is billed).
    fn input(&self) -> Option<u64> {
        let parts = [
            self.input_tokens,
            self.cache_creation_input_tokens,
            self.cache_read_input_tokens,
        ];
        parts
            .iter()
            .any(Option::is_some)
            .then(|| parts.iter().flatten().sum())
    }
}

#[derive(Deserialize)]
struct ErrorJson {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

/// The stream's decoder.
#[derive(Default)]
pub struct Decoder;

impl Decode for Decoder {
    fn feed(&mut self, _event: &str, data: &str, turn: &mut Turn<'_>) -> Result<(), CallError> {
        let event: Event = serde_json::from_str(data).map_err(|e| unparsable(data, &e))?;
        let index = event.index.unwrap_or(0);
        match event.kind.as_str() {
            "message_start" => {
                if let Some(usage) = event.message.and_then(|m| m.usage) {
                    turn.input_tokens = usage.input().or(turn.input_tokens);
                }
            }
            "content_block_start" => match event.content_block {
                Some(block) if block.kind == "tool_use" => {
                    turn.tool(index, block.id.as_deref(), block.name.as_deref(), "");
                }
                Some(block) => turn.text(block.text.as_deref().unwrap_or("")),
                None => {}
            },
            "content_block_delta" => {
                if let Some(delta) = event.delta {
                    match delta.kind.as_deref() {
                        Some("text_delta") => turn.text(delta.text.as_deref().unwrap_or("")),
                        Some("input_json_delta") => turn.tool(
                            index,
                            None,
                            None,
                            delta.partial_json.as_deref().unwrap_or(""),
                        ),
                        // thinking, signatures, citations: not part of the answer.
                        _ => {}
                    }
                }
            }
            "message_delta" => {
                if let Some(reason) = event.delta.and_then(|d| d.stop_reason) {
                    turn.finish_reason = Some(match reason.as_str() {
                        "end_turn" | "stop_sequence" => FinishReason::Stop,
                        "max_tokens" => FinishReason::Length,
                        "tool_use" => FinishReason::ToolCalls,
                        "refusal" => FinishReason::ContentFilter,
                        other => FinishReason::Other(other.to_string()),
                    });
                }
                if let Some(usage) = event.usage {
                    turn.input_tokens = usage.input().or(turn.input_tokens);
                    turn.output_tokens = usage.output_tokens.or(turn.output_tokens);
                }
            }
            "message_stop" => turn.complete = true,
            "error" => {
                let error = event.error;
                let kind = error
                    .as_ref()
                    .and_then(|e| e.kind.clone())
                    .unwrap_or_default();
                let message = error
                    .and_then(|e| e.message)
                    .unwrap_or_else(|| kind.clone());
                return Err(CallError::new(
                    class_of_error_type(&kind),
                    format!("the stream reported an error: {message}"),
                ));
            }
            // ping, content_block_stop, and event types added later.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;
    use warren_protocol::agent::{Price, ProviderErrorClass, ProviderKind};

    use super::*;
    use crate::provider::request::{ToolCall, ToolSpec};

    fn decode(events: &[&str]) -> (Result<(), CallError>, crate::provider::Completion, bool) {
        let mut on_delta = |_: &str| {};
        let mut turn = Turn::new(Instant::now(), &mut on_delta);
        let mut decoder = Decoder;
        let mut result = Ok(());
        for data in events {
            result = decoder.feed("", data, &mut turn);
            if result.is_err() {
                break;
            }
        }
        let complete = turn.complete;
        (result, turn.finish(0, false), complete)
    }

    #[test]
    fn text_tool_use_and_usage_are_read() {
        let (result, done, complete) = decode(&[
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check."}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"search","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\": \"rel"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ease\"}"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}"#,
            r#"{"type":"message_stop"}"#,
        ]);
        assert!(result.is_ok() && complete);
        assert_eq!(done.text, "Let me check.");
        assert_eq!(
            done.tool_calls,
            [ToolCall {
                id: "toolu_1".into(),
                name: "search".into(),
                arguments: r#"{"q": "release"}"#.into()
            }]
        );
        assert_eq!(done.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(
            (done.usage.input_tokens, done.usage.output_tokens),
            (30, 42)
        );
        assert!(!done.usage.counted);
    }

    #[test]
    fn an_error_event_is_classified_and_keeps_the_text() {
        let (result, done, complete) = decode(&[
            r#"{"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hal"}}"#,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ]);
        let err = result.expect_err("error event");
        assert_eq!(err.class, ProviderErrorClass::Server);
        assert!(err.message.ends_with("Overloaded"));
        assert!(!complete);
        assert_eq!(done.text, "Hal");
        // The input came in message_start; the output is counted.
        assert!(done.usage.counted);
        assert_eq!(done.usage.input_tokens, 3);
    }

    #[test]
    fn the_request_merges_roles_and_sends_the_key_in_x_api_key() {
        let config = ProviderConfig {
            name: "claude".into(),
            kind: ProviderKind::Anthropic,
            base_url: "https://api.anthropic.com/v1".into(),
            key_env: None,
            models: vec![],
            price: Price::default(),
            context_tokens: None,
        };
        let request = ModelRequest {
            model: "claude-x".into(),
            system: "sys".into(),
            messages: vec![
                ChatMessage::User { text: "a".into() },
                ChatMessage::Assistant {
                    text: String::new(),
                    tool_calls: vec![
                        ToolCall {
                            id: "t1".into(),
                            name: "s".into(),
                            arguments: "{\"q\":1}".into(),
                        },
                        ToolCall {
                            id: "t2".into(),
                            name: "s".into(),
                            arguments: "not json".into(),
                        },
                    ],
                },
                ChatMessage::ToolResult {
                    call_id: "t1".into(),
                    name: "s".into(),
                    content: "r1".into(),
                },
                ChatMessage::ToolResult {
                    call_id: "t2".into(),
                    name: "s".into(),
                    content: "r2".into(),
                },
            ],
            tools: vec![ToolSpec {
                name: "s".into(),
                description: "d".into(),
                parameters: json!({"type":"object"}),
            }],
            tool_choice: ToolChoice::Required("s".into()),
            max_tokens: None,
            temperature: None,
        };
        let key = crate::provider::config::tests_key("sk-ant-secret");
        let built = build(&config, Some(&key), &request).expect("built");
        assert_eq!(built.url, "https://api.anthropic.com/v1/messages");
        let messages = built.body["messages"].as_array().expect("messages");
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(messages[1]["content"][0]["input"], json!({"q": 1}));
        assert_eq!(messages[1]["content"][1]["input"], json!({}));
        assert_eq!(messages[2]["content"].as_array().map(Vec::len), Some(2));
        assert_eq!(built.body["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(built.body["system"], "sys");
        assert_eq!(
            built.body["tool_choice"],
            json!({"type": "tool", "name": "s"})
        );
        assert!(!built.body.to_string().contains("sk-ant-secret"));
        let names: Vec<&str> = built.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["anthropic-version", "x-api-key"]);
        assert!(built.headers[1].1.is_sensitive());
    }
}
