//! A fake warren server for the worker's agent loop: a real WebSocket listener on
//! `127.0.0.1:0` that says `welcome` and `worker_welcome`, pushes the `assign` and `cancel_run`
//! frames a test gives it, answers the worker's commands the way docs/protocol.md §19 says
//! (an `ack` whose event is the stored step; `call_tool` answered `done` with a scripted result
//! or `awaiting_approval`), and records every frame the worker sends, in order.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use warren_protocol::step::StepStatus;
use warren_protocol::{ClientMessage, Command, ErrorCode, Event, PROTOCOL_VERSION, ServerMessage};

/// How long a test waits for the worker to send something.
pub const WAIT: Duration = Duration::from_secs(30);
pub const WORKSPACE: &str = "ws_6n1q4s7v0x3z5a8c";
pub const WORKER: &str = "usr_5b8d1f4h7k0m3p6r";
pub const RUN: &str = "run_1h4k7n0q3s6v9x2z";
pub const AGENT: &str = "agent_4n7q0s3v6x9z2b5d";

/// How the fake answers `call_tool`.
#[derive(Debug, Clone)]
pub enum ToolAnswer {
    /// A `done` step with this result.
    Done(String),
    /// The step waits for a decision (the run is taken from the worker).
    AwaitApproval,
}

/// The running fake; it stops when dropped.
pub struct FakeWarren {
    pub addr: SocketAddr,
    frames: mpsc::UnboundedReceiver<ClientMessage>,
    push: mpsc::UnboundedSender<ServerMessage>,
    /// Every frame the worker sent so far, in order.
    pub seen: Vec<ClientMessage>,
    pub tool_answer: Arc<Mutex<ToolAnswer>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWarren {
    fn drop(&mut self) {
        self.task.abort();
    }
}

macro_rules! parse {
    ($value:expr) => {
        serde_json::from_value($value).expect("a valid wire value")
    };
}

impl FakeWarren {
    pub async fn start() -> FakeWarren {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("an address");
        let (frames_tx, frames) = mpsc::unbounded_channel();
        let (push, mut pushes) = mpsc::unbounded_channel::<ServerMessage>();
        let tool_answer = Arc::new(Mutex::new(ToolAnswer::Done("ok".into())));
        let answers = tool_answer.clone();
        let task = tokio::spawn(async move {
            // One worker connection at a time; a new one takes over the pushes.
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    continue;
                };
                let mut seq = 0u64;
                loop {
                    tokio::select! {
                        frame = ws.next() => {
                            let Some(Ok(Message::Text(text))) = frame else {
                                match frame {
                                    Some(Ok(_)) => continue,
                                    _ => break,
                                }
                            };
                            let Ok(message) = serde_json::from_str::<ClientMessage>(&text) else {
                                panic!("the worker sent a frame that is not protocol: {text}");
                            };
                            seq += 1;
                            let reply = answer(&message, seq, &answers.lock().expect("answers").clone());
                            let _ = frames_tx.send(message);
                            if let Some(reply) = reply {
                                let text = serde_json::to_string(&reply).expect("serialise");
                                if ws.send(Message::text(text)).await.is_err() {
                                    break;
                                }
                            }
                        }
                        Some(push) = pushes.recv() => {
                            let text = serde_json::to_string(&push).expect("serialise");
                            if ws.send(Message::text(text)).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        });
        FakeWarren {
            addr,
            frames,
            push,
            seen: Vec::new(),
            tool_answer,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Pushes a frame to the connected worker.
    pub fn push(&self, message: ServerMessage) {
        self.push.send(message).expect("the fake runs");
    }

    /// Assigns the agent run: `run` and `agent` are the JSON of the `assign` frame's parts.
    pub fn assign(&self, run: Value, agent: Value) {
        self.push(ServerMessage::Assign {
            run: parse!(run),
            command: String::new(),
            params: Vec::new(),
            timeout_secs: 600,
            agent: Some(Box::new(parse!(agent))),
        });
    }

    /// Waits (bounded) for the next frame from the worker that `pick` accepts.
    pub async fn next_where<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&ClientMessage) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.frames.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no {what} from the worker in {WAIT:?}; saw {:#?}",
                        self.seen
                    )
                })
                .expect("the fake runs");
            self.seen.push(frame.clone());
            if let Some(found) = pick(&frame) {
                return found;
            }
        }
    }

