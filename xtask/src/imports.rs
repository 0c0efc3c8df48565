//! `cargo run -p xtask -- check-imports [DIR]`: fails when the modules of a
//! crate's source tree (default `frontend/src`) import each other in a circle.
//!
//! Why: the page's modules are layered (pure models → bindings → `state` →
//! views → `app`); a module that imports "back up" (a view from `state`, a
//! parent from its child) makes every change ripple both ways. Each `.rs` file
//! is a module; an edge is a `mod child;` declaration or a `crate::…`,
//! `super::…`, `self::…` or declared-child path, resolved to the longest
//! module prefix it names. Only real cycles fail; a module may use itself.
//!
//! Example: `state.rs` with `use crate::app::Ctx;` while `app.rs` has
//! `use crate::state::Route;` → `error: import circle: app → state → app`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module path (`""` for the crate root, `deploy::form`) → its file.
fn modules(src: &Path) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut files = Vec::new();
    collect(src, &mut files)?;
    let mut out = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).map_err(|e| e.to_string())?;
        let mut parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let last = parts.pop().unwrap_or_default();
        let stem = last.trim_end_matches(".rs");
        if !matches!(stem, "mod" | "lib" | "main") {
            parts.push(stem.to_owned());
        }
        out.insert(parts.join("::"), file);
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Drop comment lines (doc comments name modules without importing them).
fn code_of(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths that follow `prefix::` at `rest`, `use` groups expanded
/// (`{a, b::{c, d}}` → `a`, `b::c`, `b::d`).
fn expand(prefix: &str, rest: &str, out: &mut Vec<String>) {
    let path: String = rest
        .chars()
        .take_while(|&c| is_ident(c) || c == ':')
        .collect();
    let full = format!("{prefix}{path}");
    let after = &rest[path.len()..];
    if (full.is_empty() || full.ends_with("::")) && after.starts_with('{') {
        // A group: split at top-level commas up to the matching brace.
        let (mut depth, mut start) = (0, 1);
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    expand(&full, after[start..i].trim_start(), out);
                    start = i + 1;
                    if c == '}' {
                        return;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        return;
    }
    out.push(full.trim_end_matches("::").to_owned());
}

/// The module paths `module`'s code names, absolute from the crate root.
fn references(module: &str, code: &str) -> BTreeSet<String> {
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    let mut children = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start().trim_start_matches("pub ");
        if let Some(name) = line.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
            children.insert(name.trim().to_owned());
        }
    }
    let join = |base: &str, rest: &str| match (base.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_owned(),
        (false, true) => base.to_owned(),
        (false, false) => format!("{base}::{rest}"),
    };
    let mut out: BTreeSet<String> = children.iter().map(|c| join(module, c)).collect();
    let mut paths = Vec::new();
    for (i, _) in code.match_indices("::") {
        // The identifier right before this `::`, when it starts a path.
        let head_start = code[..i]
            .char_indices()
            .rev()
            .find(|(_, c)| !is_ident(*c))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let before = code[..head_start].chars().next_back();
        if before == Some(':') {
            continue; // not the first segment
        }
        let head = &code[head_start..i];
        let rest = &code[i + 2..];
        let base = match head {
            "crate" => String::new(),
            "super" => parent.to_owned(),
            "self" => module.to_owned(),
            child if children.contains(child) => join(module, child),
            _ => continue,
        };
        let mut found = Vec::new();
        expand("", rest, &mut found);
        for p in found {
            // `super::super::x` climbs once more per `super`.
            let mut base = base.clone();
            let mut p = p.as_str();
            while let Some(r) = p.strip_prefix("super::") {
                base = base
                    .rsplit_once("::")
                    .map_or(String::new(), |(b, _)| b.to_owned());
                p = r;
            }
            paths.push(join(&base, p));
        }
    }
    out.extend(paths);
    out
}

