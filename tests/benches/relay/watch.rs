//! The watchers of the relay benchmark: connections of the owner that `run_watch` one run and
//! note when each `agent_delta` of the measured step arrives; and the matching of those frames
//! (which may carry several tokens: the worker coalesces) to the tokens the provider wrote.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::setup;
use crate::ws::{self, Ws};

/// One `agent_delta` as a watcher got it.
pub struct Frame {
    pub offset: u64,
    pub text: String,
    pub at: Instant,
}

/// `viewers` connections of the owner, each watching `run` (answered before this returns).
pub async fn watchers(addr: SocketAddr, token: &str, run: &str, viewers: usize) -> Result<Vec<Ws>> {
    let mut out = Vec::with_capacity(viewers);
    for n in 0..viewers {
        let mut ws = setup::connect(addr, token).await?;
        let frame = serde_json::json!({"type": "run_watch", "request_id": format!("watch-{n}"),
                                       "run_id": run});
        ws::send(&mut ws, frame.to_string()).await?;
        ws::expect(&mut ws, "run_watching").await?;
        out.push(ws);
    }
    Ok(out)
}

/// Reads the deltas of `step` until `bytes` bytes of its text came; fails on a gap or an
/// overlap (each frame must start where the one before ended).
pub async fn watch(mut ws: Ws, step: u32, bytes: u64) -> Result<Vec<Frame>> {
    let mut got = Vec::new();
    let mut next = 0u64;
    let step_field = format!("\"step\":{step},");
    while next < bytes {
        let text = match ws.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the server closed a watcher"),
        };
        let at = Instant::now();
        if !text.as_str().starts_with(r#"{"type":"agent_delta""#)
            || !text.as_str().contains(&step_field)
        {
            continue;
        }
        let value: Value = serde_json::from_str(text.as_str())?;
        let offset = value["offset"].as_u64().context("a delta without offset")?;
        let piece = value["text"].as_str().context("a delta without text")?;
        if offset != next {
            bail!("a watcher got offset {offset} where {next} was due (a gap or an overlap)");
        }
        next += piece.len() as u64;
        got.push(Frame {
            offset,
            text: piece.to_owned(),
            at,
        });
    }
    Ok(got)
}

/// For each token, when the watcher had all of it: the arrival of the frame holding the
/// token's last byte. The frames' text must be the tokens' text exactly.
pub fn arrivals(tokens: &[String], frames: &[Frame]) -> Result<Vec<Instant>> {
    let sent: String = tokens.concat();
    let got: String = frames.iter().map(|f| f.text.as_str()).collect();
    if sent != got {
        bail!(
            "a watcher's text differs from the provider's ({} bytes sent, {} got)",
            sent.len(),
            got.len()
        );
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut end = 0u64;
    let mut frame = 0usize;
    for token in tokens {
        end += token.len() as u64;
        while let Some(f) = frames.get(frame)
            && f.offset + (f.text.len() as u64) < end
        {
            frame += 1;
        }
        let f = frames.get(frame).context("a token beyond the last frame")?;
        out.push(f.at);
    }
    Ok(out)
}
