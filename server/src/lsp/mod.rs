//! `specstudio lsp`: the language server, over stdio.
//!
//! One thread owns the documents and answers requests in order; the IDE logic
//! is `shared::ide` (the same functions the browser page calls). Diagnostics
//! are pulled (`textDocument/diagnostic`) by clients that support it, and
//! pushed to the others (at once after a quiet spell, else [`DEBOUNCE`]
//! after the last change of a burst), as ruff's server
//! does: a client doing both would show every finding twice. Nothing a client sends stops the server but
//! `exit` or the end of its input: bad params get `InvalidParams`, unknown
//! documents empty results, positions past the end are clamped, and a panic
//! in a handler becomes an `InternalError` answer.
//!
//! A document's analysis reads the files it includes or extends (the
//! editor's text for those open in it, else the disk); when one of them
//! changes (edited in the editor, or on disk as the client reports through
//! `workspace/didChangeWatchedFiles`, which the server registers for when the
//! client can), the open dependents are analysed again and their diagnostics
//! pushed (or, for pulling clients, refreshed).

mod analysis;
mod convert;
mod document;
mod handlers;
pub mod transport;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use shared::Analysis;

use document::{Document, Encoding};

/// Quiet time after a change before diagnostics are computed and pushed.
pub const DEBOUNCE: Duration = Duration::from_millis(10);

/// Run the server on stdin/stdout until `exit` or the end of input.
pub fn run() -> ExitCode {
    let (sender, receiver, writer) = transport::stdio();
    let code = serve(&sender, &receiver);
    drop(sender);
    let _ = writer.join();
    code
}

#[derive(PartialEq, Eq)]
enum Phase {
    Uninitialized,
    Running,
    ShuttingDown,
}

struct Server<'a> {
    sender: &'a Sender<Message>,
    phase: Phase,
    encoding: Encoding,
    /// Push diagnostics; off for clients that pull them (`textDocument.diagnostic`),
    /// which would otherwise show every finding twice.
    push: bool,
    docs: HashMap<String, (lsp::Uri, Document)>,
    /// Documents with diagnostics to push, and when they last changed.
    dirty: HashMap<String, Instant>,
    /// The client can be asked to report changes to files on disk.
    watch: bool,
    /// The client re-pulls diagnostics on `workspace/diagnostic/refresh`.
    refresh: bool,
    /// Ids of the requests this server sends to the client.
    next_id: i32,
}

/// The message loop (exposed for in-process tests over channels).
pub fn serve(sender: &Sender<Message>, receiver: &Receiver<Message>) -> ExitCode {
    let mut server = Server {
        sender,
        phase: Phase::Uninitialized,
        encoding: Encoding::Utf16,
        push: true,
        docs: HashMap::new(),
        dirty: HashMap::new(),
        watch: false,
        refresh: false,
        next_id: 0,
    };
    loop {
        let timeout = server
            .dirty
            .values()
            .min()
            .map(|t| (*t + DEBOUNCE).saturating_duration_since(Instant::now()));
        let message = match timeout {
            Some(t) => match receiver.recv_timeout(t) {
                Ok(m) => Some(m),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            },
            None => match receiver.recv() {
                Ok(m) => Some(m),
                Err(_) => break,
            },
        };
        match message {
            None => server.flush_due(),
            Some(Message::Request(req)) => server.request(req),
            Some(Message::Notification(n)) if n.method == "exit" => {
                return if server.phase == Phase::ShuttingDown {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                };
            }
            Some(Message::Notification(n)) => server.notification(n),
            Some(Message::Response(_)) => {}
        }
        // A client that never pauses still gets its diagnostics.
        server.flush_due();
    }
    ExitCode::FAILURE
}

