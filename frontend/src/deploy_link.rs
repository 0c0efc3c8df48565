//! Deploy links and masked specs, as plain Rust over the form model.
//!
//! - `/deploy?spec=<id>&param.<key>=<value>` prefills non-secret parameters
//!   (like the Heroku button's `env[KEY]=value`); secret ones in a link are
//!   ignored and reported, so a password never has to travel in a URL.
//! - A shared or stored spec whose literal secrets were masked (`********`)
//!   must not deploy the mask: each masked slot becomes a required secret
//!   field, and the text sent to the server has the given values in place.
//!
//! Example: `?spec=ab12&param.numReadReplicas=2&param.mysqlPassword=x`
//! prefills `numReadReplicas` and reports `mysqlPassword` as ignored.

use std::collections::BTreeMap;

use crate::form::{Field, InputKind};

/// The prefix of a parameter in a deploy link's query.
pub const PARAM_PREFIX: &str = "param.";

/// What a deploy link's query asks for.
#[derive(Debug, Default, PartialEq)]
pub struct Prefill {
    /// Values for non-secret fields.
    pub values: BTreeMap<String, String>,
    /// Secret keys that were given in the link and ignored.
    pub ignored_secrets: Vec<String>,
    /// Keys no field of the spec declares.
    pub unknown: Vec<String>,
}

fn is_secret(field: &Field) -> bool {
    field.kind == InputKind::Password || field.generated_when_empty
}

/// Read `param.<key>=<value>` pairs against the form's fields.
pub fn prefill(pairs: &[(String, String)], fields: &[Field]) -> Prefill {
    let mut out = Prefill::default();
    for (name, value) in pairs {
        let Some(key) = name.strip_prefix(PARAM_PREFIX) else {
            continue;
        };
        match fields.iter().find(|f| f.key == key) {
            Some(f) if is_secret(f) => out.ignored_secrets.push(key.to_owned()),
            Some(_) => {
                out.values.insert(key.to_owned(), value.clone());
            }
            None => out.unknown.push(key.to_owned()),
        }
    }
    out
}

/// `base/deploy?spec=<id>&param.<key>=<value>…` for the non-empty,
/// non-secret values (in key order).
pub fn build(
    base: &str,
    spec_id: &str,
    values: &BTreeMap<String, String>,
    fields: &[Field],
) -> String {
    let mut url = format!("{base}/deploy?spec={}", encode(spec_id));
    for (key, value) in values {
        let Some(field) = fields.iter().find(|f| &f.key == key) else {
            continue;
        };
        if value.is_empty() || is_secret(field) {
            continue;
        }
        url.push_str(&format!("&{PARAM_PREFIX}{}={}", encode(key), encode(value)));
    }
    url
}

/// Percent-encode everything but unreserved characters (RFC 3986).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One masked secret in a spec's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskSlot {
    /// Byte range of the mask.
    pub start: usize,
    pub end: usize,
    /// 1-based line.
    pub line: usize,
    /// What the value is for: the variable or key in front of it.
    pub label: String,
}

/// Every `********` standing for a masked literal secret.
pub fn mask_slots(text: &str) -> Vec<MaskSlot> {
    let mask = shared::redact::MASK;
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(mask) {
        let start = from + at;
        let end = start + mask.len();
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let before = text[line_start..start]
            .trim()
            .trim_start_matches("- ")
            .trim_end_matches(['=', ':', ' ', '"', '\''])
            .trim();
        let label = before.rsplit([' ', '"', '\'']).next().unwrap_or(before);
        out.push(MaskSlot {
            start,
            end,
            line: text[..start].matches('\n').count() + 1,
            label: if label.is_empty() {
                "secret".to_owned()
            } else {
                label.to_owned()
            },
        });
        from = end;
    }
    out
}

