//! Keymaps: which key runs which [`Action`] in which [`Context`].
//!
//! Keymaps are helix-like TOML files, one table per context (`[board]`, `[chat]`, …) mapping key
//! strings to action names. Three are bundled (`default`, `vim`, `emacs`, compiled in from
//! `keymaps/`); the user's `keymap.toml` in the config directory merges over the chosen one.
//! Every problem is a [`KeymapError`] naming file, line and key; loading never fails outright —
//! with errors in the user's file the bundled keymap is used and the errors are returned for the
//! UI to show. See `docs/keymaps.md`.

pub mod action;
mod error;
mod key;
mod parse;
pub(crate) mod source;

use std::path::Path;

use crossterm::event::{KeyEvent, KeyEventKind};

pub use action::{Action, Context};
pub use error::{KeymapError, KeymapErrorKind};
pub use key::{KeyBinding, KeyParseError};
pub use parse::UNBIND;

use parse::Layer;
use source::Source;

/// The name of the user's keymap file inside the config directory.
pub const USER_FILE: &str = "keymap.toml";

/// The keymap used when none is chosen.
pub const DEFAULT: &str = "default";

/// The bundled keymaps: name, path shown in errors, contents.
pub const BUNDLED: &[(&str, &str, &str)] = &[
    (
        "default",
        "keymaps/default.toml",
        include_str!("../../../keymaps/default.toml"),
    ),
    (
        "vim",
        "keymaps/vim.toml",
        include_str!("../../../keymaps/vim.toml"),
    ),
    (
        "emacs",
        "keymaps/emacs.toml",
        include_str!("../../../keymaps/emacs.toml"),
    ),
];

/// How deep `inherits` may chain before it is treated as a loop.
const MAX_INHERITS: usize = 8;

/// The active bindings of every context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    name: String,
    /// Per context (indexed by `Context as usize`), bindings in file order after merging.
    tables: [Vec<(KeyBinding, Action)>; Context::ALL.len()],
}

impl Default for Keymap {
    /// The bundled default keymap.
    fn default() -> Self {
        bundled(DEFAULT, &mut Vec::new(), &mut Vec::new())
    }
}

