//! The network side of the full-screen client: one task that keeps a connection up, resumes the
//! event stream from the last sequence it delivered, and carries requests and answers between
//! the app and the server. The app never touches the socket; it sends [`NetRequest`]s and
//! receives [`NetEvent`]s.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use warren_protocol::account::{AccountOp, AccountResult};
use warren_protocol::audit::AuditEntry;
use warren_protocol::budget::{Budget, UsageRow};
use warren_protocol::run::Run;
use warren_protocol::step::RunStep;
use warren_protocol::{
    ClientMessage, Command, ErrorCode, Id, Message, Query, QueryResult, RequestId, ServerMessage,
    WireError,
};

use super::trouble::plain_reason;
use crate::connection::{Ack, Connection, Handle, Welcome};
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::room::Room;

/// First reconnect delay; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest reconnect delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// What the app asks of the network.
#[derive(Debug)]
pub enum NetRequest {
    Command {
        request_id: RequestId,
        command: Command,
    },
    /// A page of a room's history with `seq < before` (the newest without it).
    Messages {
        room_id: Id,
        before: Option<u64>,
    },
    Typing {
        room_id: Id,
    },
    /// Leave the current workspace and connect to this one (the palette's "Switch to
    /// workspace"): the connection is replaced and the new workspace is subscribed afresh.
    Switch {
        workspace: Id,
    },
    /// An account request (making an invite); its answer comes back as [`NetEvent::Account`].
    Account {
        op: AccountOp,
    },
    /// The latest page of the workspace's audit log; answered by [`NetEvent::Audit`].
    Audit,
    /// Receive a run's log: its last `tail` lines, then live (`log_lines` pushes).
    LogFollow {
        run_id: Id,
        tail: u64,
    },
    /// Stop receiving a run's log.
    LogUnfollow {
        run_id: Id,
    },
    /// A page of a run's stored log; answered by [`NetEvent::LogPage`].
    LogPage(super::screens::runs::remote::PageRequest),
    /// Watch agent runs stream (`run_watch`): one run, or every run answering in a room.
    Watch {
        request_id: RequestId,
        run_id: Option<Id>,
        room_id: Option<Id>,
    },
    /// Stop watching (`run_unwatch`).
    Unwatch {
        run_id: Option<Id>,
        room_id: Option<Id>,
    },
    /// An agent run with its steps (the `run` query, by number); answered by
    /// [`NetEvent::RunSteps`].
    RunSteps {
        number: u64,
    },
    /// The workspace's budgets; answered by [`NetEvent::Budgets`].
    Budgets,
    /// The agents' standing approvals; answered by [`NetEvent::Approvals`].
    Approvals,
    /// Tokens and cost per day, agent, provider and room since `since` (ms); answered by
    /// [`NetEvent::Usage`].
    Usage {
        since: i64,
    },
}

/// What the network tells the app.
#[derive(Debug)]
pub enum NetEvent {
    Connecting,
    Connected(Box<Welcome>, Id),
    /// The connection is down; the next attempt is at `retry_at` (never, with `None`: the
    /// reason needs the user, like a revoked token).
    Disconnected {
        reason: String,
        retry_at: Option<Instant>,
    },
    /// The server refused the token (HTTP 401). Final: no retry until the user logs in again.
    Refused {
        message: String,
    },
    /// A frame of the event stream: snapshot, event, synced, resync, typing or an error.
    Push(Box<ServerMessage>),
    Acked(RequestId, Box<Ack>),
    Rejected(RequestId, WireError),
    Page {
        room_id: Id,
        messages: Vec<Message>,
        has_more: bool,
    },
    PageFailed {
        room_id: Id,
        error: String,
    },
    /// The server refused a request (a command of the outbox, or a history page) for coming too
    /// fast; it is sent again by itself after `retry_in`. Nothing is lost.
    SlowedDown {
        retry_in: Duration,
    },
    /// The answer to a [`NetRequest::Account`], or why there is none in plain words.
    Account(Result<AccountResult, String>),
    /// The audit entries (newest first, and whether older ones exist), or why not.
    Audit(Result<(Vec<AuditEntry>, bool), String>),
    /// The answer to a [`NetRequest::LogPage`], or why there is none.
    LogPage(
        super::screens::runs::remote::PageRequest,
        Result<super::screens::runs::remote::Page, String>,
    ),
    /// The answer to a [`NetRequest::RunSteps`]: the run and its steps, or why not.
    RunSteps(u64, Result<(Run, Vec<RunStep>), String>),
    /// The answer to a [`NetRequest::Budgets`].
    Budgets(Result<Vec<Budget>, String>),
    /// The answer to a [`NetRequest::Approvals`].
    Approvals(Result<Vec<warren_protocol::step::ApprovalGrant>, String>),
    /// The answer to a [`NetRequest::Usage`].
    Usage(Result<Vec<UsageRow>, String>),
}

