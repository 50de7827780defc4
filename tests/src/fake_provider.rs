//! A fake model provider: a real HTTP server on `127.0.0.1:0` that speaks the providers'
//! streaming dialects (OpenAI chat completions, Anthropic messages, Ollama's `/api/chat`,
//! Gemini's `streamGenerateContent`) and does, per request, what the test scripted for the model
//! asked: stream tokens (with delays, with or without usage, a forced tool call), refuse with a
//! status and `Retry-After`, hang, stall, disconnect mid-stream or send a malformed event. It
//! records every request it gets (path, headers, body) for the test to inspect, and when it
//! wrote each token of every stream (for latency benchmarks: [`FakeProvider::token_writes`]).
//!
//! ```ignore
//! let fake = FakeProvider::start().await;
//! fake.script("m", [Behaviour::status(429).retry_after("1"), Behaviour::tokens(["Hel", "lo"])]);
//! // base URLs: fake.openai_url(), fake.anthropic_url(), fake.ollama_url(), fake.gemini_url()
//! ```

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::time::Instant;

/// How the stream of a scripted answer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The dialect's proper end (finish reason, usage, `[DONE]`).
    Complete,
    /// The connection is cut after the tokens (no end marker, the body unfinished).
    Disconnect,
    /// Nothing more is sent and the connection stays open.
    Stall,
    /// A malformed event after the tokens, then the connection is closed.
    Malformed,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Stream an answer.
    Stream {
        tokens: Vec<String>,
        /// Before the first token (after the headers).
        first_delay: Duration,
        /// Before every further token.
        token_delay: Duration,
        /// Report usage (`(input, output)`); `None`: the stream carries none.
        usage: Option<(u64, u64)>,
        /// A tool call after the text: its name and arguments (streamed in pieces).
        tool_call: Option<(String, String)>,
        end: End,
    },
    /// Answer with this status (and `Retry-After`), an error body in the dialect's shape.
    Refuse {
        status: u16,
        retry_after: Option<String>,
        message: String,
    },
    /// Never answer: no status line, no headers.
    Hang,
}

/// The settable fields of a [`Behaviour::Stream`]: first delay, token delay, usage, tool call,
/// end.
type StreamFields<'a> = (
    &'a mut Duration,
    &'a mut Duration,
    &'a mut Option<(u64, u64)>,
    &'a mut Option<(String, String)>,
    &'a mut End,
);

impl Behaviour {
    /// Stream `tokens`, then end properly, reporting usage (11 input tokens, one output token a
    /// token streamed).
    pub fn tokens<S: Into<String>>(tokens: impl IntoIterator<Item = S>) -> Behaviour {
        let tokens: Vec<String> = tokens.into_iter().map(Into::into).collect();
        Behaviour::Stream {
            usage: Some((11, tokens.len() as u64)),
            tokens,
            first_delay: Duration::ZERO,
            token_delay: Duration::ZERO,
            tool_call: None,
            end: End::Complete,
        }
    }

    /// A forced tool call (no text): `name` with `arguments`.
    pub fn tool_call(name: &str, arguments: &str) -> Behaviour {
        Behaviour::tokens(Vec::<String>::new()).with_tool_call(name, arguments)
    }

    /// Refuse with `status`.
    pub fn status(status: u16) -> Behaviour {
        Behaviour::Refuse {
            status,
            retry_after: None,
            message: format!("fake provider says {status}"),
        }
    }

    /// Never answer.
    pub fn hang() -> Behaviour {
        Behaviour::Hang
    }

    /// A refusal's `Retry-After` header value (`"1"`, or an HTTP date).
    pub fn retry_after(mut self, value: &str) -> Behaviour {
        if let Behaviour::Refuse { retry_after, .. } = &mut self {
            *retry_after = Some(value.to_string());
        }
        self
    }

    /// A refusal's error message.
    pub fn message(mut self, text: &str) -> Behaviour {
        if let Behaviour::Refuse { message, .. } = &mut self {
            *message = text.to_string();
        }
        self
    }