impl Server<'_> {
    fn send(&self, message: impl Into<Message>) {
        let _ = self.sender.send(message.into());
    }

    fn error(&self, id: RequestId, code: ErrorCode, message: impl Into<String>) {
        self.send(Response::new_err(id, code as i32, message.into()));
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        match (&self.phase, req.method.as_str()) {
            (Phase::Uninitialized, "initialize") => {
                let params: lsp::InitializeParams =
                    serde_json::from_value(req.params).unwrap_or_default();
                self.push = params
                    .capabilities
                    .text_document
                    .as_ref()
                    .is_none_or(|t| t.diagnostic.is_none());
                let workspace = params.capabilities.workspace.as_ref();
                self.watch = workspace
                    .and_then(|w| w.did_change_watched_files.as_ref())
                    .and_then(|w| w.dynamic_registration)
                    .unwrap_or(false);
                self.refresh = workspace
                    .and_then(|w| w.diagnostic.as_ref())
                    .and_then(|d| d.refresh_support)
                    .unwrap_or(false);
                let offered = params
                    .capabilities
                    .general
                    .and_then(|g| g.position_encodings)
                    .unwrap_or_default();
                self.encoding = if offered.contains(&lsp::PositionEncodingKind::UTF8) {
                    Encoding::Utf8
                } else {
                    Encoding::Utf16
                };
                self.phase = Phase::Running;
                self.send(Response::new_ok(
                    id,
                    handlers::initialize_result(self.encoding),
                ));
            }
            (Phase::Uninitialized, _) => self.error(
                id,
                ErrorCode::ServerNotInitialized,
                "the server is not initialized yet",
            ),
            (_, "initialize") => self.error(
                id,
                ErrorCode::InvalidRequest,
                "initialize was already received",
            ),
            (_, "shutdown") => {
                self.phase = Phase::ShuttingDown;
                self.send(Response::new_ok(id, ()));
            }
            (Phase::ShuttingDown, _) => {
                self.error(id, ErrorCode::InvalidRequest, "the server is shutting down")
            }
            (Phase::Running, _) => {
                let outcome = catch_unwind(AssertUnwindSafe(|| self.dispatch(req)));
                let response = match outcome {
                    Ok(Ok(value)) => Response::new_ok(id, value),
                    Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
                    Err(_) => Response::new_err(
                        id,
                        ErrorCode::InternalError as i32,
                        "internal error (the server keeps running)".into(),
                    ),
                };
                self.send(response);
            }
        }
    }

    fn notification(&mut self, n: Notification) {
        if self.phase != Phase::Running {
            return;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| self.on_notification(n)));
        if outcome.is_err() {
            eprintln!("specstudio lsp: a notification handler failed; continuing");
        }
    }

    fn on_notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "initialized" if self.watch => self.watch_files(),
            "workspace/didChangeWatchedFiles" => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeWatchedFilesParams>(n.params)
                else {
                    return;
                };
                for change in p.changes {
                    self.dependency_changed(&change.uri, "");
                }
            }
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params)
                else {
                    return;
                };
                let key = p.text_document.uri.as_str().to_owned();
                let doc = Document::new(p.text_document.text, p.text_document.version);
                self.dependency_changed(&p.text_document.uri, &key);
                self.docs.insert(key.clone(), (p.text_document.uri, doc));
                // A fresh document: diagnostics now, no debounce.
                self.dirty.insert(key, due_now());
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params)
                else {
                    return;
                };
                let key = p.text_document.uri.as_str();
                let encoding = self.encoding;
                if let Some((_, doc)) = self.docs.get_mut(key) {
                    for change in p.content_changes {
                        doc.apply(change, encoding);
                    }
                    doc.version = p.text_document.version;
                    // Leading edge: the first change after a quiet spell is
                    // checked at once; changes in a burst wait for a pause.
                    let quiet = !self.dirty.contains_key(key)
                        && doc.pushed_at.is_none_or(|t| t.elapsed() >= DEBOUNCE);
                    let at = if quiet { due_now() } else { Instant::now() };
                    self.dirty.insert(key.to_owned(), at);
                }
                self.dependency_changed(&p.text_document.uri, key);
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params)
                else {
                    return;
                };
                let key = p.text_document.uri.as_str();
                self.dirty.remove(key);
                if let Some((uri, _)) = self.docs.remove(key) {
                    if self.push {
                        self.publish(uri.clone(), Vec::new(), None);
                    }
                    // Dependents read the file from disk again.
                    self.dependency_changed(&uri, "");
                }
            }
            _ => {}
        }
    }

    /// Push diagnostics for documents quiet for [`DEBOUNCE`].
    fn flush_due(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .dirty
            .iter()
            .filter(|(_, t)| now.duration_since(**t) >= DEBOUNCE)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.dirty.remove(&key);
            if !self.push {
                continue;
            }
            let encoding = self.encoding;
            let analysis = catch_unwind(AssertUnwindSafe(|| self.analysed(&key)));
            let Some((uri, doc)) = self.docs.get_mut(&key) else {
                continue;
            };
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let analysis = analysis.ok().flatten()?;
                Some(diagnostics(uri, doc, &analysis, encoding))
            }));
            let diagnostics = outcome.ok().flatten().unwrap_or_default();
            doc.pushed_at = Some(Instant::now());
            let (uri, version) = (uri.clone(), doc.version);
            self.publish(uri, diagnostics, Some(version));
        }
    }

    /// The open document's analysis, made once per text (and again when a
    /// file it reads changes). The other open documents stand in for the
    /// files on disk they are.
    fn analysed(&mut self, key: &str) -> Option<Rc<Analysis>> {
        let (_, doc) = self.docs.get(key)?;
        if let Some(a) = &doc.analysis {
            return Some(a.clone());
        }
        let (uri, mut doc) = self.docs.remove(key)?;
        let docs = &self.docs;
        let open = |path: &Path| {
            docs.values()
                .find(|(u, _)| {
                    analysis::file_path(u).is_some_and(|p| analysis::normalized(&p) == path)
                })
                .map(|(_, d)| d.text.clone())
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            analysis::analyze(&uri, &doc.text, &open)
        }));
        let result = outcome.map(|(a, deps)| {
            let a = Rc::new(a);
            if a.parsed {
                doc.last_parsed = Some(a.clone());
            }
            doc.analysis = Some(a.clone());
            doc.deps = deps;
            a
        });
        // The document stays open whatever the analysis did.
        self.docs.insert(key.to_owned(), (uri, doc));
        match result {
            Ok(a) => Some(a),
            Err(panic) => resume_unwind(panic),
        }
    }

    /// `uri` changed (in the editor or on disk): the open documents that
    /// read it (other than `except`) are stale; push them again after the
    /// debounce, or ask a pulling client to pull again.
    fn dependency_changed(&mut self, uri: &lsp::Uri, except: &str) {
        let Some(path) = analysis::file_path(uri).map(|p| analysis::normalized(&p)) else {
            return;
        };
        let mut stale = false;
        for (key, (_, doc)) in self.docs.iter_mut() {
            if key != except && doc.deps.contains(&path) {
                doc.analysis = None;
                stale = true;
                if self.push {
                    self.dirty.insert(key.clone(), Instant::now());
                }
            }
        }
        if stale && !self.push && self.refresh {
            self.send_request("workspace/diagnostic/refresh", serde_json::Value::Null);
        }
    }

    /// Ask the client to report changes to YAML files on disk (the files a
    /// spec includes or extends).
    fn watch_files(&mut self) {
        let options = lsp::DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![lsp::FileSystemWatcher {
                glob_pattern: lsp::GlobPattern::String("**/*.{yaml,yml}".into()),
                kind: None,
            }],
        };
        let params = lsp::RegistrationParams {
            registrations: vec![lsp::Registration {
                id: "specstudio-watch-yaml".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(options).ok(),
            }],
        };
        self.send_request(
            "client/registerCapability",
            serde_json::to_value(params).unwrap_or_default(),
        );
    }

    fn send_request(&mut self, method: &str, params: serde_json::Value) {
        self.next_id += 1;
        let id = RequestId::from(format!("specstudio-{}", self.next_id));
        self.send(Request::new(id, method.into(), params));
    }

    fn publish(&self, uri: lsp::Uri, diagnostics: Vec<lsp::Diagnostic>, version: Option<i32>) {
        let params = lsp::PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Notification::new(
            "textDocument/publishDiagnostics".into(),
            params,
        ));
    }
}

/// A change time that makes a document due at once.
fn due_now() -> Instant {
    let now = Instant::now();
    now.checked_sub(DEBOUNCE).unwrap_or(now)
}

/// The findings to report for a document (none for YAML that is not a spec).
fn diagnostics(
    uri: &lsp::Uri,
    doc: &Document,
    analysis: &Analysis,
    encoding: Encoding,
) -> Vec<lsp::Diagnostic> {
    if !analysis::is_spec(uri, &doc.text) {
        return Vec::new();
    }
    analysis
        .diagnostics
        .iter()
        .map(|d| convert::diagnostic(doc, uri, d, encoding))
        .collect()
}
