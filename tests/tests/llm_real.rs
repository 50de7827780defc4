//! The real language model the agent tests run against (issue 9): llama.cpp's OpenAI-compatible
//! server serving SmolLM2-135M-Instruct (`support/llm.rs`), spoken to with plain reqwest. A
//! streamed reply at temperature 0 arrives as SSE deltas and the same request on the same server
//! state gets the same text (the first reply to a prompt may differ from later ones: see the
//! test); a
//! `tool_choice` naming a tool returns that tool call with JSON arguments, whole and streamed; a
//! stream dropped mid-way stops the generation and the next request is answered; a request that
//! arrives while another streams waits for it instead of cutting it short
//! (`--interrupt_requests False`).
//!
//! Skips (prints `SKIPPED …`) when `tests/llm/setup` has not been run, unless
//! `WARREN_LLM_REQUIRED=1` (`.ci/run`). The tests take turns on the one shared server, so the
//! figures they print (`cargo test -p warren-e2e --test llm_real -- --nocapture`) are not
//! inflated by each other: load time, time to first token, tokens per second.

#[path = "support/llm.rs"]
mod llm;

use std::time::{Duration, Instant};

use llm::{LlamaServer, Sse};
use serde_json::{Value, json};

/// One test at a time on the shared server (requests queue there anyway).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A streamed chat completion, as it arrived.
#[derive(Debug)]
struct Streamed {
    /// The content deltas, in order.
    deltas: Vec<String>,
    /// The last `finish_reason` seen (llama.cpp sends it on the last chunk).
    finish: Option<String>,
    /// Whether the stream ended with `data: [DONE]`.
    done: bool,
    /// From sending the request to the first content delta.
    first_token: Option<Duration>,
    /// From the first content delta to the last.
    generating: Duration,
    /// Tool-call fragments: (name, arguments concatenated), by index.
    tool_calls: Vec<(String, String)>,
}

impl Streamed {
    fn text(&self) -> String {
        self.deltas.concat()
    }

    /// Tokens per second while generating (one delta is one token in llama.cpp's stream).
    fn tokens_per_second(&self) -> f64 {
        let secs = self.generating.as_secs_f64();
        if self.deltas.len() < 2 || secs == 0.0 {
            return 0.0;
        }
        (self.deltas.len() - 1) as f64 / secs
    }
}

fn chat(server: &LlamaServer, prompt: &str, max_tokens: u32, stream: bool) -> Value {
    json!({
        "model": server.model(),
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0,
        "max_tokens": max_tokens,
        "stream": stream,
    })
}

/// `chat` with the `create_card` tool, forced through `tool_choice`.
fn forced_tool_call(server: &LlamaServer, stream: bool) -> Value {
    let mut body = chat(
        server,
        "Create a card titled Fix the login bug.",
        64,
        stream,
    );
    body["tools"] = json!([{
        "type": "function",
        "function": {
            "name": "create_card",
            "description": "Create a card on the team's board.",
            "parameters": {
                "type": "object",
                "properties": {"title": {"type": "string"}},
                "required": ["title"],
            },
        },
    }]);
    body["tool_choice"] = json!({"type": "function", "function": {"name": "create_card"}});
    body
}

/// Sends `body` (with `"stream": true`) and returns the open event stream.
async fn open_stream(server: &LlamaServer, body: &Value) -> Sse {
    let response = llm::http()
        .post(format!("{}/chat/completions", server.base_url()))
        .json(body)
        .send()
        .await
        .expect("the llama.cpp server answers");
    assert_eq!(response.status(), 200, "streamed chat completion");
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/event-stream"), "content-type {kind}");
    Sse::new(response)
}