    fn stream_mut(&mut self) -> Option<StreamFields<'_>> {
        match self {
            Behaviour::Stream {
                first_delay,
                token_delay,
                usage,
                tool_call,
                end,
                ..
            } => Some((first_delay, token_delay, usage, tool_call, end)),
            _ => None,
        }
    }

    /// Wait this long before the first token.
    pub fn first_delay(mut self, delay: Duration) -> Behaviour {
        if let Some(s) = self.stream_mut() {
            *s.0 = delay;
        }
        self
    }

    /// Wait this long before every further token.
    pub fn token_delay(mut self, delay: Duration) -> Behaviour {
        if let Some(s) = self.stream_mut() {
            *s.1 = delay;
        }
        self
    }

    /// Report no usage (llama.cpp).
    pub fn without_usage(mut self) -> Behaviour {
        if let Some(s) = self.stream_mut() {
            *s.2 = None;
        }
        self
    }

    /// Report this usage.
    pub fn usage(mut self, input: u64, output: u64) -> Behaviour {
        if let Some(s) = self.stream_mut() {
            *s.2 = Some((input, output));
        }
        self
    }

    /// Call a tool after the text.
    pub fn with_tool_call(mut self, name: &str, arguments: &str) -> Behaviour {
        if let Some(s) = self.stream_mut() {
            *s.3 = Some((name.to_string(), arguments.to_string()));
        }
        self
    }

    /// End the stream this way.
    pub fn end(mut self, how: End) -> Behaviour {
        if let Some(s) = self.stream_mut() {
            *s.4 = how;
        }
        self
    }
}

/// The API dialect of a request, from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Openai,
    Anthropic,
    Ollama,
    Gemini,
}

/// A request the fake got.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub dialect: Option<Dialect>,
    pub model: String,
    /// The path with its query.
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub at: Instant,
}

