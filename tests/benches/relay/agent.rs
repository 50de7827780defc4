//! The agent side of the relay benchmark: an agent run held by the benchmark's worker
//! connection (a job run whose stored record gets an `agent` part, written straight into the
//! in-process server's store until `ask_agent` is served), and the worker's stream: it reads the
//! fake provider's SSE answer and forwards each token as an `agent_delta`, noting when it read
//! each one.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use redb::ReadableTable;
use serde_json::{Value, json};
use warren_protocol::Id;
use warren_server::store::Store;
use warren_server::store::tables::RUNS;

use crate::ws::{self, Ws};

/// Gives the stored run an `agent` part, as an agent run's record has.
pub fn make_agent_run(store: &Store, workspace: &Id, run: &Id, agent: &Id) -> Result<()> {
    let key = (workspace.as_str(), run.as_str());
    let txn = store.begin_write()?;
    {
        let mut table = txn.open_table(RUNS)?;
        let mut value: Value = {
            let stored = table.get(key)?.context("the run is not stored")?;
            serde_json::from_slice(stored.value())?
        };
        value["agent"] = json!({"agent_id": agent.as_str(), "prompt": "benchmark"});
        let bytes = serde_json::to_vec(&value)?;
        table.insert(key, bytes.as_slice())?;
    }
    txn.commit()?;
    Ok(())
}

/// Streams one answer of `model` from the fake provider's OpenAI API and sends every token to
/// the server as a delta of `step`. Returns, per token, its offset and when the worker had read
/// it (the moment a client reading the provider's SSE directly has it).
pub async fn stream(
    http: &reqwest::Client,
    base_url: &str,
    model: &str,
    worker: &mut Ws,
    run: &Id,
    step: u32,
) -> Result<Vec<(u64, Instant)>> {
    let mut response = http
        .post(format!("{base_url}/chat/completions"))
        .json(&json!({"model": model, "stream": true,
                      "messages": [{"role": "user", "content": "benchmark"}]}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("the fake provider answered {}", response.status());
    }
    let mut read = Vec::new();
    let mut buffer = String::new();
    let mut offset = 0u64;
    while let Some(bytes) = response.chunk().await? {
        buffer.push_str(std::str::from_utf8(&bytes)?);
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let Some(data) = event.trim().strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                return Ok(read);
            }
            let value: Value = serde_json::from_str(data)?;
            let Some(token) = value["choices"][0]["delta"]["content"].as_str() else {
                continue;
            };
            if token.is_empty() {
                continue;
            }
            let at = Instant::now();
            let frame = json!({"type": "agent_delta", "run_id": run.as_str(), "step": step,
                               "offset": offset, "text": token});
            ws::send(worker, frame.to_string()).await?;
            read.push((offset, at));
            offset += token.len() as u64;
        }
    }
    bail!("the fake provider's stream ended without [DONE]")
}
