//! Event stream → arena tree, with the limits that keep hostile input cheap.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle as SaphyrStyle};

use super::documents::{self, MergeTag};
use super::marker::Offsets;
use super::{Entry, Node, NodeId, NodeKind, Piece, Scalar, ScalarStyle, Seg, Tree};
use crate::span::Span;

/// Inputs larger than this are refused before parsing.
pub const MAX_INPUT_BYTES: usize = 5 * 1024 * 1024;
/// Deeper nesting than this is refused (compose files nest about 6 deep).
pub const MAX_DEPTH: usize = 64;
/// How many nodes aliases may pull in, in total, before they are cut off.
pub const MAX_ALIAS_EXPANSION: u64 = 250_000;
/// Mappings with at least this many keys check duplicates through a hash map.
const SMALL_MAPPING: usize = 16;

/// A YAML-level problem; the `yaml` rules turn these into diagnostics.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlProblem {
    pub kind: YamlProblemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum YamlProblemKind {
    Syntax(String),
    /// A tab in indentation (YAML forbids it); the span covers the tabs.
    Tab,
    DuplicateKey {
        key: String,
        first: Span,
    },
    TooLarge {
        bytes: usize,
    },
    TooDeep,
    AliasExpansion,
    RecursiveAlias,
    MultipleDocuments,
    /// Accepted although YAML 1.2 forbids it, as PyYAML and go-yaml do.
    Lenient(String),
}

struct Frame {
    node: NodeId,
    pending_key: Option<NodeId>,
    /// Keys seen so far, once the mapping is large enough that scanning its
    /// entries for duplicates would be quadratic.
    key_index: Option<HashMap<String, Span>>,
    /// Reading frame of the parent at open: used to close the span.
    max_end: usize,
}

struct Builder<'a> {
    text: &'a str,
    offsets: Offsets<'a>,
    line_starts: Vec<usize>,
    tree: Tree,
    frames: Vec<Frame>,
    /// anchor id → node
    anchors: Vec<Option<NodeId>>,
    /// expanded size of each node (aliases count their target)
    weight: Vec<u64>,
    expansion: u64,
    expansion_reported: bool,
    problems: Vec<YamlProblem>,
    /// `!reset` / `!override` tags, for merging documents.
    merge_tags: Vec<(NodeId, MergeTag)>,
    /// First node of the current document: an alias to a node before it
    /// crosses documents, which go-yaml (and so compose) refuses.
    document_start: NodeId,
}

/// Parse `text` into a tree. A `None` tree means the document could not be read
/// at all (the problems say why); otherwise the tree may still carry problems.
/// Strict: see [`parse_recovering`] for what the editor and the CLI use.
pub fn parse(text: &str) -> (Option<Tree>, Vec<YamlProblem>) {
    if text.len() > MAX_INPUT_BYTES {
        return (None, vec![too_large(text)]);
    }
    let (ok, tree, problems) = build(text, usize::MAX);
    (ok.then_some(tree), problems)
}

fn too_large(text: &str) -> YamlProblem {
    YamlProblem {
        kind: YamlProblemKind::TooLarge { bytes: text.len() },
        span: Span::new(0, 0),
    }
}

/// `bases_from`: documents starting at or after this offset are layered
/// under the others (see [`parse_recovering_layered`]).
fn build(text: &str, bases_from: usize) -> (bool, Tree, Vec<YamlProblem>) {
    let mut builder = Builder {
        text,
        offsets: Offsets::new(text),
        line_starts: line_starts(text),
        tree: Tree::default(),
        frames: Vec::new(),
        anchors: Vec::new(),
        weight: Vec::new(),
        expansion: 0,
        expansion_reported: false,
        problems: Vec::new(),
        merge_tags: Vec::new(),
        document_start: 0,
    };
    let ok = builder.run();
    let Builder {
        mut tree,
        mut problems,
        merge_tags,
        ..
    } = builder;
    if ok && tree.documents.len() > 1 {
        drop_empty_documents(&tree, &mut problems);
        let docs = std::mem::take(&mut tree.documents);
        documents::merge(&mut tree, &docs, &merge_tags, bases_from);
        tree.documents = docs;
    }
    (ok, tree, problems)
}

