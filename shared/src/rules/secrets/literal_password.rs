use std::collections::HashSet;

use crate::declare_rule;
use crate::diagnostic::{Fix, TextEdit};
use crate::model::{EnvVar, Service};
#[cfg(test)]
use crate::params::looks_like_password;
use crate::rules::{Context, Rule, Sink};
use crate::span::Span;
use crate::syntax::{NodeId, NodeKind, Shape, Tree};
use crate::template;

declare_rule! {
    /// ## What
    /// An environment variable whose name says it holds a secret
    /// (`MYSQL_ROOT_PASSWORD`, `API_TOKEN`, …) is set to a literal value in
    /// the spec.
    ///
    /// ## Why
    /// The secret ends up in version control and is the same for every
    /// deployment. Ask for it instead: an api-param of type `Password` (or
    /// with `export: false`) is masked, per instance, and referenced as
    /// `$var.<key>`.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   environment:
    ///     - MYSQL_ROOT_PASSWORD=root          # literal secret
    ///     - MYSQL_ROOT_PASSWORD=$var.mysqlRootPassword
    ///   x-omnistrate-api-params:
    ///     - key: mysqlRootPassword
    ///       type: Password
    ///       export: false
    /// ```
    pub struct LiteralPassword {
        code: "S001",
        name: "literal-password",
        severity: Warning,
        layer: Secrets,
        summary: "A secret environment variable holds a literal value",
        help: "Declare an api-param of type `Password` (or `export: false`) and reference it as `$var.<key>`.",
        fixable: true,
    }
}

/// Words that make a secret-sounding name a setting, not a secret
/// (`ALLOW_EMPTY_PASSWORD`, `PASSWORD_FILE`, `TOKEN_TTL`).
const SETTING_WORDS: &[&str] = &["allow", "empty", "random", "skip", "disable", "disabled"];
const SETTING_SUFFIXES: &[&str] = &[
    "file",
    "path",
    "dir",
    "length",
    "len",
    "ttl",
    "expiry",
    "expires",
    "expiration",
    "timeout",
    "enabled",
    "enable",
    "policy",
    "method",
    "type",
    "user",
    "username",
    "name",
    "id",
    "algorithm",
    "format",
    "header",
    "location",
    "provider",
    "store",
    "mode",
    "ref",
    "arn",
    "url",
    "endpoint",
    "issuer",
    "rotation",
    "required",
];

/// Split `MYSQL_ROOT_PASSWORD` / `mysqlRootPassword` into lower-case words.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mixed = part.chars().any(|c| c.is_ascii_lowercase())
            && part.chars().any(|c| c.is_ascii_uppercase());
        if !mixed {
            if !part.is_empty() {
                out.push(part.to_ascii_lowercase());
            }
            continue;
        }
        let mut word = String::new();
        for c in part.chars() {
            if c.is_ascii_uppercase() && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            word.push(c.to_ascii_lowercase());
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// Whether the variable holds a secret, judging by its name.
#[cfg(test)]
fn is_secret_name(name: &str) -> bool {
    looks_like_password(name) && is_secret_word_list(name)
}

/// Given a name that looks like a password: whether it names the secret
/// itself rather than a setting about it.
fn is_secret_word_list(name: &str) -> bool {
    if matches!(name, "PWD" | "OLDPWD") {
        return false;
    }
    let words = words(name);
    let setting = words.iter().any(|w| SETTING_WORDS.contains(&w.as_str()))
        || words
            .last()
            .is_some_and(|w| SETTING_SUFFIXES.contains(&w.as_str()));
    !setting
}

/// A literal value worth reporting: not empty, no template or interpolation,
/// not a flag.
fn is_literal_secret(value: &str) -> bool {
    let trimmed = value.trim();
    !trimmed.is_empty()
        && template::scan(value).is_empty()
        && !crate::interpolation::has_unescaped_dollar(value)
        && !matches!(
            trimmed.to_ascii_lowercase().as_str(),
            "yes" | "no" | "true" | "false" | "on" | "off"
        )
}

/// The api-param key for an env var: `MYSQL_REPLICATION_PASSWORD` →
/// `mysqlReplicationPassword`.
pub(crate) fn param_key(name: &str) -> String {
    let mut key = String::new();
    for (i, word) in words(name).iter().enumerate() {
        if i == 0 {
            key.push_str(word);
        } else {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                key.push(first.to_ascii_uppercase());
                key.push_str(chars.as_str());
            }
        }
    }
    if key.is_empty() {
        return "secret".into();
    }
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        key.insert(0, 'p');
    }
    key
}

