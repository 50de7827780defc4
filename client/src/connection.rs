//! One WebSocket connection to a warren server.
//!
//! [`Connection::connect`] dials `ws(s)://host:port/ws` with the bearer token, says `hello` and
//! waits for `welcome`. A background task then owns the socket: requests sent through a
//! [`Handle`] are matched to their `ack` / `result` / `error` by request id, and every other frame
//! (snapshots, events, `synced`, `resync`, typing, errors without a request id) is delivered in
//! order by [`Connection::next_push`]. Frames may interleave freely (an event often arrives before
//! the ack of the command that caused it); callers never see the socket, and no lock is shared.
//! A caller that always reads its pushes may bound how many wait for it
//! ([`Connection::bound_pushes`]): the task then stops reading the socket while that many
//! wait, so a fast server (a live log at a million lines a second) waits in TCP and on the
//! server, not in this process's memory.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use warren_protocol::message::ServerLimits;
use warren_protocol::run::LogFilter;
use warren_protocol::{
    ClientMessage, Command, ErrorCode, Event, Id, Member, PROTOCOL_VERSION, Query, QueryResult,
    RequestId, ServerMessage, WireError, Workspace,
};

use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::room::Room;

/// How long to wait for the TCP connection, the upgrade and `welcome`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the answer to one command or query.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The name this client gives in `hello`.
pub const CLIENT_NAME: &str = concat!("warren-cli/", env!("CARGO_PKG_VERSION"));

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Reply = Result<ServerMessage, ClientError>;

/// What the server said in `welcome`.
#[derive(Debug, Clone)]
pub struct Welcome {
    pub protocol: u32,
    pub server_version: String,
    pub user: Member,
    pub workspaces: Vec<Workspace>,
    pub limits: ServerLimits,
}

/// The answer to a command.
#[derive(Debug, Clone)]
pub struct Ack {
    pub seq: u64,
    /// The command had been applied before (a retry with the same request id).
    pub duplicate: bool,
    pub event: Event,
}

struct Outgoing {
    frame: Frame,
    reply: Option<(RequestId, oneshot::Sender<Reply>)>,
}

/// A frame on its way to the socket: a message to serialise, or one written already (a worker's
/// `log_chunk`, written once by hand and re-sent as the same bytes).
enum Frame {
    Message(Box<ClientMessage>),
    Text(tungstenite::Utf8Bytes),
}

/// A cloneable sender of requests over a [`Connection`]; it never touches the socket itself.
#[derive(Clone)]
pub struct Handle {
    outgoing: mpsc::UnboundedSender<Outgoing>,
}

/// An open, welcomed connection.
pub struct Connection {
    handle: Handle,
    pushes: mpsc::UnboundedReceiver<Reply>,
    /// Places for pushes not taken yet: the task takes one before it reads the socket, and
    /// [`Connection::next_push`] gives one back.
    room: Room,
    welcome: Welcome,
    task: JoinHandle<()>,
}

impl Connection {
    /// Connects, authenticates with `token` and completes the hello/welcome exchange.
    pub async fn connect(endpoint: &Endpoint, token: &str) -> Result<Self, ClientError> {
        let server = endpoint.display.clone();
        let mut socket = tokio::time::timeout(CONNECT_TIMEOUT, open_socket(endpoint, token))
            .await
            .map_err(|_| ClientError::Unreachable {
                server: server.clone(),
                reason: format!("no answer within {} seconds", CONNECT_TIMEOUT.as_secs()),
            })??;
        let welcome = tokio::time::timeout(CONNECT_TIMEOUT, greet(&mut socket))
            .await
            .map_err(|_| ClientError::Timeout(CONNECT_TIMEOUT.as_secs()))??;
        let (outgoing, requests) = mpsc::unbounded_channel();
        let (push_tx, pushes) = mpsc::unbounded_channel();
        let room = Room::unbounded();
        let task = tokio::spawn(run(socket, requests, push_tx, room.clone()));
        Ok(Self {
            handle: Handle { outgoing },
            pushes,
            room,
            welcome,
            task,
        })
    }