/// How many times a history page is asked for while the server says to slow down (a command is
/// re-sent for as long as the connection lasts: it is the user's change).
pub const PAGE_TRIES: u32 = 10;

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct Target {
    pub endpoint: Endpoint,
    pub token: String,
    /// Workspace id or name; the user's first workspace when absent.
    pub workspace: Option<String>,
}

/// Pushes (snapshots, events, log lines) that may wait for the app, and as many again in the
/// connection: with that many waiting, the socket is not read. A followed log arrives as fast
/// as the server stores it (a million lines a second); without a bound, whatever the app had
/// not handled yet piled up in memory.
pub const PUSH_WINDOW: usize = 8;

/// Runs until the app drops its request sender. The network task takes a place in `room`
/// before each [`NetEvent::Push`], and the app gives it back ([`Room::give`]) once it handled
/// the push.
pub async fn run(
    target: Target,
    mut requests: mpsc::UnboundedReceiver<NetRequest>,
    events: mpsc::UnboundedSender<NetEvent>,
    room: Room,
) {
    let mut backoff = FIRST_BACKOFF;
    let mut last_seq: Option<u64> = None;
    // The workspace to open; the palette's switch changes it.
    let mut wanted = target.workspace.clone();
    loop {
        let _ = events.send(NetEvent::Connecting);
        let outcome = tokio::select! {
            c = Connection::connect(&target.endpoint, &target.token) => Some(c),
            idle = wait(None, &mut requests, &mut wanted) => match idle {
                Idle::Switch => {
                    last_seq = None;
                    continue;
                }
                Idle::Closed | Idle::Elapsed => None,
            },
        };
        let Some(outcome) = outcome else { return };
        let mut connection = match outcome {
            Ok(c) => c,
            Err(ClientError::Unauthorized { message, .. }) => {
                let _ = events.send(NetEvent::Refused { message });
                match wait(None, &mut requests, &mut wanted).await {
                    Idle::Switch => {
                        last_seq = None;
                        continue;
                    }
                    Idle::Closed | Idle::Elapsed => return,
                }
            }
            Err(e) => {
                let retry_at = retry_delay(&e, backoff).map(|delay| Instant::now() + delay);
                let _ = events.send(NetEvent::Disconnected {
                    reason: plain_reason(&e),
                    retry_at,
                });
                match wait(retry_at, &mut requests, &mut wanted).await {
                    Idle::Closed => return,
                    Idle::Switch => last_seq = None,
                    Idle::Elapsed => backoff = (backoff * 2).min(MAX_BACKOFF),
                }
                continue;
            }
        };
        backoff = FIRST_BACKOFF;
        connection.bound_pushes(PUSH_WINDOW);
        let welcome = connection.welcome().clone();
        let Some(workspace) = pick_workspace(&welcome, wanted.as_deref()) else {
            let reason = if welcome.workspaces.is_empty() {
                "you are in no workspace on this server; create one with 'warren workspace create NAME'"
            } else {
                "you are not a member of that workspace (check --workspace)"
            };
            let _ = events.send(NetEvent::Disconnected {
                reason: reason.into(),
                retry_at: None,
            });
            drop(connection);
            match wait(None, &mut requests, &mut wanted).await {
                Idle::Switch => {
                    last_seq = None;
                    continue;
                }
                Idle::Closed | Idle::Elapsed => return,
            }
        };
        if connection.subscribe(&workspace, last_seq).is_err() {
            continue;
        }
        let _ = events.send(NetEvent::Connected(Box::new(welcome), workspace.clone()));
        let handle = connection.handle();
        // Room in the app for the next push, taken before the push is.
        let mut roomy = false;
        let lost = loop {
            tokio::select! {
                () = room.take(), if !roomy => roomy = true,
                push = connection.next_push(), if roomy => match push {
                    Some(Ok(message)) => {
                        match &message {
                            ServerMessage::Snapshot { state } => last_seq = Some(state.seq),
                            ServerMessage::Event { event } => last_seq = Some(event.seq),
                            _ => {}
                        }
                        roomy = false;
                        let _ = events.send(NetEvent::Push(Box::new(message)));
                    }
                    Some(Err(e)) => break Some(plain_reason(&e)),
                    None => break Some("the connection closed".to_owned()),
                },
                request = requests.recv() => match request {
                    None => {
                        // The socket task ends once every handle is gone; holding ours would
                        // make `close` wait out its whole timeout on every quit.
                        drop(handle);
                        connection.close().await;
                        return;
                    }
                    Some(NetRequest::Command { request_id, command }) => {
                        let handle = handle.clone();
                        let events = events.clone();
                        let workspace = workspace.clone();
                        tokio::spawn(async move {
                            let sent = resend_while_limited(&events, None, || {
                                handle.command_with_id(request_id.clone(), &workspace, command.clone())
                            });
                            match sent.await {
                                Ok(ack) => {
                                    let _ = events.send(NetEvent::Acked(request_id, Box::new(ack)));
                                }
                                Err(ClientError::Server(error)) if error.code != ErrorCode::Internal && error.code != ErrorCode::ShuttingDown => {
                                    let _ = events.send(NetEvent::Rejected(request_id, error));
                                }
                                // Lost with the connection (or a transient server error): the app
                                // re-sends it under the same request id after reconnecting.
                                Err(_) => {}
                            }
                        });
                    }
                    Some(NetRequest::Messages { room_id, before }) => {
                        let handle = handle.clone();
                        let events = events.clone();
                        let workspace = workspace.clone();
                        tokio::spawn(async move {
                            let query = Query::Messages { room_id: room_id.clone(), before, limit: 100 };
                            let page = resend_while_limited(&events, Some(PAGE_TRIES), || {
                                handle.query(&workspace, query.clone())
                            });
                            let event = match page.await {
                                Ok(QueryResult::Messages { messages, has_more, .. }) => NetEvent::Page { room_id, messages, has_more },
                                Ok(_) => NetEvent::PageFailed { room_id, error: "unexpected answer".into() },
                                Err(e) => NetEvent::PageFailed { room_id, error: e.to_string() },
                            };
                            let _ = events.send(event);
                        });
                    }
                    Some(NetRequest::Typing { room_id }) => {
                        let _ = handle.send(ClientMessage::Typing { room_id });
                    }
                    Some(NetRequest::Switch { workspace }) => {
                        wanted = Some(workspace.to_string());
                        break None;
                    }
                    Some(NetRequest::Audit) => {
                        let query = Query::Audit {
                            actor: None,
                            action: None,
                            since: None,
                            before: None,
                            limit: super::screens::audit::AUDIT_PAGE,
                        };
                        let pick = |r| match r {
                            QueryResult::Audit { entries, has_more } => Some((entries, has_more)),
                            _ => None,
                        };
                        ask(&handle, &events, &workspace, query, pick, NetEvent::Audit);
                    }
                    Some(NetRequest::LogFollow { run_id, tail }) => {
                        if let Ok(request_id) = crate::connection::new_request_id() {
                            let _ = handle.send(ClientMessage::LogSubscribe {
                                request_id,
                                workspace_id: Some(workspace.clone()),
                                run_id,
                                from_line: None,
                                tail: Some(tail),
                                filter: None,
                                compact: true,
                            });
                        }
                    }
                    Some(NetRequest::LogUnfollow { run_id }) => {
                        let _ = handle.send(ClientMessage::LogUnsubscribe { run_id });
                    }
                    Some(NetRequest::LogPage(request)) => {
                        let handle = handle.clone();
                        let events = events.clone();
                        let workspace = workspace.clone();
                        tokio::spawn(async move {
                            let query = log_query(&request);
                            let page = resend_while_limited(&events, Some(PAGE_TRIES), || {
                                handle.query(&workspace, query.clone())
                            });
                            let answer = match page.await {
                                Ok(QueryResult::Log { lines, next, stored, finished, .. }) => Ok(super::screens::runs::remote::Page {
                                    generation: request.generation,
                                    lines,
                                    next,
                                    stored,
                                    finished,
                                }),
                                Ok(_) => Err("unexpected answer".to_owned()),
                                Err(e) => Err(e.to_string()),
                            };
                            let _ = events.send(NetEvent::LogPage(request, answer));
                        });
                    }
                    Some(NetRequest::Watch { request_id, run_id, room_id }) => {
                        let _ = handle.send(ClientMessage::RunWatch {
                            request_id,
                            workspace_id: Some(workspace.clone()),
                            run_id,
                            room_id,
                        });
                    }
                    Some(NetRequest::Unwatch { run_id, room_id }) => {
                        let _ = handle.send(ClientMessage::RunUnwatch { run_id, room_id });
                    }
                    Some(NetRequest::RunSteps { number }) => {
                        let pick = |r| match r {
                            QueryResult::Run { run, steps } => Some((run, steps)),
                            _ => None,
                        };
                        let event = move |answer| NetEvent::RunSteps(number, answer);
                        ask(&handle, &events, &workspace, Query::Run { number }, pick, event);
                    }
                    Some(NetRequest::Approvals) => {
                        let pick = |r| match r {
                            QueryResult::Approvals { grants } => Some(grants),
                            _ => None,
                        };
                        let query = Query::Approvals { agent_id: None };
                        ask(&handle, &events, &workspace, query, pick, NetEvent::Approvals);
                    }
                    Some(NetRequest::Budgets) => {
                        let pick = |r| match r {
                            QueryResult::Budgets { budgets } => Some(budgets),
                            _ => None,
                        };
                        ask(&handle, &events, &workspace, Query::Budgets, pick, NetEvent::Budgets);
                    }
                    Some(NetRequest::Usage { since }) => {
                        let pick = |r| match r {
                            QueryResult::Usage { rows } => Some(rows),
                            _ => None,
                        };
                        let query = Query::Usage { since, until: None };
                        ask(&handle, &events, &workspace, query, pick, NetEvent::Usage);
                    }
                    Some(NetRequest::Account { op }) => {
                        let handle = handle.clone();
                        let events = events.clone();
                        tokio::spawn(async move {
                            let answer = handle.account(op).await.map_err(|e| e.to_string());
                            let _ = events.send(NetEvent::Account(answer));
                        });
                    }
                },
            }
        };
        if roomy {
            // The room taken for a push that did not come goes back for the next connection.
            room.give();
        }
        let Some(reason) = lost else {
            // Switching: close this connection and open the new workspace at once.
            drop(handle);
            connection.close().await;
            last_seq = None;
            continue;
        };
        let retry_at = Instant::now() + crate::retry::jittered(backoff);
        let _ = events.send(NetEvent::Disconnected {
            reason,
            retry_at: Some(retry_at),
        });
        match wait(Some(retry_at), &mut requests, &mut wanted).await {
            Idle::Closed => return,
            Idle::Switch => last_seq = None,
            Idle::Elapsed => backoff = (backoff * 2).min(MAX_BACKOFF),
        }
    }
}

