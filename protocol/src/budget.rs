//! Budgets and usage: spending limits per workspace, agent or room over a day, week or month,
//! checked before every model call, and the usage rows `warren stats` and the Stats view draw.

use serde::{Deserialize, Serialize};

use crate::agent::{MicroUsd, Usage};
use crate::id::Id;

/// The share of a budget at which the run's room hears an alert, in percent, in order.
pub const ALERT_PERCENTS: [u8; 4] = [50, 75, 90, 100];

/// What a budget limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BudgetScope {
    /// Every agent run in the workspace.
    Workspace,
    /// One agent's runs.
    Agent { agent_id: Id },
    /// Agent runs that answer in one room.
    Room { room_id: Id },
}

/// How long a budget's period lasts; periods start at midnight UTC (Monday for weeks, the 1st
/// for months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    Day,
    Week,
    Month,
}

impl BudgetPeriod {
    /// The wire name, such as `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "day",
            BudgetPeriod::Week => "week",
            BudgetPeriod::Month => "month",
        }
    }

    /// Parses `day`, `week` or `month`.
    pub fn parse(s: &str) -> Option<BudgetPeriod> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Some(BudgetPeriod::Day),
            "week" | "weekly" => Some(BudgetPeriod::Week),
            "month" | "monthly" => Some(BudgetPeriod::Month),
            _ => None,
        }
    }
}

/// A spending limit and what was spent against it in the current period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub scope: BudgetScope,
    pub limit: MicroUsd,
    pub period: BudgetPeriod,
    /// Spent in the current period (every model call's cost, whatever its provider).
    #[serde(default)]
    pub spent: MicroUsd,
    /// When the current period started.
    pub period_start: i64,
    pub set_by: Id,
    pub updated_at: i64,
}

impl Budget {
    /// What is left in this period (0 once spent reaches the limit).
    pub fn left(&self) -> MicroUsd {
        self.limit.saturating_sub(self.spent)
    }

    /// Spent as a whole percentage of the limit (100 or more once exhausted).
    pub fn percent(&self) -> u64 {
        if self.limit == 0 {
            return 100;
        }
        u64::try_from(u128::from(self.spent) * 100 / u128::from(self.limit)).unwrap_or(u64::MAX)
    }

    /// True when no more model calls may start under it.
    pub fn exhausted(&self) -> bool {
        self.spent >= self.limit
    }
}

/// Tokens and cost of the model calls of one day, agent, provider and room (the finest grain
/// the server keeps; `stats` groups them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageRow {
    /// `2026-12-05` (UTC).
    pub day: String,
    pub agent_id: Id,
    pub provider_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<Id>,
    pub usage: Usage,
    pub cost: MicroUsd,
    /// Model calls counted.
    pub calls: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_and_percent_follow_spending() {
        let mut b = Budget {
            scope: BudgetScope::Workspace,
            limit: 20_000_000,
            period: BudgetPeriod::Month,
            spent: 15_000_000,
            period_start: 0,
            set_by: Id::parse("usr_8d3f6h1k4m7p0r2t").expect("id"),
            updated_at: 0,
        };
        assert_eq!(b.left(), 5_000_000);
        assert_eq!(b.percent(), 75);
        assert!(!b.exhausted());
        b.spent = 21_000_000;
        assert_eq!(b.left(), 0);
        assert!(b.exhausted());
        assert_eq!(BudgetPeriod::parse("Monthly"), Some(BudgetPeriod::Month));
    }
}
