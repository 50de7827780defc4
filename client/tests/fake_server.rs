//! Exercises the connection layer and the `warren` binary against a small in-process fake server
//! that speaks the wire protocol (the real server has its own end-to-end tests in `tests/`).

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http;
use warren::connection::Connection;
use warren::endpoint::Endpoint;
use warren::error::ClientError;
use warren_protocol::message::ServerLimits;
use warren_protocol::{
    Board, Card, Change, ClientMessage, Column, Command, Event, Id, Member, Priority, Query,
    QueryResult, Role, ServerMessage, Workspace, WorkspaceState,
};

const TOKEN: &str = "wrn_good";

fn id(s: &str) -> Id {
    Id::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn workspace() -> Workspace {
    Workspace {
        id: id("ws_acme"),
        name: "Acme".into(),
        created_at: 0,
    }
}

fn member() -> Member {
    Member {
        user_id: id("user_ann"),
        name: "Ann".into(),
        role: Role::Owner,
    }
}

fn card(number: u64, title: &str) -> Card {
    Card {
        id: id(&format!("card_n{number}")),
        number,
        board_id: id("board_main"),
        column_id: id("col_todo"),
        rank: "V".into(),
        title: title.into(),
        description: String::new(),
        labels: vec![],
        assignee: None,
        priority: Priority::None,
        created_by: id("user_ann"),
        created_at: 0,
        updated_at: 0,
    }
}

fn state() -> WorkspaceState {
    WorkspaceState {
        agents: Vec::new(),
        providers: Vec::new(),
        workspace: workspace(),
        seq: 5,
        members: vec![member()],
        boards: vec![Board {
            id: id("board_main"),
            name: "Main".into(),
            columns: vec![
                Column {
                    id: id("col_todo"),
                    name: "Todo".into(),
                },
                Column {
                    id: id("col_done"),
                    name: "Done".into(),
                },
            ],
            created_at: 0,
        }],
        cards: vec![card(1, "First")],
        rooms: vec![],
        jobs: Vec::new(),
        runs: Vec::new(),
    }
}

fn event(seq: u64, change: Change) -> Event {
    Event {
        seq,
        workspace_id: id("ws_acme"),
        at: 0,
        actor: id("user_ann"),
        request_id: None,
        change,
    }
}

/// What the fake server answers to one client frame (after hello).
type Handler = dyn Fn(ClientMessage) -> Vec<ServerMessage> + Send + Sync;

/// Starts a fake server; returns its `http://` address.
async fn serve(handler: Arc<Handler>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                // The callback's signature is tungstenite's; its error type is not ours to shrink.
                #[allow(clippy::result_large_err)]
                let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                    let auth = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok());
                    if auth == Some(&format!("Bearer {TOKEN}")) {
                        return Ok(resp);
                    }
                    let body = r#"{"code":"unauthorized","message":"unknown or revoked token"}"#;
                    Err(http::Response::builder()
                        .status(401)
                        .body(Some(body.to_owned()))
                        .unwrap_or_else(|e| panic!("{e}")))
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
                    return;
                };
                while let Some(Ok(frame)) = ws.next().await {
                    let WsMessage::Text(text) = frame else {
                        continue;
                    };
                    let message: ClientMessage =
                        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
                    let replies = match message {
                        ClientMessage::Hello { .. } => vec![ServerMessage::Welcome {
                            protocol: 1,
                            server_version: "fake".into(),
                            user: member(),
                            workspaces: vec![workspace()],
                            limits: ServerLimits {
                                max_frame_bytes: 1 << 18,
                                max_replay_events: 1000,
                                request_id_ttl_secs: 600,
                            },
                        }],
                        other => handler(other),
                    };
                    for reply in replies {
                        let json = serde_json::to_string(&reply).unwrap_or_else(|e| panic!("{e}"));
                        if ws.send(WsMessage::text(json)).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A handler for snapshot queries and card creation; the event comes before the ack, as the real
/// server may send it.
fn board_handler() -> Arc<Handler> {
    Arc::new(|message| match message {
        ClientMessage::Query {
            request_id,
            query: Query::Snapshot,
            ..
        } => vec![ServerMessage::Result {
            request_id,
            result: QueryResult::Snapshot { state: state() },
        }],
        ClientMessage::Command {
            request_id,
            command: Command::CreateCard {
                title, column_id, ..
            },
            ..
        } => {
            let mut card = card(2, &title);
            card.column_id = column_id.unwrap_or_else(|| id("col_todo"));
            let mut ev = event(6, Change::CardCreated { card });
            ev.request_id = Some(request_id.clone());
            vec![
                ServerMessage::Event { event: ev.clone() },
                ServerMessage::Ack {
                    request_id,
                    seq: 6,
                    duplicate: false,
                    event: ev,
                },
            ]
        }
        ClientMessage::Query { request_id, .. } | ClientMessage::Command { request_id, .. } => {
            vec![ServerMessage::Error {
                request_id: Some(request_id),
                code: warren_protocol::ErrorCode::NotFound,
                message: "nope".into(),
                retry_after_ms: None,
            }]
        }
        _ => vec![],
    })
}

#[tokio::test]
async fn answers_are_matched_by_request_id_and_pushes_keep_their_order() -> Result<(), ClientError>
{
    let url = serve(board_handler()).await;
    let mut conn = Connection::connect(&Endpoint::parse(&url)?, TOKEN).await?;
    assert_eq!(conn.welcome().user.name, "Ann");
    let ack = conn
        .command(
            &id("ws_acme"),
            Command::CreateCard {
                card_id: None,
                board_id: id("board_main"),
                column_id: None,
                title: "Second".into(),
                description: String::new(),
                labels: vec![],
                assignee: None,
                priority: Priority::None,
                position: Default::default(),
            },
        )
        .await?;
    assert_eq!(ack.seq, 6);
    match conn.next_push().await {
        Some(Ok(ServerMessage::Event { event })) => assert_eq!(event.seq, 6),
        other => panic!("expected the event as a push, got {other:?}"),
    }
    let err = conn
        .query(&id("ws_acme"), Query::Events { since: 0, limit: 1 })
        .await;
    assert!(matches!(err, Err(ClientError::Server(_))), "{err:?}");
    conn.close().await;
    Ok(())
}

#[tokio::test]
async fn a_bad_token_is_a_clear_unauthorized_error() -> Result<(), ClientError> {
    let url = serve(board_handler()).await;
    let err = Connection::connect(&Endpoint::parse(&url)?, "wrn_bad")
        .await
        .err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        text,
        "the server refused the token (unauthorized): unknown or revoked token — check --token / WARREN_TOKEN or run 'warren login'"
    );
    Ok(())
}

async fn run_cli(args: &[&str], config_dir: &std::path::Path) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_warren"))
        .args(args)
        .env("WARREN_CONFIG_DIR", config_dir)
        // Without a server, the CLI works on the local workspace: keep it in the temp dir.
        .env("WARREN_DATA_DIR", config_dir.join("local"))
        .env_remove("WARREN_SERVER")
        .env_remove("WARREN_TOKEN")
        .env_remove("WARREN_WORKSPACE")
        .output()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn cli_logs_in_then_uses_the_profile() -> Result<(), Box<dyn std::error::Error>> {
    let url = serve(board_handler()).await;
    let dir = tempfile::tempdir()?;
    let out = run_cli(&["login", "--server", &url, "--token", TOKEN], dir.path()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(out.stdout)?.contains("as Ann"));

    let out = run_cli(
        &["card", "add", "Second", "--column", "done", "--json"],
        dir.path(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let card: Card = serde_json::from_slice(&out.stdout)?;
    assert_eq!((card.number, card.column_id.as_str()), (2, "col_done"));

    let out = run_cli(&["card", "list"], dir.path()).await;
    assert_eq!(
        String::from_utf8(out.stdout)?,
        "#   COLUMN  PRIORITY  ASSIGNEE  TITLE\n#1  Todo    -         -         First\n"
    );

    let out = run_cli(&["card", "show", "#12"], dir.path()).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr)?,
        "error: no card #12 in workspace Acme; list cards with 'warren card list'\n"
    );
    Ok(())
}

#[tokio::test]
async fn cli_exit_codes() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let out = run_cli(&["card", "frobnicate"], dir.path()).await;
    assert_eq!(out.status.code(), Some(1));

    let out = run_cli(
        &["board", "list", "--server", "http://127.0.0.1:1"],
        dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)?.contains("pass --token"));

    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    drop(listener);
    let out = run_cli(
        &["board", "list", "--server", &url, "--token", TOKEN],
        dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr)?,
        format!(
            "error: cannot reach the warren server at {url}: connection refused — is warren-server running? (start it with 'warren-server serve')\n"
        )
    );

    let served = serve(board_handler()).await;
    let out = run_cli(
        &["board", "list", "--server", &served, "--token", "wrn_bad"],
        dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)?
            .starts_with("error: the server refused the token (unauthorized)")
    );
    Ok(())
}

