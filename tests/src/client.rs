//! A raw protocol client over a real WebSocket, for driving `warren-server` frame by frame.
//!
//! It records everything the server sends: every `event` in arrival order ([`Client::events`]),
//! snapshots, `synced` and `resync` notices, and answers by request id. Waiting for one thing
//! (an ack, `synced`, a pong) keeps reading and recording the frames that arrive first, since
//! events and answers interleave.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use warren_protocol::{
    Command, ErrorCode, Event, Id, Member, PROTOCOL_VERSION, Query, QueryResult, ServerMessage,
    WorkspaceState,
};

/// How long a single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Why a connection attempt failed.
#[derive(Debug)]
pub enum ConnectError {
    /// The server answered the upgrade with a plain HTTP response.
    Http { status: u16, body: String },
    /// Anything else (TCP, protocol).
    Other(String),
}

/// Why a wait ended without what was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gone {
    /// The server closed the connection (with this close code, if any) or it broke.
    Closed(Option<u16>),
    /// Nothing arrived in time.
    Timeout,
}

/// How a connection is opened.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// The `Authorization` header value; `None` sends none.
    pub authorization: Option<String>,
    /// `SO_RCVBUF` for the socket, to make a slow reader's TCP window small.
    pub recv_buffer: Option<u32>,
}

/// A connected protocol client.
pub struct Client {
    ws: WebSocketStream<TcpStream>,
    prefix: String,
    counter: u64,
    /// The workspace from `welcome` (after [`Client::hello`]).
    pub workspace: Option<Id>,
    /// The user from `welcome`.
    pub user: Option<Member>,
    /// Every `event` frame, in arrival order.
    pub events: Vec<Event>,
    /// Every `snapshot` frame's state.
    pub snapshots: Vec<WorkspaceState>,
    /// Every `synced` frame's seq.
    pub synced: Vec<u64>,
    /// Every `resync` frame's `from`.
    pub resyncs: Vec<u64>,
    /// For every `resync` frame, how many events had arrived before it.
    pub resync_positions: Vec<usize>,
    /// Every `pong` nonce.
    pub pongs: Vec<u64>,
    /// Every `typing` frame: (room id, user id).
    pub typing: Vec<(Id, Id)>,
    /// Every `presence` frame's online list, in order (the last is the current one).
    pub presence: Vec<Vec<Id>>,
    /// Every log and worker frame (`log_lines`, `log_end`, `worker_welcome`, `assign`,
    /// `cancel_run`, `log_ack`, `log_refused`), in order.
    pub run_frames: Vec<ServerMessage>,
    /// Every `welcome` frame after the first.
    pub welcomes: usize,
    /// `error` frames without a request id: (code, message).
    pub loose_errors: Vec<(ErrorCode, String)>,
    /// Answers (`ack`, `error`, `result`) not yet taken, by request id.
    answers: HashMap<String, VecDeque<ServerMessage>>,
    /// Set once the connection ended: the close code, if the server sent one.
    pub closed: Option<Option<u16>>,
}

/// The result of [`Client::subscribe`].
#[derive(Debug)]
pub struct Subscribed {
    pub snapshot: Option<WorkspaceState>,
    /// The events between the subscribe and `synced`.
    pub events: Vec<Event>,
    pub synced: u64,
}

/// An `ack`.
#[derive(Debug, Clone)]
pub struct Ack {
    pub seq: u64,
    pub duplicate: bool,
    pub event: Event,
}

/// Connects with `Authorization: Bearer TOKEN`.
pub async fn connect(addr: SocketAddr, token: &str) -> Client {
    let options = ConnectOptions {
        authorization: Some(format!("Bearer {token}")),
        recv_buffer: None,
    };
    connect_with(addr, &options)
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e:?}"))
}

/// Connects and says hello.
pub async fn connect_hello(addr: SocketAddr, token: &str) -> Client {
    let mut client = connect(addr, token).await;
    client.hello().await;
    client
}

