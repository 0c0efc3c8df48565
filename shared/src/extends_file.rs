//! `extends: {file: other.yml, service: base}`: the base service from another
//! file, merged into the extending one as compose does.
//!
//! The core does no I/O: the caller gives the other files' texts in
//! [`crate::Options::files`] (keyed by path, nested ones resolved with
//! [`resolve_path`]) and the ones it could not read in
//! [`crate::Options::unreadable`]. Each file is parsed once. compose-go
//! (`loader/extends.go`) loads the base file raw, follows the base's own
//! `extends` (in its file or a further one), tracks `(file, service)` pairs
//! for cycles and merges with the same rules as `-f a -f b` layers; so each
//! base of the chain becomes one more YAML document *after* the text, in
//! flow style (aliases and `<<` expanded, its own `extends` left out), and
//! the document merge (`syntax/documents.rs`) layers those documents under
//! the text's own. The rules then judge the merged service with every rule.
//!
//! A finding on a token of an appended document is a problem that comes
//! from the base: it is reported once, on the extending service's `extends`
//! key, naming the base file, the line and the path there. The base file's
//! own tokens are judged only when that file is linted.
//!
//! A base that cannot be followed (an unreadable file, no such service, a
//! cycle across files, a chain deeper than [`MAX_DEPTH`]) is a located error
//! on the `extends.file` value (C016), and nothing of it is merged.

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::Diagnostic;
use crate::model::Spec;
use crate::span::{LineIndex, Span};
use crate::syntax::{self, NodeId, Shape, Tree};

/// The longest chain of bases followed across files.
pub const MAX_DEPTH: usize = 16;
/// The most text the appended bases may take (aliases expanded).
pub(crate) const MAX_RENDERED: usize = 1 << 20;

