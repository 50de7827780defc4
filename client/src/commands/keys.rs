//! `warren keys`: the active key bindings of the full-screen client, per context, as the
//! keymap loader sees them (bundled keymap from `--keymap` or `[ui] keymap`, merged with the
//! config directory's `keymap.toml`). Load errors go to stderr and make the command fail, so it
//! doubles as a keymap checker.

use serde::Serialize;

use super::Out;
use crate::cli::KeysArgs;
use crate::config::{self, ConfigFile};
use crate::error::ClientError;
use crate::keymap::{self, Keymap};
use crate::keymap::{Action, Context};
use crate::output::table;
use crate::sanitize;

/// One binding in `--json` output.
#[derive(Debug, Serialize)]
struct BindingJson<'a> {
    context: &'static str,
    key: String,
    action: &'static str,
    description: &'static str,
    keymap: &'a str,
}

/// Prints the bindings; reports keymap errors on stderr and fails if there were any.
pub fn run(args: &KeysArgs, out: &mut Out) -> Result<(), ClientError> {
    let dir = config::config_dir().ok();
    let file = match &dir {
        Some(dir) => ConfigFile::load(&config::config_path(dir))?,
        None => ConfigFile::default(),
    };
    let choice = args.keymap.as_deref().unwrap_or(file.keymap_name());
    let user_file = dir.map(|dir| dir.join(keymap::USER_FILE));
    let (keymap, errors) = Keymap::load(choice, user_file.as_deref());
    if out.is_json() {
        for context in Context::ALL {
            for (key, action) in keymap.bindings(context) {
                out.json(&BindingJson {
                    context: context.name(),
                    key: key.to_string(),
                    action: action.name(),
                    description: action.description(),
                    keymap: keymap.name(),
                })?;
            }
        }
    } else {
        out.text(format_keys(&keymap).trim_end())?;
    }
    if errors.is_empty() {
        return Ok(());
    }
    for error in &errors {
        eprintln!("error: {}", sanitize::line(&error.to_string()));
    }
    Err(ClientError::Usage(format!(
        "{} problem{} in the keymap (above); until fixed, warren uses the bundled keymap as listed",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    )))
}

/// The bindings of every context as aligned tables, then the actions bound nowhere.
pub fn format_keys(keymap: &Keymap) -> String {
    let mut text = format!("keymap: {}\n", sanitize::line(keymap.name()));
    for context in Context::ALL {
        let rows: Vec<Vec<String>> = keymap
            .bindings(context)
            .into_iter()
            .map(|(key, action)| {
                vec![
                    key.to_string(),
                    action.name().to_owned(),
                    action.description().to_owned(),
                ]
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let note = if context == Context::Global {
            " (also in board, chat, confirm and detail unless they bind the key)"
        } else if context.is_text_entry() {
            " (a text field: other keys are typed)"
        } else if context == Context::Log {
            " (the log viewer's keys: see docs/runs.md)"
        } else {
            ""
        };
        text.push_str(&format!("\n[{}]{note}\n", context.name()));
        text.push_str(&table(&["KEY", "ACTION", "DESCRIPTION"], &rows));
    }
    let unbound: Vec<&Action> = Action::ALL
        .iter()
        .filter(|action| {
            Context::ALL
                .iter()
                .all(|context| keymap.keys_for(*context, **action).is_empty())
        })
        .collect();
    if !unbound.is_empty() {
        text.push_str("\nunbound actions\n");
        let rows: Vec<Vec<String>> = unbound
            .iter()
            .map(|action| vec![action.name().to_owned(), action.description().to_owned()])
            .collect();
        text.push_str(&table(&["ACTION", "DESCRIPTION"], &rows));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_context_and_action_of_the_default_keymap() {
        let text = format_keys(&Keymap::default());
        assert!(text.starts_with("keymap: default\n"), "{text}");
        for context in Context::ALL {
            assert!(
                text.contains(&format!("\n[{}]", context.name())),
                "{context:?}"
            );
        }
        for action in Action::ALL {
            assert!(text.contains(action.name()), "{action}");
        }
        assert!(!text.contains("unbound actions"));
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().take(2).eq(["ctrl-c", "quit"])),
            "{text}"
        );
    }

    #[test]
    fn unbound_actions_are_listed_so_every_name_appears() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(keymap::USER_FILE);
        std::fs::write(&path, "[editor]\n\"ctrl-s\" = \"none\"\n")?;
        let (keymap, errors) = Keymap::load("default", Some(&path));
        assert!(errors.is_empty(), "{errors:?}");
        let text = format_keys(&keymap);
        let unbound = text.split("unbound actions").nth(1).unwrap_or_default();
        assert!(unbound.contains("save"), "{text}");
        Ok(())
    }
}
