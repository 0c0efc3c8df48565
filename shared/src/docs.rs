//! The long doc strings — each rule's docs (what / why / example) and
//! one-line summary, each key's and each system parameter's doc line — and the
//! `docs` cargo feature that compiles them in.
//!
//! With `docs` (the default: CLI, server, language server, tests) the tables
//! hold them as before. Without it (the browser page, where they were ~23 KB
//! of the gzipped first load) [`gate`] turns every one into `""` at compile
//! time, so the literals never reach the binary; the page fetches the JSON
//! that [`table_json`] writes (a content-hashed file `build-ui` puts beside
//! the page) on its first hover or completion and hands it to [`install`].
//! Readers go through [`rule`], [`summary`], [`key`] and [`sys`], which answer
//! from the compiled tables or else from the installed ones.
//!
//! ```
//! let meta = shared::rules::find("Y001").unwrap().meta();
//! assert!(shared::docs::rule(meta).contains("## What"));
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::model::keys::{FieldDoc, ObjectSchema};
use crate::rules::RuleMeta;
use crate::system_parameters::SysParam;

/// `doc` in a build with the `docs` feature, `""` without it. `const`: the
/// tables are constants, so a dropped literal is never emitted.
pub const fn gate(doc: &'static str) -> &'static str {
    if cfg!(feature = "docs") {
        doc
    } else {
        ""
    }
}

/// Every long doc string, keyed as the readers look them up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Rule code → its docs (Markdown, as in the doc comment).
    pub rules: BTreeMap<String, String>,
    /// Rule code → its one-line summary.
    pub summaries: BTreeMap<String, String>,
    /// Schema name ([`ObjectSchema::name`]) → key → doc line. Two schemas
    /// may share a name (`limits`) as long as their keys differ (tested).
    pub keys: BTreeMap<String, BTreeMap<String, String>>,
    /// System parameter path → doc line.
    pub sys: BTreeMap<String, String>,
}

impl Table {
    fn rule(&self, code: &str) -> Option<&str> {
        self.rules.get(code).map(String::as_str)
    }

    fn summary(&self, code: &str) -> Option<&str> {
        self.summaries.get(code).map(String::as_str)
    }

    fn key(&self, schema: &str, key: &str) -> Option<&str> {
        self.keys.get(schema)?.get(key).map(String::as_str)
    }

    fn sys(&self, path: &str) -> Option<&str> {
        self.sys.get(path).map(String::as_str)
    }
}

static INSTALLED: OnceLock<Table> = OnceLock::new();

/// Supply the docs a build without the `docs` feature lacks, from
/// [`table_json`]'s output. The first table installed stays.
pub fn install(json: &str) -> Result<(), String> {
    let table: Table = serde_json::from_str(json).map_err(|e| format!("docs table: {e}"))?;
    let _ = INSTALLED.set(table);
    Ok(())
}

/// Whether every doc is at hand: compiled in, or installed.
pub fn available() -> bool {
    cfg!(feature = "docs") || INSTALLED.get().is_some()
}

/// A rule's docs (Markdown); `""` while they are neither compiled in nor installed.
pub fn rule(meta: &RuleMeta) -> &'static str {
    if !meta.docs.is_empty() {
        return meta.docs;
    }
    INSTALLED
        .get()
        .and_then(|t| t.rule(meta.code))
        .unwrap_or_default()
}

/// A rule's one-line summary; `""` while it is neither compiled in nor installed.
pub fn summary(meta: &RuleMeta) -> &'static str {
    if !meta.summary.is_empty() {
        return meta.summary;
    }
    INSTALLED
        .get()
        .and_then(|t| t.summary(meta.code))
        .unwrap_or_default()
}

/// A key's doc line in `schema`.
pub fn key(schema: &ObjectSchema, field: &FieldDoc) -> &'static str {
    if !field.doc.is_empty() {
        return field.doc;
    }
    INSTALLED
        .get()
        .and_then(|t| t.key(schema.name, field.key))
        .unwrap_or_default()
}

