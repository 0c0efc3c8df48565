//! The event hub: progress events stored in SQLite and broadcast to SSE
//! listeners, with every known secret value of the deployment replaced by
//! `***`. Kinds: `status` (only from [`super::Lifecycle`]), `step`, `error`
//! and `log`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tracing::{info, warn};

use crate::store::{Event, Store};

pub struct EventHub {
    store: Arc<Store>,
    tx: broadcast::Sender<Event>,
    secrets: Mutex<HashMap<String, Vec<String>>>,
}

impl EventHub {
    pub fn new(store: Arc<Store>) -> EventHub {
        let (tx, _) = broadcast::channel(1024);
        EventHub {
            store,
            tx,
            secrets: Mutex::new(HashMap::new()),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    pub fn set_secrets(&self, deployment: &str, values: impl IntoIterator<Item = String>) {
        let mut v: Vec<String> = values
            .into_iter()
            .filter(|s| s.len() >= 3)
            // also their common encodings (base64 at each alignment, URL)
            .flat_map(|s| {
                let mut all = crate::redaction::encodings(&s);
                all.push(s);
                all
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(deployment.to_owned(), v);
    }

    pub fn forget(&self, deployment: &str) {
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(deployment);
    }

    pub fn redact(&self, deployment: &str, text: &str) -> String {
        let secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_owned();
        if let Some(values) = secrets.get(deployment) {
            for v in values {
                if out.contains(v.as_str()) {
                    out = out.replace(v.as_str(), "***");
                }
            }
        }
        out
    }

    /// [`EventHub::redact`] for one line of a stream (a container log): also
    /// masks the start of a secret at the end of the line and the rest of
    /// one at its start, so a secret split over two lines shows in neither.
    pub fn redact_line(&self, deployment: &str, line: &str) -> String {
        let out = self.redact(deployment, line);
        let secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        match secrets.get(deployment) {
            Some(values) => crate::redaction::mask_line_edges(&out, values),
            None => out,
        }
    }

    pub fn emit(&self, deployment: &str, kind: &str, message: &str) {
        self.record(deployment, kind, self.redact(deployment, message));
    }

    /// Store and broadcast a message that is already redacted.
    pub(super) fn record(&self, deployment: &str, kind: &str, message: String) {
        if kind != "log" {
            info!(deployment, kind, "{message}");
        }
        match self.store.add_event(deployment, kind, &message) {
            Ok(ev) => {
                let _ = self.tx.send(ev);
            }
            Err(e) => warn!(deployment, "storing an event failed: {e}"),
        }
    }
}

impl EventHub {
    /// A progress step.
    pub fn step(&self, deployment: &str, message: &str) {
        self.emit(deployment, "step", message);
    }

    /// A failure (the step, or a part of it that the deployment survives).
    pub fn error(&self, deployment: &str, message: &str) {
        self.emit(deployment, "error", message);
    }
}
