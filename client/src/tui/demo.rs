//! The sample workspace of `warren demo`: cards in every column of the board, two rooms where
//! teammates (and a bot) talk, and three jobs — a build whose coloured run succeeds, a test suite
//! whose run fails, and a protected deploy left to start — all written through the real protocol
//! by each member (the runs are executed by the demo's in-process worker).

use std::collections::HashMap;

use warren_protocol::{Command, Id, Position, Priority, WorkspaceState};

use crate::connection::Connection;
use crate::endpoint::Endpoint;
use crate::error::ClientError;

struct SampleCard {
    column: &'static str,
    title: &'static str,
    labels: &'static [&'static str],
    priority: Priority,
    assignee: Option<&'static str>,
    description: &'static str,
}

const CARDS: &[SampleCard] = &[
    SampleCard {
        column: "Backlog",
        title: "Dark mode for exported boards",
        labels: &["ui"],
        priority: Priority::Low,
        assignee: None,
        description: "",
    },
    SampleCard {
        column: "Backlog",
        title: "Export a board as markdown",
        labels: &["feature"],
        priority: Priority::None,
        assignee: None,
        description: "One file per column, cards as `- [ ]` items.",
    },
    SampleCard {
        column: "Todo",
        title: "Rate-limit login attempts",
        labels: &["security"],
        priority: Priority::High,
        assignee: Some("jon"),
        description: "Five tries per minute per address, then **back off**.",
    },
    SampleCard {
        column: "Todo",
        title: "Write the onboarding guide",
        labels: &["docs"],
        priority: Priority::Medium,
        assignee: Some("mira"),
        description: "",
    },
    SampleCard {
        column: "Todo",
        title: "Nightly backup of the store",
        labels: &["ops"],
        priority: Priority::Medium,
        assignee: Some("ci-bot"),
        description: "",
    },
    SampleCard {
        column: "In Progress",
        title: "Group commit for the event store",
        labels: &["server", "perf"],
        priority: Priority::Urgent,
        assignee: Some("you"),
        description: "Share one fsync between every command that is waiting:\n\n```rust\nlet batch: Vec<_> = queue.drain(..).collect();\ntxn.commit()?; // one durable commit\n```\n\nSee *docs/architecture.md*.",
    },
    SampleCard {
        column: "In Progress",
        title: "Fuzzy matching in the command palette",
        labels: &["tui"],
        priority: Priority::Medium,
        assignee: Some("mira"),
        description: "",
    },
    SampleCard {
        column: "Review",
        title: "Resume from the last sequence after a reconnect",
        labels: &["sync"],
        priority: Priority::High,
        assignee: Some("jon"),
        description: "",
    },
    SampleCard {
        column: "Done",
        title: "Token auth with hashed secrets",
        labels: &["security"],
        priority: Priority::None,
        assignee: Some("you"),
        description: "",
    },
    SampleCard {
        column: "Done",
        title: "Fractional ranks for card order",
        labels: &["board"],
        priority: Priority::None,
        assignee: Some("mira"),
        description: "",
    },
];

const GENERAL: &[(&str, &str)] = &[
    (
        "mira",
        "morning! the palette now matches `crd nw` → **card_new** 🎉",
    ),
    ("jon", "nice. I'm on the login rate limit today, PR by noon"),
    (
        "you",
        "great — I'll review it after the group-commit work lands",
    ),
    ("ci-bot", "✅ build #412 passed on `main` (3m 12s)"),
    (
        "jon",
        "quick question: do we reset the counter on success?\n\n- yes: simpler\n- no: safer against slow brute force",
    ),
    (
        "mira",
        "reset on success, but keep the per-address window. like this:\n\n```rust\nif ok {\n    attempts.remove(&addr);\n}\n```",
    ),
];

const DESIGN: &[(&str, &str)] = &[
    (
        "mira",
        "board columns at 80x24: 3 visible, scroll sideways with h/l",
    ),
    ("you", "agreed. priority markers: ↑ high, ‼ urgent"),
];

/// A sample job: name, command, description, protected, parameters.
struct SampleJob {
    name: &'static str,
    command: &'static str,
    description: &'static str,
    protected: bool,
    params: fn() -> Vec<warren_protocol::run::ParamSpec>,
    /// Started once by the demo.
    start: bool,
}

fn no_params() -> Vec<warren_protocol::run::ParamSpec> {
    Vec::new()
}

fn deploy_params() -> Vec<warren_protocol::run::ParamSpec> {
    vec![warren_protocol::run::ParamSpec {
        name: "env".into(),
        kind: warren_protocol::run::ParamKind::Choice,
        choices: vec!["staging".into(), "production".into()],
        default: Some("staging".into()),
    }]
}