    /// At most `n` (at least 1) pushes wait for [`Connection::next_push`]: with that many
    /// waiting, the socket is not read until one is taken, so the server's frames wait in TCP
    /// (and a live log's lines on the server, which re-reads them from its store) instead of in
    /// memory here. Only for a caller that keeps taking pushes while it waits for answers: an
    /// answer behind a full queue is not read either. Call it right after connecting.
    pub fn bound_pushes(&self, n: usize) {
        self.room.bound(n);
    }

    /// What the server said in `welcome`.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// A cloneable request sender for this connection.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Applies a command in a workspace; see [`Handle::command`].
    pub async fn command(&self, workspace_id: &Id, command: Command) -> Result<Ack, ClientError> {
        self.handle.command(workspace_id, command).await
    }

    /// Runs a query in a workspace; see [`Handle::query`].
    pub async fn query(&self, workspace_id: &Id, query: Query) -> Result<QueryResult, ClientError> {
        self.handle.query(workspace_id, query).await
    }

    /// Sends an account request; see [`Handle::account`].
    pub async fn account(
        &self,
        op: warren_protocol::account::AccountOp,
    ) -> Result<warren_protocol::account::AccountResult, ClientError> {
        self.handle.account(op).await
    }

    /// Subscribes to a workspace's events; see [`Handle::subscribe`].
    pub fn subscribe(&self, workspace_id: &Id, since: Option<u64>) -> Result<(), ClientError> {
        self.handle.subscribe(workspace_id, since)
    }

    /// The next frame that is not the answer to a request, in the order the server sent it.
    /// After the connection ends this yields one `Err` saying why, then `None`.
    pub async fn next_push(&mut self) -> Option<Result<ServerMessage, ClientError>> {
        let push = self.pushes.recv().await;
        if push.is_some() {
            self.room.give();
        }
        push
    }

    /// Closes the connection politely (a WebSocket close frame) and waits briefly for it.
    pub async fn close(self) {
        let Self { handle, task, .. } = self;
        drop(handle);
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    }
}

impl Handle {
    /// Applies a command in a workspace, with a fresh request id, and waits for its `ack`.
    pub async fn command(&self, workspace_id: &Id, command: Command) -> Result<Ack, ClientError> {
        self.command_with_id(new_request_id()?, workspace_id, command)
            .await
    }

    /// Applies a command under a request id the caller chose. Sending the same command again with
    /// the same id (after a dropped connection, say) is safe: the server applies it once and
    /// answers the retry with the first result, marked `duplicate`.
    pub async fn command_with_id(
        &self,
        request_id: RequestId,
        workspace_id: &Id,
        command: Command,
    ) -> Result<Ack, ClientError> {
        let frame = ClientMessage::Command {
            request_id: request_id.clone(),
            workspace_id: Some(workspace_id.clone()),
            command,
        };
        match self.request(request_id, frame).await? {
            ServerMessage::Ack {
                seq,
                duplicate,
                event,
                ..
            } => Ok(Ack {
                seq,
                duplicate,
                event,
            }),
            other => Err(unexpected("ack", &other)),
        }
    }

    /// Runs a query in a workspace and waits for its `result`.
    pub async fn query(&self, workspace_id: &Id, query: Query) -> Result<QueryResult, ClientError> {
        let request_id = new_request_id()?;
        let frame = ClientMessage::Query {
            request_id: request_id.clone(),
            workspace_id: Some(workspace_id.clone()),
            query,
        };
        match self.request(request_id, frame).await? {
            ServerMessage::Result { result, .. } => Ok(result),
            other => Err(unexpected("result", &other)),
        }
    }

    /// Sends an account request (managing tokens) and waits for its `account_result`.
    pub async fn account(
        &self,
        op: warren_protocol::account::AccountOp,
    ) -> Result<warren_protocol::account::AccountResult, ClientError> {
        let request_id = new_request_id()?;
        let frame = ClientMessage::Account {
            request_id: request_id.clone(),
            op,
        };
        match self.request(request_id, frame).await? {
            ServerMessage::AccountResult { result, .. } => Ok(result),
            other => Err(unexpected("account_result", &other)),
        }
    }

