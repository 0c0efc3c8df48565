//! Parser markers → byte offsets.
//!
//! `saphyr-parser` locates events with a character index, a line and a
//! column. The index is exact only for ASCII text: for a directive's name
//! and parameters (`%é x`) the scanner adds a *byte* count to it, so every
//! later index is off by the extra bytes (an error found later then points
//! at the wrong character, or, in a re-parsed patched text, between the
//! bytes of one). Line and column are counted per character everywhere and
//! the column starts again at every line, so non-ASCII text is converted
//! from those.

use saphyr_parser::Marker;

pub(super) struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    /// Where each line starts as the scanner counts lines (`\n`, `\r\n` and
    /// a lone `\r` end one); empty for ASCII text.
    lines: Vec<usize>,
    /// Last converted (line, column, byte offset): markers arrive nearly in
    /// order, so converting from here is linear overall.
    cursor: (usize, usize, usize),
}

impl<'a> Offsets<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let ascii = text.is_ascii();
        Offsets {
            text,
            ascii,
            lines: if ascii {
                Vec::new()
            } else {
                yaml_line_starts(text)
            },
            cursor: (usize::MAX, 0, 0),
        }
    }

    /// Byte offset of `marker`, always on a character boundary of the text.
    pub(super) fn byte(&mut self, marker: &Marker) -> usize {
        if self.ascii {
            return marker.index().min(self.text.len());
        }
        let text = self.text.as_bytes();
        let line = marker.line().saturating_sub(1);
        let Some(&line_start) = self.lines.get(line) else {
            // The scanner's virtual line after the last one.
            return text.len();
        };
        // The last byte a column may reach is the line's break: a column past
        // it only comes from a directive's miscount.
        let line_end = self.lines.get(line + 1).map_or(text.len(), |next| next - 1);
        let target = marker.col();
        let (mut col, mut at) = match self.cursor {
            (l, col, at) if l == line && col <= target => (col, at),
            // A step back on the same line (a collection's end after its last
            // scalar): walk back rather than from the line's start.
            (l, mut col, mut at) if l == line && col - target < target => {
                while col > target && at > line_start {
                    at -= 1;
                    while !self.text.is_char_boundary(at) {
                        at -= 1;
                    }
                    col -= 1;
                }
                (col, at)
            }
            _ => {
                // A byte order mark the scanner skips at a line's start is
                // not counted as a column.
                let mut at = line_start;
                while self.text[at..line_end].starts_with('\u{feff}') {
                    at += '\u{feff}'.len_utf8();
                }
                (0, at)
            }
        };
        while col < target && at < line_end {
            at += utf8_width(text[at]);
            col += 1;
        }
        self.cursor = (line, col, at);
        at
    }
}

/// Line starts as the scanner counts lines: after `\n`, and after a `\r`
/// that no `\n` follows.
fn yaml_line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

/// Length of the UTF-8 sequence that starts with `lead`.
fn utf8_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saphyr_parser::Parser;

    /// Byte offset of a character index (what the marker's index means
    /// when the scanner counts right).
    fn by_index(text: &str, index: usize) -> usize {
        text.char_indices()
            .nth(index)
            .map_or(text.len(), |(b, _)| b)
    }

    /// Every event and error marker of `text`, converted.
    fn converted(text: &str) -> Vec<(usize, usize)> {
        let mut offsets = Offsets {
            ascii: false,
            ..Offsets::new(text)
        };
        offsets.lines = yaml_line_starts(text);
        let mut out = Vec::new();
        for item in Parser::new_from_str(text) {
            let markers = match &item {
                Ok((_, span)) => vec![span.start, span.end],
                Err(e) => vec![*e.marker()],
            };
            for m in markers {
                out.push((by_index(text, m.index()), offsets.byte(&m)));
            }
            if item.is_err() {
                break;
            }
        }
        out
    }

    #[test]
    fn line_and_column_agree_with_the_index_where_the_index_is_right() {
        let pieces = [
            "é",
            "😀",
            "\u{fffd}",
            "a",
            ": ",
            "- ",
            "\n",
            "\r\n",
            "\r",
            "  ",
            "# é\n",
            "'q é'",
            "\"d\u{1}\"",
            "[",
            "]",
            "{",
            "}",
            ", ",
            "|\n",
            "\u{1}",
            "\0",
            "\t",
            "&a ",
            "*a",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..4000 {
            let mut text = String::new();
            for _ in 0..seed % 17 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            for (expected, got) in converted(&text) {
                assert_eq!(expected, got, "{text:?}");
            }
        }
    }

    #[test]
    fn a_directive_with_multi_byte_characters_does_not_shift_later_markers() {
        // The index runs ahead by the extra bytes of `é` and `ü`; line and
        // column do not.
        let text = "%é ü\n--- scalar\n";
        let mut offsets = Offsets::new(text);
        let scalar = Parser::new_from_str(text)
            .filter_map(Result::ok)
            .find(|(e, _)| matches!(e, saphyr_parser::Event::Scalar(..)))
            .unwrap()
            .1;
        // The scalar is character 9; saphyr says 11.
        assert_eq!(scalar.start.index(), 11, "saphyr's miscount was fixed?");
        let (start, end) = (offsets.byte(&scalar.start), offsets.byte(&scalar.end));
        assert_eq!(&text[start..end], "scalar");
    }
}
