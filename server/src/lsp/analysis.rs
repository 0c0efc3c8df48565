//! The one place a document is analysed for the language server, and the
//! test of whether a YAML document is a spec at all.

use lsp_types::Uri;
use shared::Analysis;

/// Analyse one document.
///
/// This is where the project config file (`specstudio.toml`, found from the
/// document's `uri`) and `# specstudio-ignore: CODE` comments will be applied
/// once the validator supports them; until then it is `shared::analyze`.
pub fn analyze(_uri: &Uri, text: &str) -> Analysis {
    shared::analyze(text)
}

/// Whether findings should be reported for a document: its name is a compose
/// file's (`compose*.y*ml`, `docker-compose*.y*ml`) or its content looks like
/// a spec (a `services` or `x-omnistrate-*` key). Editors attach us to every
/// YAML file; a CI workflow or a Kubernetes manifest gets no findings.
pub fn is_spec(uri: &Uri, text: &str) -> bool {
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