/// What [`parse_recovering`] read.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// The tree; after a syntax error, the tree of the text with the broken
    /// blocks blanked out (see `blanked`).
    pub tree: Option<Tree>,
    pub problems: Vec<YamlProblem>,
    /// Source ranges left out after syntax errors, or whose tab indentation
    /// was read as spaces (empty when the text is valid).
    pub blanked: Vec<Span>,
}

impl Parsed {
    /// Whether the whole text was read (leniencies aside).
    pub fn complete(&self) -> bool {
        self.tree.is_some() && self.blanked.is_empty()
    }
}

/// How many re-parses leniency and recovery may cost, in total.
const MAX_REPARSES: usize = 16;

/// Parse like [`parse`], but (1) accept what PyYAML and go-yaml accept: flow
/// collections and quoted scalars whose continuation lines or closing bracket
/// are less indented than YAML 1.2 allows (reported as an info, not an error);
/// (2) after a real syntax error, blank out the broken block (the service or
/// top-level entry around the error) and read the rest, so later problems are
/// still reported. Every rewrite keeps byte offsets, so spans stay exact.
pub fn parse_recovering(text: &str) -> Parsed {
    parse_recovering_layered(text, usize::MAX)
}

/// [`parse_recovering`] for a text whose documents from `bases_from` on are
/// bases appended by the caller (`extends.file`, see `extends_file.rs`):
/// they are merged under the text's own documents, first, and the merged
/// nodes stand where the text's own are written.
pub fn parse_recovering_layered(text: &str, bases_from: usize) -> Parsed {
    if text.len() > MAX_INPUT_BYTES {
        return Parsed {
            tree: None,
            problems: vec![too_large(text)],
            blanked: Vec::new(),
        };
    }
    let mut patched: Option<Vec<u8>> = None;
    let mut kept: Vec<YamlProblem> = Vec::new();
    let mut blanked: Vec<Span> = Vec::new();
    let mut last_error = None;
    let mut retabbed: Vec<Span> = Vec::new();
    for _ in 0..=MAX_REPARSES {
        let current = patched.as_deref().map_or(text, |b| {
            std::str::from_utf8(b).expect("patches keep UTF-8")
        });
        let (ok, mut tree, mut problems) = build(current, bases_from);
        if ok {
            problems.extend(kept);
            if patched.is_some() && !text.is_ascii() {
                snap_to(text, &mut tree, &mut problems);
            }
            return Parsed {
                tree: Some(tree),
                problems,
                blanked,
            };
        }
        let Some(error) = problems.last().cloned() else {
            break;
        };
        let bytes = patched.get_or_insert_with(|| text.as_bytes().to_vec());
        if let YamlProblemKind::Syntax(info) = &error.kind {
            if let Some(lenient) = lenient_join(bytes, error.span.start, info) {
                kept.push(YamlProblem {
                    kind: YamlProblemKind::Lenient(lenient),
                    span: error.span,
                });
                continue;
            }
        }
        if !matches!(
            error.kind,
            YamlProblemKind::Syntax(_) | YamlProblemKind::Tab
        ) {
            break;
        }
        if error.kind == YamlProblemKind::Tab {
            // Read the tabs as spaces (one each, so offsets hold) and go on,
            // instead of blanking lines whose deeper neighbours would then
            // read as top-level keys. The structure is a guess: the line
            // counts as left out, so cross-reference rules stay quiet.
            kept.push(error.clone());
            for b in &mut bytes[error.span.start..error.span.end] {
                if *b == b'\t' {
                    *b = b' ';
                }
            }
            let line = line_around(bytes, error.span.start);
            // The guess may break on the line after (a key read as the
            // continuation of the one above): that error is the tab's too.
            let next = line_around(bytes, (line.end + 1).min(bytes.len()));
            retabbed.push(Span::new(line.start, next.end.max(line.end)));
            blanked.push(line);
            continue;
        }
        // Keep what the failed parse found before the error, then blank the
        // block; an error on (or just after) a line whose tabs were read as
        // spaces is the tab error again, already reported.
        if !retabbed
            .iter()
            .any(|l| l.start <= error.span.start && error.span.start <= l.end)
        {
            kept.push(error.clone());
        }
        let again = last_error == Some(error.span.start);
        last_error = Some(error.span.start);
        let Some(region) = broken_block(bytes, error.span.start, !again, &blanked) else {
            break;
        };
        for b in &mut bytes[region.start..region.end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
        blanked.push(region);
    }
    // Unrecoverable: report what the strict parse reports.
    let (_, problems) = parse(text);
    Parsed {
        tree: None,
        problems,
        blanked: Vec::new(),
    }
}

/// Make spans found in a patched text fit the original: a blanked or joined
/// multi-byte character became as many ASCII spaces, so a position between
/// two of them is no character boundary in the original.
fn snap_to(text: &str, tree: &mut Tree, problems: &mut [YamlProblem]) {
    for problem in problems {
        problem.span = problem.span.snapped(text);
        if let YamlProblemKind::DuplicateKey { first, .. } = &mut problem.kind {
            *first = first.snapped(text);
        }
    }
    for node in &mut tree.nodes {
        node.span = node.span.snapped(text);
        if let NodeKind::Scalar(Scalar {
            exact: Some(exact), ..
        }) = &mut node.kind
        {
            *exact = exact.snapped(text);
        }
    }
}

/// For an indentation error inside a flow collection or a quoted scalar, or a
/// closing `]`/`}` at its parent's indent: join the line to the previous one
/// (its line break and any comment become spaces). Returns what was accepted.
fn lenient_join(bytes: &mut [u8], at: usize, info: &str) -> Option<String> {
    let in_flow = info.contains("invalid indentation in flow construct");
    let in_quotes = info.contains("invalid indentation in quoted scalar");
    let closing = info == "invalid indentation" && matches!(bytes.get(at), Some(b']') | Some(b'}'));
    if !(in_flow || in_quotes || closing) {
        return None;
    }
    let line_start = bytes[..at.min(bytes.len())]
        .iter()
        .rposition(|b| *b == b'\n')?;
    // The quoted-scalar error points at the opening quote: find the first
    // under-indented continuation line after it instead.
    let line_start = if in_quotes {
        let mut i = line_start;
        let indent = indent_at(bytes, line_start + 1);
        let quote = *bytes.get(at)?;
        loop {
            let next = bytes[i + 1..].iter().position(|b| *b == b'\n')? + i + 1;
            if indent_at(bytes, next + 1) <= indent {
                // Only a scalar that really closes on that line, with nothing
                // but a comment or flow punctuation after it, is accepted.
                if !closes_quote(&bytes[next + 1..], quote) {
                    return None;
                }
                break next;
            }
            i = next;
        }
    } else {
        line_start
    };
    let prev_start = bytes[..line_start]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    if !in_quotes {
        // A comment on the previous line would swallow the joined text.
        if let Some(hash) = comment_start(&bytes[prev_start..line_start]) {
            for b in &mut bytes[prev_start + hash..line_start] {
                *b = b' ';
            }
        }
    }
    bytes[line_start] = b' ';
    if line_start > 0 && bytes[line_start - 1] == b'\r' {
        bytes[line_start - 1] = b' ';
    }
    Some(if in_quotes {
        "a quoted scalar continues on a line less indented than its key".to_owned()
    } else if in_flow {
        "a flow collection continues on a line less indented than its key".to_owned()
    } else {
        "a flow collection is closed at its key's indent".to_owned()
    })
}

/// Whether `line` holds the closing `quote` followed only by blanks, a
/// comment or flow punctuation.
fn closes_quote(line: &[u8], quote: u8) -> bool {
    let end = line.iter().position(|b| *b == b'\n').unwrap_or(line.len());
    let line = &line[..end];
    let mut i = 0;
    while i < line.len() {
        if quote == b'"' && line[i] == b'\\' {
            i += 2;
            continue;
        }
        if line[i] == quote {
            if quote == b'\'' && line.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            let rest = std::str::from_utf8(&line[i + 1..]).unwrap_or("#").trim();
            return rest.is_empty()
                || rest.starts_with('#')
                || rest.trim_start_matches([',', ']', '}', ' ']).is_empty();
        }
        i += 1;
    }
    false
}

/// The line holding `at`, without its line break.
fn line_around(bytes: &[u8], at: usize) -> Span {
    let at = at.min(bytes.len());
    let start = bytes[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let end = bytes[at..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| at + i);
    Span::new(start, end)
}

fn indent_at(bytes: &[u8], line_start: usize) -> usize {
    bytes[line_start.min(bytes.len())..]
        .iter()
        .take_while(|b| **b == b' ')
        .count()
}

/// Where a `#` comment starts on a line (outside quotes), if any.
fn comment_start(line: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in line.iter().enumerate() {
        match (quote, b) {
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'#') if i == 0 || line[i - 1] == b' ' => return Some(i),
            _ => {}
        }
    }
    None
}

/// The block to leave out for a syntax error at `at`: from the nearest line
/// above it indented at most two spaces (a top-level key or a service) to the
/// next line indented as little. An error at the start of a line, or on a line
/// that itself starts a block (an unclosed `[` or quote above runs into it), is
/// blamed on the lines before it when `blame_above`. `None` when nothing new
/// can be blanked.
fn broken_block(bytes: &[u8], at: usize, blame_above: bool, done: &[Span]) -> Option<Span> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            lines.push((start, i));
            start = i + 1;
        }
    }
    lines.push((start, bytes.len()));
    let content = |(s, e): (usize, usize)| {
        let line = text[s..e].trim();
        (!line.is_empty() && !line.starts_with('#')).then(|| indent_at(bytes, s))
    };
    let at = at.min(bytes.len());
    let mut error_line = lines.iter().rposition(|(s, _)| *s <= at)?;
    let (s, _) = lines[error_line];
    let starts_block = content(lines[error_line]).is_some_and(|n| n <= 2);
    if blame_above && (at <= s + indent_at(bytes, s) || starts_block) && error_line > 0 {
        error_line -= 1;
    }
    let (first, indent) = (0..=error_line)
        .rev()
        .find_map(|i| content(lines[i]).filter(|n| *n <= 2).map(|n| (i, n)))?;
    let last = (error_line + 1..lines.len())
        .find(|i| content(lines[*i]).is_some_and(|n| n <= indent))
        .unwrap_or(lines.len());
    let region = Span::new(lines[first].0, lines[last - 1].1);
    if region.is_empty()
        || done
            .iter()
            .any(|d| d.start <= region.start && region.end <= d.end)
    {
        return None;
    }
    Some(region)
}

