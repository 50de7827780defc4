//! Size limits shared by client and server. A server advertises its own values in `welcome`.

/// Largest text frame the server parses. Larger frames (up to [`MAX_FRAME_HARD`]) are answered
/// with `frame_too_large` and the connection stays open.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
/// Largest frame the WebSocket layer reads at all; past this the connection is closed with
/// close code 1009 (message too big).
pub const MAX_FRAME_HARD: usize = 4 * 1024 * 1024;
/// Longest board or column name, in characters (room names follow [`crate::room_name`]).
pub const MAX_NAME_CHARS: usize = 100;
/// Longest room topic, in characters (one line; empty is allowed).
pub const MAX_TOPIC_CHARS: usize = 200;
/// Longest card title, in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// Longest card description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 64 * 1024;
/// Longest chat message body, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// Most labels on a card.
pub const MAX_LABELS: usize = 20;
/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 50;
/// Most columns on a board.
pub const MAX_COLUMNS: usize = 20;
/// Most items one page query returns.
pub const MAX_PAGE: usize = 500;
