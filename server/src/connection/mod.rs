//! One client connection: reads frames, answers them, and runs the sending half
//! ([`send`]) that streams the subscribed workspace.
//!
//! The reading half never blocks on the writer: each command is handed to a small task that
//! waits for its durable result and queues the answer, with at most [`MAX_IN_FLIGHT`] commands
//! outstanding per connection; a command's slot is freed only once its answer is written to the
//! socket. Answers wait in a bounded queue ([`replies`]); when it is full the reader
//! stops reading, so a client that sends without reading holds a bounded amount of memory, and
//! one that leaves a frame unread for the write timeout is disconnected. A socket that does not
//! say `hello` within the hello timeout is closed with 1008.

mod access;
mod account;
mod follow;
mod logs;
mod parse;
mod replies;
mod runs_query;
mod send;
mod token;
mod watch;
mod worker;

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use tokio::sync::Semaphore;
use warren_protocol::limits::MAX_PAGE;
use warren_protocol::{
    ClientMessage, ErrorCode, Id, Member, PROTOCOL_VERSION, Query, QueryResult, RequestId,
    ServerMessage, Workspace,
};

use replies::{Outgoing, Replies};
pub use send::MAX_REPLAY_EVENTS;

use crate::app::App;
use crate::audit::{self, Source};
use crate::frames;
use crate::hub::{ConnectionId, Frame};
use crate::store::records::{TokenRecord, UserRecord};
use crate::store::{StoreError, read};
use crate::writer::{REQUEST_ID_TTL_SECS, WriterHandle};

/// Commands a connection may have waiting for the writer at once.
pub const MAX_IN_FLIGHT: usize = 256;

struct Conn {
    app: Arc<App>,
    connection: ConnectionId,
    user: UserRecord,
    /// The token this connection authenticated with (its scope limits what the role may do).
    token: TokenRecord,
    out: Replies,
    greeted: bool,
    memberships: Vec<(Workspace, Member)>,
    subscribed: Option<Id>,
    in_flight: Arc<Semaphore>,
    /// The peer's address, for the audit log.
    from: Source,
    /// The writer, with this connection's address on every request.
    writer: WriterHandle,
    /// The client's name and version from `hello` (a worker's version in `worker list`).
    client: String,
    /// The worker this connection speaks for, after `worker_hello`.
    worker: Option<worker::Link>,
    /// The runs whose logs this connection follows, and its chunks waiting for answers.
    logs: logs::ConnLogs,
    /// The agent runs and rooms this connection watches (`run_watch`).
    watch: watch::ConnWatch,
}