    /// Asks for a workspace's events after `since` (or a snapshot first, without it). What follows
    /// arrives through [`Connection::next_push`].
    pub fn subscribe(&self, workspace_id: &Id, since: Option<u64>) -> Result<(), ClientError> {
        self.send(ClientMessage::Subscribe {
            workspace_id: Some(workspace_id.clone()),
            since,
        })
    }

    /// Asks for a run's log (`log_subscribe`): the stored lines from `from_line` (or the last
    /// `tail`), through `filter`, then the live ones. `log_lines`, `log_synced` (carrying the
    /// returned request id) and `log_end` arrive through [`Connection::next_push`]; so does an
    /// `error` with that request id (an invalid filter, an unknown run).
    pub fn log_subscribe(
        &self,
        workspace_id: &Id,
        run_id: &Id,
        from_line: Option<u64>,
        tail: Option<u64>,
        filter: Option<LogFilter>,
    ) -> Result<RequestId, ClientError> {
        let request_id = new_request_id()?;
        self.send(ClientMessage::LogSubscribe {
            request_id: request_id.clone(),
            workspace_id: Some(workspace_id.clone()),
            run_id: run_id.clone(),
            from_line,
            tail,
            filter,
            compact: true,
        })?;
        Ok(request_id)
    }

    /// Sends a frame that has no answer (`subscribe`, `typing`, `ping`).
    pub fn send(&self, frame: ClientMessage) -> Result<(), ClientError> {
        self.outgoing
            .send(Outgoing {
                frame: Frame::Message(Box::new(frame)),
                reply: None,
            })
            .map_err(|_| ClientError::Disconnected("the connection is closed".to_owned()))
    }

    /// Sends a frame written already (its text must be one client message, such as the
    /// `log_chunk` of [`warren_protocol::log_json::ChunkWriter`]).
    pub fn send_text(&self, frame: tungstenite::Utf8Bytes) -> Result<(), ClientError> {
        self.outgoing
            .send(Outgoing {
                frame: Frame::Text(frame),
                reply: None,
            })
            .map_err(|_| ClientError::Disconnected("the connection is closed".to_owned()))
    }

    async fn request(
        &self,
        request_id: RequestId,
        frame: ClientMessage,
    ) -> Result<ServerMessage, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.outgoing
            .send(Outgoing {
                frame: Frame::Message(Box::new(frame)),
                reply: Some((request_id, tx)),
            })
            .map_err(|_| ClientError::Disconnected("the connection is closed".to_owned()))?;
        match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
            Err(_) => Err(ClientError::Timeout(REQUEST_TIMEOUT.as_secs())),
            Ok(Err(_)) => Err(ClientError::Disconnected(
                "the connection closed before the server answered".to_owned(),
            )),
            Ok(Ok(reply)) => reply,
        }
    }
}

fn unexpected(wanted: &str, got: &ServerMessage) -> ClientError {
    let json = serde_json::to_string(got).unwrap_or_default();
    ClientError::Protocol(format!(
        "expected {wanted}, got {}",
        json.chars().take(200).collect::<String>()
    ))
}

/// A fresh request id: `cli-` and 16 random base32 characters.
pub fn new_request_id() -> Result<RequestId, ClientError> {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut random = [0u8; 16];
    if getrandom::fill(&mut random).is_err() {
        // No OS randomness: fall back to the clock, which is unique enough for one process.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        random = nanos.to_le_bytes();
    }
    let body: String = random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    RequestId::parse(&format!("cli-{body}")).map_err(|e| ClientError::Protocol(e.to_string()))
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        std::io::ErrorKind::TimedOut => "timed out".to_owned(),
        _ => e.to_string(),
    }
}

/// What a non-upgrade HTTP answer said, in words: the server's error if it sent one, else the
/// start of its body, else the status's reason.
fn handshake_answer(status: u16, wire: Option<WireError>, body: &[u8]) -> String {
    if let Some(w) = wire {
        return format!("{}: {}", w.code, w.message);
    }
    let text: String = String::from_utf8_lossy(body)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    if !text.is_empty() {
        return format!("it said {text:?}");
    }
    let reason = tungstenite::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("no reason given");
    format!("{reason}, with an empty body")
}

