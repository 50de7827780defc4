//! `warren log` against a scripted WebSocket server that speaks the runs protocol (issue 8)
//! before the real runs service exists: paging through the `log` query, following through
//! `log_subscribe` to `log_end` (duplicates across frames printed once, in order), the exit code
//! of a followed run, and that only text — no escape sequence — reaches a pipe.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use warren_e2e::cli::Cli;
use warren_protocol::message::ServerLimits;
use warren_protocol::run::{LogLine, LogStream, Run, RunStatus};
use warren_protocol::{
    ClientMessage, Id, Member, PROTOCOL_VERSION, Query, QueryResult, Role, ServerMessage, Workspace,
};

fn id(s: &str) -> Id {
    Id::parse(s).expect("an id")
}

fn run(status: RunStatus) -> Run {
    Run {
        agent: None,
        parent_run_id: None,
        id: id("run_seven"),
        number: 7,
        job_id: id("job_build"),
        job_name: "build".into(),
        params: vec![],
        status,
        requested_by: id("user_ada"),
        card_id: None,
        room_id: None,
        retry_of: None,
        attempt: 1,
        worker_id: None,
        decided_by: None,
        created_at: 0,
        queued_at: None,
        not_before: None,
        started_at: Some(0),
        finished_at: Some(1000),
        exit_code: Some(4),
        reason: Some("exited with 4".into()),
        lines: 5,
        log_bytes: 50,
    }
}

fn line(n: u64, text: &str) -> LogLine {
    LogLine {
        n,
        ts: 0,
        stream: if n.is_multiple_of(2) {
            LogStream::Err
        } else {
            LogStream::Out
        },
        text: text.into(),
        continued: false,
    }
}

fn lines() -> Vec<LogLine> {
    vec![
        line(1, "\u{1b}]0;pwned\u{7}one"),
        line(2, "\u{1b}[31mtwo\u{1b}[0m"),
        line(3, "three\u{1b}[2J"),
        line(4, "four"),
        line(5, "five"),
    ]
}

/// Serves one connection after another, answering what `warren log` asks.
async fn fake_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let send =
                    |m: ServerMessage| Message::text(serde_json::to_string(&m).expect("json"));
                while let Some(Ok(Message::Text(text))) = ws.next().await {
                    let Ok(frame) = serde_json::from_str::<ClientMessage>(&text) else {
                        continue;
                    };
                    let replies = match frame {
                        ClientMessage::Hello { .. } => vec![ServerMessage::Welcome {
                            protocol: PROTOCOL_VERSION,
                            server_version: "fake".into(),
                            user: Member {
                                user_id: id("user_ada"),
                                name: "ada".into(),
                                role: Role::Owner,
                            },
                            workspaces: vec![Workspace {
                                id: id("ws_acme"),
                                name: "Acme".into(),
                                created_at: 0,
                            }],
                            limits: ServerLimits {
                                max_frame_bytes: 1 << 20,
                                max_replay_events: 1000,
                                request_id_ttl_secs: 60,
                            },
                        }],
                        ClientMessage::Query {
                            request_id,
                            query: Query::Run { number: 7 },
                            ..
                        } => vec![ServerMessage::Result {
                            request_id,
                            result: QueryResult::Run {
                                steps: Vec::new(),
                                run: run(RunStatus::Failed),
                            },
                        }],
                        // Two pages: lines 1–3 (next 4), then 4–5 (the end).
                        ClientMessage::Query {
                            request_id,
                            query: Query::Log { from, .. },
                            ..
                        } => {
                            let all = lines();
                            let (page, next) = if from <= 1 {
                                (all[..3].to_vec(), Some(4))
                            } else {
                                (all[3..].to_vec(), None)
                            };
                            vec![ServerMessage::Result {
                                request_id,
                                result: QueryResult::Log {
                                    run_id: id("run_seven"),
                                    lines: page,
                                    next,
                                    stored: 5,
                                    finished: true,
                                },
                            }]
                        }
                        // Stored lines 1–3, synced, then "live" 3–5 (3 again: printed once), end.
                        ClientMessage::LogSubscribe { request_id, .. } => {
                            let all = lines();
                            vec![
                                ServerMessage::LogLines {
                                    run_id: id("run_seven"),
                                    lines: all[..3].to_vec(),
                                },
                                ServerMessage::LogSynced {
                                    request_id,
                                    run_id: id("run_seven"),
                                    stored: 3,
                                },
                                ServerMessage::LogLines {
                                    run_id: id("run_seven"),
                                    lines: all[2..].to_vec(),
                                },
                                ServerMessage::LogEnd {
                                    run_id: id("run_seven"),
                                    status: RunStatus::Failed,
                                    lines: 5,
                                },
                            ]
                        }
                        _ => vec![],
                    };
                    for reply in replies {
                        if ws.send(send(reply)).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_pages_and_follows_with_only_text_reaching_a_pipe() {
    let url = fake_server().await;
    let cli = Cli::new(&url, "wrn_fake");
    let paged = cli.run(&["log", "r7"]).await.ok();
    assert_eq!(paged.stdout, "one\ntwo\nthree\nfour\nfive\n", "{paged:#?}");

    let followed = cli.run(&["log", "7", "--follow"]).await;
    assert_eq!(
        followed.stdout, "one\ntwo\nthree\nfour\nfive\n",
        "{followed:#?}"
    );
    assert_eq!(followed.code, 4, "the job's own exit code: {followed:#?}");
    assert_eq!(
        followed.stderr.trim(),
        "error: r7 failed with exit code 4: exited with 4",
        "{followed:#?}"
    );

    let raw = cli
        .with_env("NO_COLOR", "")
        .run(&["log", "r7", "--raw", "--json"])
        .await
        .ok();
    assert_eq!(raw.json_lines().len(), 5, "{raw:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_keeps_only_colour_sequences() {
    let url = fake_server().await;
    let raw = Cli::new(&url, "wrn_fake")
        .with_env("NO_COLOR", "")
        .run(&["log", "r7", "--raw"])
        .await
        .ok();
    assert_eq!(
        raw.stdout, "one\n\u{1b}[0;31mtwo\u{1b}[0m\nthree\nfour\nfive\n",
        "{raw:#?}"
    );
}
