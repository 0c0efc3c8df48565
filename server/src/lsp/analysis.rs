//! The one place a document is analysed for the language server, and the
//! test of whether a YAML document is a spec at all.

use std::path::{Component, Path, PathBuf};

use lsp_types::Uri;
use shared::Analysis;

/// Analyse one document as `specstudio lint FILE` would: the project config
/// (`specstudio.toml` found upward from the file), the `.env` beside it and
/// the files it names in `include`/`extends` (read from disk for `file:`
/// documents, or the editor's text when `open` has that file open);
/// `# specstudio-ignore` comments are applied by the core. A config that
/// cannot be read is reported on stderr (the client's log) and the document
/// is analysed with the defaults. Also returns the files the analysis read
/// (its dependencies: a change to one makes the analysis stale).
pub(super) fn analyze(
    uri: &Uri,
    text: &str,
    open: &dyn Fn(&Path) -> Option<String>,
) -> (Analysis, Vec<PathBuf>) {
    let Some(path) = file_path(uri) else {
        return (shared::analyze(text), Vec::new());
    };
    let mut options = crate::cli::VarsArgs::default()
        .options_for(&path, text)
        .unwrap_or_else(|e| {
            eprintln!("specstudio lsp: {e}; using the default settings");
            shared::Options::default()
        });
    let dir = path.parent().unwrap_or(Path::new("/"));
    let keys: Vec<String> = options
        .files
        .keys()
        .chain(options.unreadable.keys())
        .cloned()
        .collect();
    let mut deps = Vec::with_capacity(keys.len());
    for key in keys {
        let dep = normalized(&dir.join(&key));
        if let Some(text) = open(&dep) {
            options.unreadable.remove(&key);
            options.files.insert(key, text);
        }
        deps.push(dep);
    }
    (shared::analyze_with(text, &options), deps)
}

/// `path` with `.` and `dir/..` taken out, without touching the disk (a
/// dependency may not exist yet).
pub(super) fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The local path of a `file:` URI (percent-decoded); `None` for other
/// schemes (unsaved buffers), which get the default settings.
pub(super) fn file_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file://host/path` names a remote host: not ours to read.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// Whether findings should be reported for a document: its name is a compose
/// file's (`compose*.y*ml`, `docker-compose*.y*ml`) or its content looks like
/// a spec (a `services` or `x-omnistrate-*` key). Editors attach us to every
/// YAML file; a CI workflow or a Kubernetes manifest gets no findings.
pub(super) fn is_spec(uri: &Uri, text: &str) -> bool {
    let name = uri.as_str().rsplit('/').next().unwrap_or_default();
    let compose_name = (name.starts_with("compose") || name.starts_with("docker-compose"))
        && (name.ends_with(".yaml") || name.ends_with(".yml"));
    compose_name
        || text.lines().any(|line| {
            let top_key = line.trim_start_matches(['"', '\'']);
            top_key.starts_with("services")
                && top_key[8..]
                    .trim_start_matches(['"', '\''])
                    .starts_with(':')
                || line.trim_start().starts_with("x-omnistrate-")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(
            file_path(&uri("file:///a/my%20specs/compose.yaml")),
            Some(PathBuf::from("/a/my specs/compose.yaml"))
        );
        assert_eq!(file_path(&uri("untitled:Untitled-1")), None);
    }

    #[test]
    fn project_config_and_ignore_comments_apply() {
        let dir = std::env::temp_dir().join(format!("ss-lsp-config-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        // C002 (unknown service key) turned off for the project.
        std::fs::write(dir.join("specstudio.toml"), "[rules]\nC002 = \"off\"\n").unwrap();
        let text = "services:\n  web:\n    image: nginx\n    imagee: x\n";
        let spec = dir.join("sub/compose.yaml");
        let none = |_: &Path| None;
        let (with_config, _) = analyze(&uri(&format!("file://{}", spec.display())), text, &none);
        let codes = |a: &Analysis| a.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>();
        assert!(
            !codes(&with_config).contains(&"C002"),
            "{:?}",
            codes(&with_config)
        );
        let (unsaved, _) = analyze(&uri("untitled:Untitled-1"), text, &none);
        assert!(codes(&unsaved).contains(&"C002"), "{:?}", codes(&unsaved));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dependencies_are_normalized_paths_and_open_texts_stand_in_for_the_disk() {
        assert_eq!(
            normalized(Path::new("/a/b/./../c/d.yaml")),
            PathBuf::from("/a/c/d.yaml")
        );
        let dir = std::env::temp_dir().join(format!("ss-lsp-deps-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(
            dir.join("db.yaml"),
            "services:\n  db:\n    image: postgres\n",
        )
        .unwrap();
        let spec = dir.join("sub/compose.yaml");
        let text =
            "include:\n  - ../db.yaml\nservices:\n  web:\n    image: nginx\n    depends_on: [db]\n";
        let u = uri(&format!("file://{}", spec.display()));
        let (clean, deps) = analyze(&u, text, &|_: &Path| None);
        // The included file, and the `.env` its project directory may hold
        // (looked up, so creating it later re-analyses the spec).
        assert_eq!(deps, [dir.join("db.yaml"), dir.join(".env")]);
        assert!(!clean.has_errors(), "{:?}", clean.diagnostics);
        // The editor's unsaved text of db.yaml, with a port out of range.
        let edited = |p: &Path| {
            (p == dir.join("db.yaml")).then(|| {
                "services:\n  db:\n    image: postgres\n    ports: [\"99999:5432\"]\n".to_owned()
            })
        };
        let (stale, _) = analyze(&u, text, &edited);
        assert!(
            stale.diagnostics.iter().any(|d| d.code == "C005"),
            "{:?}",
            stale.diagnostics
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn specs_by_name_or_content() {
        let any = "name: ci\non: push\n";
        assert!(is_spec(&uri("file:///a/compose.prod.yml"), any));
        assert!(is_spec(&uri("file:///a/docker-compose.yaml"), any));
        assert!(!is_spec(&uri("file:///a/.github/workflows/ci.yaml"), any));
        assert!(is_spec(
            &uri("file:///a/spec.yaml"),
            "version: '3'\nservices:\n"
        ));
        assert!(is_spec(
            &uri("file:///a/spec.yaml"),
            "a:\n  x-omnistrate-compute: {}\n"
        ));
    }
}
