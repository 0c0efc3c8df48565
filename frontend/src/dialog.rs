//! One accessible modal for every dialog of the page: `role=dialog`,
//! `aria-modal`, labelled by its title, focus moved in on open, trapped on
//! Tab/Shift+Tab, Escape closes, and focus returns to what had it before.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    /// Elements to give focus back to, innermost dialog last.
    static RETURN_FOCUS: RefCell<Vec<web_sys::HtmlElement>> = const { RefCell::new(Vec::new()) };
}

const FOCUSABLE: &str = "button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

fn active_element() -> Option<web_sys::HtmlElement> {
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

fn focusables(root: &web_sys::Element) -> Vec<web_sys::HtmlElement> {
    let Ok(list) = root.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|e| e.offset_parent().is_some() || e.get_client_rects().length() > 0)
        .collect()
}

/// Handle Escape and the Tab trap for a dialog-like element (also used by the deploy drawer).
pub(crate) fn trap_keys(ev: &web_sys::KeyboardEvent, root: &web_sys::Element, close: impl Fn()) {
    match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            ev.stop_propagation();
            close();
        }
        "Tab" => {
            let items = focusables(root);
            let (Some(first), Some(last)) = (items.first(), items.last()) else {
                ev.prevent_default();
                return;
            };
            let active = active_element();
            let at = |e: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| a == e);
            let inside = active.as_ref().is_some_and(|a| root.contains(Some(a)));
            if ev.shift_key() && (at(first) || !inside) {
                ev.prevent_default();
                let _ = last.focus();
            } else if !ev.shift_key() && (at(last) || !inside) {
                ev.prevent_default();
                let _ = first.focus();
            }
        }
        _ => {}
    }
}

/// Remember the focused element and focus the first control inside `root`.
pub(crate) fn take_focus(root: &web_sys::HtmlElement) {
    if let Some(a) = active_element() {
        RETURN_FOCUS.with(|r| r.borrow_mut().push(a));
    }
    match focusables(root).first() {
        Some(first) => {
            let _ = first.focus();
        }
        None => {
            let _ = root.focus();
        }
    }
}

/// Give focus back to what had it before the last [`take_focus`].
pub(crate) fn return_focus() {
    if let Some(e) = RETURN_FOCUS.with(|r| r.borrow_mut().pop()) {
        if e.is_connected() {
            let _ = e.focus();
        }
    }
}

#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn Modal(
    /// Heading, also the dialog's accessible name.
    title: String,
    testid: &'static str,
    on_close: Callback<()>,
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    let title_id = format!("dialog-title-{testid}");
    let labelled_by = title_id.clone();
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            take_focus(&el);
        }
    });
    on_cleanup(return_focus);
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if let Some(el) = node.get_untracked() {
            trap_keys(&ev, &el, || on_close.run(()));
        }
    };
    view! {
        <div class="backdrop" on:click=move |_| on_close.run(())></div>
        <div class=format!("dialog {class}") role="dialog" aria-modal="true" aria-labelledby=labelled_by
            data-testid=testid tabindex="-1" node_ref=node on:keydown=on_keydown>
            <h3 id=title_id>{title}</h3>
            {children()}
        </div>
    }
}
