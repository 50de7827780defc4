//! Reading an OpenAI-style SSE answer token by token, as a client of the provider does: the
//! direct reader (the baseline of the relay benchmark) and the self-played worker of the
//! `direct-worker` mode both use it.

use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::{Value, json};

/// What one SSE event of the answer said.
pub enum Event {
    /// A piece of text.
    Token(String),
    /// `[DONE]`: the answer is complete.
    Done,
}

/// Cuts the body into events as its bytes arrive.
#[derive(Default)]
pub struct Parser {
    buffer: String,
}

impl Parser {
    /// Adds `bytes` and returns the complete events they finished (empty deltas skipped).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Event>> {
        self.buffer.push_str(std::str::from_utf8(bytes)?);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.find("\n\n") {
            let event: String = self.buffer.drain(..end + 2).collect();
            let Some(data) = event.trim().strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                events.push(Event::Done);
                continue;
            }
            let value: Value = serde_json::from_str(data)?;
            if let Some(token) = value["choices"][0]["delta"]["content"].as_str()
                && !token.is_empty()
            {
                events.push(Event::Token(token.to_owned()));
            }
        }
        Ok(events)
    }
}

/// Starts a streamed answer of `model` from the OpenAI API at `base_url`.
pub async fn request(
    http: &reqwest::Client,
    base_url: &str,
    model: &str,
) -> Result<reqwest::Response> {
    let response = http
        .post(format!("{base_url}/chat/completions"))
        .json(&json!({"model": model, "stream": true,
                      "messages": [{"role": "user", "content": "benchmark"}]}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("the fake provider answered {}", response.status());
    }
    Ok(response)
}

/// Reads a whole streamed answer of `model`; returns each token and when it was read.
pub async fn read(
    http: &reqwest::Client,
    base_url: &str,
    model: &str,
) -> Result<Vec<(String, Instant)>> {
    let mut response = request(http, base_url, model).await?;
    let mut parser = Parser::default();
    let mut read = Vec::new();
    while let Some(bytes) = response.chunk().await? {
        let at = Instant::now();
        for event in parser.push(&bytes)? {
            match event {
                Event::Token(token) => read.push((token, at)),
                Event::Done => return Ok(read),
            }
        }
    }
    bail!("the fake provider's stream ended without [DONE]")
}
