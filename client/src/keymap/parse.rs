//! Reads one keymap file into a [`Layer`]: its `inherits` and its bindings in file order, each
//! checked on its own (context, key string, action name, duplicates within the file). Merging
//! layers is [`super::Keymap`]'s job.

use std::collections::HashMap;

use toml::de::DeValue;

use super::action::{Action, Context};
use super::error::{KeymapError, KeymapErrorKind};
use super::key::KeyBinding;
use super::source::{self, Source};

/// The action name that removes a binding inherited from the base keymap.
pub const UNBIND: &str = "none";

/// One keymap file, parsed and checked.
#[derive(Debug, Default)]
pub(crate) struct Layer {
    /// The keymap this file builds on, and its line.
    pub inherits: Option<(String, usize)>,
    /// Bindings in file order; `None` unbinds the key.
    pub bindings: Vec<(Context, KeyBinding, Option<Action>)>,
}

/// Parses `source`. The layer holds every binding that was valid; the errors list the rest.
pub(crate) fn parse(source: &Source<'_>) -> (Layer, Vec<KeymapError>) {
    let mut layer = Layer::default();
    let mut errors = Vec::new();
    let error = |line: usize, kind| KeymapError {
        file: Some(source.name.clone()),
        line: Some(line),
        kind,
    };
    let table = match source.parse() {
        Ok(table) => table,
        Err((line, message)) => {
            errors.push(error(line, KeymapErrorKind::Syntax(message)));
            return (layer, errors);
        }
    };
    for (key, value) in source::entries(&table) {
        let name = key.get_ref().as_ref();
        let line = source.line(key.span().start);
        if name == "inherits" {
            match value.get_ref().as_str() {
                Some(parent) => layer.inherits = Some((parent.to_owned(), line)),
                None => errors.push(error(
                    line,
                    KeymapErrorKind::InheritsNotString(value.get_ref().type_str()),
                )),
            }
            continue;
        }
        let (context, bindings) = match (Context::from_name(name), value.get_ref()) {
            (Some(context), DeValue::Table(bindings)) => (context, bindings),
            (Some(_), other) => {
                let kind = KeymapErrorKind::NotATable(name.to_owned(), other.type_str());
                errors.push(error(line, kind));
                continue;
            }
            (None, DeValue::Table(_)) => {
                errors.push(error(
                    line,
                    KeymapErrorKind::UnknownContext(name.to_owned()),
                ));
                continue;
            }
            (None, _) => {
                errors.push(error(line, KeymapErrorKind::UnknownField(name.to_owned())));
                continue;
            }
        };
        let mut seen: HashMap<KeyBinding, (String, usize)> = HashMap::new();
        for (key, value) in source::entries(bindings) {
            let key_str = key.get_ref().as_ref();
            let line = source.line(key.span().start);
            let ctx = context.name().to_owned();
            let binding = match key_str.parse::<KeyBinding>() {
                Ok(binding) => binding,
                Err(e) => {
                    let kind = KeymapErrorKind::BadKey {
                        context: ctx,
                        key: key_str.to_owned(),
                        reason: e.to_string(),
                    };
                    errors.push(error(line, kind));
                    continue;
                }
            };
            let Some(action_name) = value.get_ref().as_str() else {
                let kind = KeymapErrorKind::ActionNotString {
                    context: ctx,
                    key: key_str.to_owned(),
                    found: value.get_ref().type_str(),
                };
                errors.push(error(line, kind));
                continue;
            };
            if let Some((other, other_line)) = seen.get(&binding) {
                let kind = KeymapErrorKind::Duplicate {
                    context: ctx,
                    key: key_str.to_owned(),
                    other: other.clone(),
                    other_line: *other_line,
                };
                errors.push(error(line, kind));
                continue;
            }
            seen.insert(binding, (key_str.to_owned(), line));
            let action = if action_name == UNBIND {
                None
            } else if let Some(action) = Action::from_name(action_name) {
                Some(action)
            } else {
                let kind = KeymapErrorKind::UnknownAction {
                    context: ctx,
                    key: key_str.to_owned(),
                    action: action_name.to_owned(),
                };
                errors.push(error(line, kind));
                continue;
            };
            if action.is_some() && context.is_text_entry() && binding.is_printable() {
                let kind = KeymapErrorKind::StealsTyping {
                    context: ctx,
                    key: key_str.to_owned(),
                };
                errors.push(error(line, kind));
                continue;
            }
            layer.bindings.push((context, binding, action));
        }
    }
    (layer, errors)
}