/// A trailing `---` starts an empty document, which compose skips: no
/// Y008 for it. The n-th "another document" problem belongs to document n + 1.
fn drop_empty_documents(tree: &Tree, problems: &mut Vec<YamlProblem>) {
    let mut later = tree.documents.iter().skip(1);
    problems.retain(|p| {
        p.kind != YamlProblemKind::MultipleDocuments
            || later
                .next()
                .is_none_or(|doc| tree.shape(*doc) != super::Shape::Null)
    });
}

/// compose's `!reset` and `!override` tags (any handle: `!reset`, `!!reset`).
fn merge_tag(tag: &saphyr_parser::Tag) -> Option<MergeTag> {
    match tag.suffix.as_str() {
        "reset" => Some(MergeTag::Reset),
        "override" => Some(MergeTag::Override),
        _ => None,
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        text.bytes()
            .enumerate()
            .filter_map(|(i, b)| (b == b'\n').then_some(i + 1)),
    );
    starts
}

impl Builder<'_> {
    /// Returns false when the document is unusable.
    fn run(&mut self) -> bool {
        let mut documents = 0usize;
        for item in Parser::new_from_str(self.text) {
            let (event, span) = match item {
                Ok(pair) => pair,
                Err(error) => {
                    let at = self.byte(error.marker());
                    self.syntax_error(at, error.info());
                    return false;
                }
            };
            let span = Span::new(self.byte(&span.start), self.byte(&span.end));
            match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
                Event::DocumentStart(_) => {
                    self.document_start = self.tree.nodes.len() as NodeId;
                    if documents > 0 {
                        self.problems.push(YamlProblem {
                            kind: YamlProblemKind::MultipleDocuments,
                            span: Span::new(
                                span.start,
                                span.start + 3.min(self.text.len() - span.start),
                            ),
                        });
                    }
                }
                Event::DocumentEnd => documents += 1,
                Event::Scalar(value, style, anchor, tag) => {
                    let merge_tag = tag.as_deref().and_then(merge_tag);
                    let style = match style {
                        SaphyrStyle::Plain => ScalarStyle::Plain,
                        SaphyrStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                        SaphyrStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                        SaphyrStyle::Literal => ScalarStyle::Literal,
                        SaphyrStyle::Folded => ScalarStyle::Folded,
                    };
                    let exact = self.exact_span(span, &value, style);
                    let pieces = match (exact, style) {
                        (None, ScalarStyle::Plain) | (Some(_), _) => None,
                        (None, _) => self.pieces(span, &value, style),
                    };
                    let scalar = Scalar {
                        value: value.into_owned(),
                        style,
                        exact,
                        tagged: tag.is_some(),
                    };
                    let id = self.add(NodeKind::Scalar(scalar), span, 1);
                    if let Some(merge_tag) = merge_tag {
                        self.merge_tags.push((id, merge_tag));
                    }
                    if let Some(pieces) = pieces {
                        self.tree.pieces.push((id, pieces));
                    }
                    self.anchor(anchor, id);
                }
                Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                    let merge_tag = tag.as_deref().and_then(merge_tag);
                    if self.frames.len() >= MAX_DEPTH {
                        self.problems.push(YamlProblem {
                            kind: YamlProblemKind::TooDeep,
                            span: Span::new(span.start, (span.start + 1).min(self.text.len())),
                        });
                        return false;
                    }
                    let kind = if matches!(event, Event::MappingStart(..)) {
                        NodeKind::Mapping(Vec::new())
                    } else {
                        NodeKind::Sequence(Vec::new())
                    };
                    let id = self.add(kind, span, 1);
                    if let Some(merge_tag) = merge_tag {
                        self.merge_tags.push((id, merge_tag));
                    }
                    self.anchor(anchor, id);
                    self.frames.push(Frame {
                        node: id,
                        pending_key: None,
                        key_index: None,
                        max_end: span.end,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.frames.pop() else {
                        continue;
                    };
                    let node = frame.node as usize;
                    self.tree.nodes[node].span.end =
                        frame.max_end.max(self.tree.nodes[node].span.start);
                    // Flow collections end at their closing bracket.
                    if self
                        .text
                        .as_bytes()
                        .get(span.start)
                        .is_some_and(|b| matches!(b, b']' | b'}'))
                    {
                        self.tree.nodes[node].span.end = span.end;
                    }
                    let weight = 1 + self.children_weight(frame.node);
                    self.weight[node] = weight;
                    let end = self.tree.nodes[node].span.end;
                    if let Some(parent) = self.frames.last_mut() {
                        parent.max_end = parent.max_end.max(end);
                    }
                }
                Event::Alias(anchor) => {
                    let target = self.anchors.get(anchor).copied().flatten();
                    let id = match target {
                        Some(target) if self.frames.iter().any(|f| f.node == target) => {
                            self.problems.push(YamlProblem {
                                kind: YamlProblemKind::RecursiveAlias,
                                span,
                            });
                            self.add(NodeKind::Invalid, span, 1)
                        }
                        Some(target) => {
                            if target < self.document_start {
                                self.problems.push(YamlProblem {
                                    kind: YamlProblemKind::Syntax(
                                        "this alias names an anchor of an earlier document; \
                                         anchors do not cross `---` (compose refuses the file)"
                                            .to_owned(),
                                    ),
                                    span,
                                });
                            }
                            let weight = self.weight[target as usize];
                            self.expansion = self.expansion.saturating_add(weight);
                            if self.expansion > MAX_ALIAS_EXPANSION {
                                if !self.expansion_reported {
                                    self.expansion_reported = true;
                                    self.problems.push(YamlProblem {
                                        kind: YamlProblemKind::AliasExpansion,
                                        span,
                                    });
                                }
                                self.add(NodeKind::Invalid, span, 1)
                            } else {
                                self.add(NodeKind::Alias(target), span, weight)
                            }
                        }
                        None => {
                            self.syntax_error(span.start, "alias names an unknown anchor");
                            return false;
                        }
                    };
                    let _ = id;
                }
            }
        }
        true
    }

    fn children_weight(&self, id: NodeId) -> u64 {
        match &self.tree.node(id).kind {
            NodeKind::Mapping(entries) => entries.iter().fold(0u64, |acc, e| {
                acc.saturating_add(self.weight[e.key as usize])
                    .saturating_add(self.weight[e.value as usize])
            }),
            NodeKind::Sequence(items) => items
                .iter()
                .fold(0u64, |acc, i| acc.saturating_add(self.weight[*i as usize])),
            _ => 0,
        }
    }

    fn anchor(&mut self, anchor: usize, id: NodeId) {
        if anchor == 0 {
            return;
        }
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        self.anchors[anchor] = Some(id);
    }

    /// Create a node and hang it in the open collection.
    fn add(&mut self, kind: NodeKind, span: Span, weight: u64) -> NodeId {
        let id = self.tree.nodes.len() as NodeId;
        let (parent, seg) = match self.frames.last_mut() {
            None => {
                if self.tree.root.is_none() {
                    self.tree.root = Some(id);
                }
                self.tree.documents.push(id);
                (None, Seg::Root)
            }
            Some(frame) => {
                frame.max_end = frame.max_end.max(span.end);
                (Some(frame.node), Seg::Root)
            }
        };
        self.tree.nodes.push(Node {
            kind,
            span,
            parent,
            seg,
        });
        self.weight.push(weight);
        if let Some(parent) = parent {
            self.attach(parent, id);
        }
        self.note_candidate(id);
        id
    }

    /// Note the node for the rules that judge few nodes of every kind
    /// (`RuleCandidates`), while it is in the cache.
    fn note_candidate(&mut self, id: NodeId) {
        let node = &self.tree.nodes[id as usize];
        let is_key = matches!(node.seg, Seg::KeyOf(_));
        let candidates = &mut self.tree.candidates;
        match &node.kind {
            NodeKind::Scalar(s) => {
                // A verbatim scalar is looked at in the source.
                let source = s.exact.map(|at| &self.text.as_bytes()[at.start..at.end]);
                if is_key {
                    let may_be_odd = !s.tagged
                        && s.style == ScalarStyle::Plain
                        && source.is_none_or(|b| {
                            b.first()
                                .is_none_or(|c| super::scalar::may_start_non_string(*c))
                        });
                    if may_be_odd {
                        candidates.odd_keys.push(id);
                    }
                } else if source.map_or_else(|| s.value.contains('$'), |b| b.contains(&b'$')) {
                    candidates.dollar_values.push(id);
                }
            }
            NodeKind::Mapping(_) | NodeKind::Sequence(_) if is_key => candidates.odd_keys.push(id),
            _ => {}
        }
    }

    fn attach(&mut self, parent: NodeId, child: NodeId) {
        let frame = self.frames.last_mut().expect("parent frame is open");
        let is_mapping = matches!(self.tree.nodes[parent as usize].kind, NodeKind::Mapping(_));
        if !is_mapping {
            if let NodeKind::Sequence(items) = &mut self.tree.nodes[parent as usize].kind {
                let index = items.len() as u32;
                items.push(child);
                self.tree.nodes[child as usize].seg = Seg::Index(index);
            }
            return;
        }
        match frame.pending_key.take() {
            None => {
                frame.pending_key = Some(child);
                self.tree.nodes[child as usize].seg = Seg::KeyOf(child);
            }
            Some(key) => {
                self.tree.nodes[child as usize].seg = Seg::Key(key);
                let tree = &self.tree;
                let name = tree.str(key);
                let hash = name.map_or(0, super::key_hash);
                let entries = tree.own_entries(parent);
                // Duplicates: by hash among few entries (no string copies),
                // through a map of the keys in large mappings.
                let first = name.filter(|n| *n != "<<").and_then(|name| {
                    if frame.key_index.is_none() && entries.len() >= SMALL_MAPPING {
                        frame.key_index = Some(
                            entries
                                .iter()
                                .filter_map(|e| {
                                    Some((tree.str(e.key)?.to_owned(), tree.span(e.key)))
                                })
                                .collect(),
                        );
                    }
                    match &mut frame.key_index {
                        Some(index) => match index.get(name) {
                            Some(first) => Some(*first),
                            None => {
                                index.insert(name.to_owned(), tree.span(key));
                                None
                            }
                        },
                        None => entries
                            .iter()
                            .find(|e| e.hash == hash && tree.str(e.key) == Some(name))
                            .map(|e| tree.span(e.key)),
                    }
                    .map(|first| (name.to_owned(), first))
                });
                if let Some((name, first)) = first {
                    self.problems.push(YamlProblem {
                        kind: YamlProblemKind::DuplicateKey { key: name, first },
                        span: self.tree.span(key),
                    });
                    return;
                }
                if let NodeKind::Mapping(entries) = &mut self.tree.nodes[parent as usize].kind {
                    entries.push(Entry {
                        key,
                        value: child,
                        hash,
                    });
                }
            }
        }
    }

    fn syntax_error(&mut self, at: usize, info: &str) {
        let at = at.min(self.text.len());
        if info.contains("recursion limit") {
            self.problems.push(YamlProblem {
                kind: YamlProblemKind::TooDeep,
                span: Span::new(at, (at + 1).min(self.text.len())),
            });
            return;
        }
        if let Some(tabs) = self.tab_indentation_near(at, info.contains("tab")) {
            self.problems.push(YamlProblem {
                kind: YamlProblemKind::Tab,
                span: tabs,
            });
            return;
        }
        let end = self.text[at..]
            .chars()
            .next()
            .filter(|c| *c != '\n')
            .map_or(at, |c| at + c.len_utf8());
        self.problems.push(YamlProblem {
            kind: YamlProblemKind::Syntax(info.to_owned()),
            span: Span::new(at, end),
        });
    }

    /// The tabs in the leading whitespace of the error's line or the line
    /// before it (scanners often notice one line late).
    fn tab_indentation_near(&self, at: usize, about_tabs: bool) -> Option<Span> {
        let line = match self.line_starts.binary_search(&at) {
            Ok(l) => l,
            Err(next) => next - 1,
        };
        // A scanner error about a tab may stop at the end of the line before it.
        let next = if about_tabs { line + 1 } else { usize::MAX };
        for candidate in [line, line.wrapping_sub(1), next] {
            let Some(&start) = self.line_starts.get(candidate) else {
                continue;
            };
            let rest = &self.text[start..];
            let indent_len = rest
                .bytes()
                .take_while(|b| *b == b' ' || *b == b'\t')
                .count();
            let indent = &rest[..indent_len];
            if let (Some(first), Some(last)) = (indent.find('\t'), indent.rfind('\t')) {
                return Some(Span::new(start + first, start + last + 1));
            }
        }
        None
    }

    fn byte(&mut self, marker: &Marker) -> usize {
        self.offsets.byte(marker)
    }

    /// Where the value is written verbatim, if it is.
    fn exact_span(&self, span: Span, value: &str, style: ScalarStyle) -> Option<Span> {
        let source = self.text.get(span.start..span.end)?;
        match style {
            ScalarStyle::Plain => (source == value).then_some(span),
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let quote = if style == ScalarStyle::SingleQuoted {
                    '\''
                } else {
                    '"'
                };
                let inner = source.strip_prefix(quote)?.strip_suffix(quote)?;
                (inner == value).then(|| Span::new(span.start + 1, span.end - 1))
            }
            ScalarStyle::Literal | ScalarStyle::Folded => None,
        }
    }
}

