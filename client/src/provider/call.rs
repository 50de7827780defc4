//! One streamed call to one provider ([`Provider::stream`]): the request built by the dialect,
//! sent with the key from the worker's environment; a refusal classified with its
//! `Retry-After`; the body read chunk by chunk under two deadlines (the first byte, then each
//! next byte), cut into events (SSE or JSON lines) and decoded into a [`Turn`]. A cancel, a
//! deadline or a broken stream ends the call with what had streamed in `partial`.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;
use warren_protocol::agent::ProviderErrorClass;

use super::cancel::Cancel;
use super::config::{ApiKey, ProviderConfig};
use super::count;
use super::dialect::{self, Dialect, Framing};
use super::error::{self, CallError};
use super::request::{Completion, ModelRequest, ToolChoice};
use super::turn::Turn;

/// The most of a refusal's body read for its message.
const ERROR_BODY_BYTES: usize = 16 * 1024;

/// How long a call may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the connection.
    pub connect: Duration,
    /// From sending the request to the first byte of the answer's body (the model's time to
    /// its first token, a cold start included).
    pub first_byte: Duration,
    /// Between one byte of the body and the next.
    pub between_bytes: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(60),
            between_bytes: Duration::from_secs(30),
        }
    }
}

/// The HTTP client every provider call of a chain shares: rustls with the platform's roots (the
/// client's own TLS configuration), no overall timeout (a stream takes as long as it streams;
/// [`Timeouts`] bound the waits instead). On a system without root certificates plain `http://`
/// providers (a local llama.cpp) still work; an `https://` one then fails its handshake as a
/// `network` error that says so.
pub fn http_client(timeouts: &Timeouts) -> Result<reqwest::Client, CallError> {
    // reqwest needs the process's rustls provider even for plain http (see `http_client`).
    let _ = rustls::crypto::CryptoProvider::install_default(
        (*warren_server::tls::crypto_provider()).clone(),
    );
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .user_agent(crate::connection::CLIENT_NAME);
    if let Ok(tls) = crate::tls::client_config(None) {
        builder = builder.use_preconfigured_tls((*tls).clone());
    }
    builder
        .build()
        .map_err(|e| CallError::new(ProviderErrorClass::Network, format!("no HTTP client: {e}")))
}

/// A provider ready to be called.
#[derive(Debug, Clone)]
pub struct Provider {
    config: ProviderConfig,
    client: reqwest::Client,
    timeouts: Timeouts,
}

impl Provider {
    /// A provider with its own HTTP client.
    pub fn new(config: ProviderConfig, timeouts: Timeouts) -> Result<Provider, CallError> {
        Ok(Provider::with_client(
            config,
            http_client(&timeouts)?,
            timeouts,
        ))
    }

