//! Our thin, typed binding over the parts of Monaco the editor uses.
//!
//! Monaco is loaded by `index.html` through its AMD loader (`vs/loader.js`)
//! from the npm package copied into `dist/vs-<version>`; `window.monacoReady` is a
//! Promise that resolves once `vs/editor/editor.main` is loaded. Functions
//! declared here look `monaco.*` up when called, so nothing runs before then.
//!
//! Plain data (options, markers, hover and completion results) crosses the
//! boundary as JSON built with `serde_json` and parsed by `JSON.parse`: one
//! allocation per call and no hand-written object plumbing.

use js_sys::{Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `monaco.editor.IStandaloneCodeEditor`.
    #[derive(Clone, Debug)]
    pub type Editor;
    /// `monaco.editor.ITextModel`.
    #[derive(Clone, Debug)]
    pub type Model;
    /// `monaco.IDisposable`.
    pub type Disposable;

    #[wasm_bindgen(js_namespace = ["monaco", "editor"], js_name = create)]
    fn create_editor(element: &web_sys::HtmlElement, options: &JsValue) -> Editor;

    #[wasm_bindgen(js_namespace = ["monaco", "editor"], js_name = setModelMarkers)]
    fn set_model_markers(model: &Model, owner: &str, markers: &JsValue);

    #[wasm_bindgen(js_namespace = ["monaco", "editor"], js_name = setTheme)]
    pub fn set_theme(theme: &str);

    #[wasm_bindgen(js_namespace = ["monaco", "languages"], js_name = registerHoverProvider)]
    fn register_hover_provider(language: &str, provider: &Object) -> Disposable;

    #[wasm_bindgen(js_namespace = ["monaco", "languages"], js_name = registerCompletionItemProvider)]
    fn register_completion_provider(language: &str, provider: &Object) -> Disposable;

    #[wasm_bindgen(js_namespace = ["monaco", "languages"], js_name = registerCodeActionProvider)]
    fn register_code_action_provider(language: &str, provider: &Object) -> Disposable;

    #[wasm_bindgen(js_namespace = ["monaco", "languages"], js_name = registerDocumentFormattingEditProvider)]
    fn register_formatting_provider(language: &str, provider: &Object) -> Disposable;

    #[wasm_bindgen(js_namespace = ["monaco", "languages"], js_name = registerDefinitionProvider)]
    fn register_definition_provider(language: &str, provider: &Object) -> Disposable;

    #[wasm_bindgen(js_namespace = ["monaco", "languages"], js_name = registerReferenceProvider)]
    fn register_reference_provider(language: &str, provider: &Object) -> Disposable;

    #[wasm_bindgen(method, js_name = getModel)]
    pub fn model(this: &Editor) -> Model;

    #[wasm_bindgen(method, js_name = getValue)]
    pub fn value(this: &Editor) -> String;

    #[wasm_bindgen(method, js_name = setValue)]
    fn set_editor_value(this: &Editor, value: &str);

    #[wasm_bindgen(method, js_name = onDidChangeModelContent)]
    fn on_did_change_model_content(this: &Editor, listener: &Function) -> Disposable;

    #[wasm_bindgen(method, js_name = revealLineInCenter)]
    fn reveal_line_in_center(this: &Editor, line: u32);

    #[wasm_bindgen(method, js_name = setSelection)]
    fn set_selection(this: &Editor, range: &JsValue);

    #[wasm_bindgen(method)]
    pub fn focus(this: &Editor);

    #[wasm_bindgen(method, js_name = updateOptions)]
    fn update_options(this: &Editor, options: &JsValue);

    #[wasm_bindgen(method)]
    pub fn layout(this: &Editor);

    #[wasm_bindgen(method, js_name = getValue)]
    pub fn text(this: &Model) -> String;

    #[wasm_bindgen(method, getter)]
    fn uri(this: &Model) -> JsValue;

    #[wasm_bindgen(method, js_name = getValueLength)]
    pub fn value_length(this: &Model) -> f64;

    #[wasm_bindgen(method, js_name = pushEditOperations)]
    fn push_edit_operations(this: &Model, before: &JsValue, edits: &JsValue, cursor: &JsValue);

    #[wasm_bindgen(method, js_name = pushStackElement)]
    fn push_stack_element(this: &Model);

    // --- issue 10 (editor for real users): bindings kept together for an easy merge ---
    #[wasm_bindgen(method, js_name = getFullModelRange)]
    fn full_model_range(this: &Model) -> JsValue;

    #[wasm_bindgen(method, js_name = getAction)]
    fn get_action(this: &Editor, id: &str) -> JsValue;

    #[wasm_bindgen(method, js_name = trigger)]
    fn trigger(this: &Editor, source: &str, handler_id: &str, payload: &JsValue);
}