/// A stream of three stored events, paged two at a time; a subscriber gets a replayed duplicate,
/// `synced`, then one live event.
fn events_handler() -> Arc<Handler> {
    let stored: Vec<Event> = (1..=3)
        .map(|seq| {
            event(
                seq,
                Change::CardCreated {
                    card: card(seq, &format!("Card {seq}")),
                },
            )
        })
        .collect();
    Arc::new(move |message| match message {
        ClientMessage::Query {
            request_id,
            query: Query::Events { since, .. },
            ..
        } => vec![ServerMessage::Result {
            request_id,
            result: QueryResult::Events {
                events: stored
                    .iter()
                    .filter(|e| e.seq > since)
                    .take(2)
                    .cloned()
                    .collect(),
                head: 3,
            },
        }],
        ClientMessage::Query {
            request_id,
            query: Query::Snapshot,
            ..
        } => vec![ServerMessage::Result {
            request_id,
            result: QueryResult::Snapshot { state: state() },
        }],
        ClientMessage::Subscribe { since, .. } => {
            assert_eq!(since, Some(3));
            vec![
                ServerMessage::Event {
                    event: stored[2].clone(),
                },
                ServerMessage::Synced {
                    workspace_id: id("ws_acme"),
                    seq: 3,
                },
                ServerMessage::Event {
                    event: event(
                        4,
                        Change::CardDeleted {
                            card_id: id("card_n2"),
                            board_id: id("board_main"),
                        },
                    ),
                },
            ]
        }
        _ => vec![],
    })
}

#[tokio::test]
async fn events_pages_then_follows_printing_each_event_once()
-> Result<(), Box<dyn std::error::Error>> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let url = serve(events_handler()).await;
    let dir = tempfile::tempdir()?;
    let out = run_cli(&["events", "--server", &url, "--token", TOKEN], dir.path()).await;
    assert_eq!(
        String::from_utf8(out.stdout)?,
        "#1  1970-01-01 00:00  Ann  card_created  #1 Card 1 (Main / Todo)\n\
         #2  1970-01-01 00:00  Ann  card_created  #2 Card 2 (Main / Todo)\n\
         #3  1970-01-01 00:00  Ann  card_created  #3 Card 3 (Main / Todo)\n"
    );

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_warren"))
        .args([
            "events", "--follow", "--json", "--server", &url, "--token", TOKEN,
        ])
        .env("WARREN_CONFIG_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut seqs = Vec::new();
    while seqs.len() < 4 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
            .await??
            .ok_or("stdout closed")?;
        let event: Event = serde_json::from_str(&line)?;
        seqs.push(event.seq);
    }
    assert_eq!(seqs, [1, 2, 3, 4]);
    child.kill().await?;
    Ok(())
}
