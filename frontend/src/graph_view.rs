//! The dependency graph panel: laid out by dagre (npm `@dagrejs/dagre`, copied
//! into `dist/`), drawn as one SVG string (fast for hundreds of nodes), with a
//! delegated click handler that reveals the clicked service in the editor.
//!
//! Stability: dagre is deterministic, and the layout is only recomputed when
//! the graph's *structure* (nodes, edges) changes; an edit elsewhere, or one
//! that only changes a node's error badge, keeps every position.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::lint::GraphData;

#[wasm_bindgen(inline_js = r#"
let worker = null, failed = false, onAnswer = null;
export function layoutNow(input) {
  return globalThis.specstudioLayout ? globalThis.specstudioLayout(input) : undefined;
}
export function layoutWorkerPost(seq, input, answer) {
  if (failed) return false;
  if (!worker) {
    const pkg = window.__specstudioPkg;
    if (!pkg || !pkg.layout || typeof Worker === 'undefined' || location.search.includes('layout-worker=off')) { failed = true; return false; }
    try { worker = new Worker(new URL(pkg.layout, location.href).href); } catch (e) { failed = true; return false; }
    worker.onmessage = (e) => {
      if (e.data.failed !== undefined) { failed = true; return; }
      (window.__specstudio = window.__specstudio || {}).layoutWorker = true;
      if (onAnswer) onAnswer(e.data.seq, e.data.out);
    };
    worker.onerror = () => { failed = true; worker = null; };
    worker.postMessage({ dagre: new URL(pkg.dagre, location.href).href });
  }
  onAnswer = answer;
  worker.postMessage({ seq, input });
  return true;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = layoutNow)]
    fn layout_now(input: &str) -> Option<String>;
    #[wasm_bindgen(js_name = layoutWorkerPost)]
    fn layout_worker_post(
        seq: f64,
        input: &str,
        answer: &Closure<dyn FnMut(f64, Option<String>)>,
    ) -> bool;
}

#[derive(serde::Deserialize, Clone, Debug, Default)]
struct Layout {
    width: f64,
    height: f64,
    nodes: Vec<Point>,
    edges: Vec<EdgeLayout>,
}

#[derive(serde::Deserialize, Clone, Debug)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(serde::Deserialize, Clone, Debug)]
struct EdgeLayout {
    points: Vec<(f64, f64)>,
    x: f64,
    y: f64,
}

const NODE_H: f64 = 42.0;

fn node_width(id: &str) -> f64 {
    (id.chars().count() as f64 * 7.6 + 30.0).max(96.0)
}

/// Edge labels are 9.5 px text with a 3 px halo; env-var names are mostly
/// capitals (≈ 0.66 em each): reserve that, or dagre packs labels that overlap.
fn label_width(via: &str) -> f64 {
    via.chars().count() as f64 * 6.4 + 10.0
}

const LABEL_H: f64 = 16.0;

/// Graphs up to this many nodes are laid out at once on the main thread
/// (a few ms); bigger ones in the layout worker.
const SYNC_LAYOUT_NODES: usize = 40;

