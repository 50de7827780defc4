//! Renders a chat message's markdown into styled, word-wrapped ratatui lines.
//!
//! [`render`] is a pure function of its arguments, so the TUI can cache the lines per message and
//! width. Supported: paragraphs, bold, italic, strikethrough, inline code, links (as text, never as
//! terminal hyperlinks), images (as `[image: alt] (url)`), bullet and numbered lists (nested, with a
//! hanging indent), block quotes (`│ ` prefix), headings (styled, without `#`), horizontal rules,
//! and fenced and indented code blocks (fenced ones highlighted by [`super::highlight`]). Raw HTML
//! is shown as the literal text. Tables and other extensions are not parsed; they show as the text
//! that was typed.
//!
//! Chat conventions over CommonMark: a single newline is a line break, and blocks are separated by
//! a blank line only where the author left one.
//!
//! Widths are display columns (`unicode-width`): CJK and emoji take two and are never split. Prose
//! wraps at spaces and hard-breaks words longer than the line. Code block lines are not
//! word-wrapped but hard-wrapped at the width, so no code is ever hidden, and padded with the code
//! style to the widest line of the block so the background forms a rectangle. No line is ever
//! wider than `width`.
//!
//! The input is expected to have been through [`crate::sanitize::block`], but the renderer defends
//! anyway: control characters are dropped (including ones spelled as character references such as
//! `&#27;`), a tab becomes four spaces in code and one space elsewhere.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::highlight;
use crate::theme::SyntaxStyle;

/// The styles a message is drawn with, filled in by the theme layer.
/// Inline styles are patched over the style of the block they are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MarkdownStyles {
    /// Ordinary prose.
    pub text: Style,
    /// `**strong**`.
    pub bold: Style,
    /// `*emphasis*`.
    pub italic: Style,
    /// `` `inline code` ``.
    pub code: Style,
    /// Code blocks; highlighting colours are patched over it, so its background shows through.
    pub code_block: Style,
    /// Link labels and URLs.
    pub link: Style,
    /// Headings of every level.
    pub heading: Style,
    /// Block quotes: both the `│` bar and the quoted text. Also used for horizontal rules.
    pub quote: Style,
    /// List bullets and numbers.
    pub list_marker: Style,
    /// The highlighting theme and colour reduction for fenced code.
    pub syntax: SyntaxStyle,
}

/// Renders `text` as markdown into lines no wider than `width` columns. A width of zero gives no
/// lines.
pub fn render(text: &str, width: u16, styles: &MarkdownStyles) -> Vec<Line<'static>> {
    if width == 0 {
        return Vec::new();
    }
    let source = clean(text, "\t", true);
    let options = Options::ENABLE_STRIKETHROUGH;
    let mut renderer = Renderer::new(&source, usize::from(width), styles);
    for (event, range) in Parser::new_ext(&source, options).into_offset_iter() {
        renderer.event(event, range);
    }
    renderer.finish()
}

/// A piece of inline content waiting to be wrapped.
enum Piece {
    Text(String, Style),
    Break,
}

/// A block that prefixes every line inside it.
enum Container {
    Quote,
    Item { marker: String, marker_shown: bool },
}

struct Link {
    url: String,
    /// Index into `Renderer::inline` where the label starts.
    start: usize,
    image: bool,
}

struct Renderer<'a> {
    source: &'a str,
    width: usize,
    styles: &'a MarkdownStyles,
    lines: Vec<Line<'static>>,
    /// Inline content of the block being read.
    inline: Vec<Piece>,
    /// The current inline style is the last; each nested tag pushes its style patched over it.
    style_stack: Vec<Style>,
    containers: Vec<Container>,
    /// The next number of each open list; `None` for bullet lists.
    lists: Vec<Option<u64>>,
    links: Vec<Link>,
    /// The language and text of the code block being read.
    code: Option<(Option<String>, String)>,
    /// Where the last content or block ended in `source`, to find blank lines between blocks.
    last_end: usize,
}

