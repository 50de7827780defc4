//! What the CLI prints. With `--json` the protocol's own serde types go out unchanged (one compact
//! JSON value per line); otherwise short aligned text in which every untrusted string has been
//! through [`crate::sanitize`], and times are on the local clock (`TZ`, else the system's zone).
//! The `format_*` functions are pure apart from that zone, so their output is unit-tested.

use std::io::Write;

use serde::Serialize;
use warren_protocol::{Board, Card, Change, Event, Member, Message, Priority, Room};

use crate::error::ClientError;
use crate::localtime::minutes as local_minutes;
use crate::names::Names;
use crate::sanitize;

/// Writes either JSON or text to stdout, flushing after every record so pipes see it promptly.
pub struct Printer<W: Write> {
    json: bool,
    out: W,
}

impl<W: Write> Printer<W> {
    /// A printer writing to `out`.
    pub fn new(json: bool, out: W) -> Self {
        Self { json, out }
    }

    /// True when `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints one protocol value as a single line of JSON.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ClientError> {
        let line =
            serde_json::to_string(value).map_err(|e| ClientError::Protocol(e.to_string()))?;
        writeln!(self.out, "{line}")?;
        self.out.flush()?;
        Ok(())
    }

    /// Prints already formatted text, adding a final newline if it lacks one.
    pub fn text(&mut self, text: &str) -> Result<(), ClientError> {
        if text.is_empty() {
            return Ok(());
        }
        self.out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Prints text exactly as given (no newline added: a log line's may come later).
    pub fn raw(&mut self, text: &str) -> Result<(), ClientError> {
        if text.is_empty() {
            return Ok(());
        }
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        Ok(())
    }

    /// Prints `value` as JSON, or `text()` otherwise.
    pub fn either<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> Result<(), ClientError> {
        if self.json {
            self.json(value)
        } else {
            self.text(&text())
        }
    }
}

/// Left-aligns cells in columns two spaces apart; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let header_row: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths.get(i).copied().unwrap_or(0) - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn priority(p: Priority) -> String {
    match p {
        Priority::None => "-".to_owned(),
        other => other.as_str().to_owned(),
    }
}

fn labels(card: &Card) -> String {
    if card.labels.is_empty() {
        return String::new();
    }
    let labels: Vec<String> = card.labels.iter().map(|l| sanitize::line(l)).collect();
    format!(" [{}]", labels.join(", "))
}

/// `warren board list`.
pub fn format_boards(boards: &[Board]) -> String {
    if boards.is_empty() {
        return "no boards\n".to_owned();
    }
    let rows: Vec<Vec<String>> = boards
        .iter()
        .map(|b| {
            let columns: Vec<String> = b.columns.iter().map(|c| sanitize::line(&c.name)).collect();
            vec![
                sanitize::line(&b.name),
                b.id.to_string(),
                columns.join(" | "),
            ]
        })
        .collect();
    table(&["BOARD", "ID", "COLUMNS"], &rows)
}

/// `warren card list`: one row per card, with the board only when there are several.
pub fn format_cards(cards: &[Card], names: &Names) -> String {
    if cards.is_empty() {
        return "no cards\n".to_owned();
    }
    let with_board = names.board_count() > 1;
    let mut headers = vec!["#"];
    if with_board {
        headers.push("BOARD");
    }
    headers.extend(["COLUMN", "PRIORITY", "ASSIGNEE", "TITLE"]);
    let rows: Vec<Vec<String>> = cards
        .iter()
        .map(|c| {
            let mut row = vec![format!("#{}", c.number)];
            if with_board {
                row.push(names.board(&c.board_id));
            }
            row.push(names.column(&c.column_id));
            row.push(priority(c.priority));
            row.push(
                c.assignee
                    .as_ref()
                    .map_or("-".to_owned(), |a| names.member(a)),
            );
            row.push(format!("{}{}", sanitize::line(&c.title), labels(c)));
            row
        })
        .collect();
    table(&headers, &rows)
}

/// One line naming a card and where it is: `#12 Title (Main / Todo)`.
pub fn format_card_line(card: &Card, names: &Names) -> String {
    format!(
        "#{} {} ({} / {})",
        card.number,
        sanitize::line(&card.title),
        names.board(&card.board_id),
        names.column(&card.column_id)
    )
}

