//! Small helpers shared by the compose rules.

use std::collections::HashSet;

use crate::diagnostic::Fix;
use crate::model::keys;
use crate::rules::{Context, Sink};
use crate::span::Span;
use crate::syntax::{NodeId, ScalarValue, Shape, Tree};

/// The span of a node's text, or of the whole node when the text is empty
/// (`""`), so a caret always has something to sit on.
pub(super) fn token_span(tree: &Tree, node: NodeId) -> Span {
    let span = tree.value_span(node);
    if span.is_empty() {
        tree.span(node)
    } else {
        span
    }
}

/// A span cut at its first line break: a block collection is pointed at by
/// its first line, not underlined as a whole.
pub(super) fn first_line(text: &str, span: Span) -> Span {
    let end = text
        .get(span.start..span.end)
        .and_then(|s| s.find(['\n', '\r']))
        .map_or(span.end, |i| span.start + i);
    Span::new(span.start, end)
}

/// A fix renaming `old` to `new`, offered only when `span` holds exactly `old`
/// in the source (not an escaped or folded scalar, where the edit would be wrong).
pub(super) fn rename(text: &str, span: Span, old: &str, new: &str) -> Option<Fix> {
    (text.get(span.start..span.end) == Some(old))
        .then(|| Fix::replace(format!("Rename to `{new}`"), span, new))
}

/// What a node is, for messages: `a list`, `a mapping`, `null`, `a string`…
pub(super) fn describe(tree: &Tree, node: NodeId) -> &'static str {
    match tree.shape(node) {
        Shape::Mapping => "a mapping",
        Shape::Sequence => "a list",
        Shape::Null => "null",
        Shape::Scalar => match tree.value(node) {
            Some(ScalarValue::Bool(_)) => "a boolean",
            Some(ScalarValue::Int(_)) => "an integer",
            Some(ScalarValue::Float(_)) => "a number",
            _ => "a string",
        },
    }
}

/// Whether a name is a compose variable (`${VOLUME}`), checked only at deploy time.
pub(super) fn is_interpolated(name: &str) -> bool {
    name.contains('$')
}

/// How many names one rule may compare for "did you mean" per spec: past
/// this, a pathological spec (thousands of unknown names among thousands of
/// services) gets no more suggestions rather than a quadratic run time.
const SUGGESTION_BUDGET: usize = 100_000;

/// "Did you mean" over a fixed set of names, with [`keys::did_you_mean`].
pub(super) struct Suggester<'a> {
    /// Each candidate with its length in chars, shortest first.
    candidates: Vec<(&'a str, usize)>,
    /// Edit distances left to compute.
    budget: usize,
}

impl<'a> Suggester<'a> {
    pub(super) fn new(candidates: impl IntoIterator<Item = &'a str>) -> Self {
        let mut candidates: Vec<(&'a str, usize)> = candidates
            .into_iter()
            .map(|c| (c, c.chars().count()))
            .collect();
        candidates.sort_by_key(|(_, n)| *n);
        Suggester {
            candidates,
            budget: SUGGESTION_BUDGET,
        }
    }

    /// The closest candidate to `word`, never `except`.
    pub(super) fn suggest(&mut self, word: &str, except: Option<&str>) -> Option<&'a str> {
        if self.budget == 0 {
            return None;
        }
        // `did_you_mean` allows at most 4 edits, and an edit distance is at
        // least the difference in length.
        let len = word.chars().count();
        let from = self
            .candidates
            .partition_point(|(_, n)| *n < len.saturating_sub(4));
        let to = self.candidates.partition_point(|(_, n)| *n <= len + 4);
        let near = &self.candidates[from..to.max(from)];
        let work = near.len().max(1);
        if work > self.budget {
            self.budget = 0;
            return None;
        }
        self.budget -= work;
        keys::did_you_mean(
            word,
            near.iter().map(|(c, _)| *c).filter(|c| Some(*c) != except),
        )
    }
}

/// Report every key of `map` that `schema` does not know (`x-*` keys are
/// extensions and pass), with a did-you-mean and, when safe, a rename fix.
pub(super) fn report_unknown_keys(
    ctx: &Context,
    sink: &mut Sink,
    map: NodeId,
    schema: &keys::ObjectSchema,
    suggester: &mut Suggester,
) {
    let tree = ctx.tree;
    let entries = tree.entries(map);
    let present: HashSet<&str> = entries.iter().filter_map(|e| tree.str(e.key)).collect();
    for entry in &entries {
        let Some(key) = tree.str(entry.key) else {
            continue;
        };
        if key.starts_with("x-") || schema.field(key).is_some() {
            continue;
        }
        let span = token_span(tree, entry.key);
        let suggestion = suggester.suggest(key, None);
        let diagnostic = sink.at_span(
            span,
            Some(entry.key),
            format!("unknown {} key `{key}`", schema.name),
        );
        let Some(suggestion) = suggestion else {
            continue;
        };
        if present.contains(suggestion) {
            diagnostic.help(format!(
                "Did you mean `{suggestion}`? It is already set here: merge the two or remove this one."
            ));
        } else {
            diagnostic.help(format!("Did you mean `{suggestion}`?"));
            if let Some(fix) = rename(ctx.text, span, key, suggestion) {
                diagnostic.fix(fix);
            }
        }
    }
}

/// A suggester over a schema's current (non-deprecated) keys.
pub(super) fn schema_suggester(schema: &keys::ObjectSchema) -> Suggester<'static> {
    Suggester::new(
        schema
            .fields
            .iter()
            .filter(|f| f.deprecated_by.is_none())
            .map(|f| f.key),
    )
}