/// `MYSQL_REPLICATION_PASSWORD` → `Mysql Replication Password`.
fn display_name(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Rule for LiteralPassword {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        // Computed once, on the first finding: a walk over every node.
        let mut targets: Option<HashSet<NodeId>> = None;
        for service in &ctx.spec.services {
            for var in &service.environment {
                let name = &var.name.value;
                let Some(value) = &var.value else { continue };
                if !ctx.looks_like_password(name)
                    || !is_secret_word_list(name)
                    || !is_literal_secret(&value.value)
                {
                    continue;
                }
                let key = param_key(name);
                let diagnostic = sink.at_span(
                    value.span,
                    Some(value.node),
                    format!("`{name}` is set to a literal secret"),
                );
                diagnostic.help(format!(
                    "Declare an api-param of type `Password` (or `export: false`) and reference it: `$var.{key}`."
                ));
                let targets = targets.get_or_insert_with(|| alias_targets(ctx.tree));
                if let Some(fix) = fix(ctx, targets, service, var, &key) {
                    diagnostic.fix(fix);
                }
            }
        }
    }
}

/// Nodes an alias points at; editing inside one would change every use.
fn alias_targets(tree: &Tree) -> HashSet<NodeId> {
    tree.nodes
        .iter()
        .filter_map(|n| match n.kind {
            NodeKind::Alias(target) => Some(target),
            _ => None,
        })
        .collect()
}

fn is_shared(tree: &Tree, targets: &HashSet<NodeId>, node: NodeId) -> bool {
    let mut current = Some(node);
    while let Some(id) = current {
        if targets.contains(&id) {
            return true;
        }
        current = tree.node(id).parent;
    }
    false
}

fn within(outer: Span, inner: Span) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// Byte offset where a new line can be inserted after a node's last line.
fn after_node(text: &str, tree: &Tree, node: NodeId) -> usize {
    let span = tree.span(node);
    let mut end = span.end.min(text.len());
    while end > span.start && text.as_bytes()[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    match text[end..].find('\n') {
        Some(at) => end + at + 1,
        None => text.len(),
    }
}

/// Column of `offset` when only spaces precede it on its line.
fn indent_of(text: &str, offset: usize) -> Option<usize> {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..offset];
    before.bytes().all(|b| b == b' ').then_some(before.len())
}

fn param_item(key: &str, env_name: &str, dash: usize, field: usize) -> String {
    let pad = " ".repeat(field);
    format!(
        "{}- key: {key}\n{pad}description: Secret value of {env_name}\n{pad}name: {}\n{pad}type: Password\n{pad}modifiable: false\n{pad}required: true\n{pad}export: false\n",
        " ".repeat(dash),
        display_name(env_name),
    )
}

