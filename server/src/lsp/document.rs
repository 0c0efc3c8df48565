//! Open documents: text kept in sync by incremental changes, positions in the
//! negotiated encoding (UTF-16 by default, UTF-8 when the client offers it),
//! and the latest analysis.

use std::rc::Rc;

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};
use shared::{Analysis, LineIndex, Span};

/// How `Position.character` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Encoding {
    Utf8,
    Utf16,
}

pub(super) struct Document {
    pub text: String,
    pub version: i32,
    pub index: LineIndex,
    /// The analysis of `text`, once made (cleared by every change).
    pub analysis: Option<Rc<Analysis>>,
    /// The last analysis of a text that parsed: completion takes names from it
    /// while the text under the cursor is half-typed.
    pub last_parsed: Option<Rc<Analysis>>,
    /// When diagnostics were last pushed (for the debounce's leading edge).
    pub pushed_at: Option<std::time::Instant>,
    /// The other files the latest analysis read (`include`, `extends.file`):
    /// when one changes, this document's diagnostics are stale.
    pub deps: Vec<std::path::PathBuf>,
}

impl Document {
    pub(super) fn new(text: String, version: i32) -> Self {
        Document {
            index: LineIndex::new(&text),
            text,
            version,
            analysis: None,
            last_parsed: None,
            pushed_at: None,
            deps: Vec::new(),
        }
    }

    /// Apply one change; a range past the end is clamped, a reversed one ordered.
    pub(super) fn apply(&mut self, change: TextDocumentContentChangeEvent, encoding: Encoding) {
        match change.range {
            None => self.text = change.text,
            Some(range) => {
                let a = self.offset(range.start, encoding);
                let b = self.offset(range.end, encoding);
                let (start, end) = (a.min(b), a.max(b));
                self.text.replace_range(start..end, &change.text);
            }
        }
        self.index = LineIndex::new(&self.text);
        self.analysis = None;
    }

    /// Byte offset of a position (clamped to the line's end and the text's end).
    pub(super) fn offset(&self, position: Position, encoding: Encoding) -> usize {
        let line = position.line as usize;
        if line >= self.index.line_count() {
            return self.text.len();
        }
        let span = self.index.line_span(&self.text, line);
        let want = position.character as usize;
        let mut units = 0;
        for (i, ch) in self.text[span.start..span.end].char_indices() {
            if units >= want {
                return span.start + i;
            }
            units += match encoding {
                Encoding::Utf8 => ch.len_utf8(),
                Encoding::Utf16 => ch.len_utf16(),
            };
        }
        span.end
    }

    pub(super) fn position(&self, offset: usize, encoding: Encoding) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.index.line_of(offset);
        let start = self.index.line_start(line);
        let before = &self.text[start..offset];
        let character = match encoding {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.encode_utf16().count(),
        };
        Position::new(line as u32, character as u32)
    }

    pub(super) fn range(&self, span: Span, encoding: Encoding) -> Range {
        Range::new(
            self.position(span.start, encoding),
            self.position(span.end, encoding),
        )
    }

    pub(super) fn span(&self, range: Range, encoding: Encoding) -> Span {
        let a = self.offset(range.start, encoding);
        let b = self.offset(range.end, encoding);
        Span::new(a.min(b), a.max(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(range: Option<Range>, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range,
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_changes_in_utf16_and_utf8() {
        let mut d = Document::new("a: é😀x\nb: 1\n".into(), 1);
        // `x` is UTF-16 column 6 and UTF-8 column 9.
        let r = |c| Range::new(Position::new(0, c), Position::new(0, c + 1));
        d.apply(change(Some(r(6)), "y"), Encoding::Utf16);
        assert_eq!(d.text, "a: é😀y\nb: 1\n");
        d.apply(change(Some(r(9)), "z"), Encoding::Utf8);
        assert_eq!(d.text, "a: é😀z\nb: 1\n");
        assert_eq!(
            d.position(d.text.find('z').unwrap(), Encoding::Utf16),
            Position::new(0, 6)
        );
    }

    #[test]
    fn positions_past_the_end_are_clamped() {
        let mut d = Document::new("ab\ncd".into(), 1);
        let far = Position::new(99, 99);
        assert_eq!(d.offset(far, Encoding::Utf16), 5);
        assert_eq!(d.offset(Position::new(0, 99), Encoding::Utf16), 2);
        d.apply(
            change(Some(Range::new(far, Position::new(0, 1))), "!"),
            Encoding::Utf16,
        );
        assert_eq!(d.text, "a!");
        // Inside a surrogate pair: never splits a character.
        let d = Document::new("😀".into(), 1);
        assert_eq!(d.offset(Position::new(0, 1), Encoding::Utf16), 4);
    }
}
