//! The header's "Menu": format the document (Monaco's
//! `editor.action.formatDocument`, whose provider lives in the spec core),
//! light/dark theme (follows `prefers-color-scheme` until toggled, then
//! remembered), optional vim mode (npm `monaco-vim`, loaded on first use),
//! export the YAML / the graph as SVG or PNG, the shortcuts panel.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::state::{editor_text, storage_get, storage_set, with_editor, Ctx, HeaderDialog};

const THEME_KEY: &str = "specstudio.theme";
pub(crate) const VIM_KEY: &str = "specstudio.vim";

#[wasm_bindgen(inline_js = r#"
export function downloadText(name, mime, text) {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
export function downloadSvgAsPng(name, svgText, width, height) {
  const img = new Image();
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  img.onload = () => {
    const scale = 2, canvas = document.createElement('canvas');
    canvas.width = Math.max(1, width * scale); canvas.height = Math.max(1, height * scale);
    const g = canvas.getContext('2d');
    g.fillStyle = '#ffffff'; g.fillRect(0, 0, canvas.width, canvas.height);
    g.scale(scale, scale); g.drawImage(img, 0, 0, width, height);
    URL.revokeObjectURL(url);
    canvas.toBlob((blob) => {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob); a.download = name; document.body.appendChild(a); a.click(); a.remove();
    }, 'image/png');
  };
  img.src = url;
}
// Vim mode (npm monaco-vim, UMD): loaded through Monaco's AMD loader on first use, with
// `monaco-editor/esm/vs/editor/editor.api` aliased to the global `monaco`.
export function setVimMode(on) {
  const editor = window.monaco && window.monaco.editor.getEditors()[0];
  const status = document.querySelector('[data-testid=vim-status]');
  if (!editor || !status) return;
  if (!on) {
    if (window.__specstudioVim) { window.__specstudioVim.dispose(); window.__specstudioVim = null; }
    status.textContent = '';
    return;
  }
  const api = 'monaco-editor/esm/vs/editor/editor.api';
  if (!window.require.defined || !window.require.defined(api)) window.define(api, [], () => window.monaco);
  window.require(['/monaco-vim-0.4.4.js'], (vim) => {
    if (!window.__specstudioVim) window.__specstudioVim = vim.initVimMode(editor, status);
  }, (e) => { status.textContent = 'vim mode failed to load: ' + e; });
}
export function prefersDark() {
  return !!(window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = downloadText)]
    fn download_text(name: &str, mime: &str, text: &str);
    #[wasm_bindgen(js_name = downloadSvgAsPng)]
    fn download_svg_as_png(name: &str, svg: &str, width: f64, height: f64);
    #[wasm_bindgen(js_name = setVimMode)]
    pub fn set_vim_mode(on: bool);
    #[wasm_bindgen(js_name = prefersDark)]
    fn prefers_dark() -> bool;
}

/// The graph's SVG, standalone: its styles inlined so it renders anywhere.
fn graph_svg() -> Option<(String, f64, f64)> {
    let doc = web_sys::window()?.document()?;
    let svg = doc.query_selector("[data-testid=graph]").ok()??;
    let markup = svg.outer_html();
    let width = svg.get_attribute("width")?.parse().ok()?;
    let height = svg.get_attribute("height")?.parse().ok()?;
    let style = "<style>text{font-family:system-ui,sans-serif}.node rect{fill:#eef4ff;stroke:#4c74c9;stroke-width:1.3}\
.node.passive rect{fill:#f4f1fb;stroke:#8a6fd1;stroke-dasharray:4 3}.node.has-errors rect{stroke:#d1242f;stroke-width:2}\
.node .name{font-size:12.5px;font-weight:600;fill:#1d2430}.node .kind{font-size:9.5px;fill:#6b7480}\
.badge circle{fill:#d1242f}.badge text{fill:#fff;font-size:10px}.edge path{fill:none;stroke:#3b6fd6;stroke-width:1.5}\
.edge.reference path{stroke:#7a4fd6;stroke-dasharray:5 3}.edge.depends-on path{stroke:#6b7480;stroke-dasharray:2 3}\
.edge.cycle path{stroke:#d1242f}.edge text{font-size:9.5px;fill:#6b7480}</style>";
    let at = markup.find('>')? + 1;
    let mut out = String::with_capacity(markup.len() + style.len());
    out.push_str(&markup[..at]);
    out.push_str(style);
    out.push_str(&markup[at..]);
    Some((out, width, height))
}

