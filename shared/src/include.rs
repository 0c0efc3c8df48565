//! Top-level `include`: each included file's resources judged as part of
//! the project, as compose does.
//!
//! compose-go (`loader/include.go`) loads each included file as its own
//! model (its own `include`s applied first) and copies its services,
//! networks, volumes, secrets, configs and models into the including one; a
//! name defined on both sides is an error ("services.db conflicts with
//! imported resource") unless the two definitions are identical. Here, as
//! for `extends.file` (`extends_file.rs`), the caller gives the texts in
//! [`crate::Options::files`], and each included file's resources become one
//! more YAML document appended after the text, so every rule judges them
//! with the rest of the project (references, ports clashing across files).
//!
//! A finding on an included token is reported once on the `include` entry
//! that brings it, naming the file, line and path there; the included file's
//! own tokens are judged when that file is linted. A conflict is an error on
//! the including file's definition (or on the later `include` entry when two
//! included files clash); an unreadable, cyclic or too deeply nested include
//! is an error on its entry (C025). Nothing of a file that cannot be
//! followed is appended.
//!
//! An included file is interpolated with its entry's `env_file`s (else the
//! `.env` of its project directory), which the caller gives in `files` too:
//! its strings are interpolated while they are appended wherever every
//! variable they name is known, and the rest with the spec's variables.

use std::collections::{BTreeMap, HashMap};

use crate::extends_file::{json, parse_once, render, resolve_path, BaseError, Block, How, Layers};
use crate::extends_file::{MAX_DEPTH, MAX_RENDERED};
use crate::interpolation::{parse_env_file, Vars};
use crate::span::{LineIndex, Span};
use crate::syntax::{NodeId, Shape, Tree};

/// What an included file brings into the project.
pub(crate) const KINDS: [&str; 6] = [
    "services", "networks", "volumes", "secrets", "configs", "models",
];

/// The paths of one `include` entry with the node each is written on:
/// `- a.yaml`, `- path: a.yaml`, `- path: [a.yaml, b.yaml]`.
pub(crate) fn entry_paths(tree: &Tree, item: NodeId) -> Vec<(String, NodeId)> {
    let node = match tree.shape(item) {
        Shape::Mapping => match tree.get_value(item, "path") {
            Some(path) => path,
            None => return Vec::new(),
        },
        _ => item,
    };
    let one = |n: NodeId| {
        tree.str(n)
            .filter(|s| !s.is_empty())
            .map(|s| (s.to_owned(), n))
    };
    match tree.shape(node) {
        Shape::Scalar => one(node).into_iter().collect(),
        Shape::Sequence => tree.items(node).iter().filter_map(|i| one(*i)).collect(),
        _ => Vec::new(),
    }
}

