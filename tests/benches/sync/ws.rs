//! WebSocket client helpers shared by every phase: connecting, the warren handshake, and the cheap
//! frame inspection the hot receive loop uses.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The prefix of every event frame: the server writes `{"type":"event","event":` around the
/// event's JSON, whose first field is `seq`.
const EVENT_PREFIX: &str = r#"{"type":"event","event":{"seq":"#;

/// Opens a WebSocket to `ws://addr/ws`, with a bearer token if given, Nagle off (as the server).
pub async fn connect(addr: SocketAddr, token: Option<&str>) -> Result<Ws> {
    let mut request = format!("ws://{addr}/ws").into_client_request()?;
    if let Some(token) = token {
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}"))?,
        );
    }
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .with_context(|| format!("cannot connect to ws://{addr}/ws"))?;
    Ok(ws)
}

/// Sends one text frame.
pub async fn send(ws: &mut Ws, text: String) -> Result<()> {
    ws.send(Message::text(text)).await?;
    Ok(())
}

/// The next text frame, skipping control frames; an error when the socket closes.
pub async fn next_text(ws: &mut Ws) -> Result<Utf8Bytes> {
    loop {
        match ws.next().await {
            // The frame as received (no copy: the hot loops only look at a few bytes of it).
            Some(Ok(Message::Text(text))) => return Ok(text),
            Some(Ok(Message::Close(frame))) => bail!("the server closed the socket: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the server closed the socket"),
        }
    }
}

/// Reads frames until one of type `wanted` arrives; an `error` frame fails.
pub async fn expect(ws: &mut Ws, wanted: &str) -> Result<serde_json::Value> {
    loop {
        let text = next_text(ws).await?;
        let value: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?;
        match value["type"].as_str() {
            Some(t) if t == wanted => return Ok(value),
            Some("error") => {
                bail!("the server answered an error while waiting for {wanted}: {text}")
            }
            _ => {}
        }
    }
}

/// Sends `hello` and waits for `welcome`.
pub async fn hello(ws: &mut Ws) -> Result<()> {
    send(
        ws,
        r#"{"type":"hello","protocol":1,"client":"warren-bench"}"#.into(),
    )
    .await?;
    expect(ws, "welcome").await.map(|_| ())
}

/// The sequence number of an event frame, without parsing the JSON.
pub fn event_seq(text: &str) -> Option<u64> {
    let rest = text.strip_prefix(EVENT_PREFIX)?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Splits an event frame around its sequence number, so that frames of the same size can be
/// made for other sequence numbers.
pub fn frame_template(frame: &str) -> Option<(String, String)> {
    let rest = frame.strip_prefix(EVENT_PREFIX)?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    Some((EVENT_PREFIX.to_owned(), rest[end..].to_owned()))
}
