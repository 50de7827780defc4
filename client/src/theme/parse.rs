//! Reads one theme file into a [`Layer`]: its `inherits`, its `[palette]` and its styles, each
//! checked on its own. Colour names stay unresolved until the layers are merged, so a theme can
//! change a palette colour its parent's styles use.

use ratatui::style::{Color, Modifier};
use toml::de::{DeTable, DeValue};

use super::color::parse_color;
use super::error::{ThemeError, ThemeErrorKind};
use super::keys;
use crate::keymap::source::{self, Source};

/// The modifier names a style may list, for the error message.
pub(crate) const MODIFIER_NAMES: &str =
    "bold, dim, italic, underlined, slow_blink, rapid_blink, reversed, hidden or crossed_out";

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// A colour as written: a concrete one (`#rrggbb`, a number), or a name, looked up in the
/// palette first and then among the ANSI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ColorRef {
    Color(Color),
    Name(String),
}

/// A style as written, before palette lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StyleSpec {
    pub fg: Option<ColorRef>,
    pub bg: Option<ColorRef>,
    pub modifiers: Modifier,
}

/// One theme file, parsed and checked.
#[derive(Debug, Default)]
pub(crate) struct Layer {
    /// The file name errors show.
    pub file: String,
    pub inherits: Option<(String, usize)>,
    /// The highlighting theme for code blocks (`syntax = "…"`), one of [`super::SYNTAX_THEMES`].
    pub syntax: Option<&'static str>,
    pub palette: Vec<(String, Color)>,
    /// Styles with their line, for errors found when resolving colours.
    pub styles: Vec<(&'static str, StyleSpec, usize)>,
}

struct Parser<'s, 'i> {
    source: &'s Source<'i>,
    layer: Layer,
    errors: Vec<ThemeError>,
}

/// Parses `source`. The layer holds everything that was valid; the errors list the rest.
pub(crate) fn parse(source: &Source<'_>) -> (Layer, Vec<ThemeError>) {
    let mut parser = Parser {
        source,
        layer: Layer {
            file: source.name.clone(),
            ..Layer::default()
        },
        errors: Vec::new(),
    };
    match source.parse() {
        Ok(table) => parser.document(&table),
        Err((line, message)) => parser.error(line, ThemeErrorKind::Syntax(message)),
    }
    (parser.layer, parser.errors)
}

impl Parser<'_, '_> {
    fn error(&mut self, line: usize, kind: ThemeErrorKind) {
        self.errors.push(ThemeError {
            file: Some(self.source.name.clone()),
            line: Some(line),
            kind,
        });
    }

    fn document(&mut self, table: &DeTable<'_>) {
        for (key, value) in source::entries(table) {
            let name = key.get_ref().as_ref();
            let line = self.source.line(key.span().start);
            match (name, value.get_ref()) {
                ("inherits", DeValue::String(parent)) => {
                    self.layer.inherits = Some((parent.to_string(), line));
                }
                ("inherits", other) => {
                    self.error(line, ThemeErrorKind::InheritsNotString(other.type_str()));
                }
                ("syntax", DeValue::String(name)) => match super::syntax::find(name) {
                    Some(known) => self.layer.syntax = Some(known),
                    None => self.error(line, ThemeErrorKind::UnknownSyntax(name.to_string())),
                },
                ("syntax", other) => {
                    self.error(line, ThemeErrorKind::SyntaxNotString(other.type_str()));
                }
                ("palette", DeValue::Table(palette)) => self.palette(palette),
                ("palette", other) => {
                    self.error(line, ThemeErrorKind::PaletteNotTable(other.type_str()));
                }
                (_, value) => self.style_or_table(name, value, line),
            }
        }
    }

    fn palette(&mut self, palette: &DeTable<'_>) {
        for (key, value) in source::entries(palette) {
            let name = key.get_ref().as_ref();
            let line = self.source.line(key.span().start);
            let at = format!("[palette] {name:?}");
            let color = match self.color(&at, value.get_ref(), line) {
                Some(ColorRef::Color(color)) => color,
                Some(ColorRef::Name(colour)) => match parse_color(&colour) {
                    Some(color) => color,
                    None => {
                        self.error(line, ThemeErrorKind::UnknownColour { at, colour });
                        continue;
                    }
                },
                None => continue,
            };
            self.layer.palette.push((name.to_owned(), color));
        }
    }