impl Builder<'_> {
    /// Where the runs of a block or multi-line quoted scalar's value sit in the
    /// source: the value is the source less indentation, the block header,
    /// quotes and escapes, with line breaks folded, so its bytes appear in
    /// order; a greedy walk pairs them up (a break or blank in the value
    /// pairs with one in the source). Lets a reference inside a `|` block be
    /// located on itself.
    fn pieces(&self, span: Span, value: &str, style: ScalarStyle) -> Option<Box<[Piece]>> {
        let source = self.text.get(span.start..span.end)?.as_bytes();
        // A block scalar's span may or may not include its `|`/`>` header line.
        let from = match (style, source.first()) {
            (ScalarStyle::Literal | ScalarStyle::Folded, Some(b'|' | b'>')) => {
                source.iter().position(|b| *b == b'\n')? + 1
            }
            (ScalarStyle::Literal | ScalarStyle::Folded, _) => 0,
            _ => 1,
        };
        let value = value.as_bytes();
        let blank = |b: u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
        let mut pieces: Vec<Piece> = Vec::new();
        let (mut i, mut j) = (0usize, from);
        while i < value.len() && j < source.len() {
            let (v, c) = (value[i], source[j]);
            if v == c {
                let at = (span.start + j) as u32;
                match pieces.last_mut() {
                    Some(p) if p.value + p.len == i as u32 && p.source + p.len == at => p.len += 1,
                    _ => pieces.push(Piece {
                        value: i as u32,
                        source: at,
                        len: 1,
                    }),
                }
                i += 1;
                j += 1;
            } else if blank(v) && blank(c) {
                i += 1;
                j += 1;
            } else if blank(v) {
                // A break the value has and the source span does not (a
                // leading blank line, a kept final break).
                i += 1;
            } else {
                // Indentation, a line break, a quote or an escape.
                j += 1;
            }
        }
        (!pieces.is_empty()).then(|| pieces.into_boxed_slice())
    }
}