/// Opens a connection with the given options; the HTTP refusal is returned, not panicked on.
pub async fn connect_with(
    addr: SocketAddr,
    options: &ConnectOptions,
) -> Result<Client, ConnectError> {
    let socket = TcpSocket::new_v4().map_err(|e| ConnectError::Other(e.to_string()))?;
    if let Some(size) = options.recv_buffer {
        socket
            .set_recv_buffer_size(size)
            .map_err(|e| ConnectError::Other(e.to_string()))?;
    }
    let stream = socket
        .connect(addr)
        .await
        .map_err(|e| ConnectError::Other(e.to_string()))?;
    let mut request = format!("ws://{addr}/ws")
        .into_client_request()
        .map_err(|e| ConnectError::Other(e.to_string()))?;
    if let Some(auth) = &options.authorization {
        let value = HeaderValue::from_str(auth).map_err(|e| ConnectError::Other(e.to_string()))?;
        request.headers_mut().insert("authorization", value);
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let connected = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)),
    )
    .await
    .map_err(|_| ConnectError::Other("the upgrade timed out".into()))?;
    let ws = match connected {
        Ok((ws, _response)) => ws,
        Err(WsError::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            return Err(ConnectError::Http {
                status: response.status().as_u16(),
                body,
            });
        }
        Err(e) => return Err(ConnectError::Other(e.to_string())),
    };
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Client {
        ws,
        prefix: format!("c{}-{n}", std::process::id()),
        counter: 0,
        workspace: None,
        user: None,
        events: Vec::new(),
        snapshots: Vec::new(),
        synced: Vec::new(),
        resyncs: Vec::new(),
        resync_positions: Vec::new(),
        pongs: Vec::new(),
        typing: Vec::new(),
        presence: Vec::new(),
        run_frames: Vec::new(),
        welcomes: 0,
        loose_errors: Vec::new(),
        answers: HashMap::new(),
        closed: None,
    })
}

impl Client {
    /// A fresh request id, unique per client.
    pub fn next_request_id(&mut self) -> String {
        self.counter += 1;
        format!("{}-{}", self.prefix, self.counter)
    }

    /// The subscribed (or first) workspace id.
    pub fn workspace(&self) -> Id {
        self.workspace.clone().expect("hello first")
    }