/// Serves an upgraded, authenticated socket until either side closes it or the server shuts down.
pub async fn serve(
    app: Arc<App>,
    user: UserRecord,
    token: TokenRecord,
    peer: Option<IpAddr>,
    socket: WebSocket,
) {
    let _open = app.connections.open();
    let (sink, mut stream) = socket.split();
    let (out, out_rx) = Replies::new();
    // Lets the reader notice that the sending half gave up on a peer that does not read.
    let sending = out.clone();
    let connection = app.hub.new_connection_id();
    let sender = tokio::spawn(send::run(
        app.clone(),
        connection,
        user.id.clone(),
        token.scope,
        sink,
        out_rx,
    ));
    let mut shutdown = app.shutdown.clone();
    let mut token_changes = app.token_changes.subscribe();
    let mut expiry = token::deadline(token.expires_at);
    let mut conn = Conn {
        app: app.clone(),
        connection,
        user,
        token,
        out,
        greeted: false,
        memberships: Vec::new(),
        subscribed: None,
        in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        from: Source::peer(peer),
        writer: app.writer.with_source(Source::peer(peer)),
        client: String::new(),
        worker: None,
        logs: logs::ConnLogs::default(),
        watch: watch::ConnWatch::default(),
    };
    tracing::debug!(user = %conn.user.id, "connection opened");
    let mut draining = false;
    let hello_timeout = app.limits.hello_timeout;
    let hello_deadline = tokio::time::sleep(hello_timeout);
    tokio::pin!(hello_deadline);
    let ended = loop {
        let frame = if draining {
            // Shutting down: keep reading only until this connection's in-flight commands are
            // answered, refusing anything new with `shutting_down`.
            let in_flight = conn.in_flight.clone();
            tokio::select! {
                biased;
                _ = in_flight.acquire_many(MAX_IN_FLIGHT as u32) => break Ended::Drained,
                frame = stream.next() => frame,
            }
        } else {
            let woke = tokio::select! {
                _ = shutdown.wait_for(|down| *down) => Woke::Shutdown,
                () = &mut hello_deadline, if !conn.greeted => Woke::NoHello,
                () = sending.closed() => Woke::SendingGone,
                changed = token_changes.recv() => Woke::Token(changed),
                () = token::sleep_until(expiry) => Woke::Expired,
                frame = stream.next() => Woke::Frame(frame),
            };
            match woke {
                Woke::Frame(frame) => frame,
                Woke::Shutdown => {
                    draining = true;
                    continue;
                }
                Woke::NoHello => break Ended::NoHello,
                Woke::SendingGone => break Ended::Failed,
                Woke::Token(changed) => {
                    match token::recheck(&conn.app, &conn.token, changed).await {
                        token::Recheck::Keep => {}
                        token::Recheck::Expires(at) => expiry = token::deadline(Some(at)),
                        token::Recheck::Revoked => {
                            conn.close_for_token("token revoked").await;
                            break Ended::Failed;
                        }
                    }
                    continue;
                }
                Woke::Expired => {
                    conn.close_for_token("token expired").await;
                    break Ended::Failed;
                }
            }
        };
        if draining && let Some(Ok(Message::Text(text))) = &frame {
            conn.refuse_during_shutdown(text.as_str()).await;
            continue;
        }
        match frame {
            Some(Ok(Message::Text(text))) => conn.handle_text(text.as_str()).await,
            Some(Ok(Message::Binary(_))) => {
                conn.error(
                    None,
                    ErrorCode::BinaryFrame,
                    "binary frames are not part of the protocol; send JSON in text frames",
                )
                .await;
            }
            Some(Ok(Message::Close(_))) | None => break Ended::ByPeer,
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                if send::is_too_large(&e) {
                    let _ = conn
                        .out
                        .control(Outgoing::Close {
                            code: send::CLOSE_TOO_BIG,
                            reason: "frame over the 4 MiB hard limit",
                        })
                        .await;
                } else if send::is_bad_utf8(&e) {
                    conn.error(
                        None,
                        ErrorCode::BadFrame,
                        "a text frame was not valid UTF-8; the connection is closed with code 1007",
                    )
                    .await;
                    let _ = conn
                        .out
                        .control(Outgoing::Close {
                            code: send::CLOSE_BAD_DATA,
                            reason: "a text frame was not valid UTF-8",
                        })
                        .await;
                }
                tracing::info!(user = %conn.user.id, error = %e, "connection read failed");
                break Ended::Failed;
            }
        }
    };
    if matches!(ended, Ended::NoHello) {
        conn.hello_too_late(hello_timeout).await;
    }
    // A worker's runs stay its own until its lease runs out; the registry lets go of it now.
    conn.worker_gone().await;
    conn.watches_gone();
    // Dropping our senders lets the sending half finish once in-flight commands are answered.
    drop(sending);
    drop(conn);
    let _ = sender.await;
    if matches!(ended, Ended::Drained) {
        await_peer_close(&mut stream).await;
    }
}

/// What woke the reading loop.
enum Woke {
    Shutdown,
    NoHello,
    SendingGone,
    Token(Result<Id, tokio::sync::broadcast::error::RecvError>),
    Expired,
    Frame(Option<Result<Message, axum::Error>>),
}

/// Why the reading loop ended.
enum Ended {
    /// The peer closed the socket (or sent its close frame).
    ByPeer,
    /// The server is shutting down and this connection's commands are all answered.
    Drained,
    /// Reading failed (a broken socket, an oversized frame, invalid UTF-8), or the sending half
    /// gave up on a peer that does not read.
    Failed,
    /// The socket did not say `hello` in time.
    NoHello,
}

