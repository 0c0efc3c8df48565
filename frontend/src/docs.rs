//! Local documents: every text the user edits is kept in the browser with a
//! short history of versions, so opening a link, an example or a stored spec
//! never overwrites the user's own draft.
//!
//! This module is the pure part (ids, the version policy, the JSON stored per
//! document), tested natively; `documents.rs` (the `app` feature) keeps it in
//! local storage.
//!
//! Example: typing for a minute in the draft yields two versions (one per
//! 30-second window); opening `#spec=…` then creates the document
//! `link-1a2b3c4d` and leaves `draft` as it was.

use serde_json::{json, Value};

/// Versions kept per document (the issue asks for at least 20).
pub const MAX_VERSIONS: usize = 30;
/// Edits closer together than this extend the newest version instead of
/// adding one, so a burst of typing is one version.
pub const VERSION_WINDOW_MS: f64 = 30_000.0;
/// Bytes of history kept per document: very large specs keep fewer versions
/// (the newest ones) so local storage (about 5 MB per origin) never fills up.
pub const MAX_HISTORY_BYTES: usize = 1_500_000;

/// One saved state of a document's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// Milliseconds since the Unix epoch (`Date.now()`).
    pub at: f64,
    pub text: String,
}

/// The versions of one document, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub versions: Vec<Version>,
    /// The newest version is a checkpoint: the next edit starts a new one
    /// instead of changing it.
    sealed: bool,
}

impl History {
    /// Record `text` at time `now`. Within [`VERSION_WINDOW_MS`] of the newest
    /// version the newest one is updated; otherwise (or with `checkpoint`, used
    /// before the text is replaced by something else) a version is added.
    /// Returns whether a version was added.
    pub fn record(&mut self, text: &str, now: f64, checkpoint: bool) -> bool {
        if let Some(last) = self.versions.last_mut() {
            if last.text == text {
                self.sealed |= checkpoint;
                return false;
            }
            if !checkpoint && !self.sealed && now - last.at < VERSION_WINDOW_MS {
                last.text = text.to_owned();
                return false;
            }
        }
        self.versions.push(Version {
            at: now,
            text: text.to_owned(),
        });
        self.sealed = checkpoint;
        self.trim();
        true
    }

    fn trim(&mut self) {
        if self.versions.len() > MAX_VERSIONS {
            let extra = self.versions.len() - MAX_VERSIONS;
            self.versions.drain(..extra);
        }
        while self.versions.len() > 1 && self.bytes() > MAX_HISTORY_BYTES {
            self.versions.remove(0);
        }
    }

    fn bytes(&self) -> usize {
        self.versions.iter().map(|v| v.text.len()).sum()
    }

    pub fn to_json(&self) -> String {
        let versions: Vec<Value> = self
            .versions
            .iter()
            .map(|v| json!({ "at": v.at, "text": v.text }))
            .collect();
        Value::Array(versions).to_string()
    }

    /// Parse stored JSON; anything malformed yields an empty history (the
    /// document's current text is stored separately and is never lost).
    pub fn from_json(text: &str) -> History {
        let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
            return History::default();
        };
        let versions = items
            .iter()
            .filter_map(|v| {
                Some(Version {
                    at: v.get("at")?.as_f64()?,
                    text: v.get("text")?.as_str()?.to_owned(),
                })
            })
            .collect();
        let mut history = History {
            versions,
            sealed: false,
        };
        history.trim();
        history
    }
}

/// A document as listed in the documents menu.
#[derive(Clone, Debug, PartialEq)]
pub struct DocMeta {
    /// `draft`, `link-<hash>`, `stored-<id>`, `example-<id>`, `copy-<time>`.
    pub id: String,
    pub name: String,
    /// Last change, milliseconds since the epoch.
    pub updated: f64,
}

/// The user's own document: never replaced by links or examples.
pub const DRAFT: &str = "draft";

/// Where a document came from.
pub fn is_own(id: &str) -> bool {
    id == DRAFT || id.starts_with("copy-")
}

/// The document a `#spec=` fragment opens (the same link → the same document,
/// so a reload restores the edits made to it).
pub fn link_doc_id(fragment: &str) -> String {
    format!("link-{:08x}", fnv1a(fragment.as_bytes()) as u32)
}

pub fn stored_doc_id(spec_id: &str) -> String {
    let safe: String = spec_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    format!("stored-{safe}")
}