impl<'a> Renderer<'a> {
    fn new(source: &'a str, width: usize, styles: &'a MarkdownStyles) -> Self {
        Self {
            source,
            width,
            styles,
            lines: Vec::new(),
            inline: Vec::new(),
            style_stack: vec![styles.text],
            containers: Vec::new(),
            lists: Vec::new(),
            links: Vec::new(),
            code: None,
            last_end: 0,
        }
    }

    fn style(&self) -> Style {
        self.style_stack.last().copied().unwrap_or(self.styles.text)
    }

    fn push_style(&mut self, style: Style) {
        self.style_stack.push(self.style().patch(style));
    }

    fn pop_style(&mut self) {
        if self.style_stack.len() > 1 {
            self.style_stack.pop();
        }
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        let is_start = matches!(event, Event::Start(_));
        let is_container_end = matches!(
            event,
            Event::End(TagEnd::List(_) | TagEnd::Item | TagEnd::BlockQuote(_))
        );
        match event {
            Event::Start(tag) => self.start(tag, range.start),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code {
                Some((_, code)) => code.push_str(&text),
                None => self.push_text(&text, self.style()),
            },
            Event::Code(code) => self.push_text(&code, self.style().patch(self.styles.code)),
            Event::Html(html) | Event::InlineHtml(html) => self.push_text(&html, self.style()),
            Event::SoftBreak | Event::HardBreak => self.inline.push(Piece::Break),
            Event::Rule => {
                self.start_block(range.start);
                let (prefix, avail) = self.prefix();
                let rule = Span::styled("─".repeat(avail), self.styles.quote);
                self.emit(prefix, vec![rule]);
            }
            // Math, footnotes and task lists are extensions that are not enabled.
            _ => {}
        }
        // Containers' ranges reach over the blank lines after them; only their content counts.
        if !is_start && !is_container_end {
            self.last_end = range.end;
        }
    }

    /// Ends the inline content before a block starting at `at`, and keeps a blank line the author
    /// left before it. Called before the block's own container is entered, so the blank line only
    /// carries the quote bars of the blocks around both.
    fn start_block(&mut self, at: usize) {
        self.flush();
        if self.blank_line_before(at) {
            let blank = self.blank_line();
            self.lines.push(blank);
            // Blocks starting here too (a quote's first paragraph) share the one blank line.
            self.last_end = at;
        }
    }

