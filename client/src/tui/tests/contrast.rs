//! Readability of every bundled theme at every colour depth, measured on what the renderer
//! really draws: each screen and overlay of the fixture is drawn into a `TestBackend`, and every
//! cell with a visible symbol must have a WCAG 2.x contrast ratio of at least 4.5:1 between its
//! foreground and its background (3:1 for borders and muted text). `reset` stands for the
//! theme's own text colours, or the terminal's assumed defaults where the theme leaves them to
//! the terminal (see `theme::contrast`). Syntax highlighting is checked token colour by token
//! colour against the code block's background, since a screen only shows a few of them.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use warren_protocol::{Change, WireError};

use super::fixture::*;
use crate::theme::{BUNDLED, ColorSupport, KEYS, Theme, contrast, rgb};
use crate::tui::app::App;
use crate::tui::highlight;
use crate::tui::net::NetEvent;
use crate::tui::state::Overlay;

const DEPTHS: [ColorSupport; 3] = [
    ColorSupport::TrueColor,
    ColorSupport::Ansi256,
    ColorSupport::Ansi16,
];

/// The fixture's chat history: prose, inline code, bold and a highlighted code block.
fn with_history(mut app: App) -> App {
    let general = id("room", 1);
    let messages = vec![
        message(
            1,
            &general,
            &other(),
            3,
            "morning! the palette now matches `crd nw` → **card_new**\n> quoted *text*\n- [a link](https://example.com)\n# heading",
        ),
        message(2, &general, &me(), 4, "nice — reviewing after lunch"),
        message(
            3,
            &general,
            &other(),
            5,
            "like this:\n\n```rust\n// say hi\nfn main() {\n    let n: u32 = 1;\n    println!(\"hi {n}\");\n}\n```",
        ),
    ];
    app.on_net(NetEvent::Page {
        room_id: general,
        messages,
        has_more: false,
    });
    let design = id("room", 2);
    let e = event(
        &app,
        &other(),
        Change::MessagePosted {
            message: message(4, &design, &other(), 11, "look"),
        },
    );
    app.on_net(e);
    app
}

/// Every screen and overlay of the fixture, drawn with `theme`: (name, terminal).
fn screens(theme: &Theme) -> Vec<(&'static str, Terminal<TestBackend>)> {
    let screens = drawn(theme);
    // Each screen is the one it is named for (a changed key binding would otherwise quietly
    // turn an overlay into another picture of the board).
    for (name, terminal) in &screens {
        let shows = match *name {
            "board" => "Dark mode",
            "board, large" => "Token auth",
            "board, filter" => "filter #secu",
            "board, second card" => "Rate-limit",
            "chat" => "println!",
            "chat, composing" => "half-typed",
            "chat, code selected" => "println!",
            "help" => "Keys",
            "palette" => "Command palette",
            "editor" => "Edit card",
            "detail" => "txn.commit()",
            "confirm" => "Delete card",
            "empty workspace" => "empty",
            "offline, pending" => "offline",
            "rejected change" => "Could not move the card",
            "reconnecting" => "connection reset",
            "notice" => "card moved",
            "problems" => "ui.eror",
            "approval in a room" => "always allow @reviewer",
            "agent run" => "context 42%",
            "stats" => "cost per day",
            other => panic!("no marker for screen {other:?}"),
        };
        let text = format!("{}", terminal.backend());
        assert!(
            text.contains(shows),
            "{name}: {shows:?} is not on screen:\n{text}"
        );
    }
    screens
}

fn drawn(theme: &Theme) -> Vec<(&'static str, Terminal<TestBackend>)> {
    let app = |keys: &str| {
        let mut app = with_history(sample_app());
        app.theme = theme.clone();
        press(&mut app, keys);
        app
    };
    let mut out = vec![
        ("board", draw(&app(""), 80, 24)),
        ("board, large", draw(&app(""), 160, 48)),
        ("board, filter", draw(&app("/#secu"), 80, 24)),
        ("board, second card", draw(&app("jjl"), 80, 24)),
        ("chat", draw(&app("2"), 80, 24)),
        ("chat, composing", draw(&app("2ihalf-typed"), 160, 48)),
        // The newest message, with its code block, under the selection.
        ("chat, code selected", draw(&app("2k"), 80, 24)),
        ("help", draw(&app("?"), 80, 24)),
        ("palette", draw(&app(":card"), 80, 24)),
        ("editor", draw(&app("jjlle"), 80, 24)),
        ("detail", draw(&app("jjll\n"), 80, 40)),
        ("confirm", draw(&app("d"), 80, 24)),
    ];
    let mut empty = app_with(state(vec![], vec![]));
    empty.theme = theme.clone();
    out.push(("empty workspace", draw(&empty, 80, 24)));
    let mut offline = app("");
    offline.on_net(NetEvent::Disconnected {
        reason: "cannot reach http://127.0.0.1:7878: connection refused".into(),
        retry_at: None,
    });
    press(&mut offline, "L");
    out.push(("offline, pending", draw(&offline, 80, 24)));
    let mut rejected = app("L");
    let request = rejected.outbound.iter().find_map(|r| match r {
        crate::tui::net::NetRequest::Command { request_id, .. } => Some(request_id.clone()),
        _ => None,
    });
    if let Some(request) = request {
        rejected.on_net(NetEvent::Rejected(
            request,
            WireError::new(warren_protocol::ErrorCode::NotFound, "no card"),
        ));
    }
    out.push(("rejected change", draw(&rejected, 80, 24)));
    let mut reconnecting = app("2");
    reconnecting.conn = crate::tui::state::ConnState::Reconnecting {
        at: tokio::time::Instant::now(),
        reason: "connection reset".into(),
    };
    out.push(("reconnecting", draw(&reconnecting, 80, 24)));
    let mut notice = app("");
    notice.notice = Some(crate::tui::state::Notice {
        text: "card moved".into(),
        error: false,
    });
    out.push(("notice", draw(&notice, 80, 24)));
    let mut problems = app("");
    problems.overlay = Some(Overlay::Problems {
        lines: vec!["themes/mine.toml:2: \"ui.eror\": unknown theme key".into()],
        scroll: 0,
    });
    out.push(("problems", draw(&problems, 80, 24)));
    // Agents: a reply streaming and an approval prompt in a room, an agent run, the Stats tab.
    let mut waiting = super::agents::awaiting_app(warren_protocol::Role::Owner);
    waiting.theme = theme.clone();
    out.push(("approval in a room", draw(&waiting, 80, 24)));
    waiting.open_agent_run(&id("run", 9));
    out.push(("agent run", draw(&waiting, 80, 24)));
    let mut stats = super::agents::stats_app();
    stats.theme = theme.clone();
    super::agents::feed_stats(&mut stats);
    out.push(("stats", draw(&stats, 80, 24)));
    out
}