/// Severity numbers of `monaco.MarkerSeverity`.
pub mod severity {
    pub const HINT: u8 = 1;
    pub const INFO: u8 = 2;
    pub const WARNING: u8 = 4;
    pub const ERROR: u8 = 8;
}

/// A range in Monaco terms: 1-based lines, 1-based UTF-16 columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonacoRange {
    pub start_line_number: u32,
    pub start_column: u32,
    pub end_line_number: u32,
    pub end_column: u32,
}

impl MonacoRange {
    pub fn from_range(range: shared::span::Range) -> Self {
        MonacoRange {
            start_line_number: range.start.line as u32,
            start_column: range.start.column as u32,
            end_line_number: range.end.line as u32,
            end_column: range.end.column as u32,
        }
    }
}

/// `monaco.editor.IMarkerData`.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Marker {
    pub severity: u8,
    pub message: String,
    pub code: String,
    pub source: &'static str,
    #[serde(flatten)]
    pub range: MonacoRange,
}

/// Parse JSON text into a JS value (our data crossing the boundary).
pub fn to_js<T: serde::Serialize>(value: &T) -> JsValue {
    let text = serde_json::to_string(value).expect("serializable");
    JSON::parse(&text).expect("valid JSON")
}

/// The Promise `index.html` sets up for Monaco's AMD load.
pub fn ready() -> Option<Promise> {
    let window = web_sys::window()?;
    Reflect::get(&window, &JsValue::from_str("monacoReady"))
        .ok()?
        .dyn_into::<Promise>()
        .ok()
}

/// Create an editor in `element`.
pub fn create(element: &web_sys::HtmlElement, value: &str, read_only: bool) -> Editor {
    let options = serde_json::json!({
        "value": value,
        "language": "yaml",
        "theme": "vs",
        "automaticLayout": true,
        "minimap": {"enabled": false},
        "fontSize": 13,
        "tabSize": 2,
        "insertSpaces": true,
        "readOnly": read_only,
        // Squiggles in the read-only preview too (Monaco hides them there by default).
        "renderValidationDecorations": "on",
        "scrollBeyondLastLine": false,
        "renderWhitespace": "boundary",
        "fixedOverflowWidgets": true,
        "lightbulb": {"enabled": "on"},
        "quickSuggestions": {"other": true, "strings": true, "comments": false},
        "suggestOnTriggerCharacters": true,
        // Enter accepts a suggestion only when it changes more than the typed
        // prefix; Tab always does. Enter while indenting is a newline.
        "acceptSuggestionOnEnter": "smart",
        "tabCompletion": "off",
        "wordBasedSuggestions": "off",
    });
    create_editor(element, &to_js(&options))
}

impl Editor {
    pub fn set_value(&self, value: &str) {
        self.set_editor_value(value);
    }

    /// Call `listener` after every change of the text.
    pub fn on_change(&self, listener: impl FnMut() + 'static) -> Disposable {
        let closure = Closure::<dyn FnMut()>::new(listener);
        let disposable = self.on_did_change_model_content(closure.as_ref().unchecked_ref());
        closure.forget();
        disposable
    }

    /// Scroll to `range`, select it and focus the editor.
    pub fn reveal(&self, range: MonacoRange) {
        self.reveal_line_in_center(range.start_line_number);
        self.set_selection(&to_js(&range));
        self.focus();
    }

    pub fn set_read_only(&self, read_only: bool) {
        self.update_options(&to_js(&serde_json::json!({ "readOnly": read_only })));
    }

    /// Replace ranges as one undoable step.
    pub fn apply_edits(&self, edits: &[(MonacoRange, String)]) {
        let model = self.model();
        let ops: Vec<serde_json::Value> = edits
            .iter()
            .map(|(range, text)| serde_json::json!({"range": range, "text": text, "forceMoveMarkers": true}))
            .collect();
        model.push_stack_element();
        model.push_edit_operations(&js_sys::Array::new(), &to_js(&ops), &JsValue::NULL);
        model.push_stack_element();
    }
}

