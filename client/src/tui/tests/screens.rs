//! Snapshots of every screen at 80x24 and at a large size, plus styled checks where colour
//! carries meaning.

use ratatui::style::Modifier;
use warren_protocol::{Change, ServerMessage};

use super::fixture::*;
use crate::tui::net::NetEvent;
use crate::tui::state::Overlay;

fn with_history(mut app: crate::tui::app::App) -> crate::tui::app::App {
    let general = id("room", 1);
    let messages = vec![
        message(
            1,
            &general,
            &other(),
            3,
            "morning! the palette now matches `crd nw` → **card_new**",
        ),
        message(2, &general, &me(), 4, "nice — reviewing after lunch"),
        message(
            3,
            &general,
            &other(),
            5,
            "like this:\n\n```rust\nfn main() {\n    println!(\"hi\");\n}\n```",
        ),
    ];
    app.on_net(NetEvent::Page {
        room_id: general,
        messages,
        has_more: false,
    });
    app
}

#[test]
fn board_80x24() {
    insta::assert_snapshot!(draw(&sample_app(), 80, 24).backend());
}

#[test]
fn board_large() {
    insta::assert_snapshot!(draw(&sample_app(), 160, 48).backend());
}

#[test]
fn chat_80x24() {
    let mut app = with_history(sample_app());
    press(&mut app, "2");
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn chat_large_composing() {
    let mut app = with_history(sample_app());
    press(&mut app, "2i");
    press(&mut app, "half-typed");
    insta::assert_snapshot!(draw(&app, 160, 48).backend());
}

#[test]
fn empty_workspace() {
    let app = app_with(state(vec![], vec![]));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn long_card_title_and_cjk_room_name() {
    let long = card(
        1,
        0,
        &"A very long card title that goes on and on past any column width ".repeat(3),
    );
    let mut app = app_with(state(
        vec![long],
        vec![room(1, "日本語の部屋"), room(2, "🦀-rust")],
    ));
    insta::assert_snapshot!("long_title_board", draw(&app, 80, 24).backend());
    press(&mut app, "2");
    insta::assert_snapshot!("cjk_room_chat", draw(&app, 80, 24).backend());
}

#[test]
fn offline_with_pending_changes() {
    let mut app = sample_app();
    app.on_net(NetEvent::Disconnected {
        reason: "cannot reach http://127.0.0.1:7878: connection refused".into(),
        retry_at: None,
    });
    press(&mut app, "L");
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    // The offline marker is drawn in the error style.
    let buffer = terminal.backend().buffer();
    let row = 23;
    let x = (0..80)
        .find(|&x| buffer[(x, row)].symbol() == "○")
        .expect("offline marker");
    assert_eq!(
        buffer[(x, row)].fg,
        app.theme.style("ui.error").fg.unwrap_or_default()
    );
}

#[test]
fn selected_card_is_highlighted() {
    let app = sample_app();
    let terminal = draw(&app, 80, 24);
    let buffer = terminal.backend().buffer();
    let selected = app.theme.style("card.selected");
    // Row 3 is the first card row of the first column (under the tabs, the board name and the
    // column's border).
    let cell = &buffer[(2, 3)];
    assert_eq!(
        cell.bg,
        selected.bg.unwrap_or_default(),
        "selected card background"
    );
    let unselected = &buffer[(2, 5)];
    assert_ne!(unselected.bg, cell.bg);
    let _ = Modifier::BOLD;
}

#[test]
fn overlays() {
    let mut app = sample_app();
    press(&mut app, "?");
    insta::assert_snapshot!("help", draw(&app, 80, 24).backend());
    app.overlay = None;
    press(&mut app, ":card");
    insta::assert_snapshot!("palette", draw(&app, 80, 24).backend());
    app.overlay = None;
    press(&mut app, "jjlle"); // Group commit card in In Progress
    insta::assert_snapshot!("editor", draw(&app, 80, 24).backend());
    app.overlay = None;
    press(&mut app, "\n");
    assert!(matches!(app.overlay, Some(Overlay::Detail { .. })));
    insta::assert_snapshot!("detail", draw(&app, 80, 24).backend());
    app.overlay = None;
    press(&mut app, "d");
    insta::assert_snapshot!("confirm", draw(&app, 80, 24).backend());
}

#[test]
fn live_event_redraws_without_a_key() {
    let mut app = sample_app();
    let e = event(
        &app,
        &other(),
        Change::CardCreated {
            card: card(9, 4, "Arrived live"),
        },
    );
    app.on_net(e);
    let text = format!("{}", draw(&app, 160, 48).backend());
    assert!(text.contains("Arrived live"), "{text}");
    let _ = ServerMessage::Pong { nonce: 0 };
}

#[test]
fn a_bad_keymap_file_is_shown_and_defaults_keep_working() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join(crate::keymap::USER_FILE),
        "[board]\n\"n\" = \"card_new\"\n\"ctrl-x\" = \"card_nuke\"\n",
    )
    .expect("write keymap");
    let ui = crate::cli::UiArgs::default();
    let (keymap, _theme, problems) =
        crate::tui::launch::load_look(&ui, &crate::config::ConfigFile::default(), Some(dir.path()));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(":3:") && problems[0].contains("card_nuke"),
        "{}",
        problems[0]
    );
    // The bundled default still works.
    assert_eq!(
        keymap.action(
            crate::keymap::Context::Board,
            &key(crossterm::event::KeyCode::Char('n'))
        ),
        Some(crate::keymap::Action::CardNew)
    );
    let mut app = sample_app();
    let shown: Vec<String> = problems
        .iter()
        .map(|p| p.replace(&dir.path().display().to_string(), "<config>"))
        .collect();
    app.overlay = Some(Overlay::Problems {
        lines: shown,
        scroll: 0,
    });
    insta::assert_snapshot!("problems", draw(&app, 80, 24).backend());
}

#[test]
fn code_blocks_use_only_the_colours_the_terminal_has() {
    use crate::theme::{ColorSupport, Theme};
    use ratatui::style::Color;
    for (support, allowed) in [
        (ColorSupport::Ansi256, "no 24-bit colour"),
        (ColorSupport::Ansi16, "only the 16 ANSI colours"),
        (ColorSupport::None, "no colour at all"),
    ] {
        for name in ["dark", "light", "high-contrast", "base16"] {
            let mut app = with_history(sample_app());
            let (theme, errors) = Theme::load(name, None);
            assert!(errors.is_empty(), "{errors:?}");
            app.theme = theme.resolve(support);
            press(&mut app, "2");
            let terminal = draw(&app, 80, 24);
            let buffer = terminal.backend().buffer();
            let code_row = (0..24u16)
                .find(|&y| {
                    let row: String = (0..80u16).map(|x| buffer[(x, y)].symbol()).collect();
                    row.contains("println!")
                })
                .expect("the code block is on screen");
            for y in 0..24u16 {
                for x in 0..80u16 {
                    let cell = &buffer[(x, y)];
                    let ok = |c: Color| match support {
                        ColorSupport::Ansi256 => !matches!(c, Color::Rgb(..)),
                        ColorSupport::Ansi16 => !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                        _ => c == Color::Reset,
                    };
                    assert!(
                        ok(cell.fg) && ok(cell.bg),
                        "{name} at {support:?}: cell ({x}, {y}) {:?} has {:?} on {:?}, want {allowed} (code is on row {code_row})",
                        cell.symbol(),
                        cell.fg,
                        cell.bg
                    );
                }
            }
        }
    }
}