    /// A style for `path`, or a table of styles under it (`[ui]` then `border = "gray"`).
    fn style_or_table(&mut self, path: &str, value: &DeValue<'_>, line: usize) {
        if let DeValue::Table(table) = value {
            let nested = table
                .iter()
                .any(|(k, _)| keys::is_prefix(&format!("{path}.{}", k.get_ref())));
            if nested || keys::find(path).is_none() {
                if !keys::is_prefix(path) {
                    self.error(line, ThemeErrorKind::UnknownKey(format!("{path:?}")));
                    return;
                }
                for (key, value) in source::entries(table) {
                    let child = format!("{path}.{}", key.get_ref());
                    let line = self.source.line(key.span().start);
                    self.style_or_table(&child, value.get_ref(), line);
                }
                return;
            }
        }
        let Some(key) = keys::find(path) else {
            self.error(line, ThemeErrorKind::UnknownKey(format!("{path:?}")));
            return;
        };
        if let Some(spec) = self.style(&format!("{path:?}"), value, line) {
            self.layer.styles.push((key.name, spec, line));
        }
    }

    fn style(&mut self, at: &str, value: &DeValue<'_>, line: usize) -> Option<StyleSpec> {
        let table = match value {
            DeValue::Table(table) => table,
            DeValue::String(_) | DeValue::Integer(_) => {
                let fg = self.color(at, value, line)?;
                return Some(StyleSpec {
                    fg: Some(fg),
                    ..StyleSpec::default()
                });
            }
            other => {
                let kind = ThemeErrorKind::StyleType {
                    at: at.to_owned(),
                    found: other.type_str(),
                };
                self.error(line, kind);
                return None;
            }
        };
        let mut spec = StyleSpec::default();
        let mut ok = true;
        for (key, value) in source::entries(table) {
            let field = key.get_ref().as_ref();
            let line = self.source.line(key.span().start);
            let field_at = format!("{at}.{field}");
            match field {
                "fg" => spec.fg = self.color(&field_at, value.get_ref(), line),
                "bg" => spec.bg = self.color(&field_at, value.get_ref(), line),
                "modifiers" => match self.modifiers(&field_at, value.get_ref(), line) {
                    Some(modifiers) => spec.modifiers = modifiers,
                    None => ok = false,
                },
                _ => {
                    let kind = ThemeErrorKind::UnknownField {
                        at: at.to_owned(),
                        field: field.to_owned(),
                    };
                    self.error(line, kind);
                    ok = false;
                }
            }
        }
        ok.then_some(spec)
    }

    fn modifiers(&mut self, at: &str, value: &DeValue<'_>, line: usize) -> Option<Modifier> {
        let Some(array) = value.as_array() else {
            let kind = ThemeErrorKind::ModifiersType {
                at: at.to_owned(),
                found: value.type_str(),
            };
            self.error(line, kind);
            return None;
        };
        let mut modifiers = Modifier::empty();
        for item in array.iter() {
            let line = self.source.line(item.span().start);
            let Some(name) = item.get_ref().as_str() else {
                let kind = ThemeErrorKind::ModifiersType {
                    at: at.to_owned(),
                    found: item.get_ref().type_str(),
                };
                self.error(line, kind);
                return None;
            };
            match MODIFIERS.iter().find(|(n, _)| *n == name) {
                Some((_, modifier)) => modifiers |= *modifier,
                None => {
                    let kind = ThemeErrorKind::UnknownModifier {
                        at: at.to_owned(),
                        modifier: name.to_owned(),
                    };
                    self.error(line, kind);
                    return None;
                }
            }
        }
        Some(modifiers)
    }

    /// A colour value: `#rrggbb` and numbers are checked now, names once the palette is known.
    fn color(&mut self, at: &str, value: &DeValue<'_>, line: usize) -> Option<ColorRef> {
        match value {
            DeValue::String(s) if s.starts_with('#') => match parse_color(s) {
                Some(color) => Some(ColorRef::Color(color)),
                None => {
                    let kind = ThemeErrorKind::UnknownColour {
                        at: at.to_owned(),
                        colour: s.to_string(),
                    };
                    self.error(line, kind);
                    None
                }
            },
            DeValue::String(s) => Some(ColorRef::Name(s.to_string())),
            DeValue::Integer(i) => {
                match i64::from_str_radix(i.as_str(), i.radix())
                    .ok()
                    .and_then(|n| u8::try_from(n).ok())
                {
                    Some(index) => Some(ColorRef::Color(Color::Indexed(index))),
                    None => {
                        let kind = ThemeErrorKind::ColourType {
                            at: at.to_owned(),
                            found: format!("{} (out of range)", i.as_str()),
                        };
                        self.error(line, kind);
                        None
                    }
                }
            }
            other => {
                let kind = ThemeErrorKind::ColourType {
                    at: at.to_owned(),
                    found: other.type_str().to_owned(),
                };
                self.error(line, kind);
                None
            }
        }
    }
}