/// A system parameter's doc line.
pub fn sys(param: &SysParam) -> &'static str {
    if !param.doc.is_empty() {
        return param.doc;
    }
    INSTALLED
        .get()
        .and_then(|t| t.sys(param.path))
        .unwrap_or_default()
}

/// Every object schema with documented keys.
#[cfg(feature = "docs")]
pub fn schemas() -> impl Iterator<Item = &'static ObjectSchema> {
    use crate::model::compose_keys as ck;
    const COMPOSE: &[&ObjectSchema] = &[
        &ck::BUILD,
        &ck::DEPLOY,
        &ck::UPDATE_CONFIG,
        &ck::RESOURCES,
        &ck::RESOURCE_LIMITS,
        &ck::RESOURCE_RESERVATIONS,
        &ck::DEVICE_REQUEST,
        &ck::RESTART_POLICY,
        &ck::PLACEMENT,
        &ck::HEALTHCHECK,
        &ck::LOGGING,
        &ck::DEVELOP,
        &ck::WATCH,
        &ck::SERVICE_VOLUME,
        &ck::SERVICE_PORT,
        &ck::SERVICE_FILE,
        &ck::DEPENDS_ON,
        &ck::EXTENDS,
        &ck::SERVICE_NETWORK,
        &ck::NETWORK,
        &ck::VOLUME,
        &ck::SECRET,
        &ck::CONFIG,
        &ck::MODEL,
        &ck::INCLUDE,
    ];
    crate::model::keys::ALL
        .iter()
        .chain(crate::model::inner_keys::ALL)
        .chain(COMPOSE)
        .copied()
}

/// The table of every long doc string of this build.
#[cfg(feature = "docs")]
pub fn table() -> Table {
    let mut table = Table::default();
    for rule in crate::rules::all() {
        let meta = rule.meta();
        table
            .rules
            .insert(meta.code.to_owned(), meta.docs.to_owned());
        table
            .summaries
            .insert(meta.code.to_owned(), meta.summary.to_owned());
    }
    for schema in schemas() {
        let keys = table.keys.entry(schema.name.to_owned()).or_default();
        for field in schema.fields {
            keys.insert(field.key.to_owned(), field.doc.to_owned());
        }
    }
    for param in crate::system_parameters::ALL {
        table
            .sys
            .insert(param.path.to_owned(), param.doc.to_owned());
    }
    table
}

/// [`table`] as JSON, what [`install`] reads (keys sorted: the same build
/// always writes the same bytes, so the file's content hash is stable).
#[cfg(feature = "docs")]
pub fn table_json() -> String {
    serde_json::to_string(&table()).unwrap_or_default()
}

#[cfg(all(test, feature = "docs"))]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_listed() {
        // A table added to the model files must be listed in `schemas()`.
        let declared: usize = [
            include_str!("model/keys.rs"),
            include_str!("model/inner_keys.rs"),
            include_str!("model/compose_keys.rs"),
        ]
        .iter()
        .map(|text| text.matches(": ObjectSchema = ObjectSchema {").count())
        .sum();
        assert_eq!(schemas().count(), declared);
    }

    #[test]
    fn the_json_holds_every_doc_and_reads_back() {
        let json = table_json();
        let back: Table = serde_json::from_str(&json).unwrap();
        assert_eq!(back, table());
        assert_eq!(back.rules.len(), crate::rules::all().count());
        for rule in crate::rules::all() {
            let meta = rule.meta();
            assert_eq!(back.rule(meta.code), Some(meta.docs));
            assert_eq!(back.summary(meta.code), Some(meta.summary));
        }
        for schema in schemas() {
            for field in schema.fields {
                assert_eq!(back.key(schema.name, field.key), Some(field.doc));
                assert!(!field.doc.is_empty(), "{}.{}", schema.name, field.key);
            }
        }
        for param in crate::system_parameters::ALL {
            assert_eq!(back.sys(param.path), Some(param.doc));
        }
        assert!(available());
        assert!(install(&json).is_ok());
        assert!(install("not json").is_err());
    }
}