    /// A provider on a shared client (the chain's).
    pub fn with_client(
        config: ProviderConfig,
        client: reqwest::Client,
        timeouts: Timeouts,
    ) -> Provider {
        Provider {
            config,
            client,
            timeouts,
        }
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// Streams one answer to `request` (its `model` as given), handing each piece of text to
    /// `on_delta` as it arrives.
    pub async fn stream(
        &self,
        request: &ModelRequest,
        cancel: &Cancel,
        mut on_delta: impl FnMut(&str) + Send,
    ) -> Result<Completion, CallError> {
        self.stream_dyn(request, cancel, &mut on_delta).await
    }

    pub(crate) async fn stream_dyn(
        &self,
        request: &ModelRequest,
        cancel: &Cancel,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, CallError> {
        if cancel.is_cancelled() {
            return Err(CallError::cancelled());
        }
        let key = self.config.key()?;
        let result = self.run(request, key.as_ref(), cancel, on_delta).await;
        // A provider may echo the key in an error; it never leaves here.
        result.map_err(|mut e| {
            if let Some(key) = &key {
                e.message = error::scrub(&e.message, key.expose());
            }
            e
        })
    }

    async fn run(
        &self,
        request: &ModelRequest,
        key: Option<&ApiKey>,
        cancel: &Cancel,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, CallError> {
        let name = self.config.name.as_str();
        check_tool_choice(name, request)?;
        let built = dialect::build(&self.config, key, request).map_err(|e| named(name, e))?;
        let Dialect {
            framing,
            deltas_are_tokens,
            mut decoder,
        } = Dialect::of(self.config.kind);
        let prompt_chars = count::prompt_chars(request);

        let started = Instant::now();
        let first_deadline = started + self.timeouts.first_byte;
        let mut http = self.client.post(&built.url).json(&built.body);
        for (header, value) in built.headers {
            http = http.header(header, value);
        }
        let response = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(CallError::cancelled()),
            sent = tokio::time::timeout_at(first_deadline, http.send()) => match sent {
                Err(_) => return Err(no_first_byte(name, self.timeouts.first_byte)),
                Ok(Err(e)) => return Err(error::transport(name, &e)),
                Ok(Ok(response)) => response,
            },
        };
        let status = response.status().as_u16();
        if !response.status().is_success() {
            return Err(self.refusal(response, cancel).await);
        }

        let bytes = timed(
            response.bytes_stream(),
            first_deadline,
            self.timeouts,
            name.to_string(),
        );
        let mut events = events(bytes, framing);

        let mut turn = Turn::new(started, on_delta);
        let mut events_seen = 0u64;
        loop {
            let next = tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    return Err(with_partial(CallError::cancelled(), turn, prompt_chars, deltas_are_tokens));
                }
                next = events.next() => next,
            };
            match next {
                Some(Ok((event, data))) => {
                    events_seen += 1;
                    if let Err(e) = decoder.feed(&event, &data, &mut turn) {
                        return Err(with_partial(
                            named(name, e),
                            turn,
                            prompt_chars,
                            deltas_are_tokens,
                        ));
                    }
                }
                Some(Err(e)) => {
                    return Err(with_partial(
                        named(name, e),
                        turn,
                        prompt_chars,
                        deltas_are_tokens,
                    ));
                }
                None => break,
            }
        }
        if !turn.complete {
            let e = if events_seen == 0 {
                CallError::new(
                    ProviderErrorClass::BadResponse,
                    format!(
                        "provider {name}: HTTP {status} but no {} in the answer; is the base URL \
                         the API's (for example http://host:8080/v1)?",
                        match framing {
                            Framing::Sse => "event stream",
                            Framing::JsonLines => "JSON lines",
                        }
                    ),
                )
            } else {
                CallError::new(
                    ProviderErrorClass::Network,
                    format!("provider {name}: the stream ended before the answer was complete"),
                )
            };
            return Err(with_partial(e, turn, prompt_chars, deltas_are_tokens));
        }
        Ok(turn.finish(prompt_chars, deltas_are_tokens))
    }

    /// A non-2xx answer as an error: its class, the provider's message, its wait.
    async fn refusal(&self, response: reqwest::Response, cancel: &Cancel) -> CallError {
        let name = &self.config.name;
        let status = response.status().as_u16();
        let header = |h: &str| {
            response
                .headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let wait = error::retry_after(
            header("retry-after-ms").as_deref(),
            header("retry-after").as_deref(),
            jiff::Timestamp::now(),
        );
        let mut body = Vec::new();
        let mut chunks = Box::pin(timed(
            response.bytes_stream(),
            Instant::now() + self.timeouts.between_bytes,
            self.timeouts,
            name.clone(),
        ));
        loop {
            let next = tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                next = chunks.next() => next,
            };
            match next {
                Some(Ok(chunk)) if body.len() < ERROR_BODY_BYTES => body.extend_from_slice(&chunk),
                // The message is in the start of the body; a broken or slow rest does not matter.
                _ => break,
            }
        }
        body.truncate(ERROR_BODY_BYTES);
        let mut e = CallError::new(
            error::class_of_status(status),
            error::status_message(name, status, &String::from_utf8_lossy(&body)),
        );
        e.retry_after = wait;
        e
    }
}

/// The stream's events, `(name, data)`: SSE events, or JSON lines with no name.
type Events = Pin<Box<dyn Stream<Item = Result<(String, String), CallError>> + Send>>;

/// The body's chunks cut into events as `framing` says.
pub(crate) fn events(
    bytes: impl Stream<Item = Result<Bytes, CallError>> + Send + 'static,
    framing: Framing,
) -> Events {
    match framing {
        Framing::Sse => Box::pin(bytes.eventsource().map(|item| match item {
            Ok(event) => Ok((event.event, event.data)),
            Err(EventStreamError::Transport(e)) => Err(e),
            Err(e) => Err(CallError::new(
                ProviderErrorClass::BadResponse,
                format!("the event stream does not parse: {e}"),
            )),
        })),
        Framing::JsonLines => Box::pin(json_lines(bytes)),
    }
}