impl Recorded {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// When each token of one answer was handed to the HTTP server, in order.
type Writes = Arc<Mutex<Vec<std::time::Instant>>>;

#[derive(Default)]
struct Script {
    queued: HashMap<String, VecDeque<Behaviour>>,
    always: HashMap<String, Behaviour>,
    requests: Vec<Recorded>,
    /// One entry per request, beside `requests`.
    writes: Vec<Writes>,
}

type Shared = Arc<Mutex<Script>>;

/// The running fake; it stops when dropped.
pub struct FakeProvider {
    addr: SocketAddr,
    script: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeProvider {
    /// Starts the fake on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<FakeProvider> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let script: Shared = Arc::default();
        let app = Router::new().fallback(handle).with_state(script.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeProvider { addr, script, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the OpenAI-compatible API (`…/v1`).
    pub fn openai_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The base URL of the Anthropic API (`…/v1`).
    pub fn anthropic_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The base URL of Ollama's API.
    pub fn ollama_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of the Gemini API (`…/v1beta`).
    pub fn gemini_url(&self) -> String {
        format!("http://{}/v1beta", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues answers for requests naming `model`, used one a request in order.
    pub fn script(&self, model: &str, behaviours: impl IntoIterator<Item = Behaviour>) {
        self.lock()
            .queued
            .entry(model.to_string())
            .or_default()
            .extend(behaviours);
    }

    /// The answer for `model` once its queue is empty.
    pub fn always(&self, model: &str, behaviour: Behaviour) {
        self.lock().always.insert(model.to_string(), behaviour);
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// When the fake wrote each token of the answer to request `n` (an index into
    /// [`FakeProvider::requests`]): the moment the token's frame went to the HTTP server, just
    /// before it is written to the socket. Empty for an answer without tokens or a request it
    /// never got. Tool call pieces count as tokens.
    pub fn token_writes(&self, n: usize) -> Vec<std::time::Instant> {
        let writes = self.lock().writes.get(n).cloned();
        writes
            .map(|w| w.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .unwrap_or_default()
    }

    /// The requests so far that named `model`.
    pub fn requests_for(&self, model: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.model == model)
            .collect()
    }
}

async fn handle(State(script): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let plain = parts.uri.path();
    let (dialect, model) = if plain.ends_with("/chat/completions") {
        (
            Some(Dialect::Openai),
            body["model"].as_str().unwrap_or("").to_string(),
        )
    } else if plain.ends_with("/messages") {
        (
            Some(Dialect::Anthropic),
            body["model"].as_str().unwrap_or("").to_string(),
        )
    } else if plain.ends_with("/api/chat") {
        (
            Some(Dialect::Ollama),
            body["model"].as_str().unwrap_or("").to_string(),
        )
    } else if let Some(rest) = plain.split("/models/").nth(1)
        && let Some(model) = rest.strip_suffix(":streamGenerateContent")
    {
        (Some(Dialect::Gemini), model.to_string())
    } else {
        (None, String::new())
    };
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let writes = Writes::default();
    let behaviour = {
        let mut script = script.lock().unwrap_or_else(|p| p.into_inner());
        script.writes.push(writes.clone());
        script.requests.push(Recorded {
            dialect,
            model: model.clone(),
            path,
            headers,
            body,
            at: Instant::now(),
        });
        let queued = script.queued.get_mut(&model).and_then(VecDeque::pop_front);
        queued.or_else(|| script.always.get(&model).cloned())
    };
    let Some(dialect) = dialect else {
        return refuse(
            Dialect::Openai,
            404,
            None,
            "fake provider: no such endpoint",
        );
    };
    match behaviour {
        None => refuse(
            dialect,
            404,
            None,
            &format!("fake provider: nothing scripted for model {model}"),
        ),
        Some(Behaviour::Hang) => std::future::pending().await,
        Some(Behaviour::Refuse {
            status,
            retry_after,
            message,
        }) => refuse(dialect, status, retry_after.as_deref(), &message),
        Some(Behaviour::Stream {
            tokens,
            first_delay,
            token_delay,
            usage,
            tool_call,
            end,
        }) => stream(
            dialect,
            &model,
            tokens,
            first_delay,
            token_delay,
            usage,
            tool_call,
            end,
            writes,
        ),
    }
}

fn refuse(dialect: Dialect, status: u16, retry_after: Option<&str>, message: &str) -> Response {
    let body = match dialect {
        Dialect::Ollama => json!({"error": message}),
        Dialect::Anthropic => {
            json!({"type": "error", "error": {"type": "api_error", "message": message}})
        }
        Dialect::Openai | Dialect::Gemini => json!({"error": {"message": message, "code": status}}),
    };
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

/// One piece of the body and the pause before it.
struct Piece {
    delay: Duration,
    bytes: Bytes,
    /// Whether it carries a token (its write time is noted).
    token: bool,
}

#[allow(clippy::too_many_arguments)]
fn stream(
    dialect: Dialect,
    model: &str,
    tokens: Vec<String>,
    first_delay: Duration,
    token_delay: Duration,
    usage: Option<(u64, u64)>,
    tool_call: Option<(String, String)>,
    end: End,
    writes: Writes,
) -> Response {
    let frames = frames(dialect, model, &tokens, usage, tool_call.as_ref());
    let mut pieces = Vec::new();
    let mut first = true;
    for (is_token, frame) in frames.head {
        let delay = if is_token {
            let d = if first { first_delay } else { token_delay };
            first = false;
            d
        } else {
            Duration::ZERO
        };
        pieces.push(Piece {
            delay,
            bytes: frame.into(),
            token: is_token,
        });
    }
    match end {
        End::Complete => pieces.extend(frames.tail.into_iter().map(|f| Piece {
            delay: Duration::ZERO,
            bytes: f.into(),
            token: false,
        })),
        End::Malformed => pieces.push(Piece {
            delay: Duration::ZERO,
            bytes: match dialect {
                Dialect::Ollama => "{\"message\":{\"content\":\n".into(),
                _ => "data: {\"choices\":[{\"delta\":{\"content\":\n\n".into(),
            },
            token: false,
        }),
        End::Disconnect | End::Stall => {}
    }
    let body = futures_util::stream::iter(pieces)
        .then(move |piece| {
            let writes = writes.clone();
            async move {
                if !piece.delay.is_zero() {
                    tokio::time::sleep(piece.delay).await;
                }
                if piece.token {
                    writes
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(std::time::Instant::now());
                }
                Ok::<Bytes, std::io::Error>(piece.bytes)
            }
        })
        .chain(futures_util::stream::once(async move {
            match end {
                End::Disconnect => {
                    // Let hyper write what it holds first (it flushes while the body is
                    // pending); then the error makes it drop the connection mid-body.
                    tokio::task::yield_now().await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(std::io::Error::other("fake provider: cut mid-stream"))
                }
                End::Stall => std::future::pending().await,
                End::Complete | End::Malformed => Ok(Bytes::new()),
            }
        }));
    let content_type = match dialect {
        Dialect::Ollama => "application/x-ndjson",
        _ => "text/event-stream",
    };
    let mut response = Response::new(Body::from_stream(body));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    response
}

/// A dialect's frames: the head (each flagged when it carries a token) and the proper end.
struct Frames {
    head: Vec<(bool, String)>,
    tail: Vec<String>,
}

fn sse(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn sse_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// A tool call's arguments in three pieces, as providers stream them.
fn pieces_of(arguments: &str) -> Vec<String> {
    let chars: Vec<char> = arguments.chars().collect();
    let third = chars.len().div_ceil(3).max(1);
    chars.chunks(third).map(|c| c.iter().collect()).collect()
}

fn frames(
    dialect: Dialect,
    model: &str,
    tokens: &[String],
    usage: Option<(u64, u64)>,
    tool_call: Option<&(String, String)>,
) -> Frames {
    let mut head = Vec::new();
    let mut tail = Vec::new();
    match dialect {
        Dialect::Openai => {
            let chunk = |delta: Value, finish: Value| {
                json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            };
            head.push((
                false,
                sse(&chunk(
                    json!({"role": "assistant", "content": ""}),
                    Value::Null,
                )),
            ));
            for token in tokens {
                head.push((true, sse(&chunk(json!({"content": token}), Value::Null))));
            }
            if let Some((name, arguments)) = tool_call {
                head.push((
                    true,
                    sse(&chunk(
                        json!({"tool_calls": [{"index": 0, "id": "call_fake_0", "type": "function",
                                           "function": {"name": name, "arguments": ""}}]}),
                        Value::Null,
                    )),
                ));
                for piece in pieces_of(arguments) {
                    head.push((
                        true,
                        sse(&chunk(
                            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                            Value::Null,
                        )),
                    ));
                }
            }
            let finish = if tool_call.is_some() {
                "tool_calls"
            } else {
                "stop"
            };
            tail.push(sse(&chunk(json!({}), json!(finish))));
            if let Some((input, output)) = usage {
                tail.push(sse(
                    &json!({"id": "chatcmpl-fake", "choices": [], "usage": {
                    "prompt_tokens": input, "completion_tokens": output,
                    "total_tokens": input + output}}),
                ));
            }
            tail.push("data: [DONE]\n\n".to_string());
        }
        Dialect::Anthropic => {
            let start_usage = match usage {
                Some((input, _)) => json!({"input_tokens": input, "output_tokens": 1}),
                None => json!({}),
            };
            head.push((
                false,
                sse_event(
                    "message_start",
                    &json!({"type": "message_start", "message": {
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [], "usage": start_usage}}),
                ),
            ));
            head.push((
                false,
                sse_event(
                    "content_block_start",
                    &json!({"type": "content_block_start",
                "index": 0, "content_block": {"type": "text", "text": ""}}),
                ),
            ));
            for token in tokens {
                head.push((
                    true,
                    sse_event(
                        "content_block_delta",
                        &json!({"type": "content_block_delta",
                    "index": 0, "delta": {"type": "text_delta", "text": token}}),
                    ),
                ));
            }
            if let Some((name, arguments)) = tool_call {
                head.push((
                    true,
                    sse_event(
                        "content_block_start",
                        &json!({"type": "content_block_start",
                    "index": 1, "content_block": {"type": "tool_use", "id": "toolu_fake_0",
                    "name": name, "input": {}}}),
                    ),
                ));
                for piece in pieces_of(arguments) {
                    head.push((
                        true,
                        sse_event(
                            "content_block_delta",
                            &json!({"type": "content_block_delta",
                        "index": 1, "delta": {"type": "input_json_delta", "partial_json": piece}}),
                        ),
                    ));
                }
            }
            let stop = if tool_call.is_some() {
                "tool_use"
            } else {
                "end_turn"
            };
            let mut delta = json!({"type": "message_delta", "delta": {"stop_reason": stop}});
            if let Some((_, output)) = usage {
                delta["usage"] = json!({"output_tokens": output});
            }
            tail.push(sse_event("message_delta", &delta));
            tail.push(sse_event("message_stop", &json!({"type": "message_stop"})));
        }
        Dialect::Ollama => {
            let line = |content: &str, extra: Option<Value>| {
                let mut v = json!({"model": model, "created_at": "2026-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": content}, "done": false});
                if let Some(calls) = extra {
                    v["message"]["tool_calls"] = calls;
                }
                format!("{v}\n")
            };
            for token in tokens {
                head.push((true, line(token, None)));
            }
            if let Some((name, arguments)) = tool_call {
                let args: Value = serde_json::from_str(arguments).unwrap_or(json!({}));
                head.push((
                    true,
                    line(
                        "",
                        Some(json!([{"function": {"name": name, "arguments": args}}])),
                    ),
                ));
            }
            let mut done = json!({"model": model, "message": {"role": "assistant", "content": ""},
                "done": true, "done_reason": "stop"});
            if let Some((input, output)) = usage {
                done["prompt_eval_count"] = json!(input);
                done["eval_count"] = json!(output);
            }
            tail.push(format!("{done}\n"));
        }
        Dialect::Gemini => {
            let chunk = |parts: Value| json!({"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}]});
            for token in tokens {
                head.push((true, sse(&chunk(json!([{"text": token}])))));
            }
            if let Some((name, arguments)) = tool_call {
                let args: Value = serde_json::from_str(arguments).unwrap_or(json!({}));
                head.push((
                    true,
                    sse(&chunk(
                        json!([{"functionCall": {"name": name, "args": args}}]),
                    )),
                ));
            }
            let mut last = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]},
                "finishReason": "STOP", "index": 0}]});
            if let Some((input, output)) = usage {
                last["usageMetadata"] = json!({"promptTokenCount": input, "candidatesTokenCount": output,
                    "totalTokenCount": input + output});
            }
            tail.push(sse(&last));
        }
    }
    Frames { head, tail }
}
