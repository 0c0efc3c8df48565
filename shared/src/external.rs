//! Other compose files a spec names (`extends.file`, `include`), given by the
//! caller: the core does no I/O, so the CLI reads them (relative to the spec)
//! and passes their text in [`crate::Options::files`], keyed by the path as
//! written. What is not given stays unknown and is not judged.
//!
//! ```
//! let spec = "include:\n  - db.yaml\nservices:\n  web:\n    image: nginx\n    depends_on: [db]\n";
//! // The included file, and the `.env` compose would interpolate it with.
//! assert_eq!(shared::external::referenced_files(spec), ["db.yaml", ".env"]);
//! let mut options = shared::Options::default();
//! options.files.insert("db.yaml".into(), "services:\n  db:\n    image: postgres\n".into());
//! assert!(!shared::analyze_with(spec, &options).has_errors());
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::syntax::{self, NodeId, Shape, Tree};

/// At most this many files are followed per spec (bounded work).
pub const MAX_FILES: usize = 64;

/// The paths a spec names in `include` and in `extends.file`, in order, and
/// the env files of its `include` entries (see `include.rs`).
pub fn referenced_files(text: &str) -> Vec<String> {
    // Most specs name no other file: don't parse the whole text twice (the
    // CLI and the language server call this before every analysis).
    if !text.contains("include") && !text.contains("extends") {
        return Vec::new();
    }
    let (Some(tree), _) = syntax::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(root) = tree.root.filter(|r| tree.shape(*r) == Shape::Mapping) {
        collect(&tree, root, &mut out);
    }
    out.truncate(MAX_FILES);
    out
}

fn collect(tree: &Tree, root: NodeId, out: &mut Vec<String>) {
    let mut push = |s: &str| {
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    if let Some(include) = tree.get_value(root, "include") {
        for item in tree.items(include) {
            for path in include_paths(tree, *item) {
                push(&path);
            }
        }
        // The variables an included file is interpolated with.
        for item in tree.items(include) {
            for env in crate::include::entry_env_files(tree, *item) {
                push(&env);
            }
        }
    }
    if let Some(services) = tree.get_value(root, "services") {
        for entry in tree.entries(services) {
            if let Some(file) = tree
                .get_value(entry.value, "extends")
                .filter(|e| tree.shape(*e) == Shape::Mapping)
                .and_then(|e| tree.get_value(e, "file"))
                .and_then(|f| tree.str(f))
            {
                push(file);
            }
        }
    }
}

/// `- a.yaml`, `- path: a.yaml`, `- path: [a.yaml, b.yaml]`.
fn include_paths(tree: &Tree, item: NodeId) -> Vec<String> {
    let strings = |node: NodeId| -> Vec<String> {
        match tree.shape(node) {
            Shape::Scalar => tree.str(node).map(str::to_owned).into_iter().collect(),
            Shape::Sequence => tree
                .items(node)
                .iter()
                .filter_map(|i| tree.str(*i).map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    match tree.shape(item) {
        Shape::Mapping => tree
            .get_value(item, "path")
            .map(strings)
            .unwrap_or_default(),
        _ => strings(item),
    }
}

/// What the given files define.
#[derive(Clone, Debug, Default)]
pub struct External {
    /// File → its services, with whether each has an image or build (or
    /// extends further, which we do not follow across files).
    pub services: HashMap<String, HashMap<String, bool>>,
    /// Names defined by the included files, when every included file was given.
    pub included: Option<Included>,
    /// `extends.file` bases that cannot be followed (see `extends_file.rs`).
    pub extends_errors: Vec<crate::extends_file::BaseError>,
    /// `include`s that cannot be followed or conflict (see `include.rs`).
    pub include_errors: Vec<crate::extends_file::BaseError>,
}

#[derive(Clone, Debug, Default)]
pub struct Included {
    pub services: HashSet<String>,
    pub networks: HashSet<String>,
    pub volumes: HashSet<String>,
}

impl External {
    /// Read what the spec's referenced files define (only those given).
    pub fn read(tree: &Tree, files: &BTreeMap<String, String>) -> External {
        let mut external = External::default();
        if files.is_empty() {
            return external;
        }
        for (path, text) in files.iter().take(MAX_FILES) {
            let (Some(other), _) = syntax::parse(text) else {
                continue;
            };
            let Some(root) = other.root.filter(|r| other.shape(*r) == Shape::Mapping) else {
                continue;
            };
            let mut services = HashMap::new();
            if let Some(node) = other.get_value(root, "services") {
                for entry in other.entries(node) {
                    let Some(name) = other.str(entry.key) else {
                        continue;
                    };
                    let has = ["image", "build", "extends"]
                        .iter()
                        .any(|k| other.get_value(entry.value, k).is_some());
                    services.insert(name.to_owned(), has);
                }
            }
            external.services.insert(path.clone(), services);
        }
        let Some(root) = tree.root.filter(|r| tree.shape(*r) == Shape::Mapping) else {
            return external;
        };
        let Some(include) = tree.get_value(root, "include") else {
            return external;
        };
        let paths: Vec<String> = tree
            .items(include)
            .iter()
            .flat_map(|i| include_paths(tree, *i))
            .collect();
        if paths.is_empty() || !paths.iter().all(|p| files.contains_key(p)) {
            return external;
        }
        let mut included = Included::default();
        for path in &paths {
            let (Some(other), _) = syntax::parse(&files[path]) else {
                return external;
            };
            let Some(root) = other.root.filter(|r| other.shape(*r) == Shape::Mapping) else {
                continue;
            };
            for (key, set) in [
                ("services", &mut included.services),
                ("networks", &mut included.networks),
                ("volumes", &mut included.volumes),
            ] {
                if let Some(node) = other.get_value(root, key) {
                    set.extend(
                        other
                            .entries(node)
                            .iter()
                            .filter_map(|e| other.str(e.key).map(str::to_owned)),
                    );
                }
            }
        }
        external.included = Some(included);
        external
    }

    /// Whether a base named in `extends: {file, service}` is known to have an
    /// image: `Some(true)`, known without one: `Some(false)`, file not given
    /// or service not in it: `None` (see [`External::has_service`]).
    pub fn base_has_image(&self, file: &str, service: &str) -> Option<bool> {
        self.services.get(file)?.get(service).copied()
    }

    /// `Some(false)` when the file was given and does not define `service`.
    pub fn has_service(&self, file: &str, service: &str) -> Option<bool> {
        self.services.get(file).map(|s| s.contains_key(service))
    }
}
