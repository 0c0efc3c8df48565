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

mod analysis;
mod convert;
mod document;
mod handlers;
pub mod transport;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
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
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params)
                else {
                    return;
                };
                let key = p.text_document.uri.as_str().to_owned();
                let doc = Document::new(p.text_document.text, p.text_document.version);
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
                        self.publish(uri, Vec::new(), None);
                    }
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
            let Some((uri, doc)) = self.docs.get_mut(&key) else {
                continue;
            };
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let analysis = analysed(uri, doc);
                diagnostics(uri, doc, &analysis, encoding)
            }));
            let diagnostics = outcome.unwrap_or_default();
            doc.pushed_at = Some(Instant::now());
            let (uri, version) = (uri.clone(), doc.version);
            self.publish(uri, diagnostics, Some(version));
        }
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

/// The document's analysis, made once per text.
fn analysed(uri: &lsp::Uri, doc: &mut Document) -> Rc<Analysis> {
    if let Some(a) = &doc.analysis {
        return a.clone();
    }
    let a = Rc::new(analysis::analyze(uri, &doc.text));
    if a.parsed {
        doc.last_parsed = Some(a.clone());
    }
    doc.analysis = Some(a.clone());
    a
}