/// The path of a file named `written` in the file `from` (both as the caller
/// keys them: relative to the linted spec's directory), normalized (`./`,
/// `dir/../`). Absolute paths stay as they are.
///
/// ```
/// use shared::extends_file::resolve_path;
/// assert_eq!(resolve_path("common/base.yml", "db.yml"), "common/db.yml");
/// assert_eq!(resolve_path("common/base.yml", "../top.yml"), "top.yml");
/// assert_eq!(resolve_path("base.yml", "./x/../y.yml"), "y.yml");
/// assert_eq!(resolve_path("a/b.yml", "/etc/c.yml"), "/etc/c.yml");
/// ```
pub fn resolve_path(from: &str, written: &str) -> String {
    if written.starts_with('/') {
        return written.to_owned();
    }
    let dir = from.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/').chain(written.split('/')) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// The other files' `extends.file` and `include` names to read, beyond the
/// ones the spec names itself: what the files in `files` extend or include
/// in turn (keyed with
/// [`resolve_path`]). The CLI calls it until nothing new is named.
pub fn nested_files(files: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files {
        if !text.contains("extends") && !text.contains("include") {
            continue;
        }
        let (Some(tree), _) = syntax::parse(text) else {
            continue;
        };
        // An included file's own `include`s (see `include.rs`).
        for (written, _) in crate::include::included_paths(&tree) {
            let key = resolve_path(path, &written);
            if !files.contains_key(&key) && !out.contains(&key) {
                out.push(key);
            }
        }
        let Some(services) = services_of(&tree) else {
            continue;
        };
        for entry in tree.entries(services) {
            if let Some(file) = extends_of(&tree, entry.value).and_then(|(file, _)| file) {
                let key = resolve_path(path, file);
                if !files.contains_key(&key) && !out.contains(&key) {
                    out.push(key);
                }
            }
        }
    }
    out
}

/// A base that cannot be followed, located in the linted text.
#[derive(Clone, Debug)]
pub struct BaseError {
    pub span: Span,
    pub node: NodeId,
    pub message: String,
}

/// The bases to append after the text, and where each one's tokens came from.
#[derive(Debug, Default)]
pub(crate) struct Layers {
    pub(crate) suffix: String,
    pub(crate) blocks: Vec<Block>,
    /// The other files' texts, for lines in messages.
    pub(crate) texts: HashMap<String, String>,
}

/// One appended document: a base (`extends.file`) or an included file's
/// resources (`include`, see `include.rs`).
#[derive(Debug)]
pub(crate) struct Block {
    /// Range of the appended document, in the text + suffix.
    pub(crate) range: Span,
    /// Where its findings are reported in the text (the extending service's
    /// `extends` key, the `include` entry's path) and that token's path.
    pub(crate) anchor: Span,
    pub(crate) anchor_path: String,
    pub(crate) file: String,
    /// What the findings say they come from (``the base `db` in``).
    pub(crate) origin: String,
    /// Rendered range → the node it renders in the other file's tree, and
    /// that node's span and path there.
    pub(crate) nodes: Vec<(Span, Span, String)>,
}

/// Follow every `extends.file` of `spec`: the layers to append (empty when
/// none could be followed) and the bases that cannot be.
pub(crate) fn plan(
    text: &str,
    tree: &Tree,
    spec: &Spec,
    files: &BTreeMap<String, String>,
    unreadable: &BTreeMap<String, String>,
) -> (Layers, Vec<BaseError>) {
    let mut layers = Layers::default();
    let mut errors = Vec::new();
    if !spec
        .services
        .iter()
        .any(|s| s.extends.as_ref().is_some_and(|e| e.file.is_some()))
    {
        return (layers, errors);
    }
    let mut parsed: HashMap<String, Option<Tree>> = HashMap::new();
    for service in &spec.services {
        let Some(extends) = &service.extends else {
            continue;
        };
        let (Some(file), Some(base)) = (&extends.file, &extends.service) else {
            continue;
        };
        let own = &service.name.value;
        let mut fail = |message: String| {
            errors.push(BaseError {
                span: file.span,
                node: file.node,
                message: format!(
                    "service `{own}` extends `{}` in `{}`: {message}",
                    base.value, file.value
                ),
            });
        };
        let mut chain: Vec<(String, String, NodeId)> = Vec::new();
        let (mut path, mut name) = (file.value.clone(), base.value.clone());
        let complete = loop {
            if chain.len() >= MAX_DEPTH {
                fail(format!("the chain of bases is deeper than {MAX_DEPTH}"));
                break false;
            }
            if chain.iter().any(|(p, n, _)| *p == path && *n == name) {
                let mut names: Vec<String> =
                    chain.iter().map(|(p, n, _)| format!("{p}:{n}")).collect();
                names.push(format!("{path}:{name}"));
                fail(format!("the bases form a cycle: {}", names.join(" → ")));
                break false;
            }
            let Some(other) = parse_once(&mut parsed, files, &path) else {
                match unreadable.get(&path) {
                    Some(why) => fail(format!("cannot read `{path}`: {why}")),
                    None if files.contains_key(&path) => fail(format!(
                        "`{path}` is not a readable compose file (YAML syntax error)"
                    )),
                    // Not given (the editor has no files): not judged.
                    None => {}
                }
                break false;
            };
            let Some(services) = services_of(other) else {
                fail(format!("`{path}` has no `services` section"));
                break false;
            };
            let Some(node) = other.get_value(services, &name) else {
                // The first base missing is C016's own finding already.
                if !chain.is_empty() {
                    fail(format!("`{path}` does not define service `{name}`"));
                }
                break false;
            };
            chain.push((path.clone(), name.clone(), node));
            match extends_of(other, node) {
                None => break true,
                Some((next_file, next)) => {
                    if let Some(next_file) = next_file {
                        path = resolve_path(&path, next_file);
                    }
                    name = next.to_owned();
                }
            }
        };
        if !complete {
            continue;
        }
        let extends_key = service_extends_key(tree, service.node).unwrap_or(file.span);
        // Deepest base first: each layer goes under the ones after it. All
        // of the chain or none of it (a half-merged service would be judged
        // as something compose never builds).
        let (suffix_before, blocks_before) = (layers.suffix.len(), layers.blocks.len());
        for (path, name, node) in chain.into_iter().rev() {
            let other = parsed[&path].as_ref().expect("parsed above");
            let start = text.len() + layers.suffix.len();
            let mut out = String::from("\n---\n{\"services\": {");
            out.push_str(&json(own));
            out.push_str(": ");
            let mut nodes = Vec::new();
            let how = How {
                skip_extends: true,
                vars: None,
            };
            let fits = render(other, node, how, &mut out, &mut nodes, start, 0)
                && layers.suffix.len() + out.len() + 3 <= MAX_RENDERED;
            if !fits {
                fail(format!(
                    "the base `{name}` in `{path}` is too large to merge"
                ));
                layers.suffix.truncate(suffix_before);
                layers.blocks.truncate(blocks_before);
                break;
            }
            out.push_str("}}\n");
            layers.suffix.push_str(&out);
            layers.blocks.push(Block {
                range: Span::new(start, text.len() + layers.suffix.len()),
                anchor: extends_key,
                anchor_path: format!("{}/extends", tree.path(service.node)),
                file: path.clone(),
                origin: format!("the base `{name}` in"),
                nodes,
            });
            if let Some(source) = files.get(&path) {
                layers.texts.entry(path).or_insert_with(|| source.clone());
            }
        }
    }
    (layers, errors)
}

pub(crate) fn parse_once<'p>(
    parsed: &'p mut HashMap<String, Option<Tree>>,
    files: &BTreeMap<String, String>,
    path: &str,
) -> Option<&'p Tree> {
    parsed
        .entry(path.to_owned())
        .or_insert_with(|| files.get(path).and_then(|text| syntax::parse(text).0))
        .as_ref()
}