/// How long to wait before the next attempt after a failed connect (`None`: never, the user must
/// fix something first). A server that refused sign-ins from this address (HTTP 429) is waited
/// out for its whole `Retry-After`: trying sooner would only be refused again.
pub fn retry_delay(error: &ClientError, backoff: Duration) -> Option<Duration> {
    match error {
        ClientError::BadUrl { .. } => None,
        ClientError::AuthRateLimited { retry_after } => {
            Some(Duration::from_secs(*retry_after).max(backoff))
        }
        _ => Some(reconnect_delay(backoff, error)),
    }
}

/// How long to wait before connecting again after `error`: the back-off, but never less than a
/// 429's `Retry-After`, with jitter so clients refused together do not return together.
pub fn reconnect_delay(backoff: Duration, error: &ClientError) -> Duration {
    let asked = crate::retry::rate_limit_wait(error).unwrap_or_default();
    crate::retry::jittered(backoff.max(asked))
}

/// Sends a request until the server stops refusing it with `rate_limited`: each refusal is
/// reported as [`NetEvent::SlowedDown`] and the request is sent again (with the same request id)
/// after the wait the server names, at most `tries` times in all (`None`: while the connection
/// lasts — a lost connection ends it with an error, and the app re-sends after reconnecting).
pub async fn resend_while_limited<T, F, Fut>(
    events: &mpsc::UnboundedSender<NetEvent>,
    tries: Option<u32>,
    mut send: F,
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let mut sent = 1;
    loop {
        let error = match send().await {
            Ok(answer) => return Ok(answer),
            Err(e) => e,
        };
        match crate::retry::rate_limit_wait(&error) {
            Some(wait) if tries.is_none_or(|t| sent < t) => {
                let _ = events.send(NetEvent::SlowedDown { retry_in: wait });
                tokio::time::sleep(crate::retry::jittered(wait)).await;
                sent += 1;
            }
            _ => return Err(error),
        }
    }
}

