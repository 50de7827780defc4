//! Rendering benchmarks of the full-screen client against a plain ratatui `List` of the same
//! visible text, measured in the same run.
//!
//! ```text
//! cargo bench -p warren --bench render
//! ```
//!
//! 1. A board with 2,000 cards over five columns at 200x50: time per frame, ours and the list's.
//!    Target: at most 2x the list.
//! 2. A room with 50,000 messages loaded at 200x50: the first frame and frames with the markdown
//!    cache cold, then steady-state frames with it warm, against the list. Target: at most 2x.
//! 3. Bytes written to a crossterm terminal for the frame after one `message_posted` event, and
//!    how many of the 10,000 cells changed, against a full redraw. Target: only changed cells.
//!
//! Both sides of each comparison draw through a `Terminal<TestBackend>` (buffer diff included),
//! interleaved frame by frame so noise on a shared machine hits both alike. `WARREN_BENCH_FRAMES`
//! sets the number of timed frames (default 300), `WARREN_BENCH_CARDS` and
//! `WARREN_BENCH_MESSAGES` the workload (defaults 2,000 and 50,000); `WARREN_BENCH_SHOW=1` prints the screens the
//! lists are made of. See `docs/performance.md`.

#[path = "render/workload.rs"]
mod workload;

use std::error::Error;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use ratatui::backend::{Backend, CrosstermBackend, TestBackend};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::widgets::{List, ListItem};
use ratatui::{Terminal, TerminalOptions, Viewport};
use unicode_width::UnicodeWidthStr;
use warren::tui::app::App;
use warren::tui::screens::Tab;
use warren::tui::view;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
const TARGET_RATIO: f64 = 2.0;

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`. `cargo test --all-targets` runs bench binaries without it:
    // stay out of the test suite's time.
    if !std::env::args().any(|a| a == "--bench") {
        println!("render benchmark skipped; run it with `cargo bench -p warren --bench render`");
        return Ok(());
    }
    let frames = knob("WARREN_BENCH_FRAMES", 300)?;
    let cards = knob("WARREN_BENCH_CARDS", 2_000)?;
    let messages = knob("WARREN_BENCH_MESSAGES", 50_000)?;
    println!("render benchmark: {WIDTH}x{HEIGHT}, {frames} timed frames per side");
    board(cards, frames)?;
    chat(messages, frames)?;
    bytes(messages)?;
    Ok(())
}

/// A number from the environment, or `default`.
fn knob(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => Ok(v
            .parse()
            .map_err(|e| format!("{name}={v} is not a number: {e}"))?),
        Err(_) => Ok(default),
    }
}

/// Per-frame times, sorted.
struct Samples(Vec<Duration>);

impl Samples {
    fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self(samples)
    }

    fn mean(&self) -> Duration {
        let total: Duration = self.0.iter().sum();
        total / u32::try_from(self.0.len().max(1)).unwrap_or(u32::MAX)
    }

    /// The `p`-th percentile (nearest rank), or zero without samples.
    fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    fn summary(&self) -> String {
        format!(
            "mean {:>8}  p50 {:>8}  p99 {:>8}",
            us(self.mean()),
            us(self.percentile(50.0)),
            us(self.percentile(99.0))
        )
    }
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn test_terminal() -> Result<Terminal<TestBackend>> {
    Ok(Terminal::new(TestBackend::new(WIDTH, HEIGHT))?)
}

/// The text of each row of a buffer, without trailing blanks (the cells after a wide character
/// are part of it).
fn rows(buffer: &Buffer) -> Vec<String> {
    let area = buffer.area;
    (area.top()..area.bottom())
        .map(|y| {
            let mut row = String::new();
            let mut skip = 0;
            for x in area.left()..area.right() {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let symbol = buffer[(x, y)].symbol();
                skip = UnicodeWidthStr::width(symbol).saturating_sub(1);
                row.push_str(symbol);
            }
            row.trim_end().to_owned()
        })
        .collect()
}

/// A plain, unstyled list of the lines the app shows, built once.
fn plain_list(app: &App) -> Result<List<'static>> {
    let mut terminal = test_terminal()?;
    terminal.draw(|f| view::render(app, f))?;
    let rows = rows(terminal.backend().buffer());
    if std::env::var_os("WARREN_BENCH_SHOW").is_some() {
        println!("{}", rows.join("\n"));
    }
    let items: Vec<ListItem<'static>> = rows.into_iter().map(ListItem::new).collect();
    Ok(List::new(items))
}

/// Times `frames` frames of the app and of the list, interleaved, after a few warm-up frames.
fn compare(app: &App, list: &List<'_>, frames: usize) -> Result<(Samples, Samples)> {
    let mut ours = test_terminal()?;
    let mut theirs = test_terminal()?;
    for _ in 0..10 {
        ours.draw(|f| view::render(app, f))?;
        theirs.draw(|f| f.render_widget(list, f.area()))?;
    }
    let mut a = Vec::with_capacity(frames);
    let mut b = Vec::with_capacity(frames);
    for _ in 0..frames {
        let start = Instant::now();
        ours.draw(|f| view::render(app, f))?;
        a.push(start.elapsed());
        let start = Instant::now();
        theirs.draw(|f| f.render_widget(list, f.area()))?;
        b.push(start.elapsed());
    }
    Ok((Samples::new(a), Samples::new(b)))
}

fn report(name: &str, ours: &Samples, list: &Samples) {
    let ratio = ours.mean().as_secs_f64() / list.mean().as_secs_f64();
    let p50 = ours.percentile(50.0).as_secs_f64() / list.percentile(50.0).as_secs_f64();
    let verdict = if ratio <= TARGET_RATIO {
        "met"
    } else {
        "MISSED"
    };
    println!("  {name:<12} {}", ours.summary());
    println!("  {:<12} {}", "plain List", list.summary());
    println!(
        "  ratio        {ratio:.2}x mean, {p50:.2}x p50 (target <= {TARGET_RATIO}x: {verdict})"
    );
}

fn board(cards: usize, frames: usize) -> Result<()> {
    let start = Instant::now();
    let app = workload::app(cards, 0, Tab::Board)?;
    println!(
        "\n1. board, {cards} cards in 5 columns (built in {:.0} ms)",
        start.elapsed().as_secs_f64() * 1e3
    );
    let list = plain_list(&app)?;
    let (ours, theirs) = compare(&app, &list, frames)?;
    report("board", &ours, &theirs);
    Ok(())
}

fn chat(messages: usize, frames: usize) -> Result<()> {
    let start = Instant::now();
    let app = workload::app(0, messages, Tab::Chat)?;
    println!(
        "\n2. chat, {messages} messages in one room (built in {:.0} ms)",
        start.elapsed().as_secs_f64() * 1e3
    );
    let mut terminal = test_terminal()?;
    let start = Instant::now();
    terminal.draw(|f| view::render(&app, f))?;
    println!(
        "  first frame  {} (cache cold, one-time syntax highlighter load included)",
        us(start.elapsed())
    );
    let cold_frames = (frames / 6).max(1);
    let mut cold = Vec::with_capacity(cold_frames);
    for _ in 0..cold_frames {
        app.chat_render_cache.borrow_mut().clear();
        let start = Instant::now();
        terminal.draw(|f| view::render(&app, f))?;
        cold.push(start.elapsed());
    }
    let cold = Samples::new(cold);
    println!("  cold cache   {} ({cold_frames} frames)", cold.summary());
    let list = plain_list(&app)?;
    let (ours, theirs) = compare(&app, &list, frames)?;
    report("warm cache", &ours, &theirs);
    Ok(())
}

/// Counts what the terminal would be sent; the count is shared with the benchmark, which
/// cannot reach the writer inside the backend.
#[derive(Clone, Default)]
struct Counter {
    bytes: Rc<std::cell::Cell<usize>>,
}

impl Counter {
    /// The bytes written since the last call.
    fn take(&self) -> usize {
        self.bytes.replace(0)
    }
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.set(self.bytes.get() + buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn crossterm_terminal(counter: &Counter) -> Result<Terminal<CrosstermBackend<Counter>>> {
    Ok(Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)),
        },
    )?)
}

/// Draws a frame and returns it with the bytes written for it.
fn counted_frame(
    terminal: &mut Terminal<CrosstermBackend<Counter>>,
    counter: &Counter,
    app: &App,
) -> Result<(Buffer, usize)> {
    counter.take();
    let buffer = terminal.draw(|f| view::render(app, f))?.buffer.clone();
    Ok((buffer, counter.take()))
}

fn bytes(messages: usize) -> Result<()> {
    let cells = usize::from(WIDTH) * usize::from(HEIGHT);
    println!("\n3. bytes to the terminal for the frame after one message_posted (crossterm)");
    let mut app = workload::app(0, messages, Tab::Chat)?;
    let counter = Counter::default();
    let mut terminal = crossterm_terminal(&counter)?;
    // The first frame on a fresh terminal is diffed against blank cells: a full redraw.
    let (before, first) = counted_frame(&mut terminal, &counter, &app)?;
    // And every cell, blank or not, as a terminal that cannot diff would have to.
    let every: Vec<(u16, u16, &Cell)> = (0..HEIGHT)
        .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
        .map(|(x, y)| (x, y, &before[(x, y)]))
        .collect();
    terminal.backend_mut().draw(every.into_iter())?;
    Backend::flush(terminal.backend_mut())?;
    let every = counter.take();
    println!("  full redraw: first frame          {first:>7} bytes, {cells} cells");
    println!("  full redraw: every cell written   {every:>7} bytes");
    let full = first;
    let cases = [
        (
            "in the room on screen",
            workload::room_id(),
            "deploy is done, tests pass again",
        ),
        (
            "in another room",
            workload::other_room_id(),
            "new mockups are up",
        ),
    ];
    let mut before = before;
    for (what, room, body) in cases {
        let event = workload::message_posted(&app, room, body);
        app.on_net(event);
        let (after, written) = counted_frame(&mut terminal, &counter, &app)?;
        let changed = before.diff(&after).len();
        println!(
            "  message {what:<22} {written:>7} bytes, {changed:>5} cells changed ({:.1}% of cells, {:.1}% of a full redraw's bytes)",
            100.0 * changed as f64 / cells as f64,
            100.0 * written as f64 / full as f64
        );
        before = after;
    }
    let (_, idle) = counted_frame(&mut terminal, &counter, &app)?;
    println!("  unchanged frame                    {idle:>7} bytes");
    Ok(())
}
