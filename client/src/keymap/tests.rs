//! Keymap loading tests: bundled files, merging, lookup and every error kind with its line.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::*;

fn key(s: &str) -> KeyBinding {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

/// Writes `text` as a user keymap file and loads it over `choice`.
fn load_user(choice: &str, text: &str) -> (Keymap, Vec<KeymapError>, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join(USER_FILE);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
    let (keymap, errors) = Keymap::load(choice, Some(&path));
    (keymap, errors, path, dir)
}

/// The single error of loading `text` as a user file.
fn single_error(text: &str) -> KeymapError {
    let (keymap, errors, _, _dir) = load_user("default", text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        keymap,
        Keymap::default(),
        "errors must leave the bundled keymap"
    );
    errors.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn every_bundled_keymap_loads_without_errors() {
    for (name, path, text) in BUNDLED {
        let (layer, errors) = parse::parse(&Source::new(*path, text));
        assert!(errors.is_empty(), "{path}: {errors:#?}");
        assert!(!layer.bindings.is_empty(), "{path}");
        let (keymap, errors) = Keymap::load(name, None);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        assert_eq!(keymap.name(), *name);
    }
}

#[test]
fn every_action_is_bound_in_every_bundled_keymap() {
    for (name, ..) in BUNDLED {
        let (keymap, _) = Keymap::load(name, None);
        for action in Action::ALL {
            let bound = Context::ALL
                .iter()
                .any(|context| !keymap.keys_for(*context, *action).is_empty());
            assert!(bound, "{name}: {action} is not bound anywhere");
        }
    }
}

#[test]
fn the_default_file_itself_binds_every_action() {
    let (layer, _) = parse::parse(&Source::new("default", BUNDLED[0].2));
    assert!(layer.inherits.is_none());
    for action in Action::ALL {
        assert!(
            layer.bindings.iter().any(|(_, _, a)| *a == Some(*action)),
            "{action} is not bound in keymaps/default.toml"
        );
    }
}

#[test]
fn lookup_falls_back_to_global_outside_text_fields() {
    let keymap = Keymap::default();
    let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(keymap.action(Context::Board, &q), Some(Action::Quit));
    assert_eq!(keymap.action(Context::Detail, &q), Some(Action::Cancel));
    assert_eq!(keymap.action(Context::Compose, &q), None, "q is typed");
    let ctrl_c = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
    for context in Context::ALL {
        assert_eq!(
            keymap.action(context, &ctrl_c),
            Some(Action::Quit),
            "{context:?}"
        );
    }
    let shift_h = press(KeyCode::Char('H'), KeyModifiers::SHIFT);
    assert_eq!(
        keymap.action(Context::Board, &shift_h),
        Some(Action::CardMoveLeft)
    );
    let backtab = press(KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(
        keymap.action(Context::Chat, &backtab),
        Some(Action::PrevTab)
    );
    assert_eq!(
        keymap.action(Context::Editor, &backtab),
        Some(Action::PrevField)
    );
    let ctrl_j = press(KeyCode::Char('j'), KeyModifiers::CONTROL);
    assert_eq!(
        keymap.action(Context::Compose, &ctrl_j),
        Some(Action::Newline)
    );
    let mut release = press(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    assert_eq!(keymap.action(Context::Board, &release), None);
}

#[test]
fn keys_for_lists_the_primary_key_first_and_includes_globals() {
    let keymap = Keymap::default();
    assert_eq!(
        keymap.keys_for(Context::Board, Action::CardDelete),
        [key("d"), key("delete")]
    );
    assert_eq!(
        keymap.keys_for(Context::Board, Action::Quit),
        [key("q"), key("ctrl-c")]
    );
    // Detail binds q itself, so the global q does not show there.
    assert_eq!(
        keymap.keys_for(Context::Detail, Action::Quit),
        [key("ctrl-c")]
    );
    assert!(keymap.keys_for(Context::Compose, Action::Help).is_empty());
    let own = keymap.bindings(Context::Confirm);
    assert!(
        own.iter()
            .all(|(_, a)| matches!(a, Action::Confirm | Action::Cancel))
    );
    let mut sorted = own.clone();
    sorted.sort_by_key(|(_, a)| *a);
    assert_eq!(own, sorted);
}

#[test]
fn vim_and_emacs_add_to_the_default() {
    let (vim, _) = Keymap::load("vim", None);
    let g = press(KeyCode::Char('g'), KeyModifiers::NONE);
    assert_eq!(vim.action(Context::Board, &g), Some(Action::First));
    let ctrl_d = press(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert_eq!(vim.action(Context::Chat, &ctrl_d), Some(Action::PageDown));
    let (emacs, _) = Keymap::load("emacs", None);
    let ctrl_p = press(KeyCode::Char('p'), KeyModifiers::CONTROL);
    assert_eq!(emacs.action(Context::Board, &ctrl_p), Some(Action::MoveUp));
    let alt_x = press(KeyCode::Char('x'), KeyModifiers::ALT);
    assert_eq!(emacs.action(Context::Board, &alt_x), Some(Action::Palette));
    assert_eq!(Keymap::default().action(Context::Board, &g), None);
}

#[test]
fn user_file_merges_over_the_chosen_keymap() {
    let text = "[board]\n\"x\" = \"card_delete\"\n\"d\" = \"none\"\n\"n\" = \"card_edit\"\n";
    let (keymap, errors, path, _dir) = load_user("vim", text);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(keymap.name(), format!("vim + {}", path.display()));
    let board = |s: &str| keymap.action_for_key(Context::Board, key(s));
    assert_eq!(board("x"), Some(Action::CardDelete));
    assert_eq!(board("d"), None);
    assert_eq!(board("n"), Some(Action::CardEdit));
    assert_eq!(board("g"), Some(Action::First), "vim stays underneath");
    // A new action for an existing key keeps the key's place in the list (`n` came before `e`).
    assert_eq!(
        keymap.keys_for(Context::Board, Action::CardEdit),
        [key("n"), key("e"), key("i")]
    );
}

#[test]
fn user_file_can_inherit_another_bundled_keymap() {
    let (keymap, errors, _, _dir) = load_user("vim", "inherits = \"emacs\"\n");
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        keymap.action_for_key(Context::Board, key("alt-x")),
        Some(Action::Palette)
    );
    assert_eq!(keymap.action_for_key(Context::Board, key("g")), None);
}

#[test]
fn a_missing_user_file_is_no_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let (keymap, errors) = Keymap::load("default", Some(&dir.path().join(USER_FILE)));
    assert!(errors.is_empty());
    assert_eq!(keymap, Keymap::default());
}

#[test]
fn an_unknown_choice_falls_back_to_default() {
    let (keymap, errors) = Keymap::load("nano", None);
    assert_eq!(keymap, Keymap::default());
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "unknown keymap \"nano\"; use default, vim or emacs"
    );
}

#[test]
fn unknown_action_names_file_line_and_key() {
    let (_, errors, path, _dir) = load_user(
        "default",
        "# mine\n[board]\n\"n\" = \"card_new\"\n\"ctrl-x\" = \"card_nuke\"\n",
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        format!(
            "{}:4: [board] \"ctrl-x\": unknown action \"card_nuke\"; see 'warren keys' for the action names",
            path.display()
        )
    );
}

/// A file's text, the line of its one error, and a check of the error's kind.
type Case = (&'static str, usize, fn(&KeymapErrorKind) -> bool);

#[test]
fn each_error_kind_carries_its_line() {
    let cases: &[Case] = &[
        (
            "[board]\nn = \"card_new\"\n[boardd]\nq = \"quit\"\n",
            3,
            |k| matches!(k, KeymapErrorKind::UnknownContext(c) if c == "boardd"),
        ),
        (
            "\ncolour = \"red\"\n",
            2,
            |k| matches!(k, KeymapErrorKind::UnknownField(f) if f == "colour"),
        ),
        (
            "[chat]\n\n\"ctlr-x\" = \"quit\"\n",
            3,
            |k| matches!(k, KeymapErrorKind::BadKey { key, .. } if key == "ctlr-x"),
        ),
        (
            "[board]\n\"shift-a\" = \"quit\"\n\"A\" = \"help\"\n",
            3,
            |k| {
                matches!(k, KeymapErrorKind::Duplicate { key, other, other_line: 2, .. }
                if key == "A" && other == "shift-a")
            },
        ),
        ("[board]\n\"x\" = 3\n", 2, |k| {
            matches!(
                k,
                KeymapErrorKind::ActionNotString {
                    found: "integer",
                    ..
                }
            )
        }),
        (
            "[compose]\n\"x\" = \"send\"\n",
            2,
            |k| matches!(k, KeymapErrorKind::StealsTyping { key, .. } if key == "x"),
        ),
        ("board = 1\n", 1, |k| {
            matches!(k, KeymapErrorKind::NotATable(..))
        }),
        (
            "\ninherits = \"nano\"\n",
            2,
            |k| matches!(k, KeymapErrorKind::UnknownInherits(n) if n == "nano"),
        ),
        ("inherits = 1\n", 1, |k| {
            matches!(k, KeymapErrorKind::InheritsNotString("integer"))
        }),
        ("[board]\n\"x\" = \"quit\"\n\"x\" = \"help\"\n", 3, |k| {
            matches!(k, KeymapErrorKind::Syntax(_))
        }),
    ];
    for (text, line, is_kind) in cases {
        let error = single_error(text);
        assert_eq!(error.line, Some(*line), "{text:?}: {error}");
        assert!(is_kind(&error.kind), "{text:?}: {error}");
        let shown = error.to_string();
        assert!(shown.contains(&format!("{USER_FILE}:{line}: ")), "{shown}");
    }
}

#[test]
fn unbinding_a_printable_key_in_a_text_field_is_allowed() {
    let (_, errors, _, _dir) = load_user("default", "[compose]\n\"x\" = \"none\"\n");
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn several_errors_are_all_reported() {
    let (_, errors, _, _dir) = load_user(
        "default",
        "[board]\n\"x\" = \"nope\"\n\"ctrl-\" = \"quit\"\n[nowhere]\n",
    );
    let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [Some(2), Some(3), Some(4)], "{errors:#?}");
}

/// Rewrites the marked part of a doc with `generated`, or (unless `WARREN_UPDATE_DOCS` is set)
/// fails when it differs.
pub(crate) fn check_generated_doc(path: &str, start: &str, end: &str, generated: &str) {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    let doc = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (Some(a), Some(b)) = (doc.find(start), doc.find(end)) else {
        panic!("{path}: markers {start} … {end} are missing");
    };
    let current = &doc[a + start.len()..b];
    let wanted = format!("\n{generated}");
    if current == wanted {
        return;
    }
    if std::env::var_os("WARREN_UPDATE_DOCS").is_some() {
        let updated = format!("{}{wanted}{}", &doc[..a + start.len()], &doc[b..]);
        std::fs::write(&full, updated).unwrap_or_else(|e| panic!("{path}: {e}"));
    } else {
        panic!(
            "{path} is out of date; run WARREN_UPDATE_DOCS=1 cargo test -p warren to regenerate it"
        );
    }
}

#[test]
fn the_keymaps_doc_lists_every_action_with_its_default_keys() {
    let keymap = Keymap::default();
    let mut table = String::from("| Action | Description | Default keys |\n|---|---|---|\n");
    for action in Action::ALL {
        let mut keys = Vec::new();
        for context in Context::ALL {
            let bound: Vec<String> = keymap
                .bindings(context)
                .into_iter()
                .filter(|(_, a)| a == action)
                .map(|(k, _)| format!("`{k}`"))
                .collect();
            if !bound.is_empty() {
                keys.push(format!("{}: {}", context.name(), bound.join(" ")));
            }
        }
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            action.name(),
            action.description(),
            keys.join("; ").replace('|', "\\|")
        ));
    }
    check_generated_doc(
        "docs/keymaps.md",
        "<!-- actions:start -->",
        "<!-- actions:end -->",
        &table,
    );
}

#[test]
fn every_log_viewer_key_is_a_binding_a_user_file_rebinds() {
    let keymap = Keymap::default();
    let e = press(KeyCode::Char('e'), KeyModifiers::NONE);
    let x = press(KeyCode::Char('x'), KeyModifiers::NONE);
    assert_eq!(keymap.action(Context::Log, &e), Some(Action::LogNextError));
    assert_eq!(keymap.action(Context::Log, &x), None);
    let (keymap, errors, _, _dir) = load_user(
        "vim",
        "[log]\n\"x\" = \"log_next_error\"\n\"e\" = \"none\"\n",
    );
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(keymap.action(Context::Log, &x), Some(Action::LogNextError));
    assert_eq!(keymap.action(Context::Log, &e), None, "the old key is free");
    // The log does not fall back to global keys: the board's `1` does not switch tabs there.
    let one = press(KeyCode::Char('1'), KeyModifiers::NONE);
    assert_eq!(keymap.action(Context::Log, &one), None);
    // In the log's prompt, letters are typed and a printable key cannot be bound.
    assert_eq!(keymap.action(Context::LogPrompt, &x), None);
    let error = single_error("[log_prompt]\n\"n\" = \"log_next_match\"\n");
    assert!(
        matches!(error.kind, KeymapErrorKind::StealsTyping { .. }),
        "{error:?}"
    );
}