// --- issue 10 (editor for real users): helpers kept together for an easy merge ---
impl Editor {
    /// Replace the whole text as one undo step (Ctrl+Z brings the old text back).
    pub fn replace_all(&self, text: &str) {
        let model = self.model();
        let range = model.full_model_range();
        let edit = Object::new();
        set(&edit, "range", &range);
        set(&edit, "text", &JsValue::from_str(text));
        set(&edit, "forceMoveMarkers", &JsValue::TRUE);
        let edits = js_sys::Array::of1(&edit);
        model.push_stack_element();
        model.push_edit_operations(&js_sys::Array::new(), &edits, &JsValue::NULL);
        model.push_stack_element();
    }

    /// Run a Monaco editor action by id (`editor.action.formatDocument`, …).
    pub fn run_action(&self, id: &str) {
        let action = self.get_action(id);
        if let Ok(run) = Reflect::get(&action, &JsValue::from_str("run")) {
            if let Some(f) = run.dyn_ref::<Function>() {
                self.focus();
                let _ = f.call0(&action);
                return;
            }
        }
        self.trigger("specstudio", id, &JsValue::NULL);
    }
}

impl Model {
    /// Markers given as JSON already (the lint worker's answer).
    pub fn set_markers_json(&self, markers: &serde_json::Value) {
        set_model_markers(self, "specstudio", &to_js(markers));
    }

    pub fn set_markers(&self, markers: &[Marker]) {
        set_model_markers(self, "specstudio", &to_js(&markers));
    }
}

fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &JsValue::from_str(key), value).expect("object is extensible");
}

/// A 1-based position from a Monaco `IPosition`.
fn position(value: &JsValue) -> (u32, u32) {
    let get = |key: &str| {
        Reflect::get(value, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(1.0) as u32
    };
    (get("lineNumber"), get("column"))
}

/// A provider's answer, computed later: the language features load as their
/// own wasm chunk on first use, so Monaco gets a Promise (it accepts one from
/// every provider).
pub type Later<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

/// `future` as a Promise of the JS value `to_value` makes of its output.
fn promise<T: 'static>(future: Later<T>, to_value: impl FnOnce(T) -> JsValue + 'static) -> JsValue {
    wasm_bindgen_futures::future_to_promise(async move { Ok(to_value(future.await)) }).into()
}

/// Markdown hover text for a 1-based line and UTF-16 column; `None` for no hover.
pub type HoverFn = dyn Fn(u32, u32) -> Later<Option<(String, Option<MonacoRange>)>>;

/// Register a hover provider for YAML.
pub fn on_hover(provide: Box<HoverFn>) -> Disposable {
    let provider = Object::new();
    let closure = Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(move |_model, pos| {
        let (line, column) = position(&pos);
        promise(provide(line, column), |hover| match hover {
            Some((markdown, range)) => to_js(&serde_json::json!({
                "contents": [{"value": markdown, "isTrusted": false}],
                "range": range,
            })),
            None => JsValue::NULL,
        })
    });
    set(&provider, "provideHover", closure.as_ref());
    closure.forget();
    register_hover_provider("yaml", &provider)
}

/// One completion item (`monaco.languages.CompletionItem`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletionItem {
    pub label: String,
    /// `monaco.languages.CompletionItemKind`.
    pub kind: u8,
    pub insert_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    pub range: MonacoRange,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_text: Option<String>,
}

pub type CompletionFn = dyn Fn(u32, u32) -> Later<Vec<CompletionItem>>;

/// Register a completion provider for YAML.
pub fn on_completion(trigger_characters: &[&str], provide: Box<CompletionFn>) -> Disposable {
    let provider = Object::new();
    set(&provider, "triggerCharacters", &to_js(&trigger_characters));
    let closure = Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(move |_model, pos| {
        let (line, column) = position(&pos);
        promise(provide(line, column), |items| {
            to_js(&serde_json::json!({ "suggestions": items }))
        })
    });
    set(&provider, "provideCompletionItems", closure.as_ref());
    closure.forget();
    register_completion_provider("yaml", &provider)
}

/// A quick fix offered for the requested range.
#[derive(Clone, Debug)]
pub struct QuickFix {
    pub title: String,
    pub edits: Vec<(MonacoRange, String)>,
    /// The marker the fix resolves (matched by range and code).
    pub marker: Marker,
    pub preferred: bool,
}

pub type CodeActionFn = dyn Fn(MonacoRange) -> Vec<QuickFix>;

