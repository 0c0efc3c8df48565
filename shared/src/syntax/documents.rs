//! Several YAML documents in one file, merged the way compose-go merges
//! them: each document is a layer over the ones before it, in source order
//! (compose-go's `LoadLayer`; `TestLoadMultiDocumentYaml`), like `-f a -f b`.
//!
//! - mappings merge key by key, recursively; a key only one document has is
//!   kept as written;
//! - a later `key:` with no value keeps the earlier value (compose ignores
//!   a null override); `!reset` removes the key, `!override` replaces the
//!   value instead of merging it;
//! - lists are appended, and an earlier item the later list repeats is
//!   dropped (compose keeps one item per identity: the same text, the same
//!   `NAME` in `environment`/`labels`-style lists, the same `target` of a
//!   long-syntax mount, the same `key` of an api-param);
//! - a key written as a list in one document and as a mapping in the other
//!   (`environment`, `labels`, `depends_on`, `networks`, …) is read as
//!   mappings and merged by name;
//! - `command`, `entrypoint` and a healthcheck's `test` are replaced whole,
//!   and so is an extension key (`x-…`, at any depth: `x-omnistrate-compute`
//!   of a later document replaces the earlier one);
//! - anything else (a scalar, or two values of different shapes): the later
//!   value wins.
//!
//! Empty documents (a trailing `---`) are skipped; a document whose top level
//! is not a mapping is not merged (compose refuses the file: C013 reports it).
//!
//! The merged root is made of new collection nodes whose entries and items
//! are the written nodes, so every finding stays on the token where it is
//! written, in whichever document that is.

use std::collections::HashMap;

use super::{Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle, Seg, Shape, Tree};
use crate::span::Span;

/// A `!reset` or `!override` tag on a node of a later document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MergeTag {
    Reset,
    Override,
}

/// Documents beyond this many are not merged (Y008 says so).
pub const MAX_MERGED_DOCUMENTS: usize = 256;

/// Keys whose lists are replaced whole, not appended.
const REPLACED_LISTS: &[&str] = &["command", "entrypoint", "test"];

/// Lists whose `NAME=value` items are identified by `NAME`.
const KEYED_LISTS: &[&str] = &["environment", "labels", "annotations", "args", "sysctls"];

/// Keys written either as a list or as a mapping (`- A=1` / `A: 1`,
/// `- db` / `db: {condition: …}`): with one form in each document, both are
/// read as mappings and merged by name (compose-go's `mergeEnvironment`,
/// `TestMergeYamlLabelsMixed`, and its list-or-mapping normalization).
const TWO_FORMS: &[&str] = &[
    "environment",
    "labels",
    "annotations",
    "args",
    "sysctls",
    "extra_hosts",
    "depends_on",
    "networks",
];

/// Merge the mapping documents `docs` (roots, in order) into one new root
/// and make it the tree's root. `tags` are the `!reset`/`!override` tags.
/// Documents that start at or after `bases_from` are bases appended for
/// `extends.file`: they go first, under the others, and a merged node
/// stands where the text's own node is written.
pub(crate) fn merge(
    tree: &mut Tree,
    docs: &[NodeId],
    tags: &[(NodeId, MergeTag)],
    bases_from: usize,
) {
    let is_base = |tree: &Tree, d: NodeId| tree.span(d).start >= bases_from;
    let docs: Vec<NodeId> = docs
        .iter()
        .copied()
        .filter(|d| is_base(tree, *d))
        .chain(docs.iter().copied().filter(|d| !is_base(tree, *d)))
        .filter(|d| tree.shape(*d) == Shape::Mapping)
        .take(MAX_MERGED_DOCUMENTS)
        .collect();
    let Some((&first, rest)) = docs.split_first() else {
        return;
    };
    let mut merger = Merger {
        tree,
        tags: tags.iter().copied().collect(),
        bases_from,
    };
    let mut root = first;
    for &doc in rest {
        root = merger.value(root, doc, None);
    }
    tree.root = Some(root);
}

