//! Drawing the log view: the visible lines only (fetched from the source for this frame), with a
//! gutter (bookmark or `↪` for the rest of a cut line, line number, time), the job's own SGR colours, level colours for lines that
//! bring none, search matches highlighted, wrapped or cut, and a status bar. Pure: it reads the
//! [`LogView`] and the theme and changes nothing.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use unicode_width::UnicodeWidthChar;

use super::ansi;
use super::level::{self, Level};
use super::line::{LineSource, LogLine, Stream};
use super::state::{Incremental, LogView, Notice, PromptKind};
use crate::theme::Theme;

type Run = (String, Style);

/// The log view drawn into an area: text rows above, one status row below. The integration
/// calls [`LogView::set_height`] with `area.height - 1` so paging matches what is drawn.
pub struct LogViewWidget<'a, S> {
    view: &'a LogView<S>,
    theme: &'a Theme,
}

impl<'a, S: LineSource> LogViewWidget<'a, S> {
    /// The widget for `view`, styled by `theme` (already fitted to the terminal).
    pub fn new(view: &'a LogView<S>, theme: &'a Theme) -> Self {
        Self { view, theme }
    }

    /// The visible lines and the rows they make, at most `rows` of them.
    fn body(&self, width: u16, rows: u16) -> Vec<Line<'static>> {
        let view = self.view;
        let len = view.source().len();
        let rows_n = u64::from(rows);
        let range = if view.following() {
            len.saturating_sub(rows_n)..len
        } else {
            let top = view.top().min(len.saturating_sub(1));
            top..top.saturating_add(rows_n).min(len)
        };
        let lines = view.source().fetch(range);
        if lines.is_empty() {
            let text = match view.filter() {
                Some(f) => format!("no lines match the filter {}", f.source()),
                None => "waiting for output…".to_owned(),
            };
            return vec![Line::styled(text, self.theme.style("ui.muted"))];
        }
        let number_width = lines
            .last()
            .map_or(1, |l| l.number.to_string().len())
            .max(4);
        let mut out: Vec<Line<'static>> = Vec::new();
        for line in &lines {
            out.extend(self.line_rows(line, number_width, width));
            if !view.following() && out.len() >= usize::from(rows) {
                break;
            }
        }
        if view.following() {
            // The last rows, so the newest line is always on screen.
            let skip = out.len().saturating_sub(usize::from(rows));
            out.drain(..skip);
        } else {
            out.truncate(usize::from(rows));
        }
        out
    }

    fn gutter(&self, line: &LogLine, number_width: usize) -> Vec<Span<'static>> {
        let options = self.view.options();
        let muted = self.theme.style("ui.muted");
        let mut spans = Vec::new();
        if self.view.bookmarks().contains(&line.number) {
            spans.push(Span::styled("▌", self.theme.style("ui.accent")));
        } else if line.continued {
            // The rest of a line that was cut (too long, or paused mid-way).
            spans.push(Span::styled("↪", muted));
        } else {
            spans.push(Span::raw(" "));
        }
        if options.numbers {
            spans.push(Span::styled(
                format!("{:>number_width$} ", line.number),
                muted,
            ));
        }
        if options.timestamps {
            let offset = crate::localtime::offset_in(self.view.zone(), line.ts_ms);
            let local = line.ts_ms.saturating_add(offset.saturating_mul(1000));
            spans.push(Span::styled(format!("{} ", clock(local)), muted));
        }
        spans
    }

    fn line_rows(&self, line: &LogLine, number_width: usize, width: u16) -> Vec<Line<'static>> {
        let view = self.view;
        let gutter = self.gutter(line, number_width);
        let gutter_width: usize = gutter.iter().map(Span::width).sum();
        let text_width = usize::from(width).saturating_sub(gutter_width).max(1);

        let styled = ansi::parse(&line.bytes, view.support());
        let text = styled.text();
        let base = match level::detect(&text) {
            Some(Level::Error) => self.theme.style("ui.error"),
            Some(Level::Warn) => self.theme.style("ui.status.warn"),
            Some(Level::Debug) => self.theme.style("ui.muted"),
            // warren's own lines (started, exit code, truncation) stand apart from the job's.
            Some(Level::Info) | None if line.stream == Stream::System => {
                self.theme.style("ui.accent")
            }
            Some(Level::Info) | None => Style::default(),
        };
        let pretty = view
            .options()
            .pretty_json
            .then(|| level::pretty_json(&text))
            .flatten();
        let logical: Vec<Vec<Run>> = match pretty {
            Some(p) => p.lines().map(|l| vec![(l.to_owned(), base)]).collect(),
            None => vec![
                styled
                    .runs
                    .into_iter()
                    .map(|(t, s)| (t, base.patch(s)))
                    .collect(),
            ],
        };
        let matched = self.theme.style("ui.match");
        let mut rows = Vec::new();
        for runs in logical {
            let runs = match view.highlight() {
                Some(p) => {
                    let joined: String = runs.iter().map(|(t, _)| t.as_str()).collect();
                    highlight(runs, &p.find_ranges(&joined), matched)
                }
                None => runs,
            };
            let runs = skip_columns(runs, view.left());
            let mut pieces = split_width(runs, text_width);
            if !view.options().wrap {
                pieces.truncate(1);
            }
            rows.extend(pieces);
        }
        rows.into_iter()
            .enumerate()
            .map(|(i, runs)| {
                let mut spans = if i == 0 {
                    gutter.clone()
                } else {
                    vec![Span::raw(" ".repeat(gutter_width))]
                };
                spans.extend(runs.into_iter().map(|(t, s)| Span::styled(t, s)));
                Line::from(spans)
            })
            .collect()
    }

    fn status(&self) -> Line<'static> {
        let view = self.view;
        let bar = self.theme.style("ui.statusbar");
        if let Some(prompt) = view.prompt() {
            let label = match prompt.kind {
                PromptKind::Search => "/",
                PromptKind::Filter => "filter (!inverts, empty clears): ",
            };
            let mut spans = vec![Span::styled(format!("{label}{}▏", prompt.text), bar)];
            if let Some(error) = &prompt.error {
                spans.push(Span::styled(
                    format!("  {error}"),
                    self.theme.style("ui.error"),
                ));
            } else if let Some(found) = prompt.found {
                let (text, style) = found_text(found, &view.key_names().prev_match);
                spans.push(Span::styled(format!("  {text}"), self.theme.style(style)));
            }
            return Line::from(spans);
        }
        let len = view.source().len();
        let mut parts = vec![if view.following() {
            format!("FOLLOW {len} lines")
        } else {
            format!(
                "{}/{len} ({} follows)",
                view.top().saturating_add(1).min(len),
                view.key_names().follow
            )
        }];
        if let Some(f) = view.filter() {
            parts.push(format!("filter {}", f.source()));
        }
        if let Some(p) = view.search() {
            parts.push(format!("/{}", p.source()));
        }
        if let Some(progress) = view.source().progress() {
            parts.push(progress);
        }
        let options = view.options();
        let flags: Vec<&str> = [(options.wrap, "wrap"), (options.pretty_json, "json")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        if !flags.is_empty() {
            parts.push(flags.join(" "));
        }
        if !view.bookmarks().is_empty() {
            parts.push(format!("{} marked", view.bookmarks().len()));
        }
        if view.left() > 0 {
            parts.push(format!("→{}", view.left()));
        }
        let mut spans = vec![Span::styled(parts.join("  "), bar)];
        match view.notice() {
            Some(Notice::Info(text)) => spans.push(Span::styled(format!("  {text}"), bar)),
            Some(Notice::Error(text)) => spans.push(Span::styled(
                format!("  {text}"),
                self.theme.style("ui.error"),
            )),
            None => {}
        }
        Line::from(spans)
    }
}