/// The env files an `include` entry reads, keyed as the spec's other files:
/// its `env_file`, else the `.env` of its `project_directory` (by default
/// the first path's directory), which compose reads when it exists.
pub(crate) fn entry_env_files(tree: &Tree, item: NodeId) -> Vec<String> {
    let written = |n: NodeId| -> Vec<String> {
        match tree.shape(n) {
            Shape::Scalar => tree.str(n).map(|s| vec![s.to_owned()]).unwrap_or_default(),
            Shape::Sequence => tree
                .items(n)
                .iter()
                .filter_map(|i| tree.str(*i).map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mapping = tree.shape(item) == Shape::Mapping;
    if let Some(env_file) = tree.get_value(item, "env_file").filter(|_| mapping) {
        return written(env_file)
            .iter()
            .filter(|w| !w.is_empty())
            .map(|w| resolve_path("", w))
            .collect();
    }
    let dir = match tree
        .get_value(item, "project_directory")
        .filter(|_| mapping)
    {
        Some(dir) => tree.str(dir).unwrap_or_default().to_owned(),
        None => match entry_paths(tree, item).first() {
            Some((path, _)) => path.rsplit_once('/').map_or("", |(d, _)| d).to_owned(),
            None => return Vec::new(),
        },
    };
    vec![resolve_path(&format!("{dir}/_"), ".env")]
}

/// The `include` entries' paths of a tree's root, if any.
pub(crate) fn included_paths(tree: &Tree) -> Vec<(String, NodeId)> {
    let Some(root) = tree.root.filter(|r| tree.shape(*r) == Shape::Mapping) else {
        return Vec::new();
    };
    let Some(include) = tree.get_value(root, "include") else {
        return Vec::new();
    };
    tree.items(include)
        .iter()
        .flat_map(|item| entry_paths(tree, *item))
        .collect()
}

/// One resource an included file defines.
struct Resource {
    kind: &'static str,
    name: String,
    file: String,
    key: NodeId,
    value: NodeId,
}

/// Where a name is defined already: its rendering (to tell identical
/// definitions from conflicting ones) and where.
struct Defined {
    rendered: String,
    /// The key in the linted text, or the file it was imported from.
    at: Result<(Span, NodeId), String>,
}

/// Follow every `include` of `tree` given in `files`: append the included
/// resources to `layers` and return the includes that cannot be followed
/// and the conflicts, located in the text.
pub(crate) fn plan(
    text: &str,
    tree: &Tree,
    files: &BTreeMap<String, String>,
    unreadable: &BTreeMap<String, String>,
    vars: &Vars,
    layers: &mut Layers,
) -> Vec<BaseError> {
    let mut errors = Vec::new();
    if files.is_empty() && unreadable.is_empty() {
        return errors;
    }
    let Some(root) = tree.root.filter(|r| tree.shape(*r) == Shape::Mapping) else {
        return errors;
    };
    let Some(include) = tree.get_value(root, "include") else {
        return errors;
    };
    // Each path with the variables its entry's env files add (compose
    // interpolates an included file with them; the spec's own win).
    let mut paths = Vec::new();
    for item in tree.items(include) {
        let texts: Vec<&String> = entry_env_files(tree, *item)
            .iter()
            .filter_map(|key| files.get(key))
            .collect();
        let env = (!texts.is_empty()).then(|| {
            let mut env = vars.clone();
            for text in texts {
                env.add_missing(parse_env_file(text));
            }
            env
        });
        for (written, node) in entry_paths(tree, *item) {
            paths.push((written, node, env.clone()));
        }
    }
    let mut defined: HashMap<(&str, String), Defined> = HashMap::new();
    for kind in KINDS {
        let Some(section) = tree.get_value(root, kind) else {
            continue;
        };
        for entry in tree.entries(section) {
            if let Some(name) = tree.str(entry.key) {
                defined.insert(
                    (kind, name.to_owned()),
                    Defined {
                        rendered: rendered(tree, entry.value),
                        at: Ok((tree.span(entry.key), entry.key)),
                    },
                );
            }
        }
    }
    let mut parsed: HashMap<String, Option<Tree>> = HashMap::new();
    let mut lines: HashMap<String, LineIndex> = HashMap::new();
    for (written, node, env) in paths {
        let span = tree.value_span(node);
        let fail = |errors: &mut Vec<BaseError>, message: String| {
            errors.push(BaseError {
                span,
                node,
                message: format!("`include` of `{written}`: {message}"),
            });
        };
        let mut found = Vec::new();
        match collect(
            &mut parsed,
            files,
            unreadable,
            &written,
            &mut Vec::new(),
            &mut found,
        ) {
            Err(why) => {
                fail(&mut errors, why);
                continue;
            }
            Ok(false) => continue,
            Ok(true) => {}
        }
        let mut line_of = |file: &str, at: Span| -> usize {
            let source = files.get(file).map_or("", String::as_str);
            lines
                .entry(file.to_owned())
                .or_insert_with(|| LineIndex::new(source))
                .position(source, at.start.min(source.len()))
                .line
        };
        // Conflicts first: what is kept is appended below, one document
        // per file it comes from.
        let mut kept: Vec<Resource> = Vec::new();
        for resource in found {
            let other = parsed[&resource.file].as_ref().expect("parsed in collect");
            let mine = rendered(other, resource.value);
            let line = line_of(&resource.file, other.span(resource.key));
            let id = format!("{}.{}", resource.kind, resource.name);
            match defined.get(&(resource.kind, resource.name.clone())) {
                Some(before) if before.rendered == mine => {}
                Some(Defined {
                    at: Ok((key, key_node)),
                    ..
                }) => errors.push(BaseError {
                    span: *key,
                    node: *key_node,
                    message: format!(
                        "`{id}` is also defined, differently, in the included `{}` (line {line}){}: \
                         compose refuses it (`{id}` conflicts with imported resource)",
                        resource.file,
                        if resource.file == written {
                            String::new()
                        } else {
                            format!(", through `{written}`")
                        }
                    ),
                }),
                Some(Defined { at: Err(from), .. }) => fail(
                    &mut errors,
                    format!(
                    "`{}` (line {line}) defines `{id}` differently from `{from}`: compose refuses \
                     it (`{id}` conflicts with imported resource)",
                        resource.file
                    ),
                ),
                None => {
                    defined.insert(
                        (resource.kind, resource.name.clone()),
                        Defined {
                            rendered: mine,
                            at: Err(resource.file.clone()),
                        },
                    );
                    kept.push(resource);
                }
            }
        }
        let (suffix_before, blocks_before) = (layers.suffix.len(), layers.blocks.len());
        let mut files_kept: Vec<&str> = Vec::new();
        for r in &kept {
            if !files_kept.contains(&r.file.as_str()) {
                files_kept.push(&r.file);
            }
        }
        for file in files_kept {
            let other = parsed[file].as_ref().expect("parsed in collect");
            if !append(text.len(), other, file, &kept, env.as_ref(), layers) {
                fail(&mut errors, format!("`{file}` is too large to merge"));
                layers.suffix.truncate(suffix_before);
                layers.blocks.truncate(blocks_before);
                break;
            }
            let block = layers.blocks.last_mut().expect("appended");
            block.anchor = span;
            block.anchor_path = tree.path(node);
            if let Some(source) = files.get(file) {
                layers
                    .texts
                    .entry(file.to_owned())
                    .or_insert_with(|| source.clone());
            }
        }
    }
    errors
}

/// One document with `file`'s kept resources, after the text and what is
/// appended already. False past the size bound.
fn append(
    text_len: usize,
    other: &Tree,
    file: &str,
    kept: &[Resource],
    vars: Option<&Vars>,
    layers: &mut Layers,
) -> bool {
    let start = text_len + layers.suffix.len();
    let mut out = String::from("\n---\n{");
    let mut nodes = Vec::new();
    let mut first_kind = true;
    for kind in KINDS {
        let mut first = true;
        for r in kept.iter().filter(|r| r.kind == kind && r.file == file) {
            if first {
                if !first_kind {
                    out.push_str(", ");
                }
                first_kind = false;
                out.push_str(&json(kind));
                out.push_str(": {");
            } else {
                out.push_str(", ");
            }
            first = false;
            let key_start = out.len();
            out.push_str(&json(&r.name));
            nodes.push((
                Span::new(start + key_start, start + out.len()),
                other.span(r.key),
                other.path(r.key),
            ));
            out.push_str(": ");
            let how = How {
                skip_extends: false,
                vars,
            };
            if !render(other, r.value, how, &mut out, &mut nodes, start, 0) {
                return false;
            }
        }
        if !first {
            out.push('}');
        }
    }
    out.push_str("}\n");
    if layers.suffix.len() + out.len() > MAX_RENDERED {
        return false;
    }
    layers.suffix.push_str(&out);
    layers.blocks.push(Block {
        range: Span::new(start, text_len + layers.suffix.len()),
        anchor: Span::default(),
        anchor_path: String::new(),
        file: file.to_owned(),
        origin: "the included".to_owned(),
        nodes,
    });
    true
}

fn rendered(tree: &Tree, node: NodeId) -> String {
    let mut out = String::new();
    let how = How {
        skip_extends: false,
        vars: None,
    };
    render(tree, node, how, &mut out, &mut Vec::new(), 0, 0);
    out
}

/// The resources `path` brings, its own `include`s first (paths relative
/// to it). `Ok(false)`: the file was not given (not judged).
fn collect(
    parsed: &mut HashMap<String, Option<Tree>>,
    files: &BTreeMap<String, String>,
    unreadable: &BTreeMap<String, String>,
    path: &str,
    chain: &mut Vec<String>,
    found: &mut Vec<Resource>,
) -> Result<bool, String> {
    if chain.iter().any(|p| p == path) {
        let mut names = chain.clone();
        names.push(path.to_owned());
        return Err(format!("the includes form a cycle: {}", names.join(" → ")));
    }
    if chain.len() >= MAX_DEPTH {
        return Err(format!("includes are nested deeper than {MAX_DEPTH}"));
    }
    let Some(other) = parse_once(parsed, files, path) else {
        return match unreadable.get(path) {
            Some(why) => Err(format!("cannot read `{path}`: {why}")),
            None if files.contains_key(path) => Err(format!(
                "`{path}` is not a readable compose file (YAML syntax error)"
            )),
            None => Ok(false),
        };
    };
    let Some(root) = other.root else {
        return Ok(true);
    };
    if other.shape(root) != Shape::Mapping {
        return Err(format!("`{path}` is not a mapping of compose keys"));
    }
    let nested: Vec<String> = included_paths(other)
        .into_iter()
        .map(|(written, _)| resolve_path(path, &written))
        .collect();
    let mut own = Vec::new();
    for kind in KINDS {
        if let Some(section) = other.get_value(root, kind) {
            for entry in other.entries(section) {
                if let Some(name) = other.str(entry.key) {
                    own.push(Resource {
                        kind,
                        name: name.to_owned(),
                        file: path.to_owned(),
                        key: entry.key,
                        value: entry.value,
                    });
                }
            }
        }
    }
    chain.push(path.to_owned());
    for next in nested {
        collect(parsed, files, unreadable, &next, chain, found)?;
    }
    chain.pop();
    found.extend(own);
    Ok(true)
}
