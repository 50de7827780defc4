//! The self-played worker of the `direct-worker` mode: an agent run held by the benchmark's
//! own worker connection (a job run whose stored record gets an `agent` part, written straight
//! into the in-process server's store), and its stream: it reads the fake provider's SSE answer
//! and forwards each token as an `agent_delta` at once, noting when it read each one.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use redb::ReadableTable;
use serde_json::{Value, json};
use warren_protocol::Id;
use warren_server::store::Store;
use warren_server::store::tables::RUNS;

use crate::sse::{self, Event};
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
/// the server as a delta of `step`. Returns, per token, its text and when the worker had read
/// it (the moment a client reading the provider's SSE directly has it).
pub async fn stream(
    http: &reqwest::Client,
    base_url: &str,
    model: &str,
    worker: &mut Ws,
    run: &Id,
    step: u32,
) -> Result<Vec<(String, Instant)>> {
    let mut response = sse::request(http, base_url, model).await?;
    let mut parser = sse::Parser::default();
    let mut read = Vec::new();
    let mut offset = 0u64;
    while let Some(bytes) = response.chunk().await? {
        for event in parser.push(&bytes)? {
            let token = match event {
                Event::Token(token) => token,
                Event::Done => return Ok(read),
            };
            let at = Instant::now();
            let frame = json!({"type": "agent_delta", "run_id": run.as_str(), "step": step,
                               "offset": offset, "text": token});
            ws::send(worker, frame.to_string()).await?;
            offset += token.len() as u64;
            read.push((token, at));
        }
    }
    bail!("the fake provider's stream ended without [DONE]")
}