impl<S: LineSource> Widget for LogViewWidget<'_, S> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.height == 0 || area.width == 0 {
            return;
        }
        let text_rows = area.height - 1;
        let body = self.body(area.width, text_rows);
        Paragraph::new(body).render(
            Rect {
                height: text_rows,
                ..area
            },
            buf,
        );
        let status_area = Rect {
            y: area.y + text_rows,
            height: 1,
            ..area
        };
        buf.set_style(status_area, self.theme.style("ui.statusbar"));
        Paragraph::new(self.status()).render(status_area, buf);
    }
}

/// What the search prompt says the text typed so far found, and the theme key it is drawn in.
fn found_text(found: Incremental, prev_match: &str) -> (String, &'static str) {
    let count = found.count;
    let text = if found.moved {
        if count.whole {
            format!("match {} of {}", count.before + 1, count.total)
        } else {
            format!("{} matches near here", count.total)
        }
    } else if count.whole && count.total == 0 {
        "no match".to_owned()
    } else if count.whole {
        format!(
            "none below, {} above: enter, then {prev_match}",
            count.before
        )
    } else {
        "none near here: enter searches the whole log".to_owned()
    };
    let style = if found.moved {
        "ui.statusbar"
    } else {
        "ui.error"
    };
    (text, style)
}

/// `runs` without their first `n` columns (horizontal scrolling).
fn skip_columns(runs: Vec<Run>, n: usize) -> Vec<Run> {
    if n == 0 {
        return runs;
    }
    let mut skipped = 0;
    let mut out = Vec::new();
    for (text, style) in runs {
        let mut kept = String::new();
        for c in text.chars() {
            if skipped < n {
                skipped += c.width().unwrap_or(0);
            } else {
                kept.push(c);
            }
        }
        if !kept.is_empty() {
            out.push((kept, style));
        }
    }
    out
}

/// A time of day (already shifted to the zone shown), `HH:MM:SS.mmm`.
fn clock(ts_ms: i64) -> String {
    let ms = ts_ms.rem_euclid(86_400_000);
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}.{milli:03}")
}

/// `runs` with the byte `ranges` (of their joined text) patched with `style`.
fn highlight(runs: Vec<Run>, ranges: &[Range<usize>], style: Style) -> Vec<Run> {
    if ranges.is_empty() {
        return runs;
    }
    let mut out = Vec::new();
    let mut offset = 0;
    for (text, run_style) in runs {
        let end = offset + text.len();
        let mut cuts = vec![0, text.len()];
        for r in ranges {
            for b in [r.start, r.end] {
                if b > offset && b < end {
                    cuts.push(b - offset);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for pair in cuts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let Some(piece) = text.get(a..b) else {
                continue;
            };
            let inside = ranges.iter().any(|r| r.contains(&(offset + a)));
            let s = if inside {
                run_style.patch(style)
            } else {
                run_style
            };
            out.push((piece.to_owned(), s));
        }
        offset = end;
    }
    out
}

/// `runs` cut into rows of at most `width` columns.
fn split_width(runs: Vec<Run>, width: usize) -> Vec<Vec<Run>> {
    let mut rows: Vec<Vec<Run>> = vec![Vec::new()];
    let mut used = 0;
    for (text, style) in runs {
        for c in text.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width && used > 0 {
                rows.push(Vec::new());
                used = 0;
            }
            used += w;
            let row = rows.last_mut();
            match row.and_then(|r| r.last_mut()) {
                Some((t, s)) if *s == style => t.push(c),
                _ => {
                    if let Some(r) = rows.last_mut() {
                        r.push((c.to_string(), style));
                    }
                }
            }
        }
    }
    rows
}