/// A forced tool must be one of the tools offered.
fn check_tool_choice(name: &str, request: &ModelRequest) -> Result<(), CallError> {
    if let ToolChoice::Required(tool) = &request.tool_choice
        && !request.tools.iter().any(|t| &t.name == tool)
    {
        return Err(CallError::new(
            ProviderErrorClass::BadRequest,
            format!(
                "provider {name}: tool_choice names the tool {tool}, which is not among the tools \
                 offered; offer it or choose auto"
            ),
        ));
    }
    Ok(())
}

/// `error` with the provider's name in front (the dialects' errors do not know it).
fn named(name: &str, mut e: CallError) -> CallError {
    let prefix = format!("provider {name}:");
    if !e.message.starts_with(&prefix) {
        e.message = error::cut(&format!("{prefix} {}", e.message), error::MESSAGE_CHARS);
    }
    e
}

fn no_first_byte(name: &str, limit: Duration) -> CallError {
    CallError::new(
        ProviderErrorClass::Timeout,
        format!(
            "provider {name}: no answer within {} (the first-byte timeout)",
            crate::duration::format_ms(limit.as_millis() as i64)
        ),
    )
}

/// `error` with what had streamed, if anything did.
fn with_partial(
    mut e: CallError,
    turn: Turn<'_>,
    prompt_chars: usize,
    deltas_are_tokens: bool,
) -> CallError {
    if turn.has_content() {
        e.partial = Some(Box::new(turn.finish(prompt_chars, deltas_are_tokens)));
    }
    e
}

/// The body's chunks, each awaited under its deadline: the first by `first_deadline`, every next
/// within `between_bytes` of the one before. A missed deadline or a transport failure is the
/// stream's last item.
fn timed(
    inner: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    first_deadline: Instant,
    timeouts: Timeouts,
    name: String,
) -> impl Stream<Item = Result<Bytes, CallError>> + Send + 'static {
    struct State<S> {
        inner: Pin<Box<S>>,
        deadline: Instant,
        first: bool,
        done: bool,
        name: String,
        timeouts: Timeouts,
    }
    let state = State {
        inner: Box::pin(inner),
        deadline: first_deadline,
        first: true,
        done: false,
        name,
        timeouts,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        match tokio::time::timeout_at(st.deadline, st.inner.next()).await {
            Ok(Some(Ok(bytes))) => {
                st.first = false;
                st.deadline = Instant::now() + st.timeouts.between_bytes;
                Some((Ok(bytes), st))
            }
            Ok(Some(Err(e))) => {
                st.done = true;
                let e = error::transport(&st.name, &e);
                Some((Err(e), st))
            }
            Ok(None) => None,
            Err(_) => {
                st.done = true;
                let e = if st.first {
                    no_first_byte(&st.name, st.timeouts.first_byte)
                } else {
                    CallError::new(
                        ProviderErrorClass::Timeout,
                        format!(
                            "provider {}: the stream stalled: no byte for {} (the between-bytes \
                             timeout)",
                            st.name,
                            crate::duration::format_ms(st.timeouts.between_bytes.as_millis() as i64)
                        ),
                    )
                };
                Some((Err(e), st))
            }
        }
    })
}

/// The body cut into lines, each an event with no name (Ollama's newline-delimited JSON).
fn json_lines(
    bytes: impl Stream<Item = Result<Bytes, CallError>> + Send + 'static,
) -> impl Stream<Item = Result<(String, String), CallError>> + Send + 'static {
    let state = (
        Box::pin(bytes),
        Vec::<u8>::new(),
        std::collections::VecDeque::new(),
        false,
    );
    futures_util::stream::unfold(
        state,
        |(mut bytes, mut buffer, mut ready, mut ended)| async move {
            loop {
                if let Some(line) = ready.pop_front() {
                    return Some((line, (bytes, buffer, ready, ended)));
                }
                if ended {
                    return None;
                }
                match bytes.next().await {
                    Some(Ok(chunk)) => {
                        buffer.extend_from_slice(&chunk);
                        while let Some(at) = buffer.iter().position(|b| *b == b'\n') {
                            let line: Vec<u8> = buffer.drain(..=at).collect();
                            push_line(&mut ready, &line);
                        }
                    }
                    Some(Err(e)) => {
                        ended = true;
                        ready.push_back(Err(e));
                    }
                    None => {
                        ended = true;
                        let rest = std::mem::take(&mut buffer);
                        push_line(&mut ready, &rest);
                    }
                }
            }
        },
    )
}

fn push_line(
    ready: &mut std::collections::VecDeque<Result<(String, String), CallError>>,
    line: &[u8],
) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if !text.is_empty() {
        ready.push_back(Ok((String::new(), text.to_string())));
    }
}