async fn open_socket(endpoint: &Endpoint, token: &str) -> Result<Socket, ClientError> {
    let server = endpoint.display.clone();
    let connector = if endpoint.tls {
        Some(tokio_tungstenite::Connector::Rustls(
            crate::tls::client_config(endpoint.ca_file.as_deref())?,
        ))
    } else {
        None
    };
    let unreachable = |reason: String| ClientError::Unreachable {
        server: server.clone(),
        reason,
    };
    let unknown_host = |reason: String| ClientError::UnknownHost {
        server: server.clone(),
        host: endpoint.host.clone(),
        reason,
    };
    let addrs: Vec<std::net::SocketAddr> =
        tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))
            .await
            .map_err(|e| unknown_host(e.to_string()))?
            .collect();
    if addrs.is_empty() {
        return Err(unknown_host("it has no addresses".to_owned()));
    }
    let tcp = TcpStream::connect(addrs.as_slice())
        .await
        .map_err(|e| unreachable(describe_io(&e)))?;
    tcp.set_nodelay(true)
        .map_err(|e| unreachable(describe_io(&e)))?;
    let mut request = endpoint
        .ws_url()
        .into_client_request()
        .map_err(|e| ClientError::BadUrl {
            url: server.clone(),
            reason: e.to_string(),
        })?;
    let auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        ClientError::Usage(
            "the token contains characters that cannot be sent in a header — check --token / WARREN_TOKEN"
                .to_owned(),
        )
    })?;
    request.headers_mut().insert("authorization", auth);
    let config = WebSocketConfig::default()
        .max_message_size(Some(warren_protocol::limits::MAX_FRAME_HARD))
        .max_frame_size(Some(warren_protocol::limits::MAX_FRAME_HARD));
    let tls_error = |reason: String| ClientError::Tls {
        server: server.clone(),
        reason,
    };
    match tokio_tungstenite::client_async_tls_with_config(request, tcp, Some(config), connector)
        .await
    {
        Ok((socket, _response)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().unwrap_or_default();
            let wire: Option<WireError> = serde_json::from_slice(body).ok();
            match (status, wire) {
                // Too many failed sign-ins from this address: not retried by itself (the token
                // or code is likely wrong), only waited out.
                (429, Some(wire)) if wire.code == ErrorCode::AuthRateLimited => {
                    Err(ClientError::AuthRateLimited {
                        retry_after: response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(60),
                    })
                }
                (429, wire) => Err(ClientError::RateLimited {
                    server: server.clone(),
                    retry_after_ms: crate::retry::after_ms(
                        wire.as_ref().and_then(|w| w.retry_after_ms),
                        response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok()),
                    ),
                    message: wire.map_or_else(|| "HTTP 429".to_owned(), |w| w.message),
                }),
                (401, Some(wire)) => Err(ClientError::Unauthorized {
                    code: wire.code.to_string(),
                    message: wire.message,
                }),
                (401, None) => Err(ClientError::Unauthorized {
                    code: "unauthorized".to_owned(),
                    message: "HTTP 401".to_owned(),
                }),
                (_, wire) => Err(ClientError::Handshake {
                    url: endpoint.ws_url(),
                    status,
                    answer: handshake_answer(status, wire, body),
                }),
            }
        }
        Err(tungstenite::Error::Io(e)) => match crate::tls::tls_failure(&e) {
            Some(reason) => Err(tls_error(reason)),
            None => Err(unreachable(describe_io(&e))),
        },
        Err(tungstenite::Error::Tls(e)) => Err(tls_error(e.to_string())),
        // Something is listening, but its answer is not an HTTP/1.1 upgrade: not warren (or a
        // TLS server asked in plain HTTP).
        Err(e @ (tungstenite::Error::Protocol(_) | tungstenite::Error::HttpFormat(_))) => {
            let garbled = matches!(
                e,
                tungstenite::Error::Protocol(tungstenite::error::ProtocolError::HttparseError(_))
            );
            let reason = if garbled && !endpoint.tls {
                format!("{e}; if the server serves TLS, use an https:// address")
            } else {
                e.to_string()
            };
            Err(ClientError::NotWebSocket {
                url: endpoint.ws_url(),
                reason,
            })
        }
        Err(e) => Err(unreachable(e.to_string())),
    }
}

