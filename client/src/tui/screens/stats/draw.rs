//! How the Stats tab is drawn: a title line with the totals, cost per day as bars (tokens when
//! nothing cost money), the top agents and providers side by side with bars, and the budgets as
//! spent against limit. It reads at 80 columns and in 16 colours (bars and words carry the
//! meaning; colour only adds to it), and says what to do when there is nothing to show.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph};
use warren_protocol::Id;
use warren_protocol::agent::format_usd;
use warren_protocol::budget::{Budget, BudgetScope, UsageRow};

use super::DAYS;
use crate::tui::app::App;
use crate::tui::screens::chat::run_line::thousands;
use crate::tui::view::text::{pad, truncate};

/// Rows each of the per-agent and per-provider lists shows.
const TOP: usize = 5;

/// Tokens, cost and calls added up.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sum {
    pub tokens: u64,
    pub cost: u64,
    pub calls: u64,
}

impl Sum {
    fn add(&mut self, row: &UsageRow) {
        self.tokens += row.usage.input_tokens + row.usage.output_tokens;
        self.cost += row.cost;
        self.calls += row.calls;
    }
}

/// The rows summed per key, largest cost first (then tokens), at most `top`.
pub fn top_by(rows: &[UsageRow], key: impl Fn(&UsageRow) -> Id, top: usize) -> Vec<(Id, Sum)> {
    let mut sums: BTreeMap<Id, Sum> = BTreeMap::new();
    for row in rows {
        sums.entry(key(row)).or_default().add(row);
    }
    let mut list: Vec<(Id, Sum)> = sums.into_iter().collect();
    list.sort_by_key(|(_, s)| std::cmp::Reverse((s.cost, s.tokens)));
    list.truncate(top);
    list
}

/// The last `n` UTC days up to the one holding `now_ms`, oldest first, as `YYYY-MM-DD`.
pub fn last_days(now_ms: i64, n: i64) -> Vec<String> {
    let today = now_ms - now_ms.rem_euclid(86_400_000);
    (0..n)
        .rev()
        .filter_map(|back| {
            jiff::Timestamp::from_millisecond(today - back * 86_400_000)
                .ok()
                .map(|ts| ts.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        })
        .collect()
}

/// Draws the tab.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let muted = t.style("ui.muted");
    let rows = match &app.stats.usage {
        None => {
            frame.render_widget(Span::styled(" Loading usage…", muted), area);
            return;
        }
        Some(Err(why)) => {
            let lines = vec![
                Line::from(Span::styled(
                    truncate(&format!(" Usage is not available: {why}"), area.width as usize),
                    t.style("ui.error"),
                )),
                Line::from(Span::styled(refresh_hint(app, "try again"), muted)),
            ];
            frame.render_widget(Paragraph::new(lines), area);
            return;
        }
        Some(Ok(rows)) => rows,
    };
    let budgets = app.view().agents.budgets.clone().unwrap_or_default();
    if rows.is_empty() {
        let mut lines = vec![
            Line::from(Span::styled(
                " no model calls yet — ask an agent with @name in a room",
                muted,
            )),
            Line::from(Span::styled(refresh_hint(app, "look again"), muted)),
            Line::default(),
        ];
        lines.extend(budget_lines(app, &budgets, area.width as usize));
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let mut total = Sum::default();
    for row in rows {
        total.add(row);
    }
    let budget_rows = if budgets.is_empty() {
        0
    } else {
        budgets.len().min(4) as u16 + 1
    };
    let list_rows = TOP as u16 + 1;
    let [title, chart, lists, budget_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(list_rows),
        Constraint::Length(budget_rows),
    ])
    .areas(area);
    let by_cost = total.cost > 0;
    let head = format!(
        " Agents, last {DAYS} days: {} tokens · {} · {} calls",
        thousands(total.tokens),
        format_usd(total.cost),
        thousands(total.calls)
    );
    frame.render_widget(
        Span::styled(truncate(&head, title.width as usize), t.style("ui.title")),
        title,
    );
    render_chart(app, frame, chart, rows, by_cost);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lists);
    let model = app.view();
    let agents = top_by(rows, |r| r.agent_id.clone(), TOP);
    let providers = top_by(rows, |r| r.provider_id.clone(), TOP);
    let agent_name = |id: &Id| {
        model
            .agents
            .agent(id)
            .map_or_else(|| "(removed)".to_owned(), |a| format!("@{}", a.name))
    };
    let provider_name = |id: &Id| {
        model
            .agents
            .provider(id)
            .map_or_else(|| "(removed)".to_owned(), |p| p.name.clone())
    };
    frame.render_widget(
        Paragraph::new(ranking(app, "By agent", &agents, agent_name, left.width, by_cost)),
        left,
    );
    frame.render_widget(
        Paragraph::new(ranking(
            app,
            "By provider",
            &providers,
            provider_name,
            right.width,
            by_cost,
        )),
        right,
    );
    if budget_rows > 0 {
        frame.render_widget(
            Paragraph::new(budget_lines(app, &budgets, budget_area.width as usize)),
            budget_area,
        );
    }
}

fn refresh_hint(app: &App, what: &str) -> String {
    app.keymap
        .keys_for(crate::keymap::Context::Stats, crate::keymap::Action::StatsRefresh)
        .first()
        .map_or_else(String::new, |k| format!(" press {k} to {what}"))
}