/// Reads one chunk of a stream into `into`; false at `[DONE]` or the end of the body.
async fn read_chunk(
    sse: &mut Sse,
    into: &mut Streamed,
    sent: Instant,
    first: &mut Option<Instant>,
) -> bool {
    let Some(data) = sse.next().await else {
        return false;
    };
    if data == "[DONE]" {
        into.done = true;
        return false;
    }
    let chunk: Value =
        serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: an SSE chunk {data}"));
    assert_eq!(chunk["object"], "chat.completion.chunk", "{chunk}");
    let choice = &chunk["choices"][0];
    if let Some(reason) = choice["finish_reason"].as_str() {
        into.finish = Some(reason.to_owned());
    }
    let delta = &choice["delta"];
    if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
        let now = Instant::now();
        let first = *first.get_or_insert(now);
        into.first_token.get_or_insert(now - sent);
        into.generating = now - first;
        into.deltas.push(text.to_owned());
    }
    for call in delta["tool_calls"].as_array().into_iter().flatten() {
        let index = call["index"]
            .as_u64()
            .expect("a tool call delta has an index") as usize;
        if into.tool_calls.len() <= index {
            into.tool_calls
                .resize(index + 1, (String::new(), String::new()));
        }
        let (name, arguments) = &mut into.tool_calls[index];
        // llama.cpp repeats the name on every fragment; OpenAI sends it once.
        if let Some(n) = call["function"]["name"].as_str() {
            *name = n.to_owned();
        }
        arguments.push_str(call["function"]["arguments"].as_str().unwrap_or_default());
    }
    true
}

fn empty() -> Streamed {
    Streamed {
        deltas: Vec::new(),
        finish: None,
        done: false,
        first_token: None,
        generating: Duration::ZERO,
        tool_calls: Vec::new(),
    }
}

/// A whole streamed chat completion.
async fn stream(server: &LlamaServer, body: &Value) -> Streamed {
    let sent = Instant::now();
    let mut sse = open_stream(server, body).await;
    let mut out = empty();
    let mut first = None;
    while read_chunk(&mut sse, &mut out, sent, &mut first).await {}
    out
}