    /// Sends a text frame as it is.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), Gone> {
        let text: String = text.into();
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|_| Gone::Closed(self.closed.flatten()))
    }

    /// Sends a raw tungstenite message (binary frames, say).
    pub async fn send_raw(&mut self, message: Message) -> Result<(), Gone> {
        self.ws
            .send(message)
            .await
            .map_err(|_| Gone::Closed(self.closed.flatten()))
    }

    /// Sends a JSON value as a text frame.
    pub async fn send_json(&mut self, value: &Value) -> Result<(), Gone> {
        self.send_text(value.to_string()).await
    }

    /// Reads one frame and records it. `Err` when the connection is gone or `deadline` passed.
    pub async fn read_one(&mut self, deadline: Instant) -> Result<(), Gone> {
        if let Some(code) = self.closed {
            return Err(Gone::Closed(code));
        }
        let next = match tokio::time::timeout_at(deadline, self.ws.next()).await {
            Ok(next) => next,
            Err(_) => return Err(Gone::Timeout),
        };
        match next {
            Some(Ok(Message::Text(text))) => {
                let message: ServerMessage =
                    serde_json::from_str(text.as_str()).unwrap_or_else(|e| {
                        panic!("the server sent an unparseable frame ({e}): {text}")
                    });
                self.record(message);
                Ok(())
            }
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map(|f| u16::from(f.code));
                self.closed = Some(code);
                Err(Gone::Closed(code))
            }
            Some(Ok(Message::Binary(_))) => panic!("the server sent a binary frame"),
            Some(Ok(_)) => Ok(()),
            Some(Err(_)) | None => {
                self.closed = Some(None);
                Err(Gone::Closed(None))
            }
        }
    }

    fn record(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Welcome {
                user, workspaces, ..
            } => {
                self.workspace = workspaces.first().map(|w| w.id.clone());
                self.user = Some(user);
                self.welcomes += 1;
            }
            ServerMessage::Snapshot { state } => self.snapshots.push(state),
            ServerMessage::Event { event } => self.events.push(event),
            ServerMessage::Synced { seq, .. } => self.synced.push(seq),
            ServerMessage::Resync { from, .. } => {
                self.resyncs.push(from);
                self.resync_positions.push(self.events.len());
            }
            ServerMessage::Pong { nonce } => self.pongs.push(nonce),
            ServerMessage::Typing { room_id, user_id } => self.typing.push((room_id, user_id)),
            ServerMessage::Presence { online, .. } => self.presence.push(online),
            ServerMessage::Error {
                request_id: None,
                code,
                message,
                ..
            } => self.loose_errors.push((code, message)),
            ServerMessage::LogLines { .. }
            | ServerMessage::LogEnd { .. }
            | ServerMessage::WorkerWelcome { .. }
            | ServerMessage::Assign { .. }
            | ServerMessage::CancelRun { .. }
            | ServerMessage::LogAck { .. }
            | ServerMessage::LogRefused { .. }
            | ServerMessage::AgentDelta { .. } => self.run_frames.push(message),
            ServerMessage::Ack { ref request_id, .. }
            | ServerMessage::LogSynced { ref request_id, .. }
            | ServerMessage::RunWatching { ref request_id, .. }
            | ServerMessage::Result { ref request_id, .. }
            | ServerMessage::AccountResult { ref request_id, .. }
            | ServerMessage::Error {
                request_id: Some(ref request_id),
                ..
            } => {
                let key = request_id.to_string();
                self.answers.entry(key).or_default().push_back(message);
            }
        }
    }

    /// Reads until `done` holds, up to `timeout`.
    pub async fn read_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&Client) -> bool,
    ) -> Result<(), Gone> {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            self.read_one(deadline).await?;
        }
        Ok(())
    }

    /// Like [`Client::read_until`], failing the test with `what` if it does not happen.
    pub async fn expect_until(&mut self, what: &str, done: impl FnMut(&Client) -> bool) {
        if let Err(e) = self.read_until(WAIT, done).await {
            panic!("waiting for {what}: {e:?}");
        }
    }

    /// `hello` → `welcome`.
    pub async fn hello(&mut self) {
        self.send_json(
            &json!({"type": "hello", "protocol": PROTOCOL_VERSION, "client": "warren-e2e"}),
        )
        .await
        .expect("send hello");
        self.expect_until("welcome", |c| c.user.is_some()).await;
    }

    /// `subscribe` to the first workspace, reading up to `synced`.
    pub async fn subscribe(&mut self, since: Option<u64>) -> Subscribed {
        let mut frame = json!({"type": "subscribe", "workspace_id": self.workspace()});
        if let Some(since) = since {
            frame["since"] = json!(since);
        }
        let (events, snapshots, synced) =
            (self.events.len(), self.snapshots.len(), self.synced.len());
        self.send_json(&frame).await.expect("send subscribe");
        self.expect_until("synced", |c| c.synced.len() > synced)
            .await;
        Subscribed {
            snapshot: self.snapshots.get(snapshots).cloned(),
            events: self.events[events..].to_vec(),
            synced: self.synced[synced],
        }
    }

    /// Sends a command under `request_id` without waiting.
    pub async fn send_command_as(
        &mut self,
        request_id: &str,
        command: &Command,
    ) -> Result<(), Gone> {
        let frame = json!({
            "type": "command",
            "request_id": request_id,
            "command": command,
        });
        self.send_json(&frame).await
    }

    /// Sends a command under a fresh request id without waiting; returns the id.
    pub async fn send_command(&mut self, command: &Command) -> Result<String, Gone> {
        let id = self.next_request_id();
        self.send_command_as(&id, command).await?;
        Ok(id)
    }

    /// Takes the answer to `request_id` if it has arrived.
    /// Whether an answer to `request_id` arrived and was not taken yet.
    pub fn has_answer(&self, request_id: &str) -> bool {
        self.answers.get(request_id).is_some_and(|q| !q.is_empty())
    }

    /// Takes the oldest unread answer to `request_id`, if one arrived.
    pub fn take_answer(&mut self, request_id: &str) -> Option<ServerMessage> {
        let queue = self.answers.get_mut(request_id)?;
        let answer = queue.pop_front();
        if queue.is_empty() {
            self.answers.remove(request_id);
        }
        answer
    }

    /// Waits for the answer to `request_id`.
    pub async fn try_answer(&mut self, request_id: &str) -> Result<ServerMessage, Gone> {
        self.read_until(WAIT, |c| c.answers.contains_key(request_id))
            .await?;
        Ok(self
            .take_answer(request_id)
            .expect("the answer was just seen"))
    }

    /// Waits for the `ack` of `request_id`, failing the test on anything else.
    pub async fn ack(&mut self, request_id: &str) -> Ack {
        match self.try_answer(request_id).await {
            Ok(ServerMessage::Ack {
                seq,
                duplicate,
                event,
                ..
            }) => Ack {
                seq,
                duplicate,
                event,
            },
            other => panic!("expected an ack for {request_id}, got {other:?}"),
        }
    }

    /// Waits for an `error` answering `request_id` and returns its code.
    pub async fn error_code(&mut self, request_id: &str) -> ErrorCode {
        match self.try_answer(request_id).await {
            Ok(ServerMessage::Error { code, .. }) => code,
            other => panic!("expected an error for {request_id}, got {other:?}"),
        }
    }

    /// Sends a command and waits for its ack.
    pub async fn command(&mut self, command: &Command) -> Ack {
        let id = self.send_command(command).await.expect("send a command");
        self.ack(&id).await
    }

    /// Runs a query and returns its result.
    pub async fn query(&mut self, query: &Query) -> QueryResult {
        let id = self.next_request_id();
        let frame = json!({"type": "query", "request_id": id, "query": query});
        self.send_json(&frame).await.expect("send a query");
        match self.try_answer(&id).await {
            Ok(ServerMessage::Result { result, .. }) => result,
            other => panic!("expected a result for query {query:?}, got {other:?}"),
        }
    }

    /// The workspace state as of now, via the `snapshot` query.
    pub async fn snapshot(&mut self) -> WorkspaceState {
        match self.query(&Query::Snapshot).await {
            QueryResult::Snapshot { state } => state,
            other => panic!("expected a snapshot result, got {other:?}"),
        }
    }

    /// Every event of the workspace from seq 1, paging the `events` query; and the head.
    pub async fn all_events(&mut self) -> (Vec<Event>, u64) {
        let mut all: Vec<Event> = Vec::new();
        loop {
            let since = all.last().map_or(0, |e| e.seq);
            match self.query(&Query::Events { since, limit: 500 }).await {
                QueryResult::Events { events, head } => {
                    if events.is_empty() {
                        return (all, head);
                    }
                    all.extend(events);
                }
                other => panic!("expected an events result, got {other:?}"),
            }
        }
    }

    /// Every message of a room, oldest first, paging the `messages` query.
    pub async fn all_messages(&mut self, room_id: &Id) -> Vec<warren_protocol::Message> {
        let mut pages: Vec<Vec<warren_protocol::Message>> = Vec::new();
        let mut before = None;
        loop {
            let query = Query::Messages {
                room_id: room_id.clone(),
                before,
                limit: 500,
            };
            match self.query(&query).await {
                QueryResult::Messages {
                    messages, has_more, ..
                } => {
                    before = messages.first().map(|m| m.seq);
                    let done = !has_more || messages.is_empty();
                    pages.push(messages);
                    if done {
                        break;
                    }
                }
                other => panic!("expected a messages result, got {other:?}"),
            }
        }
        pages.into_iter().rev().flatten().collect()
    }

    /// JSON `ping` → `pong` with the same nonce.
    pub async fn ping(&mut self, nonce: u64) -> Result<(), Gone> {
        self.send_json(&json!({"type": "ping", "nonce": nonce}))
            .await?;
        self.read_until(WAIT, |c| c.pongs.contains(&nonce)).await
    }

    /// Waits until the connection ends; returns the close code if the server sent one.
    pub async fn wait_closed(&mut self, timeout: Duration) -> Result<Option<u16>, Gone> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.read_one(deadline).await {
                Ok(()) => {}
                Err(Gone::Closed(code)) => return Ok(code),
                Err(Gone::Timeout) => return Err(Gone::Timeout),
            }
        }
    }

    /// After the server's close frame: reads on until the connection ends, and says whether it
    /// ended cleanly (the closing handshake completed, then EOF) rather than with an error such
    /// as a reset.
    pub async fn ended_cleanly(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err("the connection did not end in time".to_owned()),
                Ok(None) | Ok(Some(Err(WsError::ConnectionClosed))) => return Ok(()),
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Sends a close frame and lets the server answer.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        let _ = self.wait_closed(Duration::from_secs(5)).await;
    }
}
