//! The colours the real full-screen `warren` sends to the terminal, read back from tmux with
//! `capture-pane -e`: on a 16-colour terminal (`TERM=xterm`) nothing on screen, highlighted code
//! included, uses 256-colour or 24-bit codes; with `NO_COLOR` nothing is coloured at all (crossterm
//! also drops colours under `NO_COLOR`; the theme's own handling is checked in the client's
//! unit tests); with `COLORTERM=truecolor` the theme's 24-bit colours are used. Each runs `warren demo` and opens
//! its `#general` room, whose history ends in a highlighted Rust code block.
//!
//! Needs tmux (these tests fail, not skip, without it; `.ci/run` installs it).

use warren_e2e::bins;
use warren_e2e::tmux::Tmux;

const WIDTH: u16 = 110;
const HEIGHT: u16 = 40;

/// Code from the demo's `#general` room (client/src/tui/demo.rs).
const CODE: &str = "attempts.remove(&addr);";

/// Every SGR parameter list on `screen` (`\x1b[1;38;5;12m` → `[1, 38, 5, 12]`).
fn sgr_params(screen: &str) -> Vec<Vec<u16>> {
    screen
        .split('\u{1b}')
        .filter_map(|seq| seq.strip_prefix('['))
        .filter_map(|seq| seq.split_once('m').map(|(params, _)| params))
        .filter(|params| params.chars().all(|c| c.is_ascii_digit() || c == ';'))
        .map(|params| params.split(';').map(|p| p.parse().unwrap_or(0)).collect())
        .collect()
}

/// A colour set by an SGR sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Colour {
    /// 30–37, 40–47, 90–97, 100–107.
    Basic(u16),
    /// `38;5;N` / `48;5;N`: (38 or 48, N).
    Indexed(u16, u16),
    /// `38;2;R;G;B` / `48;2;…`: 38 or 48.
    Rgb(u16),
}

impl Colour {
    /// Whether a 16-colour terminal has this colour (palette indices 0–15 are its own colours).
    fn in_16(self) -> bool {
        match self {
            Colour::Basic(_) => true,
            Colour::Indexed(_, index) => index < 16,
            Colour::Rgb(_) => false,
        }
    }

    /// Whether this is a foreground colour.
    fn is_fg(self) -> bool {
        match self {
            Colour::Basic(code) => (30..=37).contains(&code) || (90..=97).contains(&code),
            Colour::Indexed(code, _) | Colour::Rgb(code) => code == 38,
        }
    }
}

/// The colours set in one SGR parameter list.
fn colours(params: &[u16]) -> Vec<Colour> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < params.len() {
        match params[i] {
            code @ (38 | 48 | 58) => {
                let at = |n: usize| params.get(i + n).copied().unwrap_or(0);
                if at(1) == 2 {
                    out.push(Colour::Rgb(code));
                    i += 5;
                } else {
                    out.push(Colour::Indexed(code, at(2)));
                    i += 3;
                }
                continue;
            }
            code @ (30..=37 | 40..=47 | 90..=97 | 100..=107) => out.push(Colour::Basic(code)),
            _ => {}
        }
        i += 1;
    }
    out
}

/// `warren demo` in a pane whose terminal is described by `env` (`TERM`, `COLORTERM`,
/// `NO_COLOR`), showing `#general` with its code block; returns the styled screen.
async fn chat_screen(env: &[&str]) -> (String, Tmux, [tempfile::TempDir; 2]) {
    let config = tempfile::tempdir().expect("a config dir for the TUI");
    let tmp = tempfile::tempdir().expect("a TMPDIR for the demo");
    let cli = bins::cli_bin();
    // tmux sets the pane's TERM itself; `env` sets the terminal the test wants over it.
    let mut args = vec!["-u", "COLORTERM", "-u", "NO_COLOR"];
    args.extend_from_slice(env);
    let cli = cli.to_str().expect("a UTF-8 path to warren");
    args.extend_from_slice(&[cli, "demo"]);
    let tui = Tmux::start(
        std::path::Path::new("env"),
        &args,
        [
            ("WARREN_CONFIG_DIR", config.path()),
            ("HOME", config.path()),
            ("TMPDIR", tmp.path()),
        ],
        WIDTH,
        HEIGHT,
    );
    tui.wait_for_text(&["Demo workspace", "● connected"]).await;
    tui.keys(&["2"]).await;
    tui.wait_for_text(&["#general", CODE]).await;
    let screen = tui.styled_screen().await;
    (screen, tui, [config, tmp])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_16_colour_terminal_gets_only_the_16_colours_code_included() {
    let (screen, tui, _dirs) = chat_screen(&["TERM=xterm"]).await;
    let all: Vec<Colour> = sgr_params(&screen)
        .iter()
        .flat_map(|p| colours(p))
        .collect();
    assert!(
        !all.is_empty(),
        "no colours at all on a 16-colour terminal:\n{screen}"
    );
    let extended: Vec<_> = all.iter().filter(|c| !c.in_16()).collect();
    assert!(
        extended.is_empty(),
        "256-colour or 24-bit codes {extended:?} on TERM=xterm; screen:\n{screen:?}"
    );
    // The code block is drawn in more than one colour: it is highlighted, not plain.
    let code_row = screen
        .lines()
        .find(|row| row.contains("attempts"))
        .expect("the code row");
    let code_colours: std::collections::HashSet<_> = sgr_params(code_row)
        .iter()
        .flat_map(|p| colours(p))
        .filter(|c| c.is_fg())
        .collect();
    assert!(
        code_colours.len() > 1,
        "the code is not highlighted in ANSI colours: {code_row:?}"
    );
    tui.keys(&["q"]).await;
    tui.wait_exit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_means_no_colour_and_truecolor_means_24_bit() {
    let (screen, tui, _dirs) = chat_screen(&["TERM=xterm-256color", "NO_COLOR=1"]).await;
    let all: Vec<Colour> = sgr_params(&screen)
        .iter()
        .flat_map(|p| colours(p))
        .collect();
    assert!(
        all.is_empty(),
        "colour codes {all:?} under NO_COLOR; screen:\n{screen:?}"
    );
    tui.keys(&["q"]).await;
    tui.wait_exit().await;

    let (screen, tui, _dirs) = chat_screen(&["TERM=xterm-256color", "COLORTERM=truecolor"]).await;
    let code_row = screen
        .lines()
        .find(|row| row.contains("attempts"))
        .expect("the code row");
    let truecolor = sgr_params(code_row)
        .iter()
        .flat_map(|p| colours(p))
        .any(|colour| colour == Colour::Rgb(38));
    assert!(
        truecolor,
        "no 24-bit colour in the code with COLORTERM=truecolor: {code_row:?}"
    );
    tui.keys(&["q"]).await;
    tui.wait_exit().await;
}