/// `text` with every mask replaced by its value; an error names the first
/// slot without one (a mask is never sent).
pub fn fill_masks(text: &str, values: &[String]) -> Result<String, String> {
    let slots = mask_slots(text);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (i, slot) in slots.iter().enumerate() {
        let value = values.get(i).map(String::as_str).unwrap_or("");
        if value.is_empty() || value == shared::redact::MASK {
            return Err(format!(
                "line {}: `{}` was masked when the spec was shared; enter its value",
                slot.line, slot.label
            ));
        }
        out.push_str(&text[at..slot.start]);
        out.push_str(value);
        at = slot.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// The "Deploy with specstudio" snippets (Markdown, HTML) for a stored spec
/// served at `base` (the page's origin).
pub fn snippets(base: &str, id: &str) -> (String, String) {
    let target = format!("{base}/deploy?spec={id}");
    let badge = format!("{base}/deploy-button.svg");
    (
        format!("[![Deploy with specstudio]({badge})]({target})"),
        format!(r#"<a href="{target}"><img src="{badge}" alt="Deploy with specstudio"></a>"#),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../examples/serverless-mysql-master-replica.yaml");

    fn fields() -> Vec<Field> {
        let spec = shared::analyze(SEED).spec;
        crate::form::groups(&spec)
            .into_iter()
            .flat_map(|g| g.fields)
            .collect()
    }

    #[test]
    fn links_prefill_plain_params_and_ignore_secret_ones() {
        let pairs: Vec<(String, String)> = [
            ("spec", "ab12"),
            ("param.numReadReplicas", "2"),
            ("param.mysqlUsername", "app user"),
            ("param.mysqlPassword", "leak"),
            ("param.nope", "1"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let p = prefill(&pairs, &fields());
        assert_eq!(
            p.values.get("numReadReplicas").map(String::as_str),
            Some("2")
        );
        assert_eq!(
            p.values.get("mysqlUsername").map(String::as_str),
            Some("app user")
        );
        assert!(!p.values.contains_key("mysqlPassword"));
        assert_eq!(p.ignored_secrets, ["mysqlPassword"]);
        assert_eq!(p.unknown, ["nope"]);
    }

    #[test]
    fn built_links_leave_secrets_out_and_round_trip() {
        let mut values = BTreeMap::new();
        values.insert("numReadReplicas".to_owned(), "3".to_owned());
        values.insert("mysqlUsername".to_owned(), "a&b=c".to_owned());
        values.insert("mysqlRootPassword".to_owned(), "s3cret".to_owned());
        values.insert("mysqlDatabase".to_owned(), String::new());
        let url = build("http://h", "id 1", &values, &fields());
        assert_eq!(
            url,
            "http://h/deploy?spec=id%201&param.mysqlUsername=a%26b%3Dc&param.numReadReplicas=3"
        );
        assert!(!url.contains("s3cret"));
    }

    #[test]
    fn masked_slots_are_named_and_must_all_be_filled() {
        let masked = shared::redact::mask_literal_secrets(SEED);
        let slots = mask_slots(&masked);
        assert!(!slots.is_empty(), "the seed has literal secrets");
        assert!(
            slots
                .iter()
                .all(|s| s.label == "MYSQL_REPLICATION_PASSWORD"),
            "{slots:?}"
        );
        let err = fill_masks(&masked, &[]).unwrap_err();
        assert!(err.contains("MYSQL_REPLICATION_PASSWORD"), "{err}");
        let values = vec!["xFAwjmUcECktqL".to_owned(); slots.len()];
        assert_eq!(fill_masks(&masked, &values).unwrap(), SEED);
        let mut bad = values.clone();
        bad[0] = shared::redact::MASK.to_owned();
        assert!(fill_masks(&masked, &bad).is_err());
        assert_eq!(fill_masks("a: 1\n", &[]).unwrap(), "a: 1\n");
    }

    #[test]
    fn snippets_link_the_deploy_route_and_badge() {
        let (md, html) = snippets("http://127.0.0.1:8080", "abc");
        assert_eq!(
            md,
            "[![Deploy with specstudio](http://127.0.0.1:8080/deploy-button.svg)](http://127.0.0.1:8080/deploy?spec=abc)"
        );
        assert!(
            html.starts_with(r#"<a href="http://127.0.0.1:8080/deploy?spec=abc">"#),
            "{html}"
        );
    }
}
