//! The one place a document is analysed for the language server, and the
//! test of whether a YAML document is a spec at all.

use std::path::PathBuf;

use lsp_types::Uri;
use shared::Analysis;

/// Analyse one document as `specstudio lint FILE` would: the project config
/// (`specstudio.toml` found upward from the file), the `.env` beside it and
/// the files it names in `include`/`extends` (all read from disk for `file:`
/// documents); `# specstudio-ignore` comments are applied by the core. A
/// config that cannot be read is reported on stderr (the client's log) and
/// the document is analysed with the defaults.
pub(super) fn analyze(uri: &Uri, text: &str) -> Analysis {
    let options = match file_path(uri) {
        Some(path) => crate::cli::VarsArgs::default()
            .options_for(&path, text)
            .unwrap_or_else(|e| {
                eprintln!("specstudio lsp: {e}; using the default settings");
                shared::Options::default()
            }),
        None => shared::Options::default(),
    };
    shared::analyze_with(text, &options)
}

/// The local path of a `file:` URI (percent-decoded); `None` for other
/// schemes (unsaved buffers), which get the default settings.
fn file_path(uri: &Uri) -> Option<PathBuf> {
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
        let with_config = analyze(&uri(&format!("file://{}", spec.display())), text);
        let codes = |a: &Analysis| a.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>();
        assert!(
            !codes(&with_config).contains(&"C002"),
            "{:?}",
            codes(&with_config)
        );
        let unsaved = analyze(&uri("untitled:Untitled-1"), text);
        assert!(codes(&unsaved).contains(&"C002"), "{:?}", codes(&unsaved));
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
