//! The Problems list: sorted by severity and place, keyboard-navigable
//! (arrows move, Enter reveals), "fix" chips apply the rule's quick fix.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::lint;
use crate::monaco::MonacoRange;
use crate::state::{reveal, with_editor, Ctx};

#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn ProblemsList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <ul class="problems" data-testid="problems">
            {move || {
                let problems = ctx.problems.get();
                if !ctx.linted.get() {
                    return view! { <li class="empty">"Checking…"</li> }.into_any();
                }
                if problems.is_empty() {
                    return view! { <li class="empty">"No problems."</li> }.into_any();
                }
                let mut problems = problems;
                problems.sort_by_key(|p| (p.severity, p.range.start_line_number, p.range.start_column));
                problems
                    .into_iter()
                    .take(500)
                    .map(|p| {
                        let range = p.range;
                        let severity = p.severity.as_str();
                        view! {
                            <li
                                data-testid="problem"
                                class=format!("problem {severity}")
                                data-line=range.start_line_number
                                data-code=p.code
                                data-severity=severity
                                title=p.help.clone().unwrap_or_default()
                                tabindex="0"
                                on:click=move |_| reveal(range)
                                on:keydown=move |ev: web_sys::KeyboardEvent| problem_key(&ev, range)
                            >
                                <span class="sev"><span class="sr-only">{severity}</span></span>
                                <span class="code">{p.code}</span>
                                <span class="msg">{p.message}</span>
                                {p.fix.map(|f| {
                                    let code = p.code;
                                    view! {
                                        <button class="fixable" data-testid="fix-chip" title=f.clone() aria-label=format!("Fix: {f}")
                                            on:click=move |ev| { ev.stop_propagation(); apply_fix(range, code); }>"fix"</button>
                                    }
                                })}
                                <span class="loc">{format!("{}:{}", range.start_line_number, range.start_column)}</span>
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </ul>
    }
}

/// Apply the quick fix of the problem at `range` with `code` (one undo step).
fn apply_fix(range: MonacoRange, code: &str) {
    let fix = lint::fixes_for(range)
        .into_iter()
        .find(|f| f.marker.code == code && f.marker.range == range);
    if let Some(fix) = fix {
        with_editor(|e| e.apply_edits(&fix.edits));
    }
}

/// Problems list keys: Enter reveals, ArrowUp/ArrowDown move between rows.
fn problem_key(ev: &web_sys::KeyboardEvent, range: MonacoRange) {
    let row = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            reveal(range);
        }
        "ArrowDown" | "ArrowUp" => {
            ev.prevent_default();
            let next = row.and_then(|r| {
                if ev.key() == "ArrowDown" {
                    r.next_element_sibling()
                } else {
                    r.previous_element_sibling()
                }
            });
            if let Some(n) = next.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = n.focus();
            }
        }
        _ => {}
    }
}
