//! The `search` tool: cards (title and description) and messages whose text holds every word
//! of the query (ignoring case), best first (more words in titles, then newer), at most
//! [`MAX_SEARCH_RESULTS`], each text cut short. A read: it changes nothing.

use redb::{ReadableTable, WriteTransaction};
use serde_json::{Value, json};
use warren_protocol::tool::{MAX_SEARCH_RESULTS, SearchArgs, SearchIn};
use warren_protocol::{Card, Id, Message, Room};

use super::ApplyError;
use crate::store::decode;
use crate::store::read::list_in_workspace;
use crate::store::tables::{CARDS, MESSAGES, ROOMS};

/// Longest text of one result, in characters.
const SNIPPET_CHARS: usize = 300;
/// Most messages looked at (the newest), so a search stays quick in a large workspace.
const MAX_MESSAGES_SCANNED: usize = 20_000;

fn snippet(text: &str) -> String {
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// Searches the workspace.
pub fn search(
    txn: &WriteTransaction,
    workspace: &Id,
    args: &SearchArgs,
) -> Result<Value, ApplyError> {
    let words: Vec<String> = args
        .query
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let limit = args.limit.unwrap_or(10).clamp(1, MAX_SEARCH_RESULTS) as usize;
    let ws = workspace.as_str();
    // (score, at, result)
    let mut found: Vec<(usize, i64, Value)> = Vec::new();
    let matches = |text: &str| {
        let text = text.to_lowercase();
        words.iter().all(|w| text.contains(w.as_str()))
    };
    if words.is_empty() {
        return Ok(json!({"results": [], "note": "give some words to look for"}));
    }
    if matches!(args.within, SearchIn::All | SearchIn::Cards) {
        let cards: Vec<Card> = list_in_workspace(&txn.open_table(CARDS)?, "cards", ws)?;
        for card in cards {
            let all = format!("{}\n{}", card.title, card.description);
            if matches(&all) {
                let title = card.title.to_lowercase();
                let score = words.iter().filter(|w| title.contains(w.as_str())).count();
                found.push((
                    score + 1,
                    card.updated_at,
                    json!({
                        "kind": "card",
                        "card": card.number,
                        "title": card.title,
                        "description": snippet(&card.description),
                    }),
                ));
            }
        }
    }
    if matches!(args.within, SearchIn::All | SearchIn::Messages) {
        let rooms: Vec<Room> = list_in_workspace(&txn.open_table(ROOMS)?, "rooms", ws)?;
        let table = txn.open_table(MESSAGES)?;
        let mut scanned = 0;
        for room in rooms {
            let range =
                table.range((ws, room.id.as_str(), 0)..=(ws, room.id.as_str(), u64::MAX))?;
            for entry in range.rev() {
                if scanned >= MAX_MESSAGES_SCANNED {
                    break;
                }
                scanned += 1;
                let (_, value) = entry.map_err(crate::store::StoreError::from)?;
                let message: Message = decode("messages", value.value())?;
                if matches(&message.body) {
                    found.push((
                        0,
                        message.created_at,
                        json!({
                            "kind": "message",
                            "room": room.name,
                            "at": message.created_at,
                            "text": snippet(&message.body),
                        }),
                    ));
                }
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let more = found.len() > limit;
    let results: Vec<Value> = found.into_iter().take(limit).map(|(_, _, v)| v).collect();
    Ok(json!({"results": results, "more": more}))
}