struct Merger<'a> {
    tree: &'a mut Tree,
    tags: HashMap<NodeId, MergeTag>,
    bases_from: usize,
}

impl Merger<'_> {
    fn tag(&self, id: NodeId) -> Option<MergeTag> {
        self.tags.get(&id).copied()
    }

    /// Whether the node is written in an appended base document.
    fn in_base(&self, id: NodeId) -> bool {
        self.tree.span(id).start >= self.bases_from
    }

    /// `later` layered over `earlier`, found under `key`.
    fn value(&mut self, earlier: NodeId, later: NodeId, key: Option<&str>) -> NodeId {
        if self.tag(later) == Some(MergeTag::Override) {
            return later;
        }
        let tree = &*self.tree;
        match (tree.shape(earlier), tree.shape(later)) {
            (_, Shape::Null) => earlier,
            (Shape::Mapping, Shape::Mapping) => self.mappings(earlier, later),
            (Shape::Sequence, Shape::Sequence)
                if !key.is_some_and(|k| REPLACED_LISTS.contains(&k)) =>
            {
                self.sequences(earlier, later, key)
            }
            // One form in each document: compose-go reads both as the same
            // entries by name and merges those (later wins).
            (Shape::Sequence, Shape::Mapping) | (Shape::Mapping, Shape::Sequence)
                if key.is_some_and(|k| TWO_FORMS.contains(&k)) =>
            {
                let key = key.unwrap_or_default();
                let earlier = self.as_mapping(earlier, key);
                let later = self.as_mapping(later, key);
                self.mappings(earlier, later)
            }
            _ => later,
        }
    }

    fn mappings(&mut self, earlier: NodeId, later: NodeId) -> NodeId {
        let tree = &*self.tree;
        let mut out: Vec<Entry> = tree.entries(earlier);
        let mut index: HashMap<String, usize> = out
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((tree.str(e.key)?.to_owned(), i)))
            .collect();
        let mut removed = vec![false; out.len()];
        for entry in tree.entries(later) {
            let Some(name) = self.tree.str(entry.key).map(str::to_owned) else {
                out.push(entry);
                continue;
            };
            match index.get(&name).copied() {
                Some(i) if self.tag(entry.value) == Some(MergeTag::Reset) => removed[i] = true,
                None if self.tag(entry.value) == Some(MergeTag::Reset) => {}
                Some(i) => {
                    let before = out[i];
                    // compose-go's `mergeMappings` replaces an extension
                    // (`x-…`) whole, at any depth, instead of merging it.
                    let value = if name.starts_with("x-") {
                        entry.value
                    } else {
                        self.value(before.value, entry.value, Some(&name))
                    };
                    // The key of the document whose value is kept.
                    let key = if value == before.value {
                        before.key
                    } else if value == entry.value || self.in_base(before.key) {
                        entry.key
                    } else {
                        before.key
                    };
                    out[i] = Entry {
                        key,
                        value,
                        hash: before.hash,
                    };
                    removed[i] = false;
                }
                None => {
                    index.insert(name, out.len());
                    out.push(entry);
                    removed.push(false);
                }
            }
        }
        let entries = out
            .into_iter()
            .zip(removed.iter().chain(std::iter::repeat(&false)))
            .filter(|(_, gone)| !**gone)
            .map(|(e, _)| e)
            .collect();
        let like = if self.in_base(earlier) {
            later
        } else {
            earlier
        };
        self.synthetic(like, NodeKind::Mapping(entries))
    }

    fn sequences(&mut self, earlier: NodeId, later: NodeId, key: Option<&str>) -> NodeId {
        let tree = &*self.tree;
        let keyed = key.is_some_and(|k| KEYED_LISTS.contains(&k));
        let ids = |items: &[NodeId]| -> Vec<Option<String>> {
            items.iter().map(|i| identity(tree, *i, keyed)).collect()
        };
        let theirs = tree.items(later).to_vec();
        let seen: std::collections::HashSet<String> = ids(&theirs).into_iter().flatten().collect();
        let mine = tree.items(earlier);
        let mut items: Vec<NodeId> = mine
            .iter()
            .zip(ids(mine))
            .filter(|(_, id)| !id.as_ref().is_some_and(|id| seen.contains(id)))
            .map(|(item, _)| *item)
            .collect();
        items.extend(theirs);
        let like = if self.in_base(earlier) {
            later
        } else {
            earlier
        };
        self.synthetic(like, NodeKind::Sequence(items))
    }

    /// A list form (`- NAME=value`, `- name`) read as the mapping form:
    /// each item's name and value become new scalars located on their part
    /// of the item, so findings stay on the item's text. A mapping is
    /// returned as it is.
    fn as_mapping(&mut self, node: NodeId, key: &str) -> NodeId {
        if self.tree.shape(node) != Shape::Sequence {
            return node;
        }
        let separators: &[char] = if key == "extra_hosts" {
            &['=', ':']
        } else {
            &['=']
        };
        let named = KEYED_LISTS.contains(&key) || key == "extra_hosts";
        let list = self.tree.resolve(node);
        let mut entries = Vec::new();
        for item in self.tree.items(list).to_vec() {
            let Some(scalar) = self.tree.scalar(item) else {
                continue;
            };
            let text = scalar.value.clone();
            let exact = scalar.exact;
            let at = exact.unwrap_or_else(|| self.tree.span(item));
            let split = named.then(|| text.find(separators)).flatten();
            let (name, value) = match split {
                Some(i) => (&text[..i], Some((&text[i + 1..], i + 1))),
                None => (text.as_str(), None),
            };
            let located = |from: usize, len: usize| -> Span {
                if exact.is_some() {
                    Span::new(at.start + from, at.start + from + len)
                } else {
                    at
                }
            };
            let key_id = self.scalar_node(name, located(0, name.len()), list, None);
            let value_id = match value {
                Some((value, from)) => {
                    self.scalar_node(value, located(from, value.len()), list, Some(key_id))
                }
                // `- NAME` (or a `depends_on`/`networks` name): no value.
                None => self.scalar_node("", located(name.len(), 0), list, Some(key_id)),
            };
            entries.push(Entry {
                key: key_id,
                value: value_id,
                hash: super::key_hash(name),
            });
        }
        self.synthetic(node, NodeKind::Mapping(entries))
    }

    /// A new plain scalar: a key (`of` is `None`) or the value of `of`.
    fn scalar_node(
        &mut self,
        value: &str,
        span: Span,
        parent: NodeId,
        of: Option<NodeId>,
    ) -> NodeId {
        let id = self.tree.nodes.len() as NodeId;
        self.tree.nodes.push(Node {
            kind: NodeKind::Scalar(Scalar {
                value: value.to_owned(),
                style: ScalarStyle::Plain,
                exact: Some(span),
                tagged: false,
            }),
            span,
            parent: Some(parent),
            seg: match of {
                None => Seg::KeyOf(id),
                Some(key) => Seg::Key(key),
            },
        });
        id
    }

    /// A new collection standing where `like` stands in the first document.
    fn synthetic(&mut self, like: NodeId, kind: NodeKind) -> NodeId {
        let model = self.tree.node(like);
        let node = Node {
            kind,
            span: model.span,
            parent: model.parent,
            seg: model.seg,
        };
        let id = self.tree.nodes.len() as NodeId;
        self.tree.nodes.push(node);
        id
    }
}

/// What makes two list items the same item for compose.
fn identity(tree: &Tree, item: NodeId, keyed: bool) -> Option<String> {
    match tree.shape(item) {
        Shape::Scalar => {
            let text = tree.str(item)?;
            Some(match (keyed, text.split_once('=')) {
                (true, Some((name, _))) => name.to_owned(),
                _ => text.to_owned(),
            })
        }
        Shape::Mapping => ["target", "key"].iter().find_map(|field| {
            let value = tree.str(tree.get_value(item, field)?)?;
            Some(format!("{field}\u{0}{value}"))
        }),
        _ => None,
    }
}
