//! Getting to a running run: a job, a bot for the worker, the worker's `worker_hello`, a started
//! run and its `assign`, all through the real protocol.

use anyhow::{Context, Result, bail};
use warren_protocol::account::{AccountOp, AccountResult, TokenScope};
use warren_protocol::run::Run;
use warren_protocol::{
    ClientMessage, Command, Id, PROTOCOL_VERSION, Query, QueryResult, RequestId, ServerMessage,
};

use crate::ws::{self, Ws};

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn request_id() -> Result<RequestId> {
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(RequestId::parse(&format!("bench-{n}"))?)
}

/// Sends a frame.
pub async fn send(ws: &mut Ws, frame: &ClientMessage) -> Result<()> {
    ws::send(ws, serde_json::to_string(frame)?).await
}

/// Reads frames until the answer to `request_id` (ack, result, account result or error).
pub async fn answer(ws: &mut Ws, request_id: &RequestId) -> Result<ServerMessage> {
    loop {
        let text = ws::next_text(ws).await?;
        let message: ServerMessage =
            serde_json::from_str(&text).with_context(|| format!("not a frame: {text}"))?;
        match &message {
            ServerMessage::Ack { request_id: r, .. }
            | ServerMessage::Result { request_id: r, .. }
            | ServerMessage::AccountResult { request_id: r, .. }
                if r == request_id =>
            {
                return Ok(message);
            }
            ServerMessage::Error {
                request_id: Some(r),
                message: text,
                code,
                ..
            } if r == request_id => bail!("request {request_id} failed: {code}: {text}"),
            _ => {}
        }
    }
}

/// Applies a command and returns its ack.
pub async fn command(ws: &mut Ws, workspace: &Id, command: Command) -> Result<ServerMessage> {
    let request_id = request_id()?;
    send(
        ws,
        &ClientMessage::Command {
            request_id: request_id.clone(),
            workspace_id: Some(workspace.clone()),
            command,
        },
    )
    .await?;
    answer(ws, &request_id).await
}

/// Runs a query.
pub async fn query(ws: &mut Ws, workspace: &Id, query: Query) -> Result<QueryResult> {
    let request_id = request_id()?;
    send(
        ws,
        &ClientMessage::Query {
            request_id: request_id.clone(),
            workspace_id: Some(workspace.clone()),
            query,
        },
    )
    .await?;
    match answer(ws, &request_id).await? {
        ServerMessage::Result { result, .. } => Ok(result),
        other => bail!("expected a result, got {other:?}"),
    }
}

/// A connection that said hello.
pub async fn connect(addr: std::net::SocketAddr, token: &str) -> Result<Ws> {
    let mut ws = ws::connect(addr, Some(token)).await?;
    send(
        &mut ws,
        &ClientMessage::Hello {
            protocol: PROTOCOL_VERSION,
            client: "warren-bench-logs".into(),
        },
    )
    .await?;
    ws::expect(&mut ws, "welcome").await?;
    Ok(ws)
}

/// A worker connection holding a freshly assigned, running run.
pub struct Running {
    pub worker: Ws,
    pub run: Run,
}

/// Creates a job (`true`, never executed: the benchmark plays the worker), a bot, connects it as
/// a worker, starts a run and waits for its assignment.
pub async fn running_run(
    addr: std::net::SocketAddr,
    owner: &mut Ws,
    workspace: &Id,
    name: &str,
) -> Result<Running> {
    let ack = command(
        owner,
        workspace,
        Command::CreateJob {
            job_id: None,
            name: name.to_owned(),
            command: "true".into(),
            description: String::new(),
            params: Vec::new(),
            timeout_secs: None,
            retries: 0,
            tags: Vec::new(),
            protected: false,
            concurrency: None,
        },
    )
    .await?;
    let job_id = match ack {
        ServerMessage::Ack { event, .. } => match event.change {
            warren_protocol::Change::JobCreated { job } => job.id,
            other => bail!("create_job made {other:?}"),
        },
        other => bail!("expected an ack, got {other:?}"),
    };
    let request_id = request_id()?;
    send(
        owner,
        &ClientMessage::Account {
            request_id: request_id.clone(),
            op: AccountOp::AddBot {
                workspace_id: workspace.clone(),
                name: format!("{name}-worker"),
                scope: TokenScope::Runs,
            },
        },
    )
    .await?;
    let secret = match answer(owner, &request_id).await? {
        ServerMessage::AccountResult {
            result: AccountResult::BotAdded { secret, .. },
            ..
        } => secret,
        other => bail!("add_bot answered {other:?}"),
    };
    let mut worker = connect(addr, &secret).await?;
    send(
        &mut worker,
        &ClientMessage::WorkerHello {
            agents: false,
            workspace_id: Some(workspace.clone()),
            tags: Vec::new(),
            concurrency: 1,
            held: Vec::new(),
        },
    )
    .await?;
    ws::expect(&mut worker, "worker_welcome").await?;
    command(
        owner,
        workspace,
        Command::StartRun {
            run_id: None,
            job_id,
            params: Default::default(),
            card_id: None,
            room_id: None,
        },
    )
    .await?;
    let assign = ws::expect(&mut worker, "assign").await?;
    let run: Run = serde_json::from_value(assign["run"].clone())?;
    command(
        &mut worker,
        workspace,
        Command::ReportRunStarted {
            run_id: run.id.clone(),
        },
    )
    .await?;
    Ok(Running { worker, run })
}