/// The longest prefix of `path` that is a module.
fn resolve<'a>(path: &str, modules: &'a BTreeMap<String, PathBuf>) -> Option<&'a str> {
    let segments: Vec<&str> = path.split("::").collect();
    (0..=segments.len()).rev().find_map(|n| {
        modules
            .get_key_value(&segments[..n].join("::"))
            .map(|(k, _)| k.as_str())
    })
}

/// The import graph of the tree at `src`: module → modules it names.
pub(crate) fn graph(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let modules = modules(src)?;
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let edges: BTreeSet<String> = references(module, &code_of(&text))
            .iter()
            .filter_map(|p| resolve(p, &modules))
            .filter(|target| target != module && !target.is_empty())
            .map(str::to_owned)
            .collect();
        graph.insert(module.clone(), edges);
    }
    Ok(graph)
}

/// The first circle found, as `a → b → a`.
pub(crate) fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<String> {
        marks.insert(node, Mark::Open);
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()) {
                Some(Mark::Open) => {
                    let from = stack.iter().position(|n| *n == next).unwrap_or(0);
                    let mut circle: Vec<&str> = stack[from..].to_vec();
                    circle.push(next);
                    return Some(circle.join(" → "));
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(c) = visit(next, graph, marks, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(node, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if !marks.contains_key(node.as_str()) {
            if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// `check-imports`: `Ok` with a summary, or the circle.
pub(crate) fn check(src: &Path) -> Result<String, String> {
    let graph = graph(src)?;
    match find_circle(&graph) {
        Some(circle) => Err(format!("import circle in {}: {circle}", src.display())),
        None => Ok(format!(
            "no import circle in {} ({} modules, {} edges)",
            src.display(),
            graph.len(),
            graph.values().map(BTreeSet::len).sum::<usize>()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "xtask-imports-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn the_frontend_has_no_import_circle() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/src");
        let graph = graph(&src).unwrap();
        // The check sees the layering it guards: views use `state`, `app` uses views.
        assert!(graph["app"].contains("state"), "{graph:?}");
        assert!(
            graph["deploy::form"].contains("deploy::progress"),
            "{graph:?}"
        );
        assert!(graph["deploy"].contains("deploy::form"), "{graph:?}");
        if let Some(circle) = find_circle(&graph) {
            panic!("import circle in frontend/src: {circle}");
        }
    }

    #[test]
    fn finds_a_circle_between_siblings() {
        let dir = tree(&[
            ("lib.rs", "mod a;\nmod b;\n"),
            ("a.rs", "use crate::{b::Thing, lib_item};\n"),
            (
                "b.rs",
                "// use crate::c in a comment is ignored\nfn f() { crate::a::g(); }\n",
            ),
        ]);
        let err = check(&dir).unwrap_err();
        assert!(err.ends_with("a → b → a"), "{err}");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_child_importing_its_parent_is_a_circle() {
        let dir = tree(&[
            ("lib.rs", "mod p;\n"),
            (
                "p/mod.rs",
                "mod c;\nmod d;\npub fn helper() {}\nuse d::X;\n",
            ),
            ("p/c.rs", "use super::helper;\n"),
            ("p/d.rs", "use super::c::Y;\npub struct X;\n"),
        ]);
        let err = check(&dir).unwrap_err();
        assert!(err.contains("p → p::c → p"), "{err}");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn siblings_through_super_are_fine() {
        let dir = tree(&[
            ("lib.rs", "mod p;\nmod q;\n"),
            ("p/mod.rs", "mod c;\nmod d;\nuse c::C;\n"),
            ("p/c.rs", "use super::d::{D, E};\nuse crate::q;\n"),
            ("p/d.rs", "pub struct D;\n"),
            ("q.rs", "pub fn f() {}\n"),
        ]);
        let ok = check(&dir).unwrap();
        assert!(ok.contains("5 modules"), "{ok}");
        let g = graph(&dir).unwrap();
        assert_eq!(
            g["p::c"].iter().map(String::as_str).collect::<Vec<_>>(),
            ["p::d", "q"]
        );
        let _ = fs::remove_dir_all(dir);
    }
}