fn render_chart(app: &App, frame: &mut Frame<'_>, area: Rect, rows: &[UsageRow], by_cost: bool) {
    let t = &app.theme;
    let what = if by_cost {
        "cost per day"
    } else {
        "tokens per day (no call cost money)"
    };
    let block = Block::bordered()
        .border_style(t.style("ui.border"))
        .title(Span::styled(format!(" {what} "), t.style("ui.title")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Bars three columns wide with a gap: as many days as fit, the newest on the right.
    let fit = i64::from((inner.width + 1) / 4).clamp(1, DAYS);
    let days = last_days(app.runs_now(), fit);
    let mut per_day: BTreeMap<&str, Sum> = BTreeMap::new();
    for row in rows {
        per_day.entry(row.day.as_str()).or_default().add(row);
    }
    let bars: Vec<Bar<'_>> = days
        .iter()
        .map(|day| {
            let sum = per_day.get(day.as_str()).copied().unwrap_or_default();
            let value = if by_cost { sum.cost } else { sum.tokens };
            Bar::default()
                .value(value)
                .text_value(String::new())
                .label(Line::from(day.get(8..).unwrap_or_default().to_owned()))
                .style(t.style("ui.accent"))
        })
        .collect();
    let peak = days
        .iter()
        .filter_map(|d| per_day.get(d.as_str()))
        .map(|s| if by_cost { s.cost } else { s.tokens })
        .max()
        .unwrap_or(0);
    let [chart, scale] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(3)
            .bar_gap(1)
            .label_style(t.style("ui.muted")),
        chart,
    );
    let peak = if by_cost {
        format_usd(peak)
    } else {
        format!("{} tokens", thousands(peak))
    };
    frame.render_widget(
        Span::styled(format!("highest day: {peak}"), t.style("ui.muted")),
        scale,
    );
}

/// A ranked list with a bar per row, relative to the first.
fn ranking(
    app: &App,
    title: &str,
    list: &[(Id, Sum)],
    name: impl Fn(&Id) -> String,
    width: u16,
    by_cost: bool,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    let width = width as usize;
    let mut lines = vec![Line::from(Span::styled(
        format!(" {title}"),
        t.style("ui.title"),
    ))];
    let top = list
        .first()
        .map_or(1, |(_, s)| if by_cost { s.cost } else { s.tokens })
        .max(1);
    for (id, sum) in list {
        let figure = if by_cost {
            format_usd(sum.cost)
        } else {
            format!("{} tok", short(sum.tokens))
        };
        let label = pad(&truncate(&name(id), 12), 12);
        let bar_room = width.saturating_sub(12 + figure.chars().count() + 4).min(20);
        let value = if by_cost { sum.cost } else { sum.tokens };
        let filled = ((value as u128 * bar_room as u128).div_ceil(top as u128)) as usize;
        lines.push(Line::from(vec![
            Span::styled(format!(" {label} "), t.style("ui.text")),
            Span::styled("█".repeat(filled.min(bar_room)), t.style("ui.accent")),
            Span::styled(
                format!("{} {figure}", " ".repeat(bar_room - filled.min(bar_room))),
                t.style("ui.muted"),
            ),
        ]));
    }
    lines
}

/// `1.2k`, `3.4M`.
pub fn short(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1_000.0),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// One line per budget: scope, period, spent of limit, a bar, the share.
fn budget_lines(app: &App, budgets: &[Budget], width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    if let Some(why) = &app.stats.budgets_error {
        return vec![Line::from(Span::styled(
            truncate(&format!(" Budgets are not available: {why}"), width),
            t.style("ui.muted"),
        ))];
    }
    if budgets.is_empty() {
        return vec![Line::from(Span::styled(
            " No budgets: warren budget set workspace 20usd/month",
            t.style("ui.muted"),
        ))];
    }
    let model = app.view();
    let mut lines = vec![Line::from(Span::styled(" Budgets", t.style("ui.title")))];
    for b in budgets.iter().take(4) {
        let scope = match &b.scope {
            BudgetScope::Workspace => "workspace".to_owned(),
            BudgetScope::Agent { agent_id } => model
                .agents
                .agent(agent_id)
                .map_or_else(|| "an agent".to_owned(), |a| format!("@{}", a.name)),
            BudgetScope::Room { room_id } => model
                .rooms
                .iter()
                .find(|r| &r.id == room_id)
                .map_or_else(|| "a room".to_owned(), |r| format!("#{}", r.name)),
        };
        let percent = b.percent();
        let style = match percent {
            0..75 => "ui.status.ok",
            75..100 => "ui.status.warn",
            _ => "ui.error",
        };
        let bar = 10usize;
        let filled = (percent.min(100) as usize * bar).div_ceil(100);
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    " {} {} {} of {} ",
                    pad(&truncate(&scope, 14), 14),
                    pad(b.period.as_str(), 5),
                    format_usd(b.spent),
                    format_usd(b.limit)
                ),
                t.style("ui.text"),
            ),
            Span::styled("█".repeat(filled), t.style(style)),
            Span::styled("░".repeat(bar - filled), t.style("ui.muted")),
            Span::styled(format!(" {percent}%"), t.style(style)),
        ]));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_the_last_n_utc_days_oldest_first() {
        // 2026-12-05T10:00Z
        let now = 1_796_464_800_000;
        assert_eq!(last_days(now, 3), ["2026-12-03", "2026-12-04", "2026-12-05"]);
        assert_eq!(short(999), "999");
        assert_eq!(short(24_310), "24.3k");
    }
}
