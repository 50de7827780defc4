//! Ollama's native dialect: `POST {base}/api/chat` with `stream: true`, answered by one JSON
//! object a line (`message.content`, whole `message.tool_calls`, and on the last line
//! `done: true` with `done_reason`, `prompt_eval_count` and `eval_count`). No key is needed
//! locally; one given goes in `Authorization: Bearer` (a proxy in front). Ollama cannot be made
//! to call a named tool: `Required(name)` offers that tool alone.

use serde::Deserialize;
use serde_json::{Value, json};

use super::config::{ApiKey, ProviderConfig};
use super::dialect::{Built, Decode, arguments_value, secret_header, unparsable};
use super::error::CallError;
use super::request::{ChatMessage, FinishReason, ModelRequest, ToolChoice};
use super::turn::Turn;
use warren_protocol::agent::ProviderErrorClass;

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
            ChatMessage::Assistant { text, tool_calls } => {
                let mut m = json!({"role": "assistant", "content": text});
                if !tool_calls.is_empty() {
                    m["tool_calls"] = tool_calls
                        .iter()
                        .map(|c| json!({"function": {"name": c.name, "arguments": arguments_value(&c.arguments)}}))
                        .collect();
                }
                m
            }
            ChatMessage::ToolResult { name, content, .. } => {
                json!({"role": "tool", "content": content, "tool_name": name})
            }
        });
    }
    let mut body = json!({"model": request.model, "messages": messages, "stream": true});
    let offered: Vec<Value> = request
        .tools
        .iter()
        .filter(|t| match &request.tool_choice {
            ToolChoice::Auto => true,
            ToolChoice::None => false,
            ToolChoice::Required(name) => &t.name == name,
        })
        .map(|t| {
            json!({"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters,
            }})
        })
        .collect();
    if !offered.is_empty() {
        body["tools"] = Value::Array(offered);
    }
    let mut options = serde_json::Map::new();
    if let Some(t) = request.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(max) = request.max_tokens {
        options.insert("num_predict".into(), json!(max));
    }
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    let mut headers = Vec::new();
    if let Some(key) = key {
        headers.push(secret_header(
            "authorization",
            &format!("Bearer {}", key.expose()),
        )?);
    }
    Ok(Built {
        url: format!("{}/api/chat", config.base()),
        headers,
        body,
    })
}

#[derive(Deserialize)]
struct Line {
    message: Option<MessageJson>,
    #[serde(default)]
    done: bool,
    done_reason: Option<String>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct MessageJson {
    content: Option<String>,
    tool_calls: Option<Vec<CallJson>>,
}

#[derive(Deserialize)]
struct CallJson {
    function: FunctionJson,
}

#[derive(Deserialize)]
struct FunctionJson {
    name: String,
    #[serde(default)]
    arguments: Value,
}

/// The stream's decoder.
#[derive(Default)]
pub struct Decoder {
    calls: u64,
}

impl Decode for Decoder {
    fn feed(&mut self, _event: &str, data: &str, turn: &mut Turn<'_>) -> Result<(), CallError> {
        let line: Line = serde_json::from_str(data).map_err(|e| unparsable(data, &e))?;
        if let Some(error) = line.error {
            return Err(CallError::new(
                ProviderErrorClass::Server,
                format!("the stream reported an error: {error}"),
            ));
        }
        if let Some(message) = line.message {
            turn.text(message.content.as_deref().unwrap_or(""));
            for call in message.tool_calls.unwrap_or_default() {
                let arguments = match call.function.arguments {
                    Value::Null => "{}".to_string(),
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                turn.tool(self.calls, None, Some(&call.function.name), &arguments);
                self.calls += 1;
            }
        }
        if line.done {
            turn.complete = true;
            turn.input_tokens = line.prompt_eval_count.or(turn.input_tokens);
            turn.output_tokens = line.eval_count.or(turn.output_tokens);
            turn.finish_reason = Some(match line.done_reason.as_deref() {
                _ if self.calls > 0 => FinishReason::ToolCalls,
                Some("stop") | None => FinishReason::Stop,
                Some("length") => FinishReason::Length,
                Some(other) => FinishReason::Other(other.to_string()),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;

    #[test]
    fn lines_give_text_tool_calls_and_counts() {
        let mut on_delta = |_: &str| {};
        let mut turn = Turn::new(Instant::now(), &mut on_delta);
        let mut decoder = Decoder::default();
        for line in [
            r#"{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Hi"},"done":false}"#,
            r#"{"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"search","arguments":{"q":"x"}}}]},"done":false}"#,
            r#"{"model":"llama3.2","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":9}"#,
        ] {
            decoder.feed("", line, &mut turn).expect("line");
        }
        assert!(turn.complete);
        let done = turn.finish(0, true);
        assert_eq!(done.text, "Hi");
        assert_eq!(done.tool_calls[0].name, "search");
        assert_eq!(done.tool_calls[0].arguments, r#"{"q":"x"}"#);
        assert_eq!(done.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(
            (
                done.usage.input_tokens,
                done.usage.output_tokens,
                done.usage.counted
            ),
            (26, 9, false)
        );

        let mut turn = Turn::new(Instant::now(), &mut on_delta);
        let err = Decoder::default()
            .feed(
                "",
                r#"{"error":"model requires more system memory"}"#,
                &mut turn,
            )
            .expect_err("error line");
        assert_eq!(err.class, ProviderErrorClass::Server);
    }
}