async fn greet(socket: &mut Socket) -> Result<Welcome, ClientError> {
    let hello = ClientMessage::Hello {
        protocol: PROTOCOL_VERSION,
        client: CLIENT_NAME.to_owned(),
    };
    send_frame(socket, &hello).await?;
    loop {
        let text = match socket.next().await {
            None => {
                return Err(ClientError::Disconnected(
                    "closed before welcome".to_owned(),
                ));
            }
            Some(Err(e)) => return Err(ClientError::Disconnected(e.to_string())),
            Some(Ok(WsMessage::Text(text))) => text,
            Some(Ok(WsMessage::Close(frame))) => {
                return Err(ClientError::Disconnected(close_reason(frame.as_ref())));
            }
            Some(Ok(_)) => continue,
        };
        match parse(&text)? {
            ServerMessage::Welcome {
                protocol,
                server_version,
                user,
                workspaces,
                limits,
            } => {
                return Ok(Welcome {
                    protocol,
                    server_version,
                    user,
                    workspaces,
                    limits,
                });
            }
            ServerMessage::Error {
                code: ErrorCode::Unauthorized,
                message,
                ..
            } => {
                return Err(ClientError::Unauthorized {
                    code: ErrorCode::Unauthorized.to_string(),
                    message,
                });
            }
            ServerMessage::Error { code, message, .. } => {
                return Err(ClientError::Server(WireError::new(code, message)));
            }
            ServerMessage::Pong { .. } | ServerMessage::Typing { .. } => continue,
            other => return Err(unexpected("welcome", &other)),
        }
    }
}

fn parse(text: &str) -> Result<ServerMessage, ClientError> {
    serde_json::from_str(text).map_err(|e| {
        ClientError::Protocol(format!(
            "{e} in frame {}",
            text.chars().take(200).collect::<String>()
        ))
    })
}

async fn send_frame(socket: &mut Socket, frame: &ClientMessage) -> Result<(), ClientError> {
    let json = serde_json::to_string(frame).map_err(|e| ClientError::Protocol(e.to_string()))?;
    socket
        .send(WsMessage::text(json))
        .await
        .map_err(|e| ClientError::Disconnected(e.to_string()))
}

fn close_reason(frame: Option<&tungstenite::protocol::CloseFrame>) -> String {
    match frame {
        Some(f) if !f.reason.is_empty() => {
            format!(
                "the server closed the connection ({}: {})",
                u16::from(f.code),
                f.reason
            )
        }
        Some(f) => format!("the server closed the connection ({})", u16::from(f.code)),
        None => "the server closed the connection".to_owned(),
    }
}

/// The socket task: forwards requests, routes answers to their waiters and everything else to the
/// push channel, and reports why the connection ended.
async fn run(
    mut socket: Socket,
    mut requests: mpsc::UnboundedReceiver<Outgoing>,
    pushes: mpsc::UnboundedSender<Reply>,
    room: Room,
) {
    let mut pending: HashMap<RequestId, oneshot::Sender<Reply>> = HashMap::new();
    // Room for the next push is taken before the socket is read (kept when the frame was an
    // answer rather than a push).
    let mut roomy = false;
    let reason = loop {
        tokio::select! {
            () = room.take(), if !roomy => roomy = true,
            outgoing = requests.recv() => {
                let Some(Outgoing { frame, reply }) = outgoing else {
                    let _ = socket.close(None).await;
                    break "the client closed the connection".to_owned();
                };
                if let Some((id, tx)) = reply {
                    pending.insert(id, tx);
                }
                let sent = match frame {
                    Frame::Message(frame) => send_frame(&mut socket, &frame).await,
                    Frame::Text(text) => socket
                        .send(WsMessage::Text(text))
                        .await
                        .map_err(|e| ClientError::Disconnected(e.to_string())),
                };
                if let Err(e) = sent {
                    break e.to_string();
                }
            }
            incoming = socket.next(), if roomy => {
                let text = match incoming {
                    None => break "the server closed the connection".to_owned(),
                    Some(Err(e)) => break e.to_string(),
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Close(frame))) => break close_reason(frame.as_ref()),
                    Some(Ok(_)) => continue,
                };
                let message = match parse(&text) {
                    Ok(message) => message,
                    Err(e) => {
                        let _ = pushes.send(Err(e));
                        roomy = false;
                        continue;
                    }
                };
                if route(message, &mut pending, &pushes) {
                    roomy = false;
                }
            }
        }
    };
    for (_, tx) in pending.drain() {
        let _ = tx.send(Err(ClientError::Disconnected(reason.clone())));
    }
    let _ = pushes.send(Err(ClientError::Disconnected(reason)));
}