fn services_of(tree: &Tree) -> Option<NodeId> {
    let root = tree.root.filter(|r| tree.shape(*r) == Shape::Mapping)?;
    tree.get_value(root, "services")
        .filter(|s| tree.shape(*s) == Shape::Mapping)
}

/// A service's `extends`: `(file, service)`.
fn extends_of(tree: &Tree, service: NodeId) -> Option<(Option<&str>, &str)> {
    let extends = tree.get_value(service, "extends")?;
    match tree.shape(extends) {
        Shape::Scalar => Some((None, tree.str(extends)?)),
        Shape::Mapping => {
            let name = tree.str(tree.get_value(extends, "service")?)?;
            let file = tree.get_value(extends, "file").and_then(|f| tree.str(f));
            Some((file, name))
        }
        _ => None,
    }
}

fn service_extends_key(tree: &Tree, service: NodeId) -> Option<Span> {
    tree.get(service, "extends").map(|e| tree.span(e.key))
}

pub(crate) fn json(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// How [`render`] writes a node.
#[derive(Clone, Copy)]
pub(crate) struct How<'v> {
    /// Leave out the top mapping's `extends` (a base's own).
    pub(crate) skip_extends: bool,
    /// Interpolate strings with these variables first (an included file's
    /// own `env_file`), where every variable they name is known; what is
    /// left is interpolated with the spec's.
    pub(crate) vars: Option<&'v crate::interpolation::Vars>,
}

