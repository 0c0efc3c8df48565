//! The analyses of stored specs, kept per spec id: every reconcile, repair
//! and `GET /api/deployments/{id}` plans its record, and analysing the spec
//! was most of that work. A stored spec never changes (its row is only
//! inserted, `INSERT OR IGNORE`; the API's id is the text's content hash),
//! so its id is the key. Bounded in entries and in spec bytes; the least
//! recently used goes first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept at most.
const MAX_ENTRIES: usize = 64;
/// Spec text (a proxy for the analysis' size) kept at most; a larger spec
/// is analysed every time, never kept.
const MAX_BYTES: usize = 16 << 20;

struct Entry {
    analysis: Arc<shared::Analysis>,
    bytes: usize,
    used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    bytes: usize,
    tick: u64,
}

/// See the module doc.
pub(crate) struct Analyses {
    inner: Mutex<Inner>,
    max_entries: usize,
    max_bytes: usize,
}

impl Default for Analyses {
    fn default() -> Self {
        Analyses::with_bounds(MAX_ENTRIES, MAX_BYTES)
    }
}

impl Analyses {
    pub(crate) fn with_bounds(max_entries: usize, max_bytes: usize) -> Analyses {
        Analyses {
            inner: Mutex::new(Inner::default()),
            max_entries,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The analysis of spec `id`, from the cache or by analysing the text
    /// `load` reads (`Ok(None)`: no such spec). The lock is not held while
    /// analysing: two callers may both analyse a new spec once.
    pub(crate) fn get<E>(
        &self,
        id: &str,
        load: impl FnOnce() -> Result<Option<String>, E>,
    ) -> Result<Option<Arc<shared::Analysis>>, E> {
        {
            let mut inner = self.lock();
            inner.tick += 1;
            let tick = inner.tick;
            if let Some(e) = inner.entries.get_mut(id) {
                e.used = tick;
                return Ok(Some(e.analysis.clone()));
            }
        }
        let Some(text) = load()? else {
            return Ok(None);
        };
        let analysis = Arc::new(shared::analyze(&text));
        self.insert(id, analysis.clone(), text.len());
        Ok(Some(analysis))
    }

    fn insert(&self, id: &str, analysis: Arc<shared::Analysis>, bytes: usize) {
        if bytes > self.max_bytes || self.max_entries == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let used = inner.tick;
        if let Some(old) = inner.entries.insert(
            id.to_owned(),
            Entry {
                analysis,
                bytes,
                used,
            },
        ) {
            inner.bytes -= old.bytes;
        }
        inner.bytes += bytes;
        while inner.entries.len() > self.max_entries || inner.bytes > self.max_bytes {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.bytes;
            }
        }
    }

    /// How many analyses are kept (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "services:\n  a:\n    image: busybox\n";

    fn load(loads: &std::cell::Cell<u32>, text: &str) -> Result<Option<String>, ()> {
        loads.set(loads.get() + 1);
        Ok(Some(text.to_owned()))
    }

    #[test]
    fn a_spec_is_analysed_once_then_served_from_the_cache() {
        let cache = Analyses::default();
        let loads = std::cell::Cell::new(0);
        let a = cache.get("s1", || load(&loads, SPEC)).unwrap().unwrap();
        let b = cache.get("s1", || load(&loads, SPEC)).unwrap().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(loads.get(), 1);
        assert_eq!(a.spec.services.len(), 1);
        // a missing spec is not cached
        assert!(cache.get("gone", || Ok::<_, ()>(None)).unwrap().is_none());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_cache_is_bounded_and_keeps_the_recently_used() {
        let cache = Analyses::with_bounds(2, SPEC.len() * 2);
        let loads = std::cell::Cell::new(0);
        for id in ["s1", "s2"] {
            cache.get(id, || load(&loads, SPEC)).unwrap();
        }
        // s1 used again: s2 is the least recently used when s3 comes
        cache.get("s1", || load(&loads, SPEC)).unwrap();
        cache.get("s3", || load(&loads, SPEC)).unwrap();
        assert_eq!(cache.len(), 2);
        assert_eq!(loads.get(), 3);
        cache.get("s1", || load(&loads, SPEC)).unwrap();
        assert_eq!(loads.get(), 3, "s1 kept");
        cache.get("s2", || load(&loads, SPEC)).unwrap();
        assert_eq!(loads.get(), 4, "s2 was evicted");
        // a spec over the byte bound is analysed, never kept
        let big = format!("{SPEC}# {}\n", "x".repeat(SPEC.len() * 2));
        cache.get("big", || load(&loads, &big)).unwrap().unwrap();
        cache.get("big", || load(&loads, &big)).unwrap().unwrap();
        assert_eq!(loads.get(), 6);
        assert!(cache.len() <= 2);
    }
}