/// A run of unreadable cells on one row.
struct Failure {
    x: u16,
    y: u16,
    text: String,
    fg: Color,
    bg: Color,
    ratio: f64,
    min: f64,
}

/// Checks every visible cell of `terminal`, drawn with the resolved `theme`.
fn unreadable(theme: &Theme, terminal: &Terminal<TestBackend>) -> Vec<Failure> {
    // Muted keys and borders may have 3:1; a cell counts as muted when it is drawn in one of
    // their colours, or is a box-drawing character (borders, rules, quote bars).
    let muted: Vec<Color> = KEYS
        .iter()
        .filter(|key| key.min_contrast() < contrast::TEXT)
        .filter_map(|key| theme.style(key.name).fg)
        .collect();
    let buffer = terminal.backend().buffer();
    let mut failures: Vec<Failure> = Vec::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            let cell = &buffer[(x, y)];
            let symbol = cell.symbol();
            if symbol.trim().is_empty() || cell.modifier.contains(Modifier::HIDDEN) {
                continue;
            }
            let mut fg = rgb(cell.fg).unwrap_or(theme.foreground());
            let mut bg = rgb(cell.bg).unwrap_or(theme.background());
            let (mut fg_colour, mut bg_colour) = (cell.fg, cell.bg);
            if cell.modifier.contains(Modifier::REVERSED) {
                std::mem::swap(&mut fg, &mut bg);
                std::mem::swap(&mut fg_colour, &mut bg_colour);
            }
            let border = symbol
                .chars()
                .all(|c| ('\u{2500}'..='\u{259f}').contains(&c));
            let min = if border || muted.contains(&cell.fg) {
                contrast::MUTED
            } else {
                contrast::TEXT
            };
            let ratio = contrast::ratio(fg, bg);
            if ratio >= min {
                continue;
            }
            match failures.last_mut() {
                Some(last)
                    if last.y == y
                        && last.fg == fg_colour
                        && last.bg == bg_colour
                        && usize::from(last.x) + last.text.chars().count() >= usize::from(x) =>
                {
                    last.text.push_str(symbol);
                }
                _ => failures.push(Failure {
                    x,
                    y,
                    text: symbol.to_owned(),
                    fg: fg_colour,
                    bg: bg_colour,
                    ratio,
                    min,
                }),
            }
        }
    }
    failures
}

#[test]
fn every_cell_of_every_screen_is_readable_in_every_bundled_theme() {
    let mut report = Vec::new();
    for (name, ..) in BUNDLED {
        let (theme, errors) = Theme::load(name, None);
        assert!(errors.is_empty(), "{errors:?}");
        for depth in DEPTHS {
            let resolved = theme.resolve(depth);
            for (screen, terminal) in screens(&resolved) {
                for f in unreadable(&resolved, &terminal) {
                    report.push(format!(
                        "{name} at {depth:?}, {screen}: ({}, {}) {:?} is {:?} on {:?}: {:.2}:1, needs {}:1",
                        f.x, f.y, f.text, f.fg, f.bg, f.ratio, f.min
                    ));
                }
            }
        }
    }
    assert!(
        report.is_empty(),
        "{} runs of cells are hard to read (reset is the theme's ui.text colour, else light grey on black):\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn every_token_colour_of_every_highlighting_theme_is_readable_on_its_code_block() {
    let mut report = Vec::new();
    for (name, ..) in BUNDLED {
        let (theme, _) = Theme::load(name, None);
        for depth in DEPTHS {
            let syntax = theme.resolve(depth).syntax();
            let Some(tokens) = highlight::syntect_theme(syntax.theme) else {
                report.push(format!("{name}: {} is not bundled", syntax.theme));
                continue;
            };
            let colours = tokens
                .settings
                .foreground
                .into_iter()
                .chain(
                    tokens
                        .scopes
                        .iter()
                        .filter_map(|item| item.style.foreground),
                )
                .filter(|c| c.a > 0);
            for token in colours {
                let drawn = syntax.color((token.r, token.g, token.b));
                let shown = drawn.and_then(rgb).unwrap_or(contrast::DEFAULT_FG);
                let ratio = contrast::ratio(shown, syntax.background);
                if ratio < contrast::TEXT {
                    report.push(format!(
                        "{name} at {depth:?}: {} token #{:02x}{:02x}{:02x} is drawn {drawn:?} on {:?}: {ratio:.2}:1",
                        syntax.theme, token.r, token.g, token.b, syntax.background
                    ));
                }
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