/// How long a closing server waits for the peer's answer to its close frame.
const CLOSE_REPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The closing handshake after the server's close frame: reads (and ignores) what the peer still
/// sends until its own close frame arrives. Closing the socket with unread data in it would make
/// the kernel reset the connection, and a reset can destroy the acks and the close frame still on
/// their way to the client (it would see 1006 instead of 1001).
async fn await_peer_close(stream: &mut futures_util::stream::SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

impl Conn {
    /// Answers a frame that arrived after shutdown began: commands and queries get
    /// `shutting_down` (nothing applied), everything else is ignored.
    async fn refuse_during_shutdown(&self, text: &str) {
        if let Ok(message) = parse::parse(text)
            && let Some(request_id) = request_id_of(&message)
        {
            self.error(
                Some(request_id),
                ErrorCode::ShuttingDown,
                "the server is shutting down; nothing was applied; reconnect and re-send with the same request id",
            )
            .await;
        }
    }

    /// The socket did not say `hello` in time: tell it why, then close it with 1008.
    async fn hello_too_late(&self, timeout: std::time::Duration) {
        tracing::debug!(user = %self.user.id, "closed a socket that never said hello");
        self.error(
            None,
            ErrorCode::HelloRequired,
            &format!(
                "no hello within {} s; connect again and send {{\"type\":\"hello\",\"protocol\":1}} first",
                timeout.as_secs_f64()
            ),
        )
        .await;
        let _ = self
            .out
            .control(Outgoing::Close {
                code: send::CLOSE_POLICY,
                reason: "no hello in time",
            })
            .await;
    }

    /// Ends the connection because its token stopped working.
    async fn close_for_token(&self, reason: &'static str) {
        tracing::info!(user = %self.user.id, token = %self.token.id, reason, "closing a connection");
        let _ = self
            .out
            .control(Outgoing::Close {
                code: token::CLOSE_TOKEN,
                reason,
            })
            .await;
    }

    /// Queues a frame; waits while the queue is full (the client is not reading).
    async fn send(&self, message: &ServerMessage) {
        self.out.text(frames::text(message), None).await;
    }

    async fn error(&self, request_id: Option<RequestId>, code: ErrorCode, message: &str) {
        let _ = self
            .out
            .text(frames::error_text(request_id, code, message), None)
            .await;
    }

    /// Answers a request with a refusal that may carry `retry_after_ms` (`rate_limited`).
    async fn refuse(&self, request_id: RequestId, error: &warren_protocol::WireError) {
        let _ = self
            .out
            .text(frames::wire_error_text(Some(request_id), error), None)
            .await;
    }

    async fn internal(&self, request_id: Option<RequestId>, e: &StoreError) {
        tracing::error!(error = %e, "store read failed");
        self.error(
            request_id,
            ErrorCode::Internal,
            "the server could not read its store; try again",
        )
        .await;
    }

    async fn handle_text(&mut self, text: &str) {
        if self.greeted
            && let Some(c) = parse::log_chunk(text)
        {
            return self.log_chunk(c.run_id, c.chunk, c.lines).await;
        }
        let message = match parse::parse(text) {
            Ok(m) => m,
            Err(failure) => {
                self.error(
                    failure.request_id,
                    failure.error.code,
                    &failure.error.message,
                )
                .await;
                return;
            }
        };
        if !self.greeted && !matches!(message, ClientMessage::Hello { .. }) {
            self.error(
                request_id_of(&message),
                ErrorCode::HelloRequired,
                "send {\"type\":\"hello\",\"protocol\":1} first",
            )
            .await;
            return;
        }
        match message {
            ClientMessage::AgentDelta {
                run_id,
                step,
                offset,
                text,
            } => self.agent_delta(run_id, step, offset, text).await,
            ClientMessage::RunWatch {
                request_id,
                workspace_id,
                run_id,
                room_id,
            } => {
                self.run_watch(watch::RunWatch {
                    request_id,
                    workspace_id,
                    run_id,
                    room_id,
                })
                .await
            }
            ClientMessage::RunUnwatch { run_id, room_id } => {
                self.run_unwatch(run_id, room_id).await
            }
            ClientMessage::WorkerHello {
                workspace_id,
                tags,
                concurrency,
                held,
                agents,
            } => {
                self.worker_hello(workspace_id, tags, concurrency, held, agents)
                    .await
            }
            ClientMessage::Heartbeat { runs: _, draining } => self.heartbeat(draining).await,
            ClientMessage::LogChunk {
                run_id,
                chunk,
                lines,
            } => self.log_chunk(run_id, chunk, lines.into()).await,
            ClientMessage::LogSubscribe {
                request_id,
                workspace_id,
                run_id,
                from_line,
                tail,
                filter,
                compact,
            } => {
                self.log_subscribe(logs::LogSubscribe {
                    request_id,
                    workspace_id,
                    run_id,
                    from_line,
                    tail,
                    filter,
                    compact,
                })
                .await
            }
            ClientMessage::LogUnsubscribe { run_id } => self.log_unsubscribe(&run_id),
            ClientMessage::Hello { protocol, client } => self.hello(protocol, &client).await,
            ClientMessage::Subscribe {
                workspace_id,
                since,
            } => self.subscribe(workspace_id, since).await,
            ClientMessage::Command {
                request_id,
                workspace_id,
                command,
            } => {
                let Some(workspace) = self.workspace_for(&request_id, workspace_id).await else {
                    return;
                };
                if let Err(limited) = self.app.rates.command(&self.token.id) {
                    return self.refuse(request_id, &limited).await;
                }
                let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
                    return;
                };
                // Enqueue here, in the reader, so this connection's commands reach the writer in
                // the order they were sent; only the wait for the answer runs on its own task.
                let ticket = self
                    .writer
                    .enqueue_scoped(
                        self.user.id.clone(),
                        self.token.scope,
                        workspace,
                        request_id.clone(),
                        command,
                    )
                    .await;
                let out = self.out.clone();
                let app = self.app.clone();
                tokio::spawn(async move {
                    let answer = match ticket.wait().await {
                        Ok(applied) => {
                            if let warren_protocol::Change::WorkspaceDeleted { workspace } =
                                &applied.event.change
                            {
                                app.catch_up.forget(&workspace.id);
                            }
                            frames::text(&ServerMessage::Ack {
                                request_id,
                                seq: applied.event.seq,
                                duplicate: applied.duplicate,
                                event: (*applied.event).clone(),
                            })
                        }
                        Err(e) => frames::error_text(Some(request_id), e.code, &e.message),
                    };
                    // The slot stays taken until the sending half has written the answer.
                    out.text(answer, Some(permit)).await;
                });
            }
            ClientMessage::Query {
                request_id,
                workspace_id,
                query,
            } => {
                if let Some(workspace) = self.workspace_for(&request_id, workspace_id).await {
                    if let Err(limited) = self.app.rates.query(&self.token.id) {
                        return self.refuse(request_id, &limited).await;
                    }
                    self.query(request_id, workspace, query).await;
                }
            }
            ClientMessage::Typing { room_id } => {
                if let Some(workspace) = &self.subscribed {
                    let frame = ServerMessage::Typing {
                        room_id,
                        user_id: self.user.id.clone(),
                    };
                    let frame = Arc::new(Frame {
                        seq: 0,
                        text: frames::text(&frame),
                    });
                    self.app
                        .hub
                        .publish_ephemeral(workspace, self.connection, frame);
                }
            }
            ClientMessage::Ping { nonce } => self.send(&ServerMessage::Pong { nonce }).await,
            ClientMessage::Account { request_id, op } => self.account(request_id, op).await,
        }
    }

    async fn hello(&mut self, protocol: u32, client: &str) {
        if protocol != PROTOCOL_VERSION {
            self.error(
                None,
                ErrorCode::UnsupportedProtocol,
                &format!(
                    "this server speaks protocol {PROTOCOL_VERSION}, the client {protocol}; upgrade the older of the two"
                ),
            )
            .await;
            return;
        }
        let user_id = self.user.id.clone();
        let memberships = match self
            .app
            .read(move |s| read::memberships(&s.begin_read()?, &user_id))
            .await
        {
            Ok(m) => m,
            Err(e) => return self.internal(None, &e).await,
        };
        self.client = client.chars().take(64).collect();
        tracing::info!(user = %self.user.id, client = %self.client, "client connected");
        let member = memberships.first().map_or_else(
            || Member {
                user_id: self.user.id.clone(),
                name: self.user.name.clone(),
                role: warren_protocol::Role::Member,
            },
            |(_, m)| m.clone(),
        );
        let welcome = ServerMessage::Welcome {
            protocol: PROTOCOL_VERSION,
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            user: member,
            workspaces: memberships.iter().map(|(w, _)| w.clone()).collect(),
            limits: warren_protocol::message::ServerLimits {
                max_frame_bytes: warren_protocol::limits::MAX_FRAME_BYTES,
                max_replay_events: MAX_REPLAY_EVENTS,
                request_id_ttl_secs: REQUEST_ID_TTL_SECS,
            },
        };
        self.send(&welcome).await;
        self.memberships = memberships;
        self.greeted = true;
    }

    /// Resolves the workspace a request acts on: the named one, else the subscribed one, else
    /// the user's first. Sends the error itself when there is none.
    async fn workspace_for(&mut self, request_id: &RequestId, named: Option<Id>) -> Option<Id> {
        let chosen = named
            .or_else(|| self.subscribed.clone())
            .or_else(|| self.memberships.first().map(|(w, _)| w.id.clone()));
        let Some(workspace) = chosen else {
            self.error(
                Some(request_id.clone()),
                ErrorCode::NoWorkspace,
                "you are not a member of any workspace; ask an owner to add you",
            )
            .await;
            return None;
        };
        if self.memberships.iter().any(|(w, _)| w.id == workspace) {
            return Some(workspace);
        }
        // A workspace joined after hello: refresh once.
        let user_id = self.user.id.clone();
        if let Ok(m) = self
            .app
            .read(move |s| read::memberships(&s.begin_read()?, &user_id))
            .await
        {
            self.memberships = m;
        }
        if self.memberships.iter().any(|(w, _)| w.id == workspace) {
            Some(workspace)
        } else {
            self.error(
                Some(request_id.clone()),
                ErrorCode::NotFound,
                &format!(
                    "no workspace {workspace} that you are a member of; see the list in welcome"
                ),
            )
            .await;
            None
        }
    }

    async fn subscribe(&mut self, workspace_id: Option<Id>, since: Option<u64>) {
        let probe = RequestId::parse("subscribe").ok();
        let workspace = match probe {
            Some(p) => self.workspace_for(&p, workspace_id).await,
            None => None,
        };
        if let Some(workspace) = workspace {
            self.subscribed = Some(workspace.clone());
            let _ = self
                .out
                .control(Outgoing::Subscribe { workspace, since })
                .await;
        }
    }

    async fn query(&mut self, request_id: RequestId, workspace: Id, query: Query) {
        match access::check(
            &self.app,
            &workspace,
            &self.user.id,
            self.token.scope,
            query.name(),
        )
        .await
        {
            Ok(()) => {}
            Err(access::Denied::Refused(e)) => {
                return self.error(Some(request_id), e.code, &e.message).await;
            }
            Err(access::Denied::Store(e)) => return self.internal(Some(request_id), &e).await,
        }
        let result = match query {
            Query::Providers => self
                .app
                .read(move |s| {
                    let providers = read::providers(&s.begin_read()?, workspace.as_str())?;
                    Ok(QueryResult::Providers { providers })
                })
                .await
                .map(Some),
            Query::Agents => self
                .app
                .read(move |s| {
                    let agents = read::agents(&s.begin_read()?, workspace.as_str())?;
                    Ok(QueryResult::Agents { agents })
                })
                .await
                .map(Some),
            Query::Approvals { agent_id } => self
                .app
                .read(move |s| {
                    let grants = crate::service::agent_runs::grants(
                        &s.begin_read()?,
                        workspace.as_str(),
                        agent_id.as_ref(),
                    )?;
                    Ok(QueryResult::Approvals { grants })
                })
                .await
                .map(Some),
            Query::Budgets => self
                .app
                .read(move |s| {
                    let budgets = crate::service::budgets::reads::budgets(
                        &s.begin_read()?,
                        workspace.as_str(),
                        crate::service::now_ms(),
                    )?;
                    Ok(QueryResult::Budgets { budgets })
                })
                .await
                .map(Some),
            Query::Usage { since, until } => {
                let now = crate::service::now_ms();
                let answer = self
                    .app
                    .read(move |s| {
                        crate::service::budgets::reads::usage_answer(
                            s, &workspace, since, until, now,
                        )
                    })
                    .await;
                match answer {
                    Ok(Err(refusal)) => {
                        return self
                            .error(Some(request_id), ErrorCode::Validation, &refusal)
                            .await;
                    }
                    other => other.map(|rows| rows.ok().map(|rows| QueryResult::Usage { rows })),
                }
            }
            Query::Jobs => runs_query::jobs(&self.app, workspace).await.map(Some),
            Query::Runs {
                status,
                job,
                since,
                before,
                limit,
            } => {
                let filter = crate::store::run_reads::RunFilter {
                    status,
                    job,
                    since,
                    before,
                    limit: limit as usize,
                };
                runs_query::runs(&self.app, workspace, filter)
                    .await
                    .map(Some)
            }
            Query::Run { number } => match runs_query::run(&self.app, workspace, number).await {
                Ok(None) => {
                    return self
                        .error(
                            Some(request_id),
                            ErrorCode::NotFound,
                            &format!("no run r{number} in this workspace; list runs with `warren run list`"),
                        )
                        .await;
                }
                other => other,
            },
            Query::Workers => runs_query::workers(&self.app, workspace).await.map(Some),
            Query::Log {
                run_id,
                from,
                limit,
                backward,
                filter,
            } => {
                let query = logs::LogQuery {
                    run_id,
                    from,
                    limit,
                    backward,
                    filter,
                };
                return self.log_query(request_id, workspace, query).await;
            }
            Query::Snapshot => self
                .app
                .read(move |s| read::snapshot(&s.begin_read()?, &workspace))
                .await
                .map(|state| state.map(|state| QueryResult::Snapshot { state })),
            Query::Messages {
                room_id,
                before,
                limit,
            } => {
                let limit = (limit as usize).clamp(1, MAX_PAGE);
                self.app
                    .read(move |s| {
                        let txn = s.begin_read()?;
                        if read::room(&txn, &workspace, &room_id)?.is_none() {
                            return Ok(None);
                        }
                        let (messages, has_more) =
                            read::messages_page(&txn, &workspace, &room_id, before, limit)?;
                        Ok(Some(QueryResult::Messages {
                            room_id,
                            messages,
                            has_more,
                        }))
                    })
                    .await
            }
            Query::Events { since, limit } => {
                let limit = (limit as usize).clamp(1, MAX_PAGE);
                self.app
                    .read(move |s| read::events_after(&s.begin_read()?, &workspace, since, limit))
                    .await
                    .map(|(events, head)| Some(QueryResult::Events { events, head }))
            }
            Query::Audit {
                actor,
                action,
                since,
                before,
                limit,
            } => {
                let filter = audit::query::Filter {
                    actor,
                    action,
                    since,
                    before,
                    limit: limit as usize,
                };
                let user = self.user.id.clone();
                self.app
                    .read(move |s| {
                        audit::query::for_member(&s.begin_read()?, &workspace, &user, &filter)
                    })
                    .await
                    .map(|(entries, has_more)| Some(QueryResult::Audit { entries, has_more }))
            }
            Query::Presence => Ok(Some(QueryResult::Presence {
                online: self.app.presence.online(&workspace),
            })),
        };
        match result {
            Ok(Some(result)) => {
                self.send(&ServerMessage::Result { request_id, result })
                    .await;
            }
            Ok(None) => {
                self.error(
                    Some(request_id),
                    ErrorCode::NotFound,
                    "no such room in this workspace; list rooms with a snapshot query",
                )
                .await;
            }
            Err(e) => self.internal(Some(request_id), &e).await,
        }
    }
}

fn request_id_of(message: &ClientMessage) -> Option<RequestId> {
    match message {
        ClientMessage::Command { request_id, .. }
        | ClientMessage::Query { request_id, .. }
        | ClientMessage::Account { request_id, .. }
        | ClientMessage::LogSubscribe { request_id, .. }
        | ClientMessage::RunWatch { request_id, .. } => Some(request_id.clone()),
        _ => None,
    }
}