/// A whole non-streamed chat completion.
async fn complete(server: &LlamaServer, body: &Value) -> Value {
    let response = llm::http()
        .post(format!("{}/chat/completions", server.base_url()))
        .json(body)
        .send()
        .await
        .expect("the llama.cpp server answers");
    assert_eq!(response.status(), 200, "chat completion");
    response.json().await.expect("a JSON chat completion")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_reply_at_temperature_zero_arrives_as_deltas_and_repeats() {
    let Some(server) = llm::shared("llm_real::streamed_reply").await else {
        return;
    };
    let _turn = TURN.lock().await;
    let body = chat(server, "Name three colours.", 12, true);
    // The first reply to a prompt is computed from the whole prompt in one batch; from then on
    // llama.cpp reuses the prompt cached from the last request and recomputes only its last
    // token, which rounds differently and may pick another word. So a prompt's later replies
    // repeat each other exactly, and the first may differ from them.
    let first = stream(server, &body).await;
    let second = stream(server, &body).await;
    let third = stream(server, &body).await;
    for reply in [&first, &second, &third] {
        assert!(reply.done, "the stream ends with [DONE]: {reply:?}");
        assert!(reply.deltas.len() >= 2, "several deltas: {reply:?}");
        assert!(
            matches!(reply.finish.as_deref(), Some("stop" | "length")),
            "a finish reason: {reply:?}"
        );
    }
    assert!(!second.text().trim().is_empty(), "a reply: {second:?}");
    assert_eq!(second.text(), third.text(), "greedy decoding repeats");
    println!(
        "llm_real: the first reply {} the later ones ({:?} / {:?})",
        if first.text() == second.text() {
            "matches"
        } else {
            "differs from"
        },
        first.text(),
        second.text()
    );

    let ttft = first.first_token.expect("a first token");
    println!(
        "llm_real: model loaded in {:.2} s; first token after {} ms (again: {} ms); {:.1} tokens/s \
         ({} tokens)",
        server.load_time.as_secs_f64(),
        ttft.as_millis(),
        second.first_token.unwrap_or_default().as_millis(),
        first.tokens_per_second().max(second.tokens_per_second()),
        first.deltas.len(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_choice_naming_a_tool_returns_its_call_with_json_arguments() {
    let Some(server) = llm::shared("llm_real::tool_choice").await else {
        return;
    };
    let _turn = TURN.lock().await;
    let whole = complete(server, &forced_tool_call(server, false)).await;
    let choice = &whole["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls", "{whole}");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function", "{whole}");
    assert_eq!(call["function"]["name"], "create_card", "{whole}");
    assert!(
        call["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{whole}"
    );
    let raw = call["function"]["arguments"]
        .as_str()
        .expect("arguments are a JSON string");
    let arguments: Value =
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("{e}: arguments {raw}"));
    let title = arguments["title"].as_str().expect("a title argument");
    assert!(!title.trim().is_empty(), "{arguments}");
    assert!(
        whole["usage"]["completion_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "usage without streaming: {whole}"
    );

    // Streamed: the fragments of the arguments add up to the same JSON.
    let streamed = stream(server, &forced_tool_call(server, true)).await;
    assert!(streamed.done, "{streamed:?}");
    assert_eq!(streamed.tool_calls.len(), 1, "{streamed:?}");
    let (name, fragments) = &streamed.tool_calls[0];
    assert_eq!(name, "create_card");
    let streamed_arguments: Value = serde_json::from_str(fragments)
        .unwrap_or_else(|e| panic!("{e}: streamed arguments {fragments}"));
    assert_eq!(streamed_arguments, arguments);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_stream_midway_stops_it_and_the_next_request_is_answered() {
    let Some(server) = llm::shared("llm_real::dropped_stream").await else {
        return;
    };
    let _turn = TURN.lock().await;
    let disconnects = || server.output().matches("Disconnected from client").count();
    let before = disconnects();

    let sent = Instant::now();
    let mut sse = open_stream(
        server,
        &chat(server, "Write a long story about a rabbit.", 512, true),
    )
    .await;
    let mut partial = empty();
    let mut first = None;
    while partial.deltas.len() < 3 {
        assert!(
            read_chunk(&mut sse, &mut partial, sent, &mut first).await,
            "the stream ended before three deltas: {partial:?}"
        );
    }
    drop(sse);

    // The server notices at its next token and stops generating (it prints this as it leaves the
    // generation loop), rather than producing the other ~500 tokens for nobody.
    let deadline = Instant::now() + Duration::from_secs(60);
    while disconnects() == before {
        assert!(
            Instant::now() < deadline,
            "the server did not notice the dropped stream within 60 s; its output:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let next = complete(server, &chat(server, "Say hello.", 8, false)).await;
    let text = next["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !text.trim().is_empty(),
        "the next request is answered: {next}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_during_a_stream_waits_instead_of_cutting_it_short() {
    let Some(server) = llm::shared("llm_real::concurrent").await else {
        return;
    };
    let _turn = TURN.lock().await;
    // Long enough to run until max_tokens: a stream that ends with finish_reason "length" ran
    // to its end.
    let body = chat(server, "Write a long story about a rabbit.", 24, true);
    let sent = Instant::now();
    let mut sse = open_stream(server, &body).await;
    let mut during = empty();
    let mut first = None;
    assert!(read_chunk(&mut sse, &mut during, sent, &mut first).await);
    while during.deltas.is_empty() {
        assert!(
            read_chunk(&mut sse, &mut during, sent, &mut first).await,
            "{during:?}"
        );
    }
    // A second request while the first streams. With `--interrupt_requests True` (llama.cpp's
    // default) the first stream would end here with [DONE] and no finish reason.
    let base = server.base_url();
    let other = chat(server, "Say hello.", 8, false);
    let second = tokio::spawn(async move {
        llm::http()
            .post(format!("{base}/chat/completions"))
            .json(&other)
            .send()
            .await
            .expect("the second request is answered")
            .status()
    });
    while read_chunk(&mut sse, &mut during, sent, &mut first).await {}
    assert!(during.done, "{during:?}");
    assert_eq!(
        during.finish.as_deref(),
        Some("length"),
        "the first stream ran to its end, not cut short: {during:?}"
    );
    assert_eq!(second.await.expect("the second request's task"), 200);
}
