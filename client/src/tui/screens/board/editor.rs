//! The card editor, a window over the board: its fields, opening it for a new card, an existing
//! one, or a change the server refused (with the refused text), telling whether leaving it would
//! lose anything, and saving it as one `create_card` or `update_card`.

use ratatui_textarea::{TextArea, WrapMode};
use warren_protocol::{Card, Command, Id, Position, Priority};

use crate::tui::app::App;
use crate::tui::input::new_id;
use crate::tui::state::{Overlay, single_line};

/// A field of the card editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Labels,
    Priority,
    Assignee,
    Description,
}

impl Field {
    /// The editor's fields in tab order.
    pub const ALL: [Field; 5] = [
        Field::Title,
        Field::Labels,
        Field::Priority,
        Field::Assignee,
        Field::Description,
    ];

    /// The field's label.
    pub fn label(self) -> &'static str {
        match self {
            Field::Title => "Title",
            Field::Labels => "Labels (comma-separated)",
            Field::Priority => "Priority (none, low, medium, high, urgent)",
            Field::Assignee => "Assignee (member name)",
            Field::Description => "Description (markdown)",
        }
    }
}

/// The card editor: a new card (`card: None`) or an existing one.
#[derive(Debug)]
pub struct CardEditor {
    pub card: Option<Id>,
    pub board: Id,
    pub column: Id,
    pub field: usize,
    pub title: TextArea<'static>,
    pub labels: TextArea<'static>,
    pub priority: TextArea<'static>,
    pub assignee: TextArea<'static>,
    pub description: TextArea<'static>,
    /// The fields' text when the editor opened, to tell whether leaving loses anything.
    pub original: Vec<String>,
    /// Why the server refused the last save of this text, shown in the editor (the status bar's
    /// message is under it) until the next save.
    pub refused: Option<String>,
}

impl CardEditor {
    /// The text area of a field.
    pub fn area(&self, field: Field) -> &TextArea<'static> {
        match field {
            Field::Title => &self.title,
            Field::Labels => &self.labels,
            Field::Priority => &self.priority,
            Field::Assignee => &self.assignee,
            Field::Description => &self.description,
        }
    }

    /// The focused field's text area.
    pub fn focused_mut(&mut self) -> &mut TextArea<'static> {
        match Field::ALL[self.field % Field::ALL.len()] {
            Field::Title => &mut self.title,
            Field::Labels => &mut self.labels,
            Field::Priority => &mut self.priority,
            Field::Assignee => &mut self.assignee,
            Field::Description => &mut self.description,
        }
    }

    /// Every field's text, in [`Field::ALL`] order.
    pub fn texts(&self) -> Vec<String> {
        Field::ALL
            .iter()
            .map(|f| self.area(*f).lines().join("\n"))
            .collect()
    }

    /// The focused field.
    pub fn focused(&self) -> Field {
        Field::ALL[self.field % Field::ALL.len()]
    }
}