/// [`log_query`], for tests elsewhere in the client.
#[cfg(test)]
pub(crate) fn log_query_for_tests(request: &super::screens::runs::remote::PageRequest) -> Query {
    log_query(request)
}

/// The `log` query that answers a log viewer's page request.
fn log_query(request: &super::screens::runs::remote::PageRequest) -> Query {
    Query::Log {
        run_id: request.run_id.clone(),
        from: request.from,
        limit: request.limit,
        backward: request.backward,
        filter: request.filter.clone(),
    }
}

/// Sends `query` on a task of its own and hands the app `event(answer)`: what `pick` takes out
/// of the expected kind of result, or in words why there is nothing.
fn ask<T: Send + 'static>(
    handle: &Handle,
    events: &mpsc::UnboundedSender<NetEvent>,
    workspace: &Id,
    query: Query,
    pick: impl FnOnce(QueryResult) -> Option<T> + Send + 'static,
    event: impl FnOnce(Result<T, String>) -> NetEvent + Send + 'static,
) {
    let (handle, events, workspace) = (handle.clone(), events.clone(), workspace.clone());
    tokio::spawn(async move {
        let answer = match handle.query(&workspace, query).await {
            Ok(result) => pick(result).ok_or_else(|| "unexpected answer".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let _ = events.send(event(answer));
    });
}

fn pick_workspace(welcome: &Welcome, wanted: Option<&str>) -> Option<Id> {
    match wanted {
        None => welcome.workspaces.first().map(|w| w.id.clone()),
        Some(w) => welcome
            .workspaces
            .iter()
            .find(|ws| ws.id.as_str() == w || ws.name.eq_ignore_ascii_case(w))
            .map(|ws| ws.id.clone()),
    }
}

/// How a wait without a connection ended.
enum Idle {
    /// The retry time came.
    Elapsed,
    /// The app asked for another workspace (now in `wanted`): connect at once.
    Switch,
    /// The app went away.
    Closed,
}

/// Waits until `at` (forever without it), discarding requests (the app re-sends pending
/// commands after reconnecting) except a switch of workspace, which ends the wait.
async fn wait(
    at: Option<Instant>,
    requests: &mut mpsc::UnboundedReceiver<NetRequest>,
    wanted: &mut Option<String>,
) -> Idle {
    let listen = async {
        loop {
            match requests.recv().await {
                None => return Idle::Closed,
                Some(NetRequest::Switch { workspace }) => {
                    *wanted = Some(workspace.to_string());
                    return Idle::Switch;
                }
                Some(_) => {}
            }
        }
    };
    match at {
        Some(at) => tokio::select! {
            () = tokio::time::sleep_until(at) => Idle::Elapsed,
            idle = listen => idle,
        },
        None => listen.await,
    }
}