/// Replace the value with `$var.<key>` and declare the api-param.
pub(super) fn fix(
    ctx: &Context,
    targets: &HashSet<NodeId>,
    service: &Service,
    var: &EnvVar,
    key: &str,
) -> Option<Fix> {
    let text = ctx.text;
    let tree = ctx.tree;
    let value = var.value.as_ref()?;
    if text.get(value.span.start..value.span.end) != Some(value.value.as_str())
        || tree.resolve(service.node) != service.node
        || tree.shape(service.node) != Shape::Mapping
    {
        return None;
    }
    let service_span = tree.span(service.node);
    if !within(service_span, value.span) || is_shared(tree, targets, value.node) {
        return None;
    }
    let reference = format!("$var.{key}");
    let replace = TextEdit {
        span: value.span,
        replacement: reference.clone(),
    };
    if service.param(key).is_some() {
        return Some(Fix {
            title: format!("Use `{reference}`"),
            edits: vec![replace],
        });
    }
    let name = &var.name.value;
    let insert = match service.api_params_node {
        Some(list) => {
            let list = tree.resolve(list);
            let first = *tree.items(list).first()?;
            if tree.shape(list) != Shape::Sequence
                || !within(service_span, tree.span(list))
                || is_shared(tree, targets, list)
                || text.as_bytes().get(tree.span(list).start) == Some(&b'[')
                || tree.shape(first) != Shape::Mapping
            {
                return None;
            }
            // `- key: …`: the dash and the item's first key on one line.
            let field_at = tree.span(first).start;
            let line_start = text[..field_at].rfind('\n').map_or(0, |i| i + 1);
            let prefix = &text[line_start..field_at];
            let dash = prefix.find('-')?;
            if !prefix[..dash].bytes().all(|b| b == b' ')
                || prefix.len() < dash + 2
                || !prefix[dash + 1..].bytes().all(|b| b == b' ')
            {
                return None;
            }
            let field = prefix.len();
            let at = after_node(text, tree, list);
            let lead = if at == text.len() && !text.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            TextEdit {
                span: Span::empty(at),
                replacement: format!("{lead}{}", param_item(key, name, dash, field)),
            }
        }
        None => {
            let first_key = tree.own_entries(service.node).first()?.key;
            let column = indent_of(text, tree.span(first_key).start)?;
            let at = after_node(text, tree, service.node);
            let lead = if at == text.len() && !text.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            TextEdit {
                span: Span::empty(at),
                replacement: format!(
                    "{lead}{}x-omnistrate-api-params:\n{}",
                    " ".repeat(column),
                    param_item(key, name, column + 2, column + 4)
                ),
            }
        }
    };
    Some(Fix {
        title: format!("Move to a `Password` api-param `{key}`"),
        edits: vec![replace, insert],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_keys_and_names() {
        assert_eq!(
            param_key("MYSQL_REPLICATION_PASSWORD"),
            "mysqlReplicationPassword"
        );
        assert_eq!(param_key("dbPassword"), "dbPassword");
        assert_eq!(param_key("2FA_SECRET"), "p2faSecret");
        assert_eq!(display_name("MYSQL_ROOT_PASSWORD"), "Mysql Root Password");
    }

    #[test]
    fn settings_are_not_secrets() {
        assert!(is_secret_name("MYSQL_ROOT_PASSWORD"));
        assert!(is_secret_name("API_TOKEN"));
        assert!(is_secret_name("DB_PASS"));
        assert!(!is_secret_name("ALLOW_EMPTY_PASSWORD"));
        assert!(!is_secret_name("MYSQL_ROOT_PASSWORD_FILE"));
        assert!(!is_secret_name("MYSQL_RANDOM_ROOT_PASSWORD"));
        assert!(!is_secret_name("TOKEN_TTL"));
        assert!(!is_secret_name("PWD"));
        assert!(!is_secret_name("MYSQL_USER"));
    }

    fn errors(text: &str) -> Vec<(String, String)> {
        let mut out: Vec<_> = crate::check(text)
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| (d.code.to_owned(), d.message))
            .collect();
        out.sort();
        out
    }

    /// Apply every S001 fix of `text` one at a time: the warning goes, the
    /// result parses, and no error appears that was not there before.
    fn check_fixes(text: &str) -> usize {
        let before = errors(text);
        let diagnostics: Vec<_> = crate::check(text)
            .into_iter()
            .filter(|d| d.code == "S001")
            .collect();
        let mut fixed_count = 0;
        for d in &diagnostics {
            let Some(fix) = &d.fix else { continue };
            fixed_count += 1;
            let fixed = fix.apply(text);
            let analysis = crate::analyze(&fixed);
            assert!(
                analysis.parsed,
                "fix `{}` broke the YAML:\n{fixed}",
                fix.title
            );
            let after = errors(&fixed);
            for e in &after {
                assert!(
                    before.contains(e),
                    "fix `{}` introduced {e:?}:\n{fixed}",
                    fix.title
                );
            }
            let s001 = analysis
                .diagnostics
                .iter()
                .filter(|a| a.code == "S001")
                .count();
            assert_eq!(s001, diagnostics.len() - 1, "{fixed}");
            let param = fixed.find("type: Password").is_some() || fix.edits.len() == 1;
            assert!(param, "{fixed}");
        }
        fixed_count
    }

    #[test]
    fn fixes_the_seeds_without_new_errors() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        for name in [
            "hello-world-mysql.yaml",
            "serverless-mysql-master-replica.yaml",
        ] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            assert!(check_fixes(&text) > 0, "{name}");
        }
    }

    #[test]
    fn appends_to_an_existing_list_at_its_indentation() {
        let text = "services:\n  Db:\n    image: mysql:8\n    environment:\n      MYSQL_ROOT_PASSWORD: hunter2\n    x-omnistrate-api-params:\n    - key: size\n      description: Size\n      name: Size\n      type: String\n      modifiable: true\n      required: false\n      defaultValue: \"1\"\n      export: true\n  Web:\n    image: nginx\n";
        assert_eq!(check_fixes(text), 1);
        let d = crate::check(text)
            .into_iter()
            .find(|d| d.code == "S001")
            .unwrap();
        let fixed = d.fix.unwrap().apply(text);
        assert!(
            fixed.contains("MYSQL_ROOT_PASSWORD: $var.mysqlRootPassword\n"),
            "{fixed}"
        );
        assert!(
            fixed.contains("      export: true\n    - key: mysqlRootPassword\n      description: Secret value of MYSQL_ROOT_PASSWORD\n"),
            "{fixed}"
        );
        let spec = crate::analyze(&fixed).spec;
        let db = spec.service("Db").unwrap();
        let param = db.param("mysqlRootPassword").unwrap();
        assert_eq!(param.type_name.as_ref().unwrap().value, "Password");
        assert!(!param.is_exported());
    }

    #[test]
    fn adds_the_list_at_the_end_of_the_service() {
        let text = "services:\n  Db:\n    image: mysql:8\n    environment:\n      - MYSQL_ROOT_PASSWORD=hunter2   # temporary\n\n  # the web tier\n  Web:\n    image: nginx";
        assert_eq!(check_fixes(text), 1);
        let d = crate::check(text)
            .into_iter()
            .find(|d| d.code == "S001")
            .unwrap();
        let fixed = d.fix.unwrap().apply(text);
        let spec = crate::analyze(&fixed).spec;
        assert!(spec
            .service("Db")
            .unwrap()
            .param("mysqlRootPassword")
            .is_some());
        assert!(spec.service("Web").unwrap().api_params_node.is_none());
        // Also at the very end of a file without a final newline.
        let text = "services:\n  Db:\n    image: mysql:8\n    environment:\n      - MYSQL_ROOT_PASSWORD=hunter2";
        assert_eq!(check_fixes(text), 1);
    }

    #[test]
    fn reuses_a_declared_param() {
        let text = "services:\n  Db:\n    image: mysql:8\n    environment:\n      - MYSQL_ROOT_PASSWORD=hunter2\n    x-omnistrate-api-params:\n      - key: mysqlRootPassword\n        description: Root\n        name: Root\n        type: Password\n        modifiable: false\n        required: true\n        export: false\n";
        let d = crate::check(text)
            .into_iter()
            .find(|d| d.code == "S001")
            .unwrap();
        let fix = d.fix.unwrap();
        assert_eq!(fix.edits.len(), 1);
        assert_eq!(check_fixes(text), 1);
    }

    #[test]
    fn no_rule_echoes_a_secret() {
        let text = "services:\n  Master:\n    image: docker.io/bitnami/mysql:8.0.36\n    environment:\n      - MYSQL_REPLICATION_MODE=master\n      - MYSQL_ROOT_PASSWORD=Zq8-root-Secret-0123456789-abcdefghij\n      - MYSQL_REPLICATION_USER=repl\n      - MYSQL_REPLICATION_PASSWORD=Zq8-repl-Secret\n      - MYSQL_USER=app\n      - MYSQL_PASSWORD=Zq8-app\\Secret\n  Replica:\n    image: docker.io/bitnami/mysql:8.0.36\n    environment:\n      - MYSQL_REPLICATION_MODE=slave\n      - MYSQL_MASTER_HOST=Master\n      - MYSQL_REPLICATION_USER=repl\n      - MYSQL_REPLICATION_PASSWORD=Zq8-other-Secret\n      - MYSQL_MASTER_ROOT_PASSWORD=Zq8-wrong-Secret\\x\n";
        let diagnostics = crate::check(text);
        let codes: Vec<_> = diagnostics.iter().map(|d| d.code).collect();
        for code in ["S001", "M006", "M010"] {
            assert!(codes.contains(&code), "{code} missing: {codes:?}");
        }
        for d in &diagnostics {
            let mut shown = vec![d.message.clone(), d.help.clone().unwrap_or_default()];
            shown.extend(d.related.iter().map(|r| r.message.clone()));
            shown.extend(d.fix.iter().map(|f| f.title.clone()));
            for line in shown {
                assert!(!line.contains("Zq8"), "{}: {line}", d.code);
            }
        }
    }

    #[test]
    fn no_fix_for_flow_lists_or_shared_anchors() {
        let text = "services:\n  Db:\n    image: mysql:8\n    environment: &env\n      - MYSQL_ROOT_PASSWORD=hunter2\n  Db2:\n    image: mysql:8\n    environment: *env\n";
        assert!(crate::check(text)
            .iter()
            .filter(|d| d.code == "S001")
            .all(|d| d.fix.is_none()));
        let text = "services:\n  Db:\n    image: mysql:8\n    environment:\n      - MYSQL_ROOT_PASSWORD=hunter2\n    x-omnistrate-api-params: [{key: a, type: String}]\n";
        let d = crate::check(text)
            .into_iter()
            .find(|d| d.code == "S001")
            .unwrap();
        assert!(d.fix.is_none());
    }
}