/// `warren card show`.
pub fn format_card_detail(card: &Card, names: &Names) -> String {
    let mut out = format!("#{} {}\n", card.number, sanitize::line(&card.title));
    let mut field = |key: &str, value: String| {
        out.push_str(&format!("  {key:<10}{value}\n"));
    };
    field("id", card.id.to_string());
    field("board", names.board(&card.board_id));
    field("column", names.column(&card.column_id));
    field("priority", priority(card.priority));
    field(
        "assignee",
        card.assignee
            .as_ref()
            .map_or("-".to_owned(), |a| names.member(a)),
    );
    let labels: Vec<String> = card.labels.iter().map(|l| sanitize::line(l)).collect();
    field(
        "labels",
        if labels.is_empty() {
            "-".to_owned()
        } else {
            labels.join(", ")
        },
    );
    field(
        "created",
        format!(
            "{} by {}",
            local_minutes(card.created_at),
            names.member(&card.created_by)
        ),
    );
    field("updated", local_minutes(card.updated_at));
    let description = sanitize::block(&card.description);
    if !description.trim().is_empty() {
        out.push('\n');
        for line in description.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// `warren room list`.
pub fn format_rooms(rooms: &[Room]) -> String {
    if rooms.is_empty() {
        return "no rooms\n".to_owned();
    }
    let rows: Vec<Vec<String>> = rooms
        .iter()
        .map(|r| {
            vec![
                format!("#{}", sanitize::line(&r.name)),
                r.id.to_string(),
                sanitize::line(&r.topic),
            ]
        })
        .collect();
    table(&["ROOM", "ID", "TOPIC"], &rows)
}

/// A chat message: `2026-11-21 12:41  Ann: text`, later lines of the body indented.
pub fn format_message(message: &Message, names: &Names) -> String {
    let body = sanitize::block(&message.body);
    let mut lines = body.lines();
    let first = lines.next().unwrap_or("");
    let edited = if message.edited_at.is_some() {
        " (edited)"
    } else {
        ""
    };
    let mut out = format!(
        "{}  {}: {first}{edited}\n",
        local_minutes(message.created_at),
        names.member(&message.author)
    );
    for line in lines {
        out.push_str(&format!("    {line}\n"));
    }
    out
}

fn member_line(member: &Member) -> String {
    format!("{} ({:?})", sanitize::line(&member.name), member.role).to_lowercase()
}

fn first_line(text: &str, max: usize) -> String {
    let line = sanitize::line(text.lines().next().unwrap_or(""));
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line
    }
}

/// `Name (Col | Col | …)`.
pub fn board_summary(board: &warren_protocol::Board) -> String {
    let columns: Vec<String> = board
        .columns
        .iter()
        .map(|c| sanitize::line(&c.name))
        .collect();
    format!("{} ({})", sanitize::line(&board.name), columns.join(" | "))
}

/// What an event did, in a few words.
pub fn format_change(change: &Change, names: &Names) -> String {
    match change {
        Change::WorkspaceCreated { workspace } => sanitize::line(&workspace.name),
        Change::MemberAdded { member } | Change::MemberUpdated { member } => member_line(member),
        Change::MemberRemoved { user_id } => names.member(user_id),
        Change::WorkspaceRenamed { workspace } | Change::WorkspaceDeleted { workspace } => {
            sanitize::line(&workspace.name)
        }
        Change::BoardCreated { board } | Change::BoardUpdated { board } => board_summary(board),
        Change::ColumnDeleted {
            board,
            column_id,
            moved_cards,
        } => {
            let mut text = format!(
                "{}: {}",
                sanitize::line(&board.name),
                names.column(column_id)
            );
            if let Some(to) = moved_cards.first() {
                text.push_str(&format!(
                    " ({} card(s) to {})",
                    moved_cards.len(),
                    names.column(&to.column_id)
                ));
            }
            text
        }
        Change::CardCreated { card } => format_card_line(card, names),
        Change::CardUpdated { card } => format!("#{} {}", card.number, sanitize::line(&card.title)),
        Change::CardMoved {
            card,
            from_column_id,
        } => format!(
            "#{} {}: {} -> {}",
            card.number,
            sanitize::line(&card.title),
            names.column(from_column_id),
            names.column(&card.column_id)
        ),
        Change::CardDeleted { card_id, .. } => names.card(card_id),
        Change::RoomCreated { room } => format!("#{}", sanitize::line(&room.name)),
        Change::MessagePosted { message } | Change::MessageEdited { message } => format!(
            "{} {}: {}",
            names.room(&message.room_id),
            names.member(&message.author),
            first_line(&message.body, 60)
        ),
        Change::MessageDeleted {
            message_id,
            room_id,
        } => {
            format!("{} {message_id}", names.room(room_id))
        }
        Change::JobCreated { job } | Change::JobUpdated { job } => sanitize::line(&job.name),
        Change::JobDeleted { job_id } => job_id.to_string(),
        Change::RunCreated { run } => format!(
            "r{} {} {}",
            run.number,
            sanitize::line(&run.job_name),
            run.status.as_str()
        ),
        Change::RunUpdated { run, from } => format!(
            "r{} {} {} -> {}",
            run.number,
            sanitize::line(&run.job_name),
            from.as_str(),
            run.status.as_str()
        ),
        Change::ProviderCreated { provider } | Change::ProviderUpdated { provider } => format!(
            "{} ({})",
            sanitize::line(&provider.name),
            provider.kind.as_str()
        ),
        Change::ProviderDeleted { provider_id } => provider_id.to_string(),
        Change::AgentCreated { agent } | Change::AgentUpdated { agent } => {
            format!("@{}", sanitize::line(&agent.name))
        }
        Change::AgentDeleted { agent_id } => agent_id.to_string(),
        Change::RunStep { step } => {
            format!("{} step {} {}", step.run_id, step.n, step.status.as_str())
        }
        Change::ApprovalGranted { grant } => {
            format!("{} may always {}", grant.agent_id, grant.tool.as_str())
        }
        Change::ApprovalRevoked { grant_id } => grant_id.to_string(),
        Change::BudgetSet { budget } => format!(
            "{} per {}",
            warren_protocol::agent::format_usd(budget.limit),
            budget.period.as_str()
        ),
        Change::BudgetCleared { .. } => "budget cleared".to_owned(),
    }
}

/// `#SEQ  TIME  actor  change-type  summary`.
pub fn format_event(event: &Event, names: &Names) -> String {
    format!(
        "#{}  {}  {}  {}  {}",
        event.seq,
        local_minutes(event.at),
        names.member(&event.actor),
        event.change.name(),
        format_change(&event.change, names)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::state;

    #[test]
    fn tables_align_and_do_not_pad_the_last_column() {
        let rows = vec![
            vec!["#1".to_owned(), "Todo".to_owned(), "A title".to_owned()],
            vec!["#12".to_owned(), "In Progress".to_owned(), "B".to_owned()],
        ];
        assert_eq!(
            table(&["#", "COLUMN", "TITLE"], &rows),
            "#    COLUMN       TITLE\n#1   Todo         A title\n#12  In Progress  B\n"
        );
    }

    #[test]
    fn card_list_is_short_and_sanitised() {
        let mut s = state();
        s.cards[0].title = "Evil \u{1b}[2Jtitle".into();
        s.cards[0].labels = vec!["bug".into(), "ui".into()];
        s.cards[0].priority = Priority::High;
        s.cards[0].assignee = s.members.first().map(|m| m.user_id.clone());
        let names = Names::from_state(&s);
        assert_eq!(
            format_cards(&s.cards, &names),
            "#    BOARD  COLUMN  PRIORITY  ASSIGNEE  TITLE\n\
             #12  Main   Todo    high      Ann       Evil title [bug, ui]\n\
             #3   Main   Todo    -         -         Three\n"
        );
    }

    #[test]
    fn messages_keep_line_breaks_but_not_escapes() {
        let s = state();
        let names = Names::from_state(&s);
        let message = Message {
            id: warren_protocol::Id::parse("msg_one").unwrap_or_else(|e| panic!("{e}")),
            room_id: s.rooms[0].id.clone(),
            seq: 9,
            author: s.members[0].user_id.clone(),
            body: "hello\nsecond \u{1b}]0;x\u{7}line".into(),
            created_at: 0,
            edited_at: None,
        };
        assert_eq!(
            format_message(&message, &names),
            "1970-01-01 00:00  Ann: hello\n    second line\n"
        );
    }

    #[test]
    fn events_have_sequence_time_actor_type_and_summary() {
        let s = state();
        let names = Names::from_state(&s);
        let mut moved = s.cards[0].clone();
        moved.column_id = s.boards[0].columns[1].id.clone();
        let event = Event {
            seq: 8,
            workspace_id: s.workspace.id.clone(),
            at: 60_000,
            actor: s.members[0].user_id.clone(),
            request_id: None,
            change: Change::CardMoved {
                card: moved,
                from_column_id: s.boards[0].columns[0].id.clone(),
            },
        };
        assert_eq!(
            format_event(&event, &names),
            "#8  1970-01-01 00:01  Ann  card_moved  #12 Twelve: Todo -> Done"
        );
    }
}