thread_local! {
    /// Structure key → layout: recomputed only when the structure changes.
    static CACHE: RefCell<Option<(String, Layout)>> = const { RefCell::new(None) };
    /// The layout worker: the input in flight (by sequence number) and the
    /// newest one waiting behind it.
    static IN_FLIGHT: RefCell<Option<(u64, String)>> = const { RefCell::new(None) };
    static WAITING: RefCell<Option<String>> = const { RefCell::new(None) };
    static SEQ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static ON_DONE: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Send `input` to the layout worker (or queue it behind the one in flight).
/// `false` when there is no worker (then the caller lays out here).
fn post_to_worker(input: String) -> bool {
    if IN_FLIGHT.with(|f| f.borrow().is_some()) {
        WAITING.with(|w| *w.borrow_mut() = Some(input));
        return true;
    }
    let seq = SEQ.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    let answer = Closure::<dyn FnMut(f64, Option<String>)>::new(on_worker_answer);
    let posted = layout_worker_post(seq as f64, &input, &answer);
    answer.forget();
    if posted {
        IN_FLIGHT.with(|f| *f.borrow_mut() = Some((seq, input)));
    }
    posted
}

fn on_worker_answer(seq: f64, out: Option<String>) {
    let done = IN_FLIGHT.with(|f| f.borrow_mut().take_if(|(s, _)| *s == seq as u64));
    if let Some((_, input)) = done {
        let layout = out
            .and_then(|o| serde_json::from_str::<Layout>(&o).ok())
            .unwrap_or_default();
        CACHE.with(|c| *c.borrow_mut() = Some((input, layout)));
    }
    if let Some(next) = WAITING.with(|w| w.borrow_mut().take()) {
        post_to_worker(next);
    }
    ON_DONE.with(|f| {
        if let Some(f) = f.borrow().as_ref() {
            f()
        }
    });
}

/// One drawn edge: the graph's edges with the same ends and kind, merged.
#[derive(Clone, Debug)]
struct Drawn {
    from: String,
    to: String,
    kind: &'static str,
    vias: Vec<String>,
    cycle: bool,
}

impl Drawn {
    fn label(&self) -> String {
        match self.vias.len() {
            1 => self.vias[0].clone(),
            n => format!("{} +{}", self.vias[0], n - 1),
        }
    }
}

fn merged(graph: &GraphData) -> Vec<Drawn> {
    let mut out: Vec<Drawn> = Vec::new();
    for e in &graph.edges {
        match out
            .iter_mut()
            .find(|d| d.from == e.from && d.to == e.to && d.kind == e.kind)
        {
            Some(d) => {
                d.vias.push(e.via.clone());
                d.cycle |= e.cycle;
            }
            None => out.push(Drawn {
                from: e.from.clone(),
                to: e.to.clone(),
                kind: e.kind,
                vias: vec![e.via.clone()],
                cycle: e.cycle,
            }),
        }
    }
    out
}

/// The layout of `graph`: from the cache when its structure is unchanged,
/// computed here for small graphs, or `None` while the worker computes it
/// (the panel keeps the previous drawing until then).
fn layout(graph: &GraphData, edges: &[Drawn]) -> Option<Layout> {
    // Top-down reads best for a handful of services; past that, ranks get wide
    // (200 replicas side by side), so lay them out left-to-right and scroll down.
    let rankdir = if graph.nodes.len() > 12 { "LR" } else { "TB" };
    let (nodesep, ranksep) = (28, 56);
    let input = serde_json::json!({
        "rankdir": rankdir,
        "nodesep": nodesep,
        "ranksep": ranksep,
        "nodes": graph.nodes.iter().map(|n| serde_json::json!({"id": n.id, "w": node_width(&n.id), "h": NODE_H})).collect::<Vec<_>>(),
        "edges": edges.iter().map(|e| serde_json::json!({"from": e.from, "to": e.to, "lw": label_width(&e.label()), "lh": LABEL_H})).collect::<Vec<_>>(),
    })
    .to_string();
    if let Some(hit) = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(k, _)| *k == input)
            .map(|(_, l)| l.clone())
    }) {
        return Some(hit);
    }
    if graph.nodes.len() > SYNC_LAYOUT_NODES {
        let queued = IN_FLIGHT.with(|f| f.borrow().as_ref().is_some_and(|(_, i)| *i == input));
        if queued || post_to_worker(input.clone()) {
            return None;
        }
    }
    let computed = layout_now(&input)
        .and_then(|out| serde_json::from_str::<Layout>(&out).ok())
        .unwrap_or_default();
    CACHE.with(|c| *c.borrow_mut() = Some((input, computed.clone())));
    Some(computed)
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number with `digits` (0 or 1) decimals, like `{:.1}`, written through
/// integers: core's float formatting would cost the page ~5 KB gzipped.
pub(crate) struct Fixed(pub(crate) f64, pub(crate) u8);

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Fixed(v, digits) = *self;
        let v = if v.is_finite() { v } else { 0.0 };
        if digits == 0 {
            return write!(f, "{}", v.round() as i64);
        }
        let tenths = (v * 10.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let a = tenths.unsigned_abs();
        write!(f, "{sign}{}.{}", a / 10, a % 10)
    }
}