/// Hands `message` to the request waiting for it, or else to the pushes; returns whether it
/// was pushed.
fn route(
    message: ServerMessage,
    pending: &mut HashMap<RequestId, oneshot::Sender<Reply>>,
    pushes: &mpsc::UnboundedSender<Reply>,
) -> bool {
    let request_id = match &message {
        ServerMessage::Ack { request_id, .. }
        | ServerMessage::Result { request_id, .. }
        | ServerMessage::AccountResult { request_id, .. } => Some(request_id),
        ServerMessage::Error { request_id, .. } => request_id.as_ref(),
        _ => None,
    };
    let waiter = request_id.and_then(|id| pending.remove(id));
    match (waiter, message) {
        (
            Some(tx),
            ServerMessage::Error {
                code,
                message,
                retry_after_ms,
                ..
            },
        ) => {
            let mut error = WireError::new(code, message);
            error.retry_after_ms = retry_after_ms;
            let _ = tx.send(Err(ClientError::Server(error)));
            false
        }
        (Some(tx), message) => {
            let _ = tx.send(Ok(message));
            false
        }
        (None, message) => {
            let _ = pushes.send(Ok(message));
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bounded connection stops reading while its pushes wait (the rest wait in TCP and on
    /// the server), answers still come once the caller reads on, and no push is lost or
    /// reordered.
    #[tokio::test]
    async fn bounded_pushes_wait_in_the_socket_and_none_is_lost() {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = crate::tui::local::start(dir.path().join("data"))
            .await
            .expect("local server");
        let mut viewer = Connection::connect(&server.endpoint, &server.token)
            .await
            .expect("viewer connects");
        viewer.bound_pushes(2);
        let workspace = viewer.welcome().workspaces[0].id.clone();
        viewer.subscribe(&workspace, None).expect("subscribe");
        let writer = Connection::connect(&server.endpoint, &server.token)
            .await
            .expect("writer connects");
        for i in 0..40 {
            writer
                .command(
                    &workspace,
                    Command::CreateBoard {
                        board_id: None,
                        name: format!("board {i}"),
                        columns: None,
                    },
                )
                .await
                .expect("a board");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            viewer.pushes.len() <= 2,
            "{} pushes wait in memory",
            viewer.pushes.len()
        );
        let mut boards = Vec::new();
        let mut last_seq = 0;
        while boards.len() < 40 {
            let push = tokio::time::timeout(Duration::from_secs(10), viewer.next_push())
                .await
                .expect("the pushes keep coming")
                .expect("open")
                .expect("a push");
            assert!(viewer.pushes.len() <= 2, "{}", viewer.pushes.len());
            if let ServerMessage::Event { event } = push {
                assert!(event.seq > last_seq, "in order");
                last_seq = event.seq;
                if let warren_protocol::Change::BoardCreated { board, .. } = event.change {
                    boards.push(board.name);
                }
            }
        }
        let want: Vec<String> = (0..40).map(|i| format!("board {i}")).collect();
        assert_eq!(boards, want);
        // Answers still arrive on the bounded connection.
        viewer
            .command(
                &workspace,
                Command::CreateBoard {
                    board_id: None,
                    name: "after".into(),
                    columns: None,
                },
            )
            .await
            .expect("answered");
    }

    #[test]
    fn request_ids_are_valid_and_distinct() {
        let (Ok(a), Ok(b)) = (new_request_id(), new_request_id()) else {
            panic!("request ids must be valid");
        };
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("cli-"));
        assert_eq!(a.as_str().len(), 20);
    }
}