impl App {
    /// An editor for `card` (a new card when `None`) on `board`, adding to `column`.
    pub(crate) fn card_editor(&self, card: Option<&Card>, board: Id, column: Id) -> CardEditor {
        let assignee = card
            .and_then(|c| c.assignee.as_ref())
            .map(|a| self.view().member_name(a))
            .unwrap_or_default();
        let mut description = TextArea::new(
            card.map(|c| c.description.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
        );
        description.set_wrap_mode(WrapMode::WordOrGlyph);
        let mut editor = CardEditor {
            card: card.map(|c| c.id.clone()),
            board,
            column,
            field: 0,
            title: single_line(card.map_or("", |c| c.title.as_str())),
            labels: single_line(&card.map(|c| c.labels.join(", ")).unwrap_or_default()),
            priority: single_line(card.map_or("none", |c| c.priority.as_str())),
            assignee: single_line(&assignee),
            description,
            original: Vec::new(),
            refused: None,
        };
        editor.original = editor.texts();
        editor
    }

    /// Whether the open card editor holds edits that leaving would lose.
    pub fn editor_changed(&self) -> bool {
        match &self.overlay {
            Some(Overlay::Editor(editor)) => editor.texts() != editor.original,
            _ => false,
        }
    }

    /// An editor holding a refused `create_card` or `update_card`; leaving it asks first.
    pub(crate) fn editor_for_refused(&self, command: &Command) -> Option<CardEditor> {
        let view = self.view();
        let (card, board, column) = match command {
            Command::CreateCard {
                board_id,
                column_id,
                ..
            } => {
                let board = view.boards.iter().find(|b| &b.id == board_id)?;
                let column = column_id
                    .clone()
                    .or_else(|| board.columns.first().map(|c| c.id.clone()))?;
                (None, board_id.clone(), column)
            }
            Command::UpdateCard { card_id, .. } => match view.card(card_id) {
                Some(card) => (
                    Some(card.clone()),
                    card.board_id.clone(),
                    card.column_id.clone(),
                ),
                // The card is gone: offer the text as a new card where the user is.
                None => (
                    None,
                    view.boards.get(self.board.board)?.id.clone(),
                    self.focused_column()?,
                ),
            },
            _ => return None,
        };
        let mut editor = self.card_editor(card.as_ref(), board, column);
        let (title, description, labels, assignee, priority) = match command {
            Command::CreateCard {
                title,
                description,
                labels,
                assignee,
                priority,
                ..
            } => (
                Some(title),
                Some(description),
                Some(labels),
                Some(assignee),
                Some(priority),
            ),
            Command::UpdateCard {
                title,
                description,
                labels,
                assignee,
                priority,
                ..
            } => (
                title.as_ref(),
                description.as_ref(),
                labels.as_ref(),
                assignee.as_ref(),
                priority.as_ref(),
            ),
            _ => return None,
        };
        if let Some(title) = title {
            editor.title = single_line(&crate::sanitize::line(title));
        }
        if let Some(description) = description {
            let mut area = TextArea::new(
                crate::sanitize::block(description)
                    .lines()
                    .map(str::to_owned)
                    .collect(),
            );
            area.set_wrap_mode(WrapMode::WordOrGlyph);
            editor.description = area;
        }
        if let Some(labels) = labels {
            editor.labels = single_line(&crate::sanitize::line(&labels.join(", ")));
        }
        if let Some(assignee) = assignee {
            let name = assignee
                .as_ref()
                .map(|a| view.member_name(a))
                .unwrap_or_default();
            editor.assignee = single_line(&name);
        }
        if let Some(priority) = priority {
            editor.priority = single_line(priority.as_str());
        }
        // Not saved: leaving asks first.
        editor.original = Vec::new();
        Some(editor)
    }

    /// Opens the editor on `card` (a new card in the focused column when `None`).
    pub(crate) fn open_editor(&mut self, card: Option<Card>) {
        let Some(board) = self
            .view()
            .boards
            .get(self.board.board)
            .map(|b| b.id.clone())
        else {
            self.notify("there is no board to add a card to", true);
            return;
        };
        let Some(column) = self.focused_column() else {
            return;
        };
        let editor = self.card_editor(card.as_ref(), board, column);
        if let Some(detail @ Overlay::Detail { .. }) = self.overlay.take() {
            // Saving or leaving the editor returns to the card's details.
            self.under.push(detail);
        }
        self.overlay = Some(Overlay::Editor(Box::new(editor)));
    }

    /// Saves the open editor as one command and closes it.
    pub(crate) fn save_editor(&mut self) {
        let Some(Overlay::Editor(editor)) = &self.overlay else {
            return;
        };
        let text = |t: &ratatui_textarea::TextArea<'static>| t.lines().join("\n");
        let title = text(&editor.title).trim().to_owned();
        if title.is_empty() {
            self.notify("a card needs a title", true);
            return;
        }
        let labels: Vec<String> = text(&editor.labels)
            .split(',')
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        let priority_text = text(&editor.priority).trim().to_lowercase();
        let priority = if priority_text.is_empty() {
            Priority::None
        } else {
            match Priority::parse(&priority_text) {
                Some(p) => p,
                None => {
                    self.notify(
                        format!("unknown priority {priority_text:?}; use none, low, medium, high or urgent"),
                        true,
                    );
                    return;
                }
            }
        };
        let assignee_text = text(&editor.assignee).trim().to_owned();
        let assignee = if assignee_text.is_empty() {
            None
        } else {
            match self
                .view()
                .members
                .iter()
                .find(|m| m.name.eq_ignore_ascii_case(&assignee_text))
            {
                Some(m) => Some(m.user_id.clone()),
                None => {
                    self.notify(format!("no member named {assignee_text:?}"), true);
                    return;
                }
            }
        };
        let description = text(&editor.description);
        let command = match &editor.card {
            None => Command::CreateCard {
                card_id: new_id("card"),
                board_id: editor.board.clone(),
                column_id: Some(editor.column.clone()),
                title,
                description,
                labels,
                assignee,
                priority,
                position: Position::Bottom,
            },
            Some(card_id) => Command::UpdateCard {
                card_id: card_id.clone(),
                title: Some(title),
                description: Some(description),
                labels: Some(labels),
                assignee: Some(assignee),
                priority: Some(priority),
            },
        };
        let created = match &command {
            Command::CreateCard {
                card_id, column_id, ..
            } => card_id.clone().zip(column_id.clone()),
            _ => None,
        };
        self.close_overlay();
        self.submit(command);
        if let Some((card, column)) = created {
            self.board.selected.insert(column, card);
        }
    }
}