    /// Waits for the next command of the worker that `pick` accepts.
    pub async fn command<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&Command) -> Option<T>,
    ) -> T {
        self.next_where(what, |frame| match frame {
            ClientMessage::Command { command, .. } => pick(command),
            _ => None,
        })
        .await
    }

    /// The `agent_delta` frames seen so far for `step`: (offset, text).
    pub fn deltas(&self, step: u32) -> Vec<(u64, String)> {
        self.seen
            .iter()
            .filter_map(|f| match f {
                ClientMessage::AgentDelta {
                    step: s,
                    offset,
                    text,
                    ..
                } if *s == step => Some((*offset, text.clone())),
                _ => None,
            })
            .collect()
    }
}

/// What the fake says to a frame of the worker.
fn answer(message: &ClientMessage, seq: u64, tool: &ToolAnswer) -> Option<ServerMessage> {
    match message {
        ClientMessage::Hello { .. } => Some(parse!(json!({
            "type": "welcome",
            "protocol": PROTOCOL_VERSION,
            "server_version": "fake",
            "user": {"user_id": WORKER, "name": "builder", "role": "member"},
            "workspaces": [{"id": WORKSPACE, "name": "Acme", "created_at": 0}],
            "limits": {"max_frame_bytes": 262144, "max_replay_events": 1000, "request_id_ttl_secs": 600},
        }))),
        ClientMessage::WorkerHello { .. } => Some(ServerMessage::WorkerWelcome {
            worker_id: parse!(json!(WORKER)),
            heartbeat_secs: 5,
            lease_secs: 30,
            held: Vec::new(),
        }),
        ClientMessage::Command {
            request_id,
            command,
            ..
        } => {
            let step = |n: u32, status: StepStatus, detail: Value| {
                json!({"type": "run_step", "step": {
                    "run_id": RUN, "n": n, "status": status.as_str(), "started_at": 0,
                    "detail": detail,
                }})
            };
            let model = json!({"kind": "model_call", "provider_id": "prov_6f9h2k5m8p1r4t7w",
                "provider": "p", "model": "m"});
            let mut change = match command {
                Command::CallTool {
                    step: n,
                    call_id,
                    name,
                    arguments,
                    ..
                } => {
                    let (status, result) = match tool {
                        ToolAnswer::Done(result) => (StepStatus::Done, Some(result.clone())),
                        ToolAnswer::AwaitApproval => (StepStatus::AwaitingApproval, None),
                    };
                    step(
                        *n,
                        status,
                        json!({"kind": "tool_call", "call_id": call_id, "name": name,
                            "arguments": arguments, "result": result}),
                    )
                }
                Command::StartModelCall { step: n, .. } => step(*n, StepStatus::Running, model),
                Command::FinishModelCall {
                    step: n, status, ..
                } => step(*n, *status, model),
                Command::ReportRunStarted { .. }
                | Command::ReportRunFinished { .. }
                | Command::ReportProviderHealth { .. } => step(1, StepStatus::Done, model),
                other => {
                    return Some(ServerMessage::Error {
                        request_id: Some(request_id.clone()),
                        code: ErrorCode::Validation,
                        message: format!("the fake does not serve {}", other.name()),
                        retry_after_ms: None,
                    });
                }
            };
            if change["step"]["detail"]["result"].is_null()
                && let Some(detail) = change["step"]["detail"].as_object_mut()
            {
                detail.remove("result");
            }
            let event: Event = parse!(json!({
                "seq": seq, "workspace_id": WORKSPACE, "at": 0, "actor": WORKER,
                "request_id": request_id, "change": change,
            }));
            Some(ServerMessage::Ack {
                request_id: request_id.clone(),
                seq,
                duplicate: false,
                event,
            })
        }
        _ => None,
    }
}
