//! The YAML layer: a spanned tree built from `saphyr-parser` events.
//!
//! We build our own arena tree instead of using `saphyr`'s loader because we need
//! byte spans on every key and value, duplicate keys reported as diagnostics
//! (the loader aborts), aliases kept shared (never expanded, so an alias bomb
//! costs nothing) and hard limits on size, depth and alias expansion.

mod build;
mod documents;
mod marker;
pub(crate) mod scalar;

pub use build::{
    parse, parse_recovering, parse_recovering_layered, Parsed, YamlProblem, YamlProblemKind,
    MAX_ALIAS_EXPANSION, MAX_DEPTH, MAX_INPUT_BYTES,
};
pub use documents::MAX_MERGED_DOCUMENTS;
pub use scalar::ScalarValue;

use crate::span::Span;

pub type NodeId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Clone, Debug)]
pub struct Scalar {
    pub value: String,
    pub style: ScalarStyle,
    /// Where `value` sits verbatim in the source, when it does (plain and simple
    /// quoted scalars). Lets a template reference inside the value keep its own span.
    pub exact: Option<Span>,
    /// Whether the scalar carried an explicit tag such as `!!str`.
    pub tagged: bool,
}

/// `value[value..value + len]` is written verbatim at `source..source + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub value: u32,
    pub source: u32,
    pub len: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub key: NodeId,
    pub value: NodeId,
    /// [`key_hash`] of the key's text: lookups compare it before they touch
    /// the key node, so looking up an absent key reads only this vector.
    pub(crate) hash: u32,
}

/// A cheap hash of a key's text (FNV-1a). Equal texts hash equal; lookups
/// confirm a match on the text itself.
pub(crate) fn key_hash(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// [`key_hash`] of `<<`.
const MERGE_KEY_HASH: u32 = {
    let mut h = 0x811c_9dc5u32;
    h = (h ^ b'<' as u32).wrapping_mul(0x0100_0193);
    (h ^ b'<' as u32).wrapping_mul(0x0100_0193)
};

#[derive(Clone, Debug)]
pub enum NodeKind {
    Scalar(Scalar),
    Mapping(Vec<Entry>),
    Sequence(Vec<NodeId>),
    /// An alias, pointing at the anchored node (shared, never copied).
    Alias(NodeId),
    /// A node dropped by a limit (depth, alias expansion): reads as null.
    Invalid,
}

/// Where a node hangs in its parent, for JSON-pointer paths.
#[derive(Clone, Copy, Debug)]
pub enum Seg {
    Root,
    /// The value of the entry whose key is this node.
    Key(NodeId),
    /// A key node itself (points at the same place as its value).
    KeyOf(NodeId),
    Index(u32),
}

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
    pub parent: Option<NodeId>,
    pub seg: Seg,
}

/// A parsed YAML document.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
    /// The document; with several documents, their merge (`documents.rs`).
    pub root: Option<NodeId>,
    /// The root of each document as written, when there are several.
    pub documents: Vec<NodeId>,
    /// Nodes some rules judge, noted while building (see [`RuleCandidates`]).
    pub(crate) candidates: RuleCandidates,
    /// For block (`|`, `>`) and multi-line quoted scalars, by node id
    /// (ascending): where runs of the value sit in the source, so a reference
    /// inside keeps its own span. Beside the nodes, not in them: few scalars
    /// have pieces, and every node would pay for the field.
    pieces: Vec<(NodeId, Box<[Piece]>)>,
}

/// Nodes noted by the builder as it creates them, in node order, so the
/// rules that would each walk every node (C014, C022) look only at these.
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleCandidates {
    /// Value scalars (not keys) whose text holds a `$`.
    pub dollar_values: Vec<NodeId>,
    /// Keys that are collections, or plain untagged scalars that may read as
    /// a null, a boolean or a number.
    pub odd_keys: Vec<NodeId>,
}

/// What a node is, once aliases are followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    Mapping,
    Sequence,
    Null,
}

impl Tree {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn span(&self, id: NodeId) -> Span {
        self.node(id).span
    }

    /// Follow an alias to the node it names.
    pub fn resolve(&self, id: NodeId) -> NodeId {
        match self.node(id).kind {
            NodeKind::Alias(target) => target,
            _ => id,
        }
    }

    pub fn shape(&self, id: NodeId) -> Shape {
        match &self.node(self.resolve(id)).kind {
            NodeKind::Scalar(s) if s.is_null() => Shape::Null,
            NodeKind::Scalar(_) => Shape::Scalar,
            NodeKind::Mapping(_) => Shape::Mapping,
            NodeKind::Sequence(_) => Shape::Sequence,
            NodeKind::Alias(_) | NodeKind::Invalid => Shape::Null,
        }
    }

    pub fn scalar(&self, id: NodeId) -> Option<&Scalar> {
        match &self.node(self.resolve(id)).kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar node (any style), `None` for collections.
    pub fn str(&self, id: NodeId) -> Option<&str> {
        self.scalar(id).map(|s| s.value.as_str())
    }

    /// A scalar read with the YAML 1.2 core schema.
    pub fn value(&self, id: NodeId) -> Option<ScalarValue<'_>> {
        self.scalar(id).map(Scalar::typed)
    }