    fn start(&mut self, tag: Tag<'_>, at: usize) {
        if is_block(&tag) {
            self.start_block(at);
        }
        match tag {
            Tag::Heading { .. } => self.push_style(self.styles.heading),
            Tag::BlockQuote(_) => {
                self.containers.push(Container::Quote);
                self.push_style(self.styles.quote);
            }
            Tag::CodeBlock(kind) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                        .next()
                        .filter(|lang| !lang.is_empty())
                        .map(str::to_owned),
                    CodeBlockKind::Indented => None,
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => self.lists.push(start),
            Tag::Item => {
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}. ");
                        *n = n.saturating_add(1);
                        marker
                    }
                    _ => ["• ", "◦ ", "▪ "][depth % 3].to_owned(),
                };
                self.containers.push(Container::Item {
                    marker,
                    marker_shown: false,
                });
            }
            Tag::Emphasis => self.push_style(self.styles.italic),
            Tag::Strong => self.push_style(self.styles.bold),
            Tag::Strikethrough => self.push_style(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } => {
                self.links.push(Link {
                    url: dest_url.into_string(),
                    start: self.inline.len(),
                    image: false,
                });
                self.push_style(self.styles.link);
            }
            Tag::Image { dest_url, .. } => {
                self.push_text("[image: ", self.style());
                self.links.push(Link {
                    url: dest_url.into_string(),
                    start: self.inline.len(),
                    image: true,
                });
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock => self.flush(),
            TagEnd::Heading(_) => {
                self.flush();
                self.pop_style();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.pop_style();
            }
            TagEnd::CodeBlock => {
                if let Some((lang, code)) = self.code.take() {
                    self.code_block(lang.as_deref(), &code);
                }
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            TagEnd::Item => {
                self.flush();
                // An empty item still shows its marker.
                if let Some(Container::Item {
                    marker_shown: false,
                    ..
                }) = self.containers.last()
                {
                    let (prefix, _) = self.prefix();
                    self.emit(prefix, Vec::new());
                }
                self.containers.pop();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => self.pop_style(),
            TagEnd::Link => {
                self.pop_style();
                self.end_link();
            }
            TagEnd::Image => self.end_link(),
            _ => {}
        }
    }

    /// Appends the URL after a link's label (unless the label is the URL) or closes an image.
    fn end_link(&mut self) {
        let Some(link) = self.links.pop() else {
            return;
        };
        let url = clean(&link.url, " ", false);
        let label: String = self.inline[link.start.min(self.inline.len())..]
            .iter()
            .map(|piece| match piece {
                Piece::Text(text, _) => text.as_str(),
                Piece::Break => " ",
            })
            .collect();
        let style = self.style();
        let link_style = style.patch(self.styles.link);
        if link.image {
            self.push_text("]", style);
        } else if url.is_empty()
            || label == url
            || url.strip_prefix("mailto:") == Some(label.as_str())
        {
            return;
        } else if label.trim().is_empty() {
            self.push_text(&url, link_style);
            return;
        }
        if !url.is_empty() {
            self.push_text(" (", style);
            self.push_text(&url, link_style);
            self.push_text(")", style);
        }
    }

    /// Whether the author left a blank line between the previous block and one starting at `at`.
    fn blank_line_before(&self, at: usize) -> bool {
        if self.lines.is_empty() || at <= self.last_end {
            return false;
        }
        let gap = self.source.get(self.last_end..at).unwrap_or("");
        let at_line_start = self
            .source
            .get(..self.last_end)
            .is_some_and(|before| before.ends_with('\n'));
        gap.matches('\n').count() + usize::from(at_line_start) >= 2
    }

    fn push_text(&mut self, text: &str, style: Style) {
        let text = clean(text, " ", true);
        for (i, part) in text.split('\n').enumerate() {
            if i > 0 {
                self.inline.push(Piece::Break);
            }
            if !part.is_empty() {
                self.inline.push(Piece::Text(part.to_owned(), style));
            }
        }
    }

    /// Wraps and emits the pending inline content.
    fn flush(&mut self) {
        while matches!(self.inline.last(), Some(Piece::Break)) {
            self.inline.pop();
        }
        if self.inline.is_empty() {
            return;
        }
        let pieces = std::mem::take(&mut self.inline);
        let (_, avail) = self.prefix_width();
        for content in wrap(&pieces, avail) {
            let (prefix, _) = self.prefix();
            self.emit(prefix, content);
        }
    }

    fn code_block(&mut self, lang: Option<&str>, code: &str) {
        let code = clean(code, "    ", true);
        let code = code.strip_suffix('\n').unwrap_or(&code);
        if code.is_empty() {
            return;
        }
        let base = self.styles.code_block;
        let highlighted =
            lang.and_then(|lang| highlight::highlight(code, lang, &self.styles.syntax));
        let source_lines: Vec<Vec<(Style, String)>> = match highlighted {
            Some(lines) => lines
                .into_iter()
                .map(|line| line.into_iter().map(|(s, t)| (base.patch(s), t)).collect())
                .collect(),
            None => code
                .split('\n')
                .map(|line| vec![(base, line.to_owned())])
                .collect(),
        };
        let (_, avail) = self.prefix_width();
        let rows: Vec<Vec<Span<'static>>> = source_lines
            .iter()
            .flat_map(|line| hard_wrap(line, avail))
            .collect();
        let widest = rows.iter().map(|row| spans_width(row)).max().unwrap_or(0);
        for mut row in rows {
            let pad = widest.saturating_sub(spans_width(&row));
            if pad > 0 {
                push_span(&mut row, &" ".repeat(pad), base);
            }
            let (prefix, _) = self.prefix();
            self.emit(prefix, row);
        }
    }

    /// The width of the container prefix, and the columns left for content. When the prefix would
    /// leave no room (deep nesting in a narrow pane) it is dropped rather than the content.
    fn prefix_width(&self) -> (usize, usize) {
        let prefix = self
            .containers
            .iter()
            .map(|container| match container {
                Container::Quote => 2,
                Container::Item { marker, .. } => marker.width(),
            })
            .sum::<usize>();
        if prefix < self.width {
            (prefix, self.width - prefix)
        } else {
            (0, self.width)
        }
    }

    /// The prefix for the next line, showing each list item's marker on its first line only.
    fn prefix(&mut self) -> (Vec<Span<'static>>, usize) {
        let (prefix_width, avail) = self.prefix_width();
        let mut spans = Vec::new();
        if prefix_width == 0 {
            return (spans, avail);
        }
        for container in &mut self.containers {
            match container {
                Container::Quote => push_span(&mut spans, "│ ", self.styles.quote),
                Container::Item {
                    marker,
                    marker_shown,
                } => {
                    if *marker_shown {
                        push_span(&mut spans, &" ".repeat(marker.width()), self.styles.text);
                    } else {
                        *marker_shown = true;
                        push_span(&mut spans, marker, self.styles.list_marker);
                    }
                }
            }
        }
        (spans, avail)
    }

    fn emit(&mut self, mut prefix: Vec<Span<'static>>, content: Vec<Span<'static>>) {
        prefix.extend(content);
        self.lines.push(Line::from(prefix));
    }

    /// A blank line between blocks: just the quote bars, if any.
    fn blank_line(&self) -> Line<'static> {
        let (prefix_width, _) = self.prefix_width();
        let mut spans = Vec::new();
        if prefix_width == 0 {
            return Line::default();
        }
        for container in &self.containers {
            match container {
                Container::Quote => push_span(&mut spans, "│ ", self.styles.quote),
                Container::Item { marker, .. } => {
                    push_span(&mut spans, &" ".repeat(marker.width()), self.styles.text);
                }
            }
        }
        while let Some(last) = spans.last_mut() {
            let trimmed = last.content.trim_end().to_owned();
            if trimmed.is_empty() {
                spans.pop();
            } else {
                last.content = trimmed.into();
                break;
            }
        }
        Line::from(spans)
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        self.flush();
        if let Some((lang, code)) = self.code.take() {
            self.code_block(lang.as_deref(), &code);
        }
        self.lines
    }
}

