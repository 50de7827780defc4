//! `warren stats`: the `usage` query's rows (per day, agent, provider and room) grouped by one of
//! them, with calls, tokens in and out (counted figures marked `~`), cost, and a total line.

use std::collections::BTreeMap;

use serde::Serialize;
use warren_protocol::agent::{MicroUsd, format_usd};
use warren_protocol::budget::UsageRow;

use super::AgentNames;
use crate::output::table;

/// What `stats --by` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Agent,
    Provider,
    Room,
    Day,
}

impl GroupBy {
    /// Parses `agent`, `provider`, `room` or `day`.
    pub fn parse(text: &str) -> Result<GroupBy, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "agent" | "agents" => Ok(GroupBy::Agent),
            "provider" | "providers" => Ok(GroupBy::Provider),
            "room" | "rooms" => Ok(GroupBy::Room),
            "day" | "days" => Ok(GroupBy::Day),
            _ => Err(format!(
                "{text:?} is not a grouping; use agent, provider, room or day"
            )),
        }
    }

    fn header(self) -> &'static str {
        match self {
            GroupBy::Agent => "AGENT",
            GroupBy::Provider => "PROVIDER",
            GroupBy::Room => "ROOM",
            GroupBy::Day => "DAY",
        }
    }
}

/// One group's totals (also what `stats --json` prints, one per line, the total last with
/// `key` "total").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatsRow {
    /// The agent's, provider's or room's name, or the day; `total` for the sum.
    pub key: String,
    /// The agent, provider or room id (absent for days, the total and room-less runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Some of the tokens were counted by warren (the provider reported none).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub counted: bool,
    pub cost: MicroUsd,
}

impl StatsRow {
    fn add(&mut self, row: &UsageRow) {
        self.calls += row.calls;
        self.input_tokens += row.usage.input_tokens;
        self.output_tokens += row.usage.output_tokens;
        self.counted |= row.usage.counted;
        self.cost += row.cost;
    }
}

/// The groups, ordered by cost (highest first; days in date order), and the total.
pub fn group(rows: &[UsageRow], by: GroupBy, names: &AgentNames) -> (Vec<StatsRow>, StatsRow) {
    let mut groups: BTreeMap<String, StatsRow> = BTreeMap::new();
    let mut total = StatsRow {
        key: "total".to_owned(),
        ..StatsRow::default()
    };
    for row in rows {
        let (key, id) = match by {
            GroupBy::Agent => (names.agent(&row.agent_id), Some(row.agent_id.to_string())),
            GroupBy::Provider => (
                names.provider(&row.provider_id),
                Some(row.provider_id.to_string()),
            ),
            GroupBy::Room => match &row.room_id {
                Some(room) => (names.names.room(room), Some(room.to_string())),
                None => ("(no room)".to_owned(), None),
            },
            GroupBy::Day => (row.day.clone(), None),
        };
        let group = groups
            .entry(id.clone().unwrap_or_else(|| key.clone()))
            .or_insert_with(|| StatsRow {
                key,
                id,
                ..StatsRow::default()
            });
        group.add(row);
        total.add(row);
    }
    let mut list: Vec<StatsRow> = groups.into_values().collect();
    if by == GroupBy::Day {
        list.sort_by(|a, b| a.key.cmp(&b.key));
    } else {
        list.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.key.cmp(&b.key)));
    }
    (list, total)
}

fn count(n: u64, counted: bool) -> String {
    if counted {
        format!("~{n}")
    } else {
        n.to_string()
    }
}

/// The table, its total line, and a note when figures were counted.
pub fn format_stats(list: &[StatsRow], total: &StatsRow, by: GroupBy, since: &str) -> String {
    if list.is_empty() {
        return format!("no model calls since {since}\n");
    }
    let mut rows: Vec<Vec<String>> = list
        .iter()
        .chain(std::iter::once(total))
        .map(|r| {
            vec![
                crate::sanitize::line(&r.key),
                r.calls.to_string(),
                count(r.input_tokens, r.counted),
                count(r.output_tokens, r.counted),
                format_usd(r.cost),
            ]
        })
        .collect();
    if let Some(last) = rows.last_mut()
        && let Some(first) = last.first_mut()
    {
        *first = "TOTAL".to_owned();
    }
    let mut out = format!("since {since}\n");
    out.push_str(&table(
        &[by.header(), "CALLS", "TOKENS IN", "TOKENS OUT", "COST"],
        &rows,
    ));
    if total.counted {
        out.push_str("~ counted by warren: the provider reported no usage\n");
    }
    out
}
