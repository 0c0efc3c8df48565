//! The secrets step before sharing: turn *every* literal secret into its own
//! api-param reference, or say why not (and then nothing is changed).
//!
//! The rules of the `secrets` layer each offer a fix for one finding (replace
//! the value with `$var.<key>` and declare the param). Two fixes in one
//! service insert at the same place, so they cannot be applied together:
//! each pass applies at most one fix per region (non-overlapping edits) and
//! lints again. Passes ≈ the most secrets any one service holds, so a
//! 200-service spec costs a couple of lints, not one per secret.
//!
//! Example: a service with `MYSQL_PASSWORD: hunter2` and
//! `MYSQL_ROOT_PASSWORD: hunter3` (map form) gets two `Password` api-params
//! and two references; no error is left behind.

use shared::rules::Layer;

/// At most this many passes (each one fixes at least one finding).
const MAX_PASSES: usize = 64;

fn is_secret_rule(code: &str) -> bool {
    shared::rules::find(code).is_some_and(|r| r.meta().layer == Layer::Secrets)
}

fn errors(analysis: &shared::Analysis) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == shared::diagnostic::Severity::Error)
        .map(|d| (d.code.to_owned(), d.message.clone()))
        .collect();
    out.sort();
    out
}

/// `text` with every literal secret replaced by an api-param reference, or
/// why that cannot be done (a finding without a fix, or an error the
/// replacement would introduce).
pub fn replace_literal_secrets(text: &str) -> Result<String, String> {
    let before = errors(&shared::analyze(text));
    let mut current = text.to_owned();
    for _ in 0..MAX_PASSES {
        let analysis = shared::analyze(&current);
        let findings: Vec<_> = analysis
            .diagnostics
            .iter()
            .filter(|d| is_secret_rule(d.code))
            .collect();
        if findings.is_empty() {
            let after = errors(&analysis);
            if let Some(new) = after.iter().find(|e| !before.contains(e)) {
                return Err(format!(
                    "replacing the secrets would leave an error behind ({}: {}); replace them by hand",
                    new.0, new.1
                ));
            }
            return Ok(current);
        }
        // One fix per region: the edits of accepted fixes never overlap or touch.
        let mut taken: Vec<(usize, usize)> = Vec::new();
        let mut edits = Vec::new();
        for d in &findings {
            let Some(fix) = &d.fix else { continue };
            let start = fix.edits.iter().map(|e| e.span.start).min().unwrap_or(0);
            let end = fix.edits.iter().map(|e| e.span.end).max().unwrap_or(0);
            if taken.iter().any(|&(s, e)| start <= e && s <= end) {
                continue;
            }
            taken.push((start, end));
            edits.extend(fix.edits.iter().cloned());
        }
        if edits.is_empty() {
            let d = findings[0];
            let line = current[..d.span.start.min(current.len())]
                .matches('\n')
                .count()
                + 1;
            return Err(format!(
                "line {line}: {} ({}) has no automatic replacement; move it to an api-param by hand",
                d.message, d.code
            ));
        }
        edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        for e in edits {
            current.replace_range(e.span.start..e.span.end, &e.replacement);
        }
    }
    Err("too many secrets to replace automatically; replace them by hand".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../examples/serverless-mysql-master-replica.yaml");

    fn secret_findings(text: &str) -> usize {
        shared::check(text)
            .iter()
            .filter(|d| is_secret_rule(d.code))
            .count()
    }

    fn assert_clean(original: &str, fixed: &str) {
        assert_eq!(secret_findings(fixed), 0, "{fixed}");
        let before = errors(&shared::analyze(original));
        for e in errors(&shared::analyze(fixed)) {
            assert!(before.contains(&e), "new error {e:?}:\n{fixed}");
        }
    }

    #[test]
    fn the_seed_is_cleaned_in_one_step() {
        assert!(secret_findings(SEED) >= 2);
        let fixed = replace_literal_secrets(SEED).unwrap();
        assert!(!fixed.contains("xFAwjmUcECktqL"));
        assert_clean(SEED, &fixed);
    }

    #[test]
    fn several_secrets_in_one_service_in_map_and_list_forms() {
        let map = "services:\n  db:\n    image: mysql:8.0\n    environment:\n      MYSQL_PASSWORD: hunter2aa\n      MYSQL_ROOT_PASSWORD: hunter3bb\n      MYSQL_REPLICATION_PASSWORD: hunter4cc\n";
        let fixed = replace_literal_secrets(map).unwrap();
        assert!(!fixed.contains("hunter"), "{fixed}");
        assert_clean(map, &fixed);
        let list = "services:\n  db:\n    image: mysql:8.0\n    environment:\n      - MYSQL_PASSWORD=hunter2aa\n      - MYSQL_ROOT_PASSWORD=hunter3bb\n  other:\n    image: mysql:8.0\n    environment:\n      - MYSQL_PASSWORD=hunter5dd\n";
        let fixed = replace_literal_secrets(list).unwrap();
        assert!(!fixed.contains("hunter"), "{fixed}");
        assert_clean(list, &fixed);
    }

    #[test]
    fn scales_to_many_services() {
        let mut big = String::from("services:\n");
        for i in 0..150 {
            big.push_str(&format!(
                "  s{i}:\n    image: mysql:8.0\n    environment:\n      MYSQL_PASSWORD: pw{i}xyzzy\n      MYSQL_ROOT_PASSWORD: root{i}xyzzy\n"
            ));
        }
        let fixed = replace_literal_secrets(&big).unwrap();
        assert!(!fixed.contains("xyzzy"));
        assert_clean(&big, &fixed);
    }

    #[test]
    fn unchanged_without_secrets_and_says_why_when_it_cannot() {
        assert_eq!(replace_literal_secrets("a: 1\n").unwrap(), "a: 1\n");
        // A flow-style api-params list cannot take an inserted item.
        let flow = "services:\n  db:\n    image: mysql:8.0\n    environment:\n      MYSQL_PASSWORD: hunter2aa\n    x-omnistrate-api-params: [{key: x, description: d, name: n, type: String, modifiable: true, required: false, export: true, defaultValue: a}]\n";
        if secret_findings(flow) > 0 {
            let err = replace_literal_secrets(flow).unwrap_err();
            assert!(err.contains("by hand"), "{err}");
        }
    }
}