fn is_block(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Paragraph
            | Tag::Heading { .. }
            | Tag::BlockQuote(_)
            | Tag::CodeBlock(_)
            | Tag::HtmlBlock
            | Tag::List(_)
            | Tag::Item
    )
}

/// Drops control characters (and bidirectional overrides, as [`crate::sanitize`] does), replacing
/// a tab with `tab` and keeping `\n` only when `keep_newlines`.
fn clean(text: &str, tab: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' => out.push_str(tab),
            '\n' => out.push(' '),
            c if c.is_control() => {}
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A unit that is never split across lines: a character with the zero-width characters that
/// follow it, joined through zero-width joiners so an emoji sequence stays whole.
struct Cluster<'t> {
    text: &'t str,
    width: usize,
    style: Style,
    space: bool,
}

fn clusters(text: &str, style: Style) -> Vec<Cluster<'_>> {
    let mut out: Vec<Cluster<'_>> = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let joined = c == '\u{200d}';
        let next_attaches = chars.peek().is_some_and(|&(_, next)| {
            joined || next == '\u{200d}' || UnicodeWidthChar::width(next) == Some(0)
        });
        if next_attaches {
            continue;
        }
        let end = i + c.len_utf8();
        let piece = &text[start..end];
        out.push(Cluster {
            text: piece,
            width: piece.width(),
            style,
            space: piece == " ",
        });
        start = end;
    }
    out
}