pub fn example_doc_id(example: &str) -> String {
    format!("example-{example}")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

pub fn index_to_json(docs: &[DocMeta]) -> String {
    let items: Vec<Value> = docs
        .iter()
        .map(|d| json!({ "id": d.id, "name": d.name, "updated": d.updated }))
        .collect();
    Value::Array(items).to_string()
}

pub fn index_from_json(text: &str) -> Vec<DocMeta> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|v| {
            Some(DocMeta {
                id: v.get("id")?.as_str()?.to_owned(),
                name: v.get("name")?.as_str()?.to_owned(),
                updated: v.get("updated").and_then(Value::as_f64).unwrap_or(0.0),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_typing_is_one_version_and_windows_add_versions() {
        let mut h = History::default();
        assert!(h.record("a", 0.0, false));
        assert!(!h.record("ab", 1_000.0, false));
        assert!(!h.record("abc", 2_000.0, false));
        assert_eq!(h.versions.len(), 1);
        assert_eq!(h.versions[0].text, "abc");
        assert!(h.record("abcd", 40_000.0, false));
        assert_eq!(h.versions.len(), 2);
        assert_eq!(h.versions[0].text, "abc");
    }

    #[test]
    fn a_checkpoint_always_adds_a_version_unless_unchanged() {
        let mut h = History::default();
        h.record("one", 0.0, false);
        assert!(!h.record("one", 10.0, true));
        assert!(h.record("two", 20.0, true));
        assert_eq!(h.versions.len(), 2);
    }

    #[test]
    fn an_edit_after_a_checkpoint_never_changes_the_checkpoint() {
        let mut h = History::default();
        h.record("a", 0.0, true);
        assert!(h.record("ab", 10.0, false));
        assert!(!h.record("abc", 20.0, false));
        assert_eq!(h.versions.len(), 2);
        assert_eq!(h.versions[0].text, "a");
        assert_eq!(h.versions[1].text, "abc");
        // the same text checkpointed again seals it
        h.record("abc", 30.0, true);
        assert!(h.record("abcd", 40.0, false));
        assert_eq!(h.versions.len(), 3);
    }

    #[test]
    fn keeps_the_newest_versions_within_count_and_byte_limits() {
        let mut h = History::default();
        for i in 0..100 {
            h.record(&format!("v{i}"), f64::from(i) * 60_000.0, false);
        }
        assert_eq!(h.versions.len(), MAX_VERSIONS);
        assert_eq!(h.versions.last().unwrap().text, "v99");
        assert_eq!(h.versions[0].text, format!("v{}", 100 - MAX_VERSIONS));

        let big = "x".repeat(MAX_HISTORY_BYTES / 4);
        let mut h = History::default();
        for i in 0..10 {
            h.record(&format!("{big}{i}"), f64::from(i) * 60_000.0, false);
        }
        assert!(h.versions.len() <= 4 && h.versions.len() >= 3);
        assert!(h.versions.last().unwrap().text.ends_with('9'));
    }

    #[test]
    fn json_round_trips_and_garbage_is_empty() {
        let mut h = History::default();
        h.record("key: \"é\"\n", 5.0, false);
        h.record("key: 2\n", 50_000.0, false);
        assert_eq!(History::from_json(&h.to_json()), h);
        assert_eq!(History::from_json("{not json"), History::default());
        assert_eq!(History::from_json("[{\"at\":\"x\"}]").versions.len(), 0);
        let docs = vec![DocMeta {
            id: "draft".into(),
            name: "My draft".into(),
            updated: 3.0,
        }];
        assert_eq!(index_from_json(&index_to_json(&docs)), docs);
        assert!(index_from_json("null").is_empty());
    }

    #[test]
    fn gallery_examples_lint_without_errors() {
        for text in [
            include_str!("../examples/autoscaling-mysql.yaml"),
            include_str!("../examples/multi-zone-mysql.yaml"),
        ] {
            let analysis = shared::analyze(text);
            assert!(analysis.parsed && !analysis.has_errors(), "{text}");
        }
    }

    #[test]
    fn ids_are_stable_and_safe() {
        assert_eq!(link_doc_id("spec=abc"), link_doc_id("spec=abc"));
        assert_ne!(link_doc_id("spec=abc"), link_doc_id("spec=abd"));
        assert_eq!(stored_doc_id("ab/../c\"d"), "stored-abcd");
        assert!(is_own(DRAFT) && is_own("copy-12") && !is_own("link-00"));
    }
}