impl Keymap {
    fn empty(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            tables: Default::default(),
        }
    }

    /// Loads the bundled keymap `choice` (`default`, `vim` or `emacs`) and merges the user's file
    /// over it. A missing user file is not an error. With any error in the user's file, the
    /// bundled keymap is returned unchanged; with an unknown `choice`, the default one. The
    /// errors are returned for the caller to show.
    pub fn load(choice: &str, user_file: Option<&Path>) -> (Keymap, Vec<KeymapError>) {
        let mut errors = Vec::new();
        let choice = if BUNDLED.iter().any(|(name, ..)| *name == choice) {
            choice
        } else {
            errors.push(KeymapError {
                file: None,
                line: None,
                kind: KeymapErrorKind::UnknownKeymap(choice.to_owned()),
            });
            DEFAULT
        };
        let base = bundled(choice, &mut Vec::new(), &mut errors);
        let Some(path) = user_file else {
            return (base, errors);
        };
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (base, errors),
            Err(e) => {
                errors.push(KeymapError {
                    file: Some(file),
                    line: None,
                    kind: KeymapErrorKind::Io(e.to_string()),
                });
                return (base, errors);
            }
        };
        let (layer, user_errors) = parse::parse(&Source::new(file.clone(), &text));
        if !user_errors.is_empty() {
            errors.extend(user_errors);
            return (base, errors);
        }
        let mut keymap = match &layer.inherits {
            None => base.clone(),
            Some((parent, line)) => {
                if !BUNDLED.iter().any(|(name, ..)| name == parent) {
                    errors.push(KeymapError {
                        file: Some(file),
                        line: Some(*line),
                        kind: KeymapErrorKind::UnknownInherits(parent.clone()),
                    });
                    return (base, errors);
                }
                bundled(parent, &mut Vec::new(), &mut errors)
            }
        };
        keymap.apply(&layer);
        keymap.name = format!("{} + {}", keymap.name, path.display());
        (keymap, errors)
    }

    /// The keymap's name: the bundled one, plus the user's file if one was merged.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The action `event` triggers in `context`: the context's own binding, else (outside text
    /// fields) the global one. Key releases never trigger anything.
    pub fn action(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        self.action_for_key(context, KeyBinding::from_event(event))
    }

    /// The action `key` triggers in `context` (own binding first, then global outside text fields).
    pub fn action_for_key(&self, context: Context, key: KeyBinding) -> Option<Action> {
        let find = |context: Context| {
            self.tables[context as usize]
                .iter()
                .find(|(bound, _)| *bound == key)
                .map(|(_, action)| *action)
        };
        find(context).or_else(|| {
            context
                .inherits_global()
                .then(|| find(Context::Global))
                .flatten()
        })
    }

    /// The context's own bindings (not the global ones it falls back to), ordered by action and
    /// then as written in the file, so a primary key comes before its alternatives.
    pub fn bindings(&self, context: Context) -> Vec<(KeyBinding, Action)> {
        let mut bindings = self.tables[context as usize].clone();
        bindings.sort_by_key(|(_, action)| *action);
        bindings
    }

    /// Every binding that works in `context`: its own, plus the global ones it does not shadow
    /// (outside text fields). Ordered like [`Keymap::bindings`].
    pub fn effective_bindings(&self, context: Context) -> Vec<(KeyBinding, Action)> {
        let mut bindings = self.tables[context as usize].clone();
        if context.inherits_global() {
            for (key, action) in &self.tables[Context::Global as usize] {
                if !bindings.iter().any(|(bound, _)| bound == key) {
                    bindings.push((*key, *action));
                }
            }
        }
        bindings.sort_by_key(|(_, action)| *action);
        bindings
    }

    /// The keys that run `action` in `context` (global ones included where they apply), primary
    /// key first. Empty when the action is unbound there.
    pub fn keys_for(&self, context: Context, action: Action) -> Vec<KeyBinding> {
        self.effective_bindings(context)
            .into_iter()
            .filter(|(_, bound)| *bound == action)
            .map(|(key, _)| key)
            .collect()
    }

    /// Merges `layer` over this keymap: a binding replaces the one of the same key in the same
    /// context; `none` removes it.
    fn apply(&mut self, layer: &Layer) {
        for (context, key, action) in &layer.bindings {
            let table = &mut self.tables[*context as usize];
            let existing = table.iter().position(|(bound, _)| bound == key);
            match (existing, action) {
                (Some(i), Some(action)) => table[i].1 = *action,
                (Some(i), None) => {
                    table.remove(i);
                }
                (None, Some(action)) => table.push((*key, *action)),
                (None, None) => {}
            }
        }
    }
}

/// Builds the bundled keymap `name`, following its `inherits` chain. `chain` holds the names
/// being built, to catch loops.
fn bundled(name: &str, chain: &mut Vec<String>, errors: &mut Vec<KeymapError>) -> Keymap {
    let Some((_, path, text)) = BUNDLED.iter().find(|(n, ..)| *n == name) else {
        return Keymap::empty(name);
    };
    chain.push(name.to_owned());
    let (layer, layer_errors) = parse::parse(&Source::new(*path, text));
    errors.extend(layer_errors);
    let mut keymap = match &layer.inherits {
        None => Keymap::empty(name),
        Some((parent, line)) => {
            let error = |kind| KeymapError {
                file: Some((*path).to_owned()),
                line: Some(*line),
                kind,
            };
            if chain.contains(parent) || chain.len() > MAX_INHERITS {
                errors.push(error(KeymapErrorKind::InheritsLoop(parent.clone())));
                Keymap::empty(name)
            } else if BUNDLED.iter().any(|(n, ..)| n == parent) {
                let mut keymap = bundled(parent, chain, errors);
                keymap.name = name.to_owned();
                keymap
            } else {
                errors.push(error(KeymapErrorKind::UnknownInherits(parent.clone())));
                Keymap::empty(name)
            }
        }
    };
    keymap.apply(&layer);
    keymap
}

#[cfg(test)]
pub(crate) mod tests;