const JOBS: &[SampleJob] = &[
    SampleJob {
        name: "build",
        command: "for step in fetch compile link package; do \
                  printf '\\033[1;34m==>\\033[0m %s\\n' \"$step\"; \
                  printf '   \\033[32mok\\033[0m %s finished\\n' \"$step\"; done; \
                  echo 'INFO built warren 0.1.0 in 4 steps'",
        description: "Compile and package (a coloured run that succeeds)",
        protected: false,
        params: no_params,
        start: true,
    },
    SampleJob {
        name: "test",
        command: "echo 'running 3 tests'; \
                  printf 'test sync ... \\033[32mok\\033[0m\\n'; \
                  printf 'test board ... \\033[32mok\\033[0m\\n'; \
                  printf 'test login ... \\033[31mFAILED\\033[0m\\n' >&2; \
                  echo 'ERROR login: expected 200, got 429' >&2; exit 1",
        description: "The test suite (a run that fails: press e to jump to the error)",
        protected: false,
        params: no_params,
        start: true,
    },
    SampleJob {
        name: "deploy",
        command: "echo \"deploying to $WARREN_PARAM_ENV\"; sleep 2; echo done",
        description: "A protected job: its runs wait for an admin's approval (A)",
        protected: true,
        params: deploy_params,
        start: false,
    },
];

/// Creates the sample jobs and starts the ones marked to start.
async fn seed_jobs(owner: &Connection, workspace: &Id) -> Result<(), ClientError> {
    for job in JOBS {
        let ack = owner
            .command(
                workspace,
                Command::CreateJob {
                    job_id: None,
                    name: job.name.into(),
                    command: job.command.into(),
                    description: job.description.into(),
                    params: (job.params)(),
                    timeout_secs: Some(60),
                    retries: 0,
                    tags: Vec::new(),
                    protected: job.protected,
                    concurrency: None,
                },
            )
            .await?;
        let warren_protocol::Change::JobCreated { job: created } = ack.event.change else {
            return Err(ClientError::Protocol("expected job_created".into()));
        };
        if job.start {
            owner
                .command(
                    workspace,
                    Command::StartRun {
                        run_id: None,
                        job_id: created.id,
                        params: Default::default(),
                        card_id: None,
                        room_id: None,
                    },
                )
                .await?;
        }
    }
    Ok(())
}

/// Writes the sample data through real connections, one per member.
pub async fn seed(
    endpoint: &Endpoint,
    owner_token: &str,
    others: &[(String, String)],
) -> Result<(), ClientError> {
    let owner = Connection::connect(endpoint, owner_token).await?;
    let workspace = owner
        .welcome()
        .workspaces
        .first()
        .map(|w| w.id.clone())
        .ok_or_else(|| ClientError::Protocol("the demo workspace is missing".into()))?;
    let mut people: HashMap<String, Connection> = HashMap::new();
    for (name, token) in others {
        people.insert(name.clone(), Connection::connect(endpoint, token).await?);
    }
    let state = match owner
        .query(&workspace, warren_protocol::Query::Snapshot)
        .await?
    {
        warren_protocol::QueryResult::Snapshot { state } => state,
        _ => return Err(ClientError::Protocol("expected a snapshot".into())),
    };
    let member = |name: &str| -> Option<Id> {
        state
            .members
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.user_id.clone())
    };
    let board = board_and_columns(&state)?;
    for card in CARDS {
        let column = board.1.get(card.column).cloned();
        let command = Command::CreateCard {
            card_id: None,
            board_id: board.0.clone(),
            column_id: column,
            title: card.title.into(),
            description: card.description.into(),
            labels: card.labels.iter().map(|l| (*l).to_owned()).collect(),
            assignee: card.assignee.and_then(member),
            priority: card.priority,
            position: Position::Bottom,
        };
        owner.command(&workspace, command).await?;
    }
    let design = owner
        .command(
            &workspace,
            Command::CreateRoom {
                room_id: None,
                name: "design".into(),
                topic: "How warren looks and feels".into(),
            },
        )
        .await?;
    let design_id = match design.event.change {
        warren_protocol::Change::RoomCreated { room } => room.id,
        _ => return Err(ClientError::Protocol("expected room_created".into())),
    };
    let general_id = state
        .rooms
        .first()
        .map(|r| r.id.clone())
        .ok_or_else(|| ClientError::Protocol("the general room is missing".into()))?;
    for (room, script) in [(&general_id, GENERAL), (&design_id, DESIGN)] {
        for (who, body) in script {
            let connection = if *who == "you" {
                &owner
            } else {
                people.get(*who).unwrap_or(&owner)
            };
            connection
                .command(
                    &workspace,
                    Command::PostMessage {
                        message_id: None,
                        room_id: room.clone(),
                        body: (*body).into(),
                    },
                )
                .await?;
        }
    }
    seed_jobs(&owner, &workspace).await?;
    for (_, c) in people {
        c.close().await;
    }
    owner.close().await;
    Ok(())
}

fn board_and_columns(
    state: &WorkspaceState,
) -> Result<(Id, HashMap<&'static str, Id>), ClientError> {
    let board = state
        .boards
        .first()
        .ok_or_else(|| ClientError::Protocol("the demo board is missing".into()))?;
    let mut columns = HashMap::new();
    for name in ["Backlog", "Todo", "In Progress", "Review", "Done"] {
        if let Some(c) = board.columns.iter().find(|c| c.name == name) {
            columns.insert(name, c.id.clone());
        }
    }
    Ok((board.id.clone(), columns))
}