/// Write `node` as flow YAML (JSON with typed scalars), aliases and `<<`
/// expanded, as `how` says. Notes each rendered node's range. False past
/// the size or depth bound.
pub(crate) fn render(
    tree: &Tree,
    node: NodeId,
    how: How,
    out: &mut String,
    nodes: &mut Vec<(Span, Span, String)>,
    offset: usize,
    depth: usize,
) -> bool {
    if depth > syntax::MAX_DEPTH || out.len() > MAX_RENDERED {
        return false;
    }
    let start = out.len();
    match tree.shape(node) {
        Shape::Mapping => {
            out.push('{');
            let mut first = true;
            for entry in tree.entries(node) {
                let Some(key) = tree.str(entry.key) else {
                    continue;
                };
                if how.skip_extends && key == "extends" {
                    continue;
                }
                if !first {
                    out.push_str(", ");
                }
                first = false;
                let key_start = out.len();
                out.push_str(&json(key));
                nodes.push((
                    Span::new(offset + key_start, offset + out.len()),
                    tree.span(entry.key),
                    tree.path(entry.key),
                ));
                out.push_str(": ");
                let inner = How {
                    skip_extends: false,
                    ..how
                };
                if !render(tree, entry.value, inner, out, nodes, offset, depth + 1) {
                    return false;
                }
            }
            out.push('}');
        }
        Shape::Sequence => {
            out.push('[');
            for (i, item) in tree.items(node).iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let inner = How {
                    skip_extends: false,
                    ..how
                };
                if !render(tree, *item, inner, out, nodes, offset, depth + 1) {
                    return false;
                }
            }
            out.push(']');
        }
        _ => {
            use crate::syntax::ScalarValue;
            let resolved = tree.resolve(node);
            match tree.value(resolved) {
                None | Some(ScalarValue::Null) => out.push_str("null"),
                Some(ScalarValue::Bool(b)) => out.push_str(if b { "true" } else { "false" }),
                Some(ScalarValue::Int(_) | ScalarValue::Float(_)) => {
                    out.push_str(tree.str(resolved).unwrap_or("null"))
                }
                Some(ScalarValue::Str(s)) => out.push_str(&json(&interpolated(s, how.vars))),
            }
        }
    }
    nodes.push((
        Span::new(offset + start, offset + out.len()),
        tree.value_span(node),
        tree.path(node),
    ));
    true
}

/// `s` interpolated with `vars` when every variable it names is known
/// there (`$` escaped again, as the text is interpolated once more), else
/// as written.
fn interpolated<'s>(
    s: &'s str,
    vars: Option<&crate::interpolation::Vars>,
) -> std::borrow::Cow<'s, str> {
    use crate::interpolation::{interpolate, needs_interpolation};
    let Some(vars) = vars.filter(|_| needs_interpolation(s)) else {
        return s.into();
    };
    match interpolate(s, vars) {
        Ok(done) if !done.has_holes() && done.missing.is_empty() => {
            done.value.replace('$', "$$").into()
        }
        _ => s.into(),
    }
}

impl Layers {
    pub(crate) fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The findings of the text + suffix, for the text alone: those on the
    /// text's tokens as they are (less what points into the suffix); those
    /// on a base's tokens once each on the `extends` key, naming the base.
    pub(crate) fn map(&self, text_len: usize, diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
        let mut lines: HashMap<&str, LineIndex> = HashMap::new();
        for mut d in diagnostics {
            if d.span.start < text_len {
                d.related.retain(|r| r.span.end <= text_len);
                if d.fix
                    .as_ref()
                    .is_some_and(|f| f.edits.iter().any(|e| e.span.end > text_len))
                {
                    d.fix = None;
                }
                d.span.end = d.span.end.min(text_len);
                out.push(d);
                continue;
            }
            // The appended documents are well-formed: a YAML finding there
            // (another document, Y008) is about the appending itself.
            if d.code.starts_with('Y') {
                continue;
            }
            let Some(block) = self.blocks.iter().find(|b| b.range.contains(d.span.start)) else {
                continue;
            };
            let source = self
                .texts
                .get(&block.file)
                .map(String::as_str)
                .unwrap_or("");
            let at = block
                .nodes
                .iter()
                .filter(|(r, _, _)| r.start <= d.span.start && d.span.start <= r.end)
                .min_by_key(|(r, _, _)| r.len());
            let place = match at {
                Some((_, span, path)) => {
                    let index = lines
                        .entry(block.file.as_str())
                        .or_insert_with(|| LineIndex::new(source));
                    let line = index.position(source, span.start.min(source.len())).line;
                    format!("`{}` line {line}, `{path}`", block.file)
                }
                None => format!("`{}`", block.file),
            };
            d.message = format!("{} (from {} {place})", d.message, block.origin);
            d.span = block.anchor;
            d.path.clone_from(&block.anchor_path);
            d.related.clear();
            d.fix = None;
            if !out
                .iter()
                .any(|o| o.span == d.span && o.code == d.code && o.message == d.message)
            {
                out.push(d);
            }
        }
        out
    }
}