    /// Entries of a mapping, own keys first, then keys merged in with `<<`
    /// (own keys win). Empty for anything that is not a mapping.
    pub fn entries(&self, id: NodeId) -> Vec<Entry> {
        let id = self.resolve(id);
        let NodeKind::Mapping(own) = &self.node(id).kind else {
            return Vec::new();
        };
        if !own
            .iter()
            .any(|e| e.hash == MERGE_KEY_HASH && self.is_merge_key(e.key))
        {
            return own.clone();
        }
        let mut out: Vec<Entry> = own
            .iter()
            .filter(|e| !self.is_merge_key(e.key))
            .copied()
            .collect();
        for merge in own.iter().filter(|e| self.is_merge_key(e.key)) {
            let sources: Vec<NodeId> = match self.shape(merge.value) {
                Shape::Mapping => vec![merge.value],
                Shape::Sequence => self.items(merge.value).to_vec(),
                _ => Vec::new(),
            };
            for source in sources {
                // Merged maps are not merged recursively beyond one level: the
                // alias-expansion limit already bounds what a merge can pull in.
                if let NodeKind::Mapping(theirs) = &self.node(self.resolve(source)).kind {
                    for entry in theirs {
                        let key = self.str(entry.key);
                        if !self.is_merge_key(entry.key)
                            && !out.iter().any(|e| self.str(e.key) == key)
                        {
                            out.push(*entry);
                        }
                    }
                }
            }
        }
        out
    }

    /// The own (non-merged) entries of a mapping as written.
    pub fn own_entries(&self, id: NodeId) -> &[Entry] {
        match &self.node(self.resolve(id)).kind {
            NodeKind::Mapping(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_merge_key(&self, key: NodeId) -> bool {
        matches!(self.scalar(key), Some(s) if s.value == "<<" && s.style == ScalarStyle::Plain)
    }

    /// Items of a sequence (empty for anything else).
    pub fn items(&self, id: NodeId) -> &[NodeId] {
        match &self.node(self.resolve(id)).kind {
            NodeKind::Sequence(items) => items,
            _ => &[],
        }
    }

    /// Look a key up in a mapping (merged keys included).
    pub fn get(&self, map: NodeId, key: &str) -> Option<Entry> {
        let own = self.own_entries(map);
        // Own keys win over merged ones, and most mappings merge nothing: look
        // there first without building the merged list, comparing hashes so
        // that an absent key (the common case in the rules) touches no key
        // node.
        let hash = key_hash(key);
        let mut merges = false;
        for entry in own {
            if entry.hash == hash && self.str(entry.key) == Some(key) {
                return Some(*entry);
            }
            merges |= entry.hash == MERGE_KEY_HASH && self.is_merge_key(entry.key);
        }
        if !merges {
            return None;
        }
        self.entries(map)
            .into_iter()
            .find(|e| self.str(e.key) == Some(key))
    }

    /// The value node under `key`, if present.
    pub fn get_value(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.get(map, key).map(|e| e.value)
    }

    /// Where the text of a scalar sits in the source; for a sub-range of its
    /// value, use [`Tree::sub_span`].
    pub fn value_span(&self, id: NodeId) -> Span {
        match self.scalar(id).and_then(|s| s.exact) {
            Some(span) if self.resolve(id) == id => span,
            _ => self.span(id),
        }
    }

    /// The source span of `value[from..to]` of a scalar: exact when the scalar
    /// is written verbatim or the range lies in one verbatim run of a block
    /// scalar, else the whole scalar.
    pub fn sub_span(&self, id: NodeId, from: usize, to: usize) -> Span {
        if self.resolve(id) != id {
            return self.span(id);
        }
        let Some(scalar) = self.scalar(id) else {
            return self.span(id);
        };
        if let Some(exact) = scalar.exact {
            return exact.slice(from, to);
        }
        let (from32, to32) = (from as u32, to as u32);
        self.pieces
            .binary_search_by_key(&id, |(node, _)| *node)
            .ok()
            .and_then(|at| {
                let pieces = &self.pieces[at].1;
                let i = pieces.partition_point(|p| p.value + p.len <= from32);
                let p = pieces.get(i)?;
                (p.value <= from32 && to32 <= p.value + p.len).then(|| {
                    let start = (p.source + (from32 - p.value)) as usize;
                    Span::new(start, start + (to - from))
                })
            })
            .unwrap_or_else(|| self.span(id))
    }

    /// JSON pointer of a node (`/services/Master/ports/0`). A node reached
    /// through an alias reports the path of its anchor.
    pub fn path(&self, id: NodeId) -> String {
        let mut segments = Vec::new();
        let mut current = Some(id);
        while let Some(node_id) = current {
            let node = self.node(node_id);
            match node.seg {
                Seg::Root => {}
                Seg::Key(key) | Seg::KeyOf(key) => {
                    segments.push(escape_pointer(self.str(key).unwrap_or("?")))
                }
                Seg::Index(i) => segments.push(i.to_string()),
            }
            current = node.parent;
        }
        if segments.is_empty() {
            return String::new();
        }
        segments.reverse();
        let mut out = String::new();
        for s in segments {
            out.push('/');
            out.push_str(&s);
        }
        out
    }
}

fn escape_pointer(segment: &str) -> String {
    if segment.contains(['~', '/']) {
        segment.replace('~', "~0").replace('/', "~1")
    } else {
        segment.to_owned()
    }
}

impl Scalar {
    pub fn is_null(&self) -> bool {
        self.style == ScalarStyle::Plain
            && !self.tagged
            && matches!(self.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }

    pub fn typed(&self) -> ScalarValue<'_> {
        ScalarValue::of(self)
    }
}
