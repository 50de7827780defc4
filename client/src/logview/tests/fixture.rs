//! Sources and helpers the log viewer tests share.

use std::cell::Cell;
use std::ops::Range;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::logview::{Filter, LineSource, LogLine, LogView, LogViewWidget, MemorySource, Stream};
use crate::theme::{ColorSupport, Theme};

/// 2026-12-05 09:00:00 UTC.
pub const T0: i64 = 1_796_461_200_000;

/// A log of a million lines made up on demand (line `n` says what it is), with an index of
/// matching positions when filtered; it counts the lines fetched so tests can check that only
/// a window is read.
pub struct Million {
    pub filter: Option<Filter>,
    pub index: Vec<u64>,
    pub fetched: Cell<u64>,
    pub widest: Cell<u64>,
}

pub const MILLION: u64 = 1_000_000;

impl Million {
    pub fn new() -> Self {
        Self {
            filter: None,
            index: Vec::new(),
            fetched: Cell::new(0),
            widest: Cell::new(0),
        }
    }

    /// Line `number` (from 1): every 1000th an error, every 250th (not an error) a warning.
    pub fn line(number: u64) -> LogLine {
        let text = if number.is_multiple_of(1000) {
            format!("\x1b[1mstep {number}\x1b[0m ERROR something broke")
        } else if number.is_multiple_of(250) {
            format!("step {number} WARN slow")
        } else {
            format!("step {number} ok")
        };
        LogLine {
            number,
            stream: if number.is_multiple_of(2) {
                Stream::Stdout
            } else {
                Stream::Stderr
            },
            ts_ms: T0 + number as i64,
            bytes: text.into_bytes(),
            continued: false,
        }
    }
}

impl LineSource for Million {
    fn len(&self) -> u64 {
        match self.filter {
            Some(_) => self.index.len() as u64,
            None => MILLION,
        }
    }

    fn fetch(&self, range: Range<u64>) -> Vec<LogLine> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        self.fetched.set(self.fetched.get() + (end - start));
        self.widest.set(self.widest.get().max(end - start));
        (start..end)
            .map(|pos| match self.filter {
                Some(_) => Self::line(self.index[pos as usize] + 1),
                None => Self::line(pos + 1),
            })
            .collect()
    }

    fn set_filter(&mut self, filter: Option<Filter>) {
        self.index = match &filter {
            Some(f) => (0..MILLION)
                .filter(|&pos| f.matches(&Self::line(pos + 1)))
                .collect(),
            None => Vec::new(),
        };
        self.filter = filter;
    }
}

/// A small in-memory log, one line per entry (stdout, one second apart).
pub fn memory(lines: &[&str]) -> MemorySource {
    let mut source = MemorySource::new();
    for (i, text) in lines.iter().enumerate() {
        let stream = if text.contains("ERROR") {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        source.push(stream, T0 + i as i64 * 1000, text.as_bytes());
    }
    source
}

/// A build-like log of `n` numbered lines with an error at 30 and a warning at 20.
pub fn build_log(n: usize) -> MemorySource {
    let texts: Vec<String> = (1..=n)
        .map(|i| match i {
            20 => format!("WARN step {i}: cache miss, rebuilding"),
            30 => format!("\x1b[31merror[E0308]\x1b[0m: mismatched types in step {i}"),
            i if i % 7 == 0 => format!("\x1b[32m   Compiling\x1b[0m crate-{i} v0.1.0"),
            i => format!("step {i}: ok"),
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    memory(&refs)
}

pub fn view<S: LineSource>(source: S) -> LogView<S> {
    let mut view = LogView::new(source, ColorSupport::TrueColor);
    view.set_height(23);
    view
}

pub fn key(view: &mut LogView<impl LineSource>, code: KeyCode) -> bool {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    view.handle_key(&KeyEvent::new(code, modifiers))
}

/// Presses each character's key in turn (`\n` is enter).
pub fn typed(view: &mut LogView<impl LineSource>, text: &str) {
    for c in text.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\u{1b}' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        key(view, code);
    }
}

pub fn draw<S: LineSource>(view: &LogView<S>, width: u16, height: u16) -> Terminal<TestBackend> {
    let theme = Theme::default();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|f| f.render_widget(LogViewWidget::new(view, &theme), f.area()))
        .expect("draw");
    terminal
}

/// The text of row `y`.
pub fn row(terminal: &Terminal<TestBackend>, y: u16) -> String {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol().to_owned())
        .collect()
}
