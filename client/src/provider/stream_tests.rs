//! The stream path without a network: bodies cut at every awkward place (inside an event, inside
//! a UTF-8 character, a last line without its newline) decode to the same answer, and the cost
//! of SSE parsing and decoding per token, printed for docs/performance.md.

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::time::Instant;

use super::call::events;
use super::dialect::{Decode, Framing};
use super::error::CallError;
use super::turn::Turn;
use super::{ollama, openai};

fn chunked(body: &str, size: usize) -> Vec<Result<Bytes, CallError>> {
    body.as_bytes()
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect()
}

/// The text and completeness of `body` cut into `size`-byte chunks, decoded by `decoder`.
async fn decode(
    body: &str,
    size: usize,
    framing: Framing,
    mut decoder: impl Decode,
) -> (String, bool, u64) {
    let mut events = events(futures_util::stream::iter(chunked(body, size)), framing);
    let mut on_delta = |_: &str| {};
    let mut turn = Turn::new(Instant::now(), &mut on_delta);
    while let Some(event) = events.next().await {
        let (name, data) = event.expect("event");
        decoder.feed(&name, &data, &mut turn).expect("decoded");
    }
    let complete = turn.complete;
    let done = turn.finish(0, true);
    (done.text, complete, done.usage.output_tokens)
}

fn openai_body(tokens: &[&str]) -> String {
    let mut body = String::from(": keep-alive comment\n\n");
    for token in tokens {
        let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": token}}]});
        body.push_str(&format!("data: {chunk}\r\n\r\n"));
    }
    body.push_str(
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    );
    body.push_str("data: [DONE]\n\n");
    body
}

#[tokio::test]
async fn sse_cut_anywhere_decodes_the_same() {
    let tokens = ["Grüße", ", ", "wörld ", "🦀", "\n", "done"];
    let body = openai_body(&tokens);
    for size in [1, 2, 3, 7, 64, body.len()] {
        let (text, complete, output) = decode(&body, size, Framing::Sse, openai::Decoder).await;
        assert_eq!(text, tokens.concat(), "chunks of {size}");
        assert!(complete);
        assert_eq!(output, tokens.len() as u64);
    }
}

#[tokio::test]
async fn json_lines_cut_anywhere_decode_the_same() {
    let body = concat!(
        "{\"message\":{\"content\":\"Hé\"},\"done\":false}\n",
        "\n",
        "{\"message\":{\"content\":\"llo\"},\"done\":false}\r\n",
        "{\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":2}"
    );
    for size in [1, 5, body.len()] {
        let (text, complete, output) =
            decode(body, size, Framing::JsonLines, ollama::Decoder::default()).await;
        assert_eq!(text, "Héllo");
        assert!(complete);
        assert_eq!(output, 2);
    }
}

/// Not a pass/fail check: SSE parsing plus decoding per token, in-process (no HTTP).
#[tokio::test]
async fn sse_parse_and_decode_cost_per_token() {
    const N: usize = 20_000;
    let words: Vec<String> = (0..N).map(|i| format!(" w{i}")).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let body = openai_body(&refs);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let (text, complete, _) = decode(&body, 4096, Framing::Sse, openai::Decoder).await;
        best = best.min(started.elapsed().as_secs_f64());
        assert!(complete);
        assert_eq!(text.len(), words.iter().map(String::len).sum::<usize>());
    }
    println!(
        "sse_parse_and_decode_cost_per_token: {:.2} µs a token ({N} tokens, 4 KiB chunks, best of 3, {} build)",
        best * 1e6 / N as f64,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}
