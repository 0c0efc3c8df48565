//! Byte spans inside the core, and their conversion to line/column at the edges.
//!
//! Everything inside `shared` speaks in byte offsets into the spec text. Renderers
//! (CLI, JSON, SARIF, Monaco) convert through [`LineIndex`], which knows both
//! Unicode-scalar columns (what the CLI and JSON print) and UTF-16 columns (what
//! Monaco and LSP expect).

use serde::Serialize;

/// A half-open byte range `start..end` in the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub const fn empty(at: usize) -> Self {
        Span { start: at, end: at }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// A sub-range of this span, given offsets relative to its start.
    pub fn slice(&self, from: usize, to: usize) -> Span {
        Span::new(self.start + from, self.start + to)
    }

    pub fn contains(&self, offset: usize) -> bool {
        self.start <= offset && offset < self.end
    }

    /// Whether the span lies inside `text` on character boundaries (what
    /// slicing the text with it needs).
    pub fn fits(&self, text: &str) -> bool {
        self.start <= self.end
            && text.is_char_boundary(self.start)
            && text.is_char_boundary(self.end)
    }

    /// The span made to fit `text`: clamped to its length, the start moved
    /// back and the end forward to character boundaries, so it still covers
    /// every byte it covered (an empty span stays empty).
    pub fn snapped(&self, text: &str) -> Span {
        let mut end = self.end.min(text.len());
        let mut start = self.start.min(end);
        let point = start == end;
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        if point {
            // A point stays a point, before the character it fell into.
            return Span { start, end: start };
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        Span { start, end }
    }
}

/// A 1-based line and a 1-based column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A start and end [`Position`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

/// Maps byte offsets to lines and columns.
///
/// Built once per text in O(n); each lookup is a binary search over line starts
/// plus a scan of the one line (lines are short, so this stays cheap).
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 24 + 1);
        line_starts.push(0);
        line_starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        LineIndex {
            line_starts,
            len: text.len(),
        }
    }

    /// Number of lines (a trailing newline opens an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Zero-based line holding `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Byte range of a zero-based line, without its line break.
    pub fn line_span(&self, text: &str, line: usize) -> Span {
        let start = self.line_starts[line];
        let mut end = self.line_starts.get(line + 1).copied().unwrap_or(self.len);
        let bytes = text.as_bytes();
        while end > start && (bytes[end - 1] == b'\n' || bytes[end - 1] == b'\r') {
            end -= 1;
        }
        Span::new(start, end)
    }

    /// Byte offset where a zero-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line.min(self.line_starts.len() - 1)]
    }

    /// 1-based line and 1-based column counted in Unicode scalar values.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = clamp_to_char_boundary(text, offset);
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        Position {
            line: line + 1,
            column: text[start..offset].chars().count() + 1,
        }
    }

    /// 1-based line and 1-based column counted in UTF-16 code units (Monaco, LSP).
    pub fn position_utf16(&self, text: &str, offset: usize) -> Position {
        let offset = clamp_to_char_boundary(text, offset);
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        Position {
            line: line + 1,
            column: text[start..offset].encode_utf16().count() + 1,
        }
    }

    pub fn range(&self, text: &str, span: Span) -> Range {
        Range {
            start: self.position(text, span.start),
            end: self.position(text, span.end),
        }
    }

    pub fn range_utf16(&self, text: &str, span: Span) -> Range {
        Range {
            start: self.position_utf16(text, span.start),
            end: self.position_utf16(text, span.end),
        }
    }

    /// Byte offset of a 1-based line and 1-based UTF-16 column (the inverse of
    /// [`LineIndex::position_utf16`]); out-of-range values are clamped.
    pub fn offset_utf16(&self, text: &str, line: usize, column: usize) -> usize {
        let line = line.saturating_sub(1).min(self.line_starts.len() - 1);
        let span = self.line_span(text, line);
        let mut units = 0;
        for (i, ch) in text[span.start..span.end].char_indices() {
            if units + 1 >= column {
                return span.start + i;
            }
            units += ch.len_utf16();
        }
        span.end
    }
}

/// Offsets of line breaks: `\n`, and a `\r` not followed by `\n` (old Mac
/// line ends, which YAML and Monaco both honour).
fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes.iter().enumerate().filter_map(|(i, b)| {
        (*b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))).then_some(i)
    })
}

fn clamp_to_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_scalars_and_utf16_units() {
        let text = "a: é😀x\nb: 1\n";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.position(text, x), Position { line: 1, column: 6 });
        assert_eq!(
            index.position_utf16(text, x),
            Position { line: 1, column: 7 }
        );
        assert_eq!(index.offset_utf16(text, 1, 7), x);
        let b = text.find('b').unwrap();
        assert_eq!(index.position(text, b), Position { line: 2, column: 1 });
    }

    #[test]
    fn lone_carriage_returns_break_lines() {
        let text = "a\rb\r\nc";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 2), Position { line: 2, column: 1 });
        assert_eq!(index.position(text, 5), Position { line: 3, column: 1 });
        assert_eq!(index.line_span(text, 1), Span::new(2, 3));
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        let text = "ab";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 99), Position { line: 1, column: 3 });
    }

    #[test]
    fn snapping_widens_to_the_characters_touched() {
        // "é" is bytes 1..3, "😀" bytes 3..7.
        let text = "aé😀b";
        assert!(Span::new(1, 7).fits(text));
        assert!(!Span::new(2, 3).fits(text));
        assert!(!Span::new(0, 99).fits(text));
        assert_eq!(Span::new(2, 3).snapped(text), Span::new(1, 3));
        assert_eq!(Span::new(2, 5).snapped(text), Span::new(1, 7));
        assert_eq!(Span::new(4, 4).snapped(text), Span::new(3, 3));
        assert_eq!(Span::new(5, 99).snapped(text), Span::new(3, 8));
        assert_eq!(Span::new(99, 99).snapped(text), Span::new(8, 8));
    }
}
