//! Request handlers: decode params, call `shared::ide`, encode the result.

use lsp_server::{ErrorCode, Request};
use lsp_types as lsp;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::{ide, Span};

use super::convert;
use super::document::Encoding;
use super::Server;

type Outcome = Result<Value, (ErrorCode, String)>;

pub(super) fn initialize_result(encoding: Encoding) -> lsp::InitializeResult {
    let capabilities = lsp::ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["$".into(), ".".into(), " ".into()]),
            ..Default::default()
        }),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        diagnostic_provider: Some(lsp::DiagnosticServerCapabilities::Options(
            lsp::DiagnosticOptions {
                identifier: Some("specstudio".into()),
                inter_file_dependencies: true,
                workspace_diagnostics: false,
                work_done_progress_options: Default::default(),
            },
        )),
        ..Default::default()
    };
    lsp::InitializeResult {
        capabilities,
        server_info: Some(lsp::ServerInfo {
            name: "specstudio".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    }
}

fn params<P: DeserializeOwned>(req: Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(req.params)
        .map_err(|e| (ErrorCode::InvalidParams, format!("{}: {e}", req.method)))
}

fn ok(value: impl serde::Serialize) -> Outcome {
    serde_json::to_value(value).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

impl Server<'_> {
    pub(super) fn dispatch(&mut self, req: Request) -> Outcome {
        let enc = self.encoding;
        match req.method.as_str() {
            "textDocument/hover" => {
                let p: lsp::HoverParams = params(req)?;
                let at = &p.text_document_position_params;
                let Some((_, doc, a)) = self.open(&at.text_document.uri) else {
                    return ok(Value::Null);
                };
                let offset = doc.offset(at.position, enc);
                ok(ide::hover(&a, offset).map(|h| lsp::Hover {
                    contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                        kind: lsp::MarkupKind::Markdown,
                        value: h.markdown,
                    }),
                    range: h.span.map(|s| doc.range(s, enc)),
                }))
            }
            "textDocument/completion" => {
                let p: lsp::CompletionParams = params(req)?;
                let at = &p.text_document_position;
                let Some((_, doc, a)) = self.open(&at.text_document.uri) else {
                    return ok(Value::Null);
                };
                let offset = doc.offset(at.position, enc);
                let names = doc.last_parsed.clone().unwrap_or(a);
                let items: Vec<lsp::CompletionItem> = ide::complete(&doc.text, &names, offset)
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| convert::completion(doc, c, enc, i))
                    .collect();
                ok(lsp::CompletionResponse::Array(items))
            }
            "textDocument/codeAction" => {
                let p: lsp::CodeActionParams = params(req)?;
                let Some((uri, doc, a)) = self.open(&p.text_document.uri) else {
                    return ok(Vec::<Value>::new());
                };
                if !super::analysis::is_spec(uri, &doc.text) {
                    return ok(Vec::<Value>::new());
                }
                let span = doc.span(p.range, enc);
                let actions: Vec<lsp::CodeActionOrCommand> = ide::code_actions(&doc.text, &a, span)
                    .into_iter()
                    .map(|x| {
                        let edits = x
                            .edits
                            .iter()
                            .map(|e| convert::text_edit(doc, e, enc))
                            .collect();
                        lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                            title: x.title,
                            kind: Some(lsp::CodeActionKind::QUICKFIX),
                            diagnostics: Some(vec![convert::diagnostic(
                                doc,
                                uri,
                                &a.diagnostics[x.diagnostic],
                                enc,
                            )]),
                            edit: Some(convert::workspace_edit(uri, edits)),
                            is_preferred: Some(x.preferred),
                            ..Default::default()
                        })
                    })
                    .collect();
                ok(actions)
            }
            "textDocument/definition" => {
                let p: lsp::GotoDefinitionParams = params(req)?;
                let at = &p.text_document_position_params;
                let Some((uri, doc, a)) = self.open(&at.text_document.uri) else {
                    return ok(Value::Null);
                };
                let offset = doc.offset(at.position, enc);
                ok(ide::definition(&a, offset).map(|s| {
                    lsp::GotoDefinitionResponse::Scalar(lsp::Location::new(
                        uri.clone(),
                        doc.range(s, enc),
                    ))
                }))
            }
            "textDocument/references" => {
                let p: lsp::ReferenceParams = params(req)?;
                let at = &p.text_document_position;
                let Some((uri, doc, a)) = self.open(&at.text_document.uri) else {
                    return ok(Value::Null);
                };
                let offset = doc.offset(at.position, enc);
                let spans = ide::references(&a, offset, p.context.include_declaration);
                ok(spans
                    .into_iter()
                    .map(|s| lsp::Location::new(uri.clone(), doc.range(s, enc)))
                    .collect::<Vec<_>>())
            }
            "textDocument/prepareRename" => {
                let p: lsp::TextDocumentPositionParams = params(req)?;
                let Some((_, doc, a)) = self.open(&p.text_document.uri) else {
                    return ok(Value::Null);
                };
                let offset = doc.offset(p.position, enc);
                ok(ide::prepare_rename(&a, offset)
                    .map(|s| lsp::PrepareRenameResponse::Range(doc.range(s, enc))))
            }
            "textDocument/rename" => {
                let p: lsp::RenameParams = params(req)?;
                let at = &p.text_document_position;
                let Some((uri, doc, a)) = self.open(&at.text_document.uri) else {
                    return ok(Value::Null);
                };
                let offset = doc.offset(at.position, enc);
                match ide::rename(&a, offset, &p.new_name) {
                    Ok(edits) => {
                        let edits = edits
                            .iter()
                            .map(|e| convert::text_edit(doc, e, enc))
                            .collect();
                        ok(convert::workspace_edit(uri, edits))
                    }
                    Err(e) => Err((ErrorCode::RequestFailed, e.0)),
                }
            }
            "textDocument/documentSymbol" => {
                let p: lsp::DocumentSymbolParams = params(req)?;
                let Some((_, doc, a)) = self.open(&p.text_document.uri) else {
                    return ok(Value::Null);
                };
                let symbols: Vec<lsp::DocumentSymbol> = ide::document_symbols(&a)
                    .into_iter()
                    .map(|s| convert::symbol(doc, s, enc))
                    .collect();
                ok(lsp::DocumentSymbolResponse::Nested(symbols))
            }
            "textDocument/formatting" => {
                let p: lsp::DocumentFormattingParams = params(req)?;
                let Some((_, doc, _)) = self.open(&p.text_document.uri) else {
                    return ok(Value::Null);
                };
                let edits = match ide::format(&doc.text) {
                    Some(out) if out != doc.text => vec![lsp::TextEdit::new(
                        doc.range(Span::new(0, doc.text.len()), enc),
                        out,
                    )],
                    _ => Vec::new(),
                };
                ok(edits)
            }
            "textDocument/foldingRange" => {
                let p: lsp::FoldingRangeParams = params(req)?;
                let Some((_, doc, _)) = self.open(&p.text_document.uri) else {
                    return ok(Value::Null);
                };
                let folds: Vec<lsp::FoldingRange> = ide::folding_ranges(&doc.text)
                    .into_iter()
                    .map(|f| lsp::FoldingRange {
                        start_line: f.start_line as u32,
                        end_line: f.end_line as u32,
                        ..Default::default()
                    })
                    .collect();
                ok(folds)
            }
            "textDocument/diagnostic" => {
                let p: lsp::DocumentDiagnosticParams = params(req)?;
                let Some((uri, doc, a)) = self.open(&p.text_document.uri) else {
                    return Err((ErrorCode::InvalidParams, "the document is not open".into()));
                };
                let items = super::diagnostics(uri, doc, &a, enc);
                ok(lsp::DocumentDiagnosticReportResult::Report(
                    lsp::DocumentDiagnosticReport::Full(lsp::RelatedFullDocumentDiagnosticReport {
                        related_documents: None,
                        full_document_diagnostic_report: lsp::FullDocumentDiagnosticReport {
                            result_id: None,
                            items,
                        },
                    }),
                ))
            }
            method => Err((
                ErrorCode::MethodNotFound,
                format!("`{method}` is not supported"),
            )),
        }
    }

    /// An open document with its current analysis.
    fn open(
        &mut self,
        uri: &lsp::Uri,
    ) -> Option<(&lsp::Uri, &super::Document, std::rc::Rc<shared::Analysis>)> {
        let a = self.analysed(uri.as_str())?;
        let (uri, doc) = self.docs.get(uri.as_str())?;
        Some((uri, doc, a))
    }
}