/// The whole `<svg>` as markup (`None` while the layout is being computed).
fn render(graph: &GraphData) -> Option<String> {
    let edges = merged(graph);
    let layout = layout(graph, &edges)?;
    let mut svg = String::with_capacity(512 + graph.nodes.len() * 400);
    let (w, h) = (layout.width.max(1.0), layout.height.max(1.0));
    // Small graphs shrink to the panel; big ones keep a readable scale and scroll.
    let (style, dw, dh) = if w > 700.0 {
        ("max-width:none", w * 0.8, h * 0.8)
    } else {
        ("", w, h)
    };
    let _ = write!(
        svg,
        r#"<svg data-testid="graph" class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{dw}" height="{dh}" style="{style}" role="group" aria-label="resource dependency graph">"#,
        w = Fixed(w, 0),
        h = Fixed(h, 0),
        dw = Fixed(dw, 0),
        dh = Fixed(dh, 0),
    );
    svg.push_str(concat!(
        r#"<defs>"#,
        r#"<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker>"#,
        r#"</defs>"#
    ));
    if layout.nodes.len() != graph.nodes.len() {
        // dagre missing: list the nodes without positions (still clickable).
        for (i, n) in graph.nodes.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<g data-testid="graph-node" data-id="{id}" class="node" transform="translate(4,{y})"><text x="4" y="14">{id}</text></g>"#,
                id = esc(&n.id),
                y = i * 20
            );
        }
        svg.push_str("</svg>");
        return Some(svg);
    }
    let passive: std::collections::HashSet<&str> = graph
        .nodes
        .iter()
        .filter(|n| n.passive)
        .map(|n| n.id.as_str())
        .collect();
    for (e, l) in edges.iter().zip(&layout.edges) {
        let touches_passive = passive.contains(e.from.as_str()) || passive.contains(e.to.as_str());
        let mut d = String::new();
        for (i, (x, y)) in l.points.iter().enumerate() {
            let (x, y) = (Fixed(*x, 1), Fixed(*y, 1));
            let _ = write!(d, "{}{x},{y}", if i == 0 { "M" } else { " L" });
        }
        let _ = write!(
            svg,
            r#"<g data-testid="graph-edge" data-from="{from}" data-to="{to}" data-kind="{kind}" data-via="{vias}" data-cycle="{cycle}" class="edge {kind}{cycle_class}{passive_class}"><title>{from} → {to} ({kind}: {vias})</title><path d="{d}" marker-end="url(#arrow)"/><text x="{x}" y="{y}" text-anchor="middle" dy="4">{via}</text></g>"#,
            from = esc(&e.from),
            to = esc(&e.to),
            kind = e.kind,
            cycle = e.cycle,
            cycle_class = if e.cycle { " cycle" } else { "" },
            passive_class = if touches_passive { " to-passive" } else { "" },
            via = esc(&e.label()),
            vias = esc(&e.vias.join(", ")),
            x = Fixed(l.x, 1),
            y = Fixed(l.y, 1),
        );
    }
    for (n, p) in graph.nodes.iter().zip(&layout.nodes) {
        let w = node_width(&n.id);
        let kind = if n.passive { "passive" } else { "compute" };
        let state = if n.errors > 0 {
            " has-errors"
        } else if n.warnings > 0 {
            " has-warnings"
        } else {
            ""
        };
        let _ = write!(
            svg,
            r#"<g data-testid="graph-node" data-id="{id}" data-kind="{kind}" data-errors="{errors}" class="node {kind}{state}" transform="translate({x},{y})" tabindex="0" role="button"><title>{id} — {kind}{image}</title><rect width="{w}" height="{h}" rx="{rx}"/><text x="{cx}" y="17" text-anchor="middle" class="name">{id}</text><text x="{cx}" y="32" text-anchor="middle" class="kind">{kind}</text>"#,
            id = esc(&n.id),
            errors = n.errors,
            image = n
                .image
                .as_deref()
                .map(|i| format!(", {}", esc(i)))
                .unwrap_or_default(),
            x = Fixed(p.x - w / 2.0, 1),
            y = Fixed(p.y - NODE_H / 2.0, 1),
            w = Fixed(w, 0),
            h = Fixed(NODE_H, 0),
            rx = if n.passive { 14 } else { 4 },
            cx = Fixed(w / 2.0, 1),
        );
        if n.errors > 0 || n.warnings > 0 {
            let (class, count) = if n.errors > 0 {
                ("badge error", n.errors)
            } else {
                ("badge warning", n.warnings)
            };
            let _ = write!(
                svg,
                r#"<g data-testid="node-badge" class="{class}" transform="translate({bx},0)"><circle r="9"/><text text-anchor="middle" dy="4">{count}</text></g>"#,
                bx = Fixed(w - 2.0, 1),
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// The graph panel.
#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn GraphView(graph: ReadSignal<GraphData>) -> impl IntoView {
    // A big graph's new layout comes from the worker: redraw when it answers,
    // keeping the previous drawing meanwhile.
    let laid_out = RwSignal::new(0u64);
    ON_DONE.with(|f| *f.borrow_mut() = Some(Box::new(move || laid_out.update(|n| *n += 1))));
    // (markup, whether a newer layout is still being computed)
    let drawing = Memo::new(move |previous: Option<&(String, bool)>| {
        laid_out.track();
        match render(&graph.get()) {
            Some(svg) => (svg, false),
            None => (previous.map(|p| p.0.clone()).unwrap_or_default(), true),
        }
    });
    let markup = Memo::new(move |_| drawing.with(|d| d.0.clone()));
    let pending = Memo::new(move |_| drawing.with(|d| d.1));
    let on_click = move |ev: web_sys::MouseEvent| {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Ok(Some(node)) = target.closest("[data-testid=graph-node]") else {
            return;
        };
        if let Some(id) = node.get_attribute("data-id") {
            crate::state::reveal_service(&id);
        }
    };
    // Keyboard: nodes are focusable (tabindex); Enter or Space reveals the focused one.
    let on_key = move |ev: web_sys::KeyboardEvent| {
        if ev.key() != "Enter" && ev.key() != " " {
            return;
        }
        ev.prevent_default();
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        if let Ok(Some(node)) = target.closest("[data-testid=graph-node]") {
            if let Some(id) = node.get_attribute("data-id") {
                crate::state::reveal_service(&id);
            }
        }
    };
    let legend: BTreeMap<&str, &str> = [
        ("resource-link", "resource link (dependentResourceKey)"),
        ("reference", "template reference ($x.var / $x.sys)"),
        ("depends-on", "depends_on"),
    ]
    .into_iter()
    .collect();
    // Tools for big graphs: search, zoom (fit = the panel's width), drag to pan, hide passive resources.
    let wrap = NodeRef::<leptos::html::Div>::new();
    let zoom: RwSignal<Option<f64>> = RwSignal::new(None);
    let hide_passive = RwSignal::new(false);
    Effect::new(move |_| {
        markup.track();
        let z = zoom.get();
        let Some(svg) = wrap
            .get()
            .and_then(|w| w.query_selector("svg").ok().flatten())
        else {
            return;
        };
        let natural: f64 = svg
            .get_attribute("viewBox")
            .and_then(|v| v.split(' ').nth(2).and_then(|w| w.parse().ok()))
            .unwrap_or(300.0);
        let style = match z {
            None => "max-width:100%;width:100%;height:auto".to_owned(),
            Some(z) => format!(
                "max-width:none;width:{}px;height:auto",
                Fixed(natural * z, 0)
            ),
        };
        let _ = svg.set_attribute("style", &style);
    });
    let step_zoom = move |factor: f64| {
        let current = zoom.get_untracked().unwrap_or(1.0);
        zoom.set(Some((current * factor).clamp(0.1, 4.0)));
    };
    let search = move |ev: leptos::ev::Event| {
        let query = event_target_value(&ev).to_ascii_lowercase();
        let Some(root) = wrap.get_untracked() else {
            return;
        };
        let Ok(nodes) = root.query_selector_all("[data-testid=graph-node]") else {
            return;
        };
        let mut first = None;
        for i in 0..nodes.length() {
            let Some(node) = nodes
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let id = node
                .get_attribute("data-id")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let hit = !query.is_empty() && id.contains(&query);
            let _ = node.class_list().toggle_with_force("found", hit);
            if hit && (first.is_none() || id == query) {
                first = Some(node);
            }
        }
        if let Some(node) = first {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Center);
            options.set_inline(web_sys::ScrollLogicalPosition::Center);
            node.scroll_into_view_with_scroll_into_view_options(&options);
        }
    };
    let search_key = move |ev: web_sys::KeyboardEvent| {
        if ev.key() != "Enter" {
            return;
        }
        // The editor takes focus: the Enter must not reach it as a keystroke.
        ev.prevent_default();
        let found = wrap.get_untracked().and_then(|w| {
            w.query_selector("[data-testid=graph-node].found")
                .ok()
                .flatten()
        });
        if let Some(id) = found.and_then(|n| n.get_attribute("data-id")) {
            crate::state::reveal_service(&id);
        }
    };
    // Drag to pan (the panel scrolls).
    let drag: RwSignal<Option<(i32, i32, i32, i32)>> = RwSignal::new(None);
    let on_down = move |ev: web_sys::PointerEvent| {
        let Some(w) = wrap.get_untracked() else {
            return;
        };
        if ev.button() == 0 && w.scroll_width() > w.client_width()
            || w.scroll_height() > w.client_height()
        {
            drag.set(Some((
                ev.client_x(),
                ev.client_y(),
                w.scroll_left(),
                w.scroll_top(),
            )));
        }
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        let (Some((x, y, left, top)), Some(w)) = (drag.get_untracked(), wrap.get_untracked())
        else {
            return;
        };
        w.set_scroll_left(left - (ev.client_x() - x));
        w.set_scroll_top(top - (ev.client_y() - y));
    };
    view! {
        <div class="graph-tools" role="toolbar" aria-label="Graph">
            <input type="search" placeholder="Find a service…" aria-label="Find a service in the graph" data-testid="graph-search"
                on:input=search on:keydown=search_key/>
            <button data-testid="zoom-out" aria-label="Zoom out" on:click=move |_| step_zoom(1.0 / 1.25)>"−"</button>
            <button data-testid="zoom-in" aria-label="Zoom in" on:click=move |_| step_zoom(1.25)>"+"</button>
            <button data-testid="zoom-fit" on:click=move |_| zoom.set(None)>"Fit"</button>
            {move || pending.get().then(|| view! { <span class="muted" data-testid="graph-pending" role="status">"laying out…"</span> })}
            <label class="hide-passive"><input type="checkbox" data-testid="hide-passive" prop:checked=move || hide_passive.get()
                on:change=move |ev| hide_passive.set(event_target_checked(&ev))/>" hide passive"</label>
        </div>
        <div class="graph-wrap" class:hide-passive=move || hide_passive.get() node_ref=wrap
            on:click=on_click on:keydown=on_key on:pointerdown=on_down on:pointermove=on_move
            on:pointerup=move |_| drag.set(None) on:pointerleave=move |_| drag.set(None)
            inner_html=move || markup.get()></div>
        <div class="legend">
            {legend.into_iter().map(|(k, v)| view! { <span class=format!("key {k}")><i></i>{v}</span> }).collect_view()}
            <span class="key cycle"><i></i>"cycle"</span>
        </div>
    }
}
