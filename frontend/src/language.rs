//! The page's adapter over `shared::ide` (the editor intelligence the page and
//! `specstudio lsp` share): converts Monaco's 1-based lines and UTF-16
//! columns to byte offsets and the core's spans back to ranges.

use shared::span::{LineIndex, Range, Span};
use shared::Analysis;

pub use shared::ide::ItemKind;

/// A completion item with its Monaco range.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: ItemKind,
    pub insert: String,
    pub detail: Option<String>,
    pub doc: Option<String>,
    /// What the item replaces.
    pub range: Range,
}

fn offset(text: &str, index: &LineIndex, line: u32, column: u32) -> usize {
    index.offset_utf16(text, line as usize, column as usize)
}

/// Markdown for the hover at a position, and the range it covers.
pub fn hover(
    text: &str,
    analysis: &Analysis,
    line: u32,
    column: u32,
) -> Option<(String, Option<Range>)> {
    let index = LineIndex::new(text);
    let h = shared::ide::hover(analysis, offset(text, &index, line, column))?;
    Some((h.markdown, h.span.map(|s| index.range_utf16(text, s))))
}

/// Completions at a position (`analysis` may be of the last text that parsed).
pub fn complete(text: &str, analysis: &Analysis, line: u32, column: u32) -> Vec<Completion> {
    let index = LineIndex::new(text);
    shared::ide::complete(text, analysis, offset(text, &index, line, column))
        .into_iter()
        .map(|c| Completion {
            label: c.label,
            kind: c.kind,
            insert: c.insert,
            detail: c.detail,
            doc: c.doc,
            range: index.range_utf16(text, c.span),
        })
        .collect()
}

/// The range of the declaration of the name at a position.
pub fn definition(text: &str, analysis: &Analysis, line: u32, column: u32) -> Option<Range> {
    let index = LineIndex::new(text);
    let span = shared::ide::definition(analysis, offset(text, &index, line, column))?;
    Some(index.range_utf16(text, span))
}

/// Every range naming the symbol at a position (declaration included).
pub fn references(text: &str, analysis: &Analysis, line: u32, column: u32) -> Vec<Range> {
    let index = LineIndex::new(text);
    shared::ide::references(analysis, offset(text, &index, line, column), true)
        .into_iter()
        .map(|s| index.range_utf16(text, s))
        .collect()
}

/// "Format Document": one edit replacing the whole text, or none when the
/// text is already formatted or does not parse.
pub fn format(text: &str) -> Vec<(Range, String)> {
    match shared::ide::format(text) {
        Some(out) if out != text => {
            let index = LineIndex::new(text);
            vec![(index.range_utf16(text, Span::new(0, text.len())), out)]
        }
        _ => Vec::new(),
    }
}

/// "Ignore CODE here" for one finding.
#[derive(Clone, Debug, PartialEq)]
pub struct IgnoreAction {
    /// Index of the finding in `analysis.diagnostics`.
    pub diagnostic: usize,
    pub title: String,
    /// One edit: a `# specstudio-ignore: CODE` comment on the line above, at its indent.
    pub edits: Vec<(Range, String)>,
}

/// "Ignore CODE here" for each finding touching `range`.
pub fn ignore_actions(text: &str, analysis: &Analysis, range: Range) -> Vec<IgnoreAction> {
    let index = LineIndex::new(text);
    let start = offset(
        text,
        &index,
        range.start.line as u32,
        range.start.column as u32,
    );
    let end = offset(text, &index, range.end.line as u32, range.end.column as u32);
    shared::ide::code_actions(text, analysis, Span::new(start.min(end), end.max(start)))
        .into_iter()
        .filter(|a| !a.preferred)
        .map(|a| {
            let edits = a
                .edits
                .iter()
                .map(|e| (index.range_utf16(text, e.span), e.replacement.clone()))
                .collect();
            IgnoreAction {
                diagnostic: a.diagnostic,
                title: a.title,
                edits,
            }
        })
        .collect()
}

