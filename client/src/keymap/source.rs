//! A TOML file read for its spans: the parsed table with every key and value still carrying its
//! byte range, and a line index to turn those ranges into the 1-based line numbers that keymap and
//! theme errors report. Shared by [`crate::keymap`] and [`crate::theme`].

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

/// One key/value entry of a parsed table, with spans.
pub(crate) type Entry<'t, 'i> = (&'t Spanned<DeString<'i>>, &'t Spanned<DeValue<'i>>);

/// The text of one file and where its lines start.
#[derive(Debug)]
pub(crate) struct Source<'i> {
    /// The name errors show: a repository-relative path for bundled files, the full path otherwise.
    pub name: String,
    pub text: &'i str,
    line_starts: Vec<usize>,
}

impl<'i> Source<'i> {
    pub fn new(name: impl Into<String>, text: &'i str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The 1-based line holding byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// Parses the whole document. On a syntax error, returns its line and TOML's own message.
    pub fn parse(&self) -> Result<DeTable<'i>, (usize, String)> {
        match DeTable::parse(self.text) {
            Ok(table) => Ok(table.into_inner()),
            Err(e) => {
                let line = e.span().map_or(1, |span| self.line(span.start));
                Err((line, e.message().trim_end().to_owned()))
            }
        }
    }
}

/// The table's entries in the order they appear in the file (the map itself is sorted by key).
pub(crate) fn entries<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// Writes the `file:line: ` prefix of an error (or as much of it as is known).
pub(crate) fn write_location(
    f: &mut std::fmt::Formatter<'_>,
    file: Option<&str>,
    line: Option<usize>,
) -> std::fmt::Result {
    match (file, line) {
        (Some(file), Some(line)) => write!(f, "{file}:{line}: "),
        (Some(file), None) => write!(f, "{file}: "),
        (None, _) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_spans_map_to_them() -> Result<(), String> {
        let text = "a = 1\n\n[t]\nb = \"x\"\n";
        let source = Source::new("f.toml", text);
        assert_eq!(source.line(0), 1);
        assert_eq!(source.line(6), 2);
        let table = source.parse().map_err(|e| e.1)?;
        let (key, value) = entries(&table)[1];
        assert_eq!(key.get_ref().as_ref(), "t");
        assert_eq!(source.line(key.span().start), 3);
        let inner = value.get_ref().as_table().ok_or("not a table")?;
        let (b, _) = entries(inner)[0];
        assert_eq!(source.line(b.span().start), 4);
        Ok(())
    }

    #[test]
    fn syntax_errors_carry_their_line() {
        let source = Source::new("f.toml", "a = 1\nb = = 2\n");
        assert!(matches!(source.parse(), Err((2, _))));
    }
}
