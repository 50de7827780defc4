//! Opening the card editor: for a new card, an existing one, or a change the server refused
//! (with the refused text), and telling whether leaving it would lose anything.

use ratatui_textarea::{TextArea, WrapMode};
use warren_protocol::{Card, Command, Id};

use super::app::App;
use super::state::{CardEditor, Overlay, single_line};

impl App {
    /// An editor for `card` (a new card when `None`) on `board`, adding to `column`.
    pub(super) fn card_editor(&self, card: Option<&Card>, board: Id, column: Id) -> CardEditor {
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
    pub(super) fn editor_for_refused(&self, command: &Command) -> Option<CardEditor> {
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
}
