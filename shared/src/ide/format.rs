//! The spec formatter: two-space indentation, one space after `key:` and `-`,
//! no trailing whitespace, at most one blank line in a row, one final newline.
//! Comments, key order, quoting and block scalars' contents are kept.
//!
//! It works line by line and then proves itself: the output must parse to the
//! same tree (same keys in the same order, same values and styles) as the
//! input, else nothing is changed. Text that does not parse is not formatted.

use crate::syntax::{self, NodeId, NodeKind, Tree};

/// The formatted text, or `None` when `text` does not parse or could not be
/// formatted without changing its meaning. Idempotent.
///
/// ```
/// let out = shared::ide::format("services:\n    Web:   \n        image:   nginx\n\n\n").unwrap();
/// assert_eq!(out, "services:\n  Web:\n    image: nginx\n");
/// ```
pub fn format(text: &str) -> Option<String> {
    let (before, _) = syntax::parse(text);
    let before = before?;
    let out = reindent(text)?;
    let (after, _) = syntax::parse(&out);
    (dump(&before) == dump(&after?)).then_some(out)
}

/// One open level: where its lines start in the input and in the output.
#[derive(Clone, Copy)]
struct Level {
    from: usize,
    to: usize,
}

fn reindent(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut levels: Vec<Level> = Vec::new();
    // Inside a block scalar: the owner line's input indent, its output indent
    // and, from the first content line on, the shift keeping lines relative.
    let mut block: Option<(usize, usize, Option<isize>)> = None;
    let mut blank_run = 0;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        if body.starts_with('\t') {
            return None;
        }
        if let Some((owner, owner_to, shift)) = block {
            if body.is_empty() {
                blank_run += 1;
                out.push('\n');
                continue;
            }
            if indent > owner {
                blank_run = 0;
                let shift = shift.unwrap_or(owner_to as isize + 2 - indent as isize);
                block = Some((owner, owner_to, Some(shift)));
                let to = (indent as isize + shift).max(0) as usize;
                push_line(&mut out, to, body);
                continue;
            }
            block = None;
        }
        let body = body.trim_end();
        if body.is_empty() {
            blank_run += 1;
            if blank_run == 1 && !out.is_empty() {
                out.push('\n');
            }
            continue;
        }
        blank_run = 0;
        if body.starts_with('#') {
            let to = level_for(&levels, indent);
            push_line(&mut out, to, body);
            continue;
        }
        while levels.len() > 1 && levels.last().is_some_and(|l| l.from > indent) {
            levels.pop();
        }
        if levels.is_empty() {
            // The document's first level, wherever it starts, is written at 0.
            levels.push(Level {
                from: indent,
                to: 0,
            });
        }
        let top = *levels.last()?;
        let to = if indent == top.from {
            top.to
        } else if indent > top.from {
            let l = Level {
                from: indent,
                to: top.to + 2,
            };
            levels.push(l);
            l.to
        } else {
            // Dedent to a column no open level uses: the YAML is odd; leave it.
            return None;
        };
        let body = tidy(body);
        // A list item: its content is a level of its own, two columns in.
        let mut rest = body.as_str();
        let mut col_in = indent;
        let mut col_out = to;
        while let Some(after) =
            rest.strip_prefix("- ")
                .or(if rest == "-" { Some("") } else { None })
        {
            let spaces = after.len() - after.trim_start_matches(' ').len();
            col_in += 2 + spaces;
            col_out += 2;
            rest = after.trim_start_matches(' ');
            if rest.is_empty() {
                break;
            }
            while levels.last().is_some_and(|l| l.from >= col_in) {
                levels.pop();
            }
            levels.push(Level {
                from: col_in,
                to: col_out,
            });
        }
        push_line(&mut out, to, &body);
        if opens_block_scalar(&body) {
            block = Some((indent, to, None));
        }
    }
    while out.ends_with('\n') {
        out.pop();
    }
    if !out.is_empty() {
        out.push('\n');
    }
    Some(out)
}

/// The output column for a comment at input column `indent`: that of the
/// deepest open level it reaches, two more when it sits deeper.
fn level_for(levels: &[Level], indent: usize) -> usize {
    match levels.iter().rev().find(|l| l.from <= indent) {
        Some(l) if indent > l.from => l.to + 2,
        Some(l) => l.to,
        None => 0,
    }
}

fn push_line(out: &mut String, indent: usize, body: &str) {
    for _ in 0..indent {
        out.push(' ');
    }
    out.push_str(body);
    out.push('\n');
}

/// One space after `- ` markers and after `key:` (plain keys, before a value).
fn tidy(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(after) = rest.strip_prefix('-').filter(|a| a.starts_with(' ')) {
        out.push_str("- ");
        rest = after.trim_start_matches(' ');
    }
    // `key:   value` → `key: value`, for simple plain keys only.
    let key_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$')))
        .unwrap_or(rest.len());
    if key_len > 0 {
        if let Some(after) = rest[key_len..].strip_prefix(':') {
            if after.starts_with(' ') {
                let value = after.trim_start_matches(' ');
                out.push_str(&rest[..key_len]);
                out.push(':');
                if !value.is_empty() {
                    out.push(' ');
                    out.push_str(value);
                }
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether a line ends in a block scalar header (`key: |`, `- >-`, `|+`).
fn opens_block_scalar(body: &str) -> bool {
    let value = match body.rfind(": ") {
        Some(i) => &body[i + 2..],
        None => body.trim_start_matches("- "),
    };
    let value = value.split(" #").next().unwrap_or(value).trim();
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>')) && chars.all(|c| matches!(c, '+' | '-' | '1'..='9'))
}

/// A structural fingerprint: keys in order, values with their styles.
fn dump(tree: &Tree) -> String {
    let mut out = String::new();
    if let Some(root) = tree.root {
        dump_node(tree, root, &mut out);
    }
    out
}

fn dump_node(tree: &Tree, id: NodeId, out: &mut String) {
    match &tree.node(id).kind {
        NodeKind::Scalar(s) => out.push_str(&format!("{:?}{:?}", s.style, s.value)),
        NodeKind::Mapping(entries) => {
            out.push('{');
            for e in entries {
                dump_node(tree, e.key, out);
                out.push(':');
                dump_node(tree, e.value, out);
                out.push(',');
            }
            out.push('}');
        }
        NodeKind::Sequence(items) => {
            out.push('[');
            for i in items {
                dump_node(tree, *i, out);
                out.push(',');
            }
            out.push(']');
        }
        NodeKind::Alias(target) => out.push_str(&format!("*{target}")),
        NodeKind::Invalid => out.push('!'),
    }
}