/// The byte span of a service's name, for "reveal in editor".
pub fn service_span(analysis: &Analysis, name: &str) -> Option<Span> {
    shared::ide::service_span(analysis, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../examples/serverless-mysql-master-replica.yaml");

    fn pos(text: &str, needle: &str, plus: usize) -> (u32, u32) {
        let index = LineIndex::new(text);
        let p = index.position_utf16(text, text.find(needle).unwrap() + plus);
        (p.line as u32, p.column as u32)
    }

    #[test]
    fn positions_cross_the_boundary_in_utf16() {
        // A non-ASCII comment before the cursor shifts bytes but not lines.
        let text = SEED.replace("version: \"3\"", "version: \"3\" # é😀");
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "replicaCountAPIParam", 3);
        let (md, range) = hover(&text, &a, l, c).unwrap();
        assert!(md.contains("replicaCountAPIParam"), "{md}");
        assert_eq!(range.unwrap().start.line, l as usize);
        let (l, c) = pos(&text, "$master.sys", 3);
        let def = definition(&text, &a, l, c).unwrap();
        assert_eq!(
            (def.start.line, def.start.column),
            (pos(&text, "  Master:", 2).0 as usize, 3)
        );
        assert_eq!(references(&text, &a, l, c).len(), 4);
    }

    #[test]
    fn completion_ranges_are_monaco_ranges() {
        let text = SEED.replace("dependentResourceKey: Master", "dependentResourceKey: Ma");
        let a = shared::analyze(&text);
        let (l, c) = pos(&text, "dependentResourceKey: Ma", 24);
        let items = complete(&text, &a, l, c);
        let master = items.iter().find(|i| i.label == "Master").unwrap();
        assert_eq!(master.range.start.column as u32, c - 2);
        assert_eq!(master.range.end.column as u32, c);
    }

    #[test]
    fn ignore_actions_comment_the_line_above_at_its_indent() {
        let text = "services:\n  Web:\n    image: nginx\n    x-omnistrate-capabilities:\n      endpointPerReplica: true\n";
        let a = shared::analyze(text);
        let (l, c) = pos(text, "endpointPerReplica", 2);
        let at = shared::span::Position {
            line: l as usize,
            column: c as usize,
        };
        let actions = ignore_actions(text, &a, Range { start: at, end: at });
        let IgnoreAction {
            diagnostic: i,
            title,
            edits,
        } = actions
            .iter()
            .find(|x| x.title.contains("O002"))
            .expect("an ignore action for O002");
        assert_eq!(a.diagnostics[*i].code, "O002");
        assert!(title.starts_with("Ignore O002 here"), "{title}");
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].1, "      # specstudio-ignore: O002\n");
        assert_eq!(
            (edits[0].0.start.line, edits[0].0.start.column),
            (l as usize, 1)
        );
        // Applied, the finding is gone.
        let mut fixed = text.to_owned();
        let line_start = fixed
            .match_indices('\n')
            .nth(l as usize - 2)
            .map_or(0, |(p, _)| p + 1);
        fixed.insert_str(line_start, &edits[0].1);
        assert!(shared::analyze(&fixed)
            .diagnostics
            .iter()
            .all(|d| d.code != "O002"));
    }

    #[test]
    fn format_is_one_edit_or_none() {
        assert!(format(SEED).is_empty());
        let messy = SEED.replace("  Master:\n    image:", "  Master:\n    image:    ");
        let edits = format(&messy);
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].1, SEED);
    }
}
#[cfg(test)]
mod bench {
    #[test]
    #[ignore]
    fn time_analyze() {
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let t = std::time::Instant::now();
        for _ in 0..200 {
            let a = shared::analyze(seed);
            std::hint::black_box(a);
        }
        eprintln!("analyze seed: {:?}/iter", t.elapsed() / 200);
        // 200 services: the seed with 197 more copies of `Replica`.
        let start = seed.find("  Replica:\n").unwrap();
        let end = seed.find("  ParameterGroup:\n").unwrap();
        let mut big = seed[..end].to_owned();
        for i in 2..199 {
            big.push_str(&seed[start..end].replacen(
                "  Replica:\n",
                &format!("  Replica{i}:\n"),
                1,
            ));
        }
        big.push_str(&seed[end..]);
        {
            let t = std::time::Instant::now();
            let (tree, _) = shared::syntax::parse(&big);
            eprintln!("parse big: {:?}", t.elapsed());
            let t = std::time::Instant::now();
            let spec = shared::Spec::read(&tree.unwrap());
            eprintln!("model big: {:?}", t.elapsed());
            let t = std::time::Instant::now();
            let _g = shared::Graph::build(&spec);
            eprintln!("graph big: {:?}", t.elapsed());
            let t = std::time::Instant::now();
            let a = shared::analyze(&big);
            eprintln!(
                "analyze big: {:?} ({} diagnostics)",
                t.elapsed(),
                a.diagnostics.len()
            );
            let t = std::time::Instant::now();
            let index = shared::LineIndex::new(&big);
            for d in &a.diagnostics {
                std::hint::black_box(index.range_utf16(&big, d.span));
            }
            eprintln!("ranges big: {:?}", t.elapsed());
        }
    }
}