/// Whether the dark theme is on: the remembered choice, else the system's.
pub(crate) fn dark_wanted() -> bool {
    match storage_get(THEME_KEY).as_deref() {
        Some("dark") => true,
        Some("light") => false,
        _ => prefers_dark(),
    }
}

/// Apply a theme to the page and to Monaco (when it is loaded).
pub(crate) fn apply_theme(dark: bool) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-theme", if dark { "dark" } else { "light" });
    }
    if with_editor(|_| ()).is_some() {
        crate::monaco::set_theme(if dark { "vs-dark" } else { "vs" });
    }
}

#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn EditorMenu() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let dark = RwSignal::new(dark_wanted());
    let vim = RwSignal::new(storage_get(VIM_KEY).as_deref() == Some("on"));
    apply_theme(dark.get_untracked());
    let details = NodeRef::<leptos::html::Details>::new();
    let close_menu = move || {
        if let Some(d) = details.get_untracked() {
            d.set_open(false);
        }
    };
    let item = move |f: fn(Ctx)| {
        move |_| {
            close_menu();
            f(ctx);
        }
    };
    view! {
        <details class="menu" data-testid="menu" node_ref=details>
            <summary>"Menu"</summary>
            <div class="menu-items" role="menu">
                {(!ctx.preview).then(|| view! {
                    <button role="menuitem" data-testid="format-document" on:click=item(|_| {
                        with_editor(|e| e.run_action("editor.action.formatDocument"));
                    })>"Format document" <kbd>"Shift+Alt+F"</kbd></button>
                })}
                <button role="menuitem" data-testid="theme-toggle" on:click=move |_| {
                    close_menu();
                    let next = !dark.get_untracked();
                    dark.set(next);
                    storage_set(THEME_KEY, if next { "dark" } else { "light" });
                    apply_theme(next);
                }>{move || if dark.get() { "Light theme" } else { "Dark theme" }}</button>
                {(!ctx.preview).then(|| view! {
                    <button role="menuitem" data-testid="vim-toggle" on:click=move |_| {
                        close_menu();
                        let next = !vim.get_untracked();
                        vim.set(next);
                        storage_set(VIM_KEY, if next { "on" } else { "off" });
                        set_vim_mode(next);
                    }>{move || if vim.get() { "Vim mode: on" } else { "Vim mode: off" }}</button>
                })}
                <button role="menuitem" data-testid="export-yaml" on:click=item(|_| {
                    download_text("spec.yaml", "application/yaml", &editor_text());
                })>"Download YAML"</button>
                <button role="menuitem" data-testid="export-svg" on:click=item(|_| {
                    if let Some((svg, _, _)) = graph_svg() {
                        download_text("graph.svg", "image/svg+xml", &svg);
                    }
                })>"Graph as SVG"</button>
                <button role="menuitem" data-testid="export-png" on:click=item(|_| {
                    if let Some((svg, w, h)) = graph_svg() {
                        download_svg_as_png("graph.png", &svg, w, h);
                    }
                })>"Graph as PNG"</button>
                <button role="menuitem" data-testid="shortcuts-button" on:click=item(|ctx| {
                    ctx.dialog.set(Some(HeaderDialog::Shortcuts));
                })>"Keyboard shortcuts" <kbd>"?"</kbd></button>
            </div>
        </details>
    }
}