/// Greedy word wrap of inline pieces into lines of at most `avail` columns.
fn wrap(pieces: &[Piece], avail: usize) -> Vec<Vec<Span<'static>>> {
    let mut wrapper = Wrapper {
        avail,
        lines: Vec::new(),
        line: Vec::new(),
        col: 0,
        spaces: Vec::new(),
        word: Vec::new(),
    };
    for piece in pieces {
        match piece {
            Piece::Break => {
                wrapper.place_word();
                wrapper.spaces.clear();
                wrapper.new_line();
            }
            Piece::Text(text, style) => {
                for cluster in clusters(text, *style) {
                    if cluster.space {
                        wrapper.place_word();
                        // Spaces at the start of a line are dropped.
                        if wrapper.col > 0 {
                            wrapper.spaces.push(cluster);
                        }
                    } else {
                        wrapper.word.push(cluster);
                    }
                }
            }
        }
    }
    wrapper.place_word();
    if !wrapper.line.is_empty() {
        wrapper.new_line();
    }
    wrapper.lines
}

struct Wrapper<'t> {
    avail: usize,
    lines: Vec<Vec<Span<'static>>>,
    line: Vec<Span<'static>>,
    col: usize,
    /// Spaces after the last word, written only if another word follows on the same line.
    spaces: Vec<Cluster<'t>>,
    word: Vec<Cluster<'t>>,
}

impl Wrapper<'_> {
    fn new_line(&mut self) {
        self.lines.push(std::mem::take(&mut self.line));
        self.col = 0;
    }

    fn place_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word_width: usize = self.word.iter().map(|c| c.width).sum();
        let space_width: usize = self.spaces.iter().map(|c| c.width).sum();
        let spaces = std::mem::take(&mut self.spaces);
        let fits_here = self.col + space_width + word_width <= self.avail;
        // A word longer than a whole line starts where it is, if there is room for some of it.
        let long_word_starts_here = word_width > self.avail && self.col + space_width < self.avail;
        if fits_here || long_word_starts_here {
            for space in &spaces {
                push_span(&mut self.line, space.text, space.style);
                self.col += space.width;
            }
        } else if self.col > 0 {
            self.new_line();
        }
        for cluster in std::mem::take(&mut self.word) {
            if self.col + cluster.width > self.avail && self.col > 0 {
                self.new_line();
            }
            let (text, width) = fit_cluster(&cluster, self.avail);
            push_span(&mut self.line, text, cluster.style);
            self.col += width;
        }
    }
}

/// A cluster wider than the whole line (a wide character in a one-column pane) becomes `…`.
fn fit_cluster<'c>(cluster: &Cluster<'c>, avail: usize) -> (&'c str, usize) {
    if cluster.width > avail {
        ("…", 1)
    } else {
        (cluster.text, cluster.width)
    }
}

/// Breaks one code line into rows of at most `avail` columns, keeping its styles.
fn hard_wrap(line: &[(Style, String)], avail: usize) -> Vec<Vec<Span<'static>>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut col = 0;
    for (style, text) in line {
        for cluster in clusters(text, *style) {
            if col + cluster.width > avail && col > 0 {
                rows.push(std::mem::take(&mut row));
                col = 0;
            }
            let (text, width) = fit_cluster(&cluster, avail);
            push_span(&mut row, text, cluster.style);
            col += width;
        }
    }
    rows.push(row);
    rows
}

/// Appends text to a line, extending the last span when the style is the same.
fn push_span(spans: &mut Vec<Span<'static>>, text: &str, style: Style) {
    match spans.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push_str(text),
        _ => spans.push(Span::styled(text.to_owned(), style)),
    }
}

fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|span| span.content.width()).sum()
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;

    use super::*;

    fn styles() -> MarkdownStyles {
        MarkdownStyles {
            text: Style::new().fg(Color::Indexed(1)),
            bold: Style::new().add_modifier(Modifier::BOLD),
            italic: Style::new().add_modifier(Modifier::ITALIC),
            code: Style::new().fg(Color::Indexed(3)),
            code_block: Style::new().bg(Color::Indexed(4)),
            link: Style::new()
                .fg(Color::Indexed(5))
                .add_modifier(Modifier::UNDERLINED),
            heading: Style::new()
                .fg(Color::Indexed(6))
                .add_modifier(Modifier::BOLD),
            quote: Style::new().fg(Color::Indexed(7)),
            list_marker: Style::new().fg(Color::Indexed(8)),
            syntax: SyntaxStyle::default(),
        }
    }

    fn lines(text: &str, width: u16) -> Vec<Line<'static>> {
        let lines = render(text, width, &styles());
        for line in &lines {
            assert!(
                line.width() <= usize::from(width),
                "{line:?} wider than {width}"
            );
        }
        lines
    }

    fn texts(text: &str, width: u16) -> Vec<String> {
        lines(text, width).iter().map(ToString::to_string).collect()
    }

    /// The style of the span whose text is exactly `content`.
    fn style_of(lines: &[Line<'_>], content: &str) -> Style {
        lines
            .iter()
            .flat_map(|line| &line.spans)
            .find(|span| span.content == content)
            .map(|span| span.style)
            .unwrap_or_else(|| panic!("no span {content:?} in {lines:?}"))
    }

    #[test]
    fn a_single_newline_is_a_line_break_and_blank_lines_are_kept() {
        assert_eq!(texts("one\ntwo", 40), ["one", "two"]);
        assert_eq!(texts("one\n\ntwo", 40), ["one", "", "two"]);
        assert_eq!(texts("hard  \nbreak", 40), ["hard", "break"]);
        assert_eq!(texts("Shopping:\n- milk", 40), ["Shopping:", "• milk"]);
        assert_eq!(
            texts("Shopping:\n\n- milk", 40),
            ["Shopping:", "", "• milk"]
        );
        assert_eq!(texts("# Title\nbody", 40), ["Title", "body"]);
    }

    #[test]
    fn inline_styles_patch_the_text_style() {
        let s = styles();
        let out = lines("plain **bold** *it* ~~gone~~ `code` ***both***", 80);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].to_string(), "plain bold it gone code both");
        assert_eq!(style_of(&out, "plain "), s.text);
        assert_eq!(style_of(&out, "bold"), s.text.patch(s.bold));
        assert_eq!(style_of(&out, "it"), s.text.patch(s.italic));
        assert_eq!(
            style_of(&out, "gone"),
            s.text.add_modifier(Modifier::CROSSED_OUT)
        );
        assert_eq!(style_of(&out, "code"), s.text.patch(s.code));
        assert_eq!(style_of(&out, "both"), s.text.patch(s.italic).patch(s.bold));
    }

    #[test]
    fn links_are_text_with_the_url_unless_the_label_is_the_url() {
        let s = styles();
        let out = lines("see [the docs](https://x.io/d) now", 80);
        assert_eq!(out[0].to_string(), "see the docs (https://x.io/d) now");
        assert_eq!(style_of(&out, "the docs"), s.text.patch(s.link));
        assert_eq!(style_of(&out, "https://x.io/d"), s.text.patch(s.link));
        assert_eq!(texts("<https://x.io>", 80), ["https://x.io"]);
        assert_eq!(texts("[https://x.io](https://x.io)", 80), ["https://x.io"]);
        assert_eq!(texts("<me@x.io>", 80), ["me@x.io"]);
        assert_eq!(texts("[](https://x.io)", 80), ["https://x.io"]);
        assert_eq!(texts("![a cat](cat.png)", 80), ["[image: a cat] (cat.png)"]);
        let rendered = lines("[x](https://x.io)", 80);
        assert!(
            rendered
                .iter()
                .flat_map(|l| &l.spans)
                .all(|s| !s.content.contains('\u{1b}'))
        );
    }

    #[test]
    fn headings_are_styled_without_hashes() {
        let s = styles();
        let out = lines("## Plans for *May*", 80);
        assert_eq!(out[0].to_string(), "Plans for May");
        assert_eq!(style_of(&out, "Plans for "), s.text.patch(s.heading));
        assert_eq!(
            style_of(&out, "May"),
            s.text.patch(s.heading).patch(s.italic)
        );
    }

    #[test]
    fn lists_nest_with_markers_and_a_hanging_indent() {
        let text = "- a\n  - b\n    - c\n- d\n\n3. three\n4. four";
        assert_eq!(
            texts(text, 40),
            ["• a", "  ◦ b", "    ▪ c", "• d", "", "3. three", "4. four"]
        );
        let out = lines("- one two three four", 10);
        assert_eq!(
            out.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["• one two", "  three", "  four"]
        );
        assert_eq!(style_of(&out, "• "), styles().list_marker);
        assert_eq!(
            texts("1. first\n\n   more\n2. second", 40),
            ["1. first", "", "   more", "2. second"]
        );
        assert_eq!(texts("-\n- x", 40), ["• ", "• x"]);
    }

    #[test]
    fn quotes_have_a_bar_and_the_quote_style() {
        let s = styles();
        let out = lines("> quoted\n> more\n>\n> > nested", 40);
        assert_eq!(
            out.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["│ quoted", "│ more", "│", "│ │ nested"]
        );
        assert_eq!(style_of(&out, "│ "), s.quote);
        assert_eq!(style_of(&out, "quoted"), s.text.patch(s.quote));
        assert_eq!(
            texts("> a long quoted line", 10),
            ["│ a long", "│ quoted", "│ line"]
        );
    }

    #[test]
    fn rules_span_the_width() {
        assert_eq!(texts("a\n\n---\n\nb", 5), ["a", "", "─────", "", "b"]);
        assert_eq!(texts("> ***", 5), ["│ ───"]);
    }

    #[test]
    fn fenced_rust_is_highlighted_over_the_code_block_style() {
        let s = styles();
        let out = lines("```rust\nfn main() { let x = 1; }\n```", 80);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].to_string(), "fn main() { let x = 1; }");
        let colours: std::collections::HashSet<_> =
            out[0].spans.iter().map(|span| span.style.fg).collect();
        assert!(colours.len() > 1, "{out:?}");
        assert!(
            out[0]
                .spans
                .iter()
                .all(|span| span.style.bg == s.code_block.bg)
        );
    }

    #[test]
    fn unknown_absent_and_indented_code_is_plain_and_padded() {
        let s = styles();
        for text in [
            "```klingon\nqapla'\nbatlh\n```",
            "```\nqapla'\nbatlh\n```",
            "    qapla'\n    batlh",
        ] {
            let out = lines(text, 40);
            assert_eq!(
                out.iter().map(ToString::to_string).collect::<Vec<_>>(),
                ["qapla'", "batlh "],
                "{text}"
            );
            assert!(
                out.iter()
                    .flat_map(|l| &l.spans)
                    .all(|span| span.style == s.code_block)
            );
        }
    }

    #[test]
    fn code_is_hard_wrapped_not_word_wrapped_and_tabs_are_four_spaces() {
        assert_eq!(
            texts("```\nlet value = 1;\n```", 6),
            ["let va", "lue = ", "1;    "]
        );
        assert_eq!(texts("```\n\tx\n```", 40), ["    x"]);
        assert_eq!(
            texts("- item\n\n  ```\n  code\n  ```", 40),
            ["• item", "", "  code"]
        );
    }

    #[test]
    fn raw_html_is_literal_text() {
        assert_eq!(texts("a <b>bold</b> claim", 40), ["a <b>bold</b> claim"]);
        assert_eq!(
            texts("<div>\nhello\n</div>", 40),
            ["<div>", "hello", "</div>"]
        );
    }

    #[test]
    fn wrapping_never_exceeds_the_width() {
        let text = "The quick brown fox jumps over the lazy dog. 日本語のテキストも折り返す。 \
                    supercalifragilisticexpialidocious https://example.com/a/very/long/path 🎉🎉🎉 \
                    > quote\n- list item with words\n  1. nested numbered item\n\n```rust\nfn f() {}\n```";
        for width in 1..=40 {
            lines(text, width);
        }
    }

    #[test]
    fn wide_characters_are_never_split() {
        let text = "你好世界你好世界";
        for width in 2..=9 {
            let out = texts(text, width);
            assert_eq!(out.concat(), text, "width {width}");
            for line in &out {
                assert!(line.width() <= usize::from(width));
            }
        }
        assert_eq!(texts("你好世界", 5), ["你好", "世界"]);
        assert_eq!(texts("ab 👍🏽 ok", 4), ["ab", "👍🏽", "ok"]);
        assert_eq!(texts("你", 1), ["…"]);
    }

    #[test]
    fn long_words_are_hard_broken_at_the_width() {
        assert_eq!(
            texts(&"a".repeat(25), 10),
            ["aaaaaaaaaa", "aaaaaaaaaa", "aaaaa"]
        );
        assert_eq!(texts("see abcdefghijkl", 10), ["see abcdef", "ghijkl"]);
        assert_eq!(texts("word abcdefghij", 10), ["word", "abcdefghij"]);
    }

    #[test]
    fn control_characters_are_stripped() {
        assert_eq!(texts("a\u{1b}[31mb\u{7}c\u{0}d\re", 40), ["a[31mbcde"]);
        assert_eq!(texts("x&#27;[2Jy &#x202e;z", 40), ["x[2Jy z"]);
        assert_eq!(texts("[l](http://a&#27;b)", 40), ["l (http://ab)"]);
        assert_eq!(texts("a\tb", 40), ["a b"]);
        assert_eq!(texts("```\na\u{1b}b\n```", 40), ["ab"]);
        for line in lines("&#27;&#155;&#7;\u{9b}x", 40) {
            assert!(!line.to_string().chars().any(char::is_control));
        }
    }

    #[test]
    fn zero_width_gives_nothing_and_rendering_is_deterministic() {
        assert!(render("hello", 0, &styles()).is_empty());
        assert!(render("", 10, &styles()).is_empty());
        let text = "# Hi\n- **a**\n```rust\nlet x = 1;\n```";
        assert_eq!(render(text, 20, &styles()), render(text, 20, &styles()));
    }

    #[test]
    fn snapshot_of_a_typical_message() {
        let text = "## Release checklist\n\
                    Before **Friday**, please:\n\
                    1. bump the version in `Cargo.toml`\n\
                    2. run the e2e suite — see [the wiki](https://wiki.example/e2e) for details\n   \
                    - flaky ones are listed in #42\n\
                    3. tag it\n\n\
                    > ship it 🚀 when green\n\n\
                    ```sh\ncargo test --workspace && git tag v0.3.0\n```\n\
                    ---\n\
                    thanks! 谢谢";
        insta::assert_snapshot!(texts(text, 40).join("\n"));
    }

    #[test]
    fn snapshot_of_a_narrow_pane() {
        let text = "Long *emphasised* words like antidisestablishmentarianism and a URL \
                    <https://example.com/some/long/path?with=query> wrap.\n\
                    - nested\n  - lists\n    - keep their indent even when narrow";
        insta::assert_snapshot!(texts(text, 16).join("\n"));
    }
}
