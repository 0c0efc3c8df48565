//! Showing a spec without its secrets.
//!
//! Stored specs are public and share links travel in the clear, so a spec that
//! holds literal passwords is shown with those values masked: every value the
//! `S001` rule flags (a password-like environment variable with a literal
//! value), the secrets `S003`–`S005` find (command flags, URLs with
//! credentials, password-named labels) and the `defaultValue` of every
//! secret api-param.

use crate::span::Span;

/// What a masked value reads as.
pub const MASK: &str = "********";

/// The spans of literal secret values in `text`.
pub fn literal_secret_spans(text: &str) -> Vec<Span> {
    secret_spans_in(&crate::analyze(text), text)
}

/// [`literal_secret_spans`] from an analysis of `text` the caller has (it
/// must be unbounded: a capped one may have left secrets out).
pub fn secret_spans_in(analysis: &crate::Analysis, text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = analysis
        .diagnostics
        .iter()
        .filter(|d| {
            d.code == crate::rules::secrets::LiteralPassword::META.code
                || crate::rules::exposed::CODES.contains(&d.code)
        })
        .map(|d| d.span)
        .collect();
    for service in &analysis.spec.services {
        for param in service.api_params.iter().filter(|p| p.is_secret()) {
            if let Some(default) = param.default_value.as_ref().filter(|d| !d.value.is_empty()) {
                spans.push(default.span);
            }
        }
    }
    spans.retain(|s| !s.is_empty() && s.end <= text.len());
    spans.sort_by_key(|s| s.start);
    spans.dedup();
    spans
}

/// `text` with every literal secret value replaced by [`MASK`].
pub fn mask_literal_secrets(text: &str) -> String {
    mask_spans(text, &literal_secret_spans(text))
}

/// `text` with each of `spans` (sorted, from [`secret_spans_in`]) replaced
/// by [`MASK`].
pub fn mask_spans(text: &str, spans: &[Span]) -> String {
    let mut out = text.to_owned();
    let mut last_start = usize::MAX;
    for &span in spans.iter().rev() {
        // Overlapping spans cannot be replaced twice.
        if span.end <= last_start {
            // a plain scalar cannot start with `*` (an alias): quote the
            // mask when it would start one
            let raw = &text[..span.start];
            let before = raw.trim_end_matches([' ', '\t']);
            let spaced = before.len() < raw.len();
            let starts_scalar = before.is_empty()
                || before.ends_with(['[', ',', '{', '\n'])
                || (spaced && before.ends_with([':', '-', '?']));
            let unquoted = !matches!(
                text.as_bytes().get(span.start.wrapping_sub(1)),
                Some(b'"' | b'\'')
            );
            if starts_scalar && unquoted {
                out.replace_range(span.start..span.end, &format!("\"{MASK}\""));
            } else {
                out.replace_range(span.start..span.end, MASK);
            }
            last_start = span.start;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_literal_passwords_and_secret_defaults() {
        let text = "services:\n  Db:\n    image: mysql:8\n    environment:\n      - MYSQL_ROOT_PASSWORD=hunter22\n      - MYSQL_DATABASE=app\n    x-omnistrate-api-params:\n      - key: adminPassword\n        name: Admin password\n        description: Admin password\n        type: Password\n        required: false\n        modifiable: false\n        export: false\n        defaultValue: s3cr3t-default\n";
        let masked = mask_literal_secrets(text);
        assert!(!masked.contains("hunter22"), "{masked}");
        assert!(!masked.contains("s3cr3t-default"), "{masked}");
        assert!(masked.contains("MYSQL_ROOT_PASSWORD=********"));
        assert!(masked.contains("MYSQL_DATABASE=app"));
    }

    #[test]
    fn the_seed_loses_its_replication_password() {
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let masked = mask_literal_secrets(seed);
        assert!(!masked.contains("xFAwjmUcECktqL"));
        assert!(!crate::analyze(&masked).has_errors());
    }

    #[test]
    fn masked_specs_stay_valid_yaml() {
        let text = "services:
  App:
    image: app:1
    command: mysqladmin -phunter2x
    environment:
      MYSQL_ROOT_PASSWORD: hunter22
    labels:
      com.example.db-password: hunter23
";
        let masked = mask_literal_secrets(text);
        for s in ["hunter2x", "hunter22", "hunter23"] {
            assert!(!masked.contains(s), "{masked}");
        }
        let a = crate::analyze(&masked);
        assert!(
            a.diagnostics.iter().all(|d| !d.code.starts_with('Y')),
            "{masked}"
        );
    }
}