/// Register a code-action (quick-fix) provider for YAML.
pub fn on_code_action(provide: Box<CodeActionFn>) -> Disposable {
    let provider = Object::new();
    let closure = Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(
        move |model: JsValue, range: JsValue| {
            let model: Model = model.unchecked_into();
            let get = |key: &str| {
                Reflect::get(&range, &JsValue::from_str(key))
                    .ok()
                    .and_then(|v| v.as_f64())
                    .unwrap_or(1.0) as u32
            };
            let range = MonacoRange {
                start_line_number: get("startLineNumber"),
                start_column: get("startColumn"),
                end_line_number: get("endLineNumber"),
                end_column: get("endColumn"),
            };
            let uri = model.uri();
            let actions = js_sys::Array::new();
            for fix in provide(range) {
                let edits = js_sys::Array::new();
                for (range, text) in &fix.edits {
                    let edit = Object::new();
                    set(&edit, "resource", &uri);
                    set(&edit, "versionId", &JsValue::UNDEFINED);
                    set(
                        &edit,
                        "textEdit",
                        &to_js(&serde_json::json!({"range": range, "text": text})),
                    );
                    edits.push(&edit);
                }
                let workspace_edit = Object::new();
                set(&workspace_edit, "edits", &edits);
                let action = Object::new();
                set(&action, "title", &JsValue::from_str(&fix.title));
                set(&action, "kind", &JsValue::from_str("quickfix"));
                set(&action, "isPreferred", &JsValue::from_bool(fix.preferred));
                set(&action, "diagnostics", &to_js(&[&fix.marker]));
                set(&action, "edit", &workspace_edit);
                actions.push(&action);
            }
            let list = Object::new();
            set(&list, "actions", &actions);
            set(&list, "dispose", &Function::new_no_args(""));
            list.into()
        },
    );
    set(&provider, "provideCodeActions", closure.as_ref());
    closure.forget();
    register_code_action_provider("yaml", &provider)
}

/// Whole-text edits for "Format Document", given the model's text.
pub type FormatFn = dyn Fn(String) -> Later<Vec<(MonacoRange, String)>>;

/// Register the document formatter for YAML (Monaco's "Format Document",
/// Shift+Alt+F, and `editor.action.formatDocument`).
pub fn on_format(provide: Box<FormatFn>) -> Disposable {
    let provider = Object::new();
    let closure = Closure::<dyn Fn(JsValue) -> JsValue>::new(move |model: JsValue| {
        let model: Model = model.unchecked_into();
        promise(provide(model.text()), |edits| {
            let edits: Vec<serde_json::Value> = edits
                .into_iter()
                .map(|(range, text)| serde_json::json!({"range": range, "text": text}))
                .collect();
            to_js(&edits)
        })
    });
    set(
        &provider,
        "provideDocumentFormattingEdits",
        closure.as_ref(),
    );
    closure.forget();
    register_formatting_provider("yaml", &provider)
}

/// Ranges for a 1-based line and UTF-16 column of the model's text.
pub type LocateFn = dyn Fn(String, u32, u32) -> Later<Vec<MonacoRange>>;

fn locations(model: &Model, ranges: Vec<MonacoRange>) -> JsValue {
    let uri = model.uri();
    let out = js_sys::Array::new();
    for range in ranges {
        let location = Object::new();
        set(&location, "uri", &uri);
        set(&location, "range", &to_js(&range));
        out.push(&location);
    }
    out.into()
}

/// A provider object whose `method` answers locations for a position.
fn locating_provider(method: &str, provide: Box<LocateFn>) -> Object {
    let provider = Object::new();
    let closure =
        Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(move |model: JsValue, pos: JsValue| {
            let model: Model = model.unchecked_into();
            let (line, column) = position(&pos);
            let found = provide(model.text(), line, column);
            promise(found, move |ranges| locations(&model, ranges))
        });
    set(&provider, method, closure.as_ref());
    closure.forget();
    provider
}

/// Register go-to-definition (F12, Ctrl+click) for YAML.
pub fn on_definition(provide: Box<LocateFn>) -> Disposable {
    register_definition_provider("yaml", &locating_provider("provideDefinition", provide))
}

/// Register find-references (Shift+F12) for YAML.
pub fn on_references(provide: Box<LocateFn>) -> Disposable {
    register_reference_provider("yaml", &locating_provider("provideReferences", provide))
}
