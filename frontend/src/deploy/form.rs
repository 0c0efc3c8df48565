//! The deploy form: fields generated from the spec's api-params (checked as
//! the user types with the server's own rules), masked secrets of a shared
//! spec, deploy-link prefill, the token, submission.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::progress::{follow, Progress};
use super::support::{query_pairs, sleep, TOKEN_KEY};
use crate::api::{self, SpecSource};
use crate::deploy_link;
use crate::form::{self, Field, InputKind};
use crate::state::{editor_text, storage_get, storage_set, Ctx};

#[component]
fn FieldInput(
    field: Field,
    values: RwSignal<BTreeMap<String, String>>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let key = field.key.clone();
    let k1 = key.clone();
    let value = move || values.with(|v| v.get(&k1).cloned().unwrap_or_default());
    let k2 = key.clone();
    let set = move |v: String| {
        values.update(|m| {
            m.insert(k2.clone(), v);
        })
    };
    let input = match field.kind.clone() {
        InputKind::Select(options) => {
            let set = set.clone();
            view! {
                <select data-param=key.clone() prop:value=value on:change=move |ev| set(event_target_value(&ev))
                    aria-invalid=move || error.get().is_some().to_string() aria-describedby=format!("err-{key}")>
                    <option value="">"—"</option>
                    {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                </select>
            }
            .into_any()
        }
        InputKind::Suggest(options) => {
            let set = set.clone();
            let list = format!("suggest-{key}");
            view! {
                <input type="text" data-param=key.clone() prop:value=value list=list.clone()
                    aria-invalid=move || error.get().is_some().to_string() aria-describedby=format!("err-{key} help-{key}")
                    placeholder="choose or type" required=field.required autocomplete="off"
                    on:input=move |ev| set(event_target_value(&ev))/>
                <datalist id=list>
                    {options.into_iter().map(|o| view! { <option value=o.clone()></option> }).collect_view()}
                </datalist>
            }
            .into_any()
        }
        InputKind::Checkbox => {
            let set = set.clone();
            let checked = {
                let value = value.clone();
                move || value().eq_ignore_ascii_case("true")
            };
            view! {
                <input type="checkbox" data-param=key.clone() prop:checked=checked
                    on:change=move |ev| set(event_target_checked(&ev).to_string())/>
            }
            .into_any()
        }
        kind => {
            let set = set.clone();
            let ty = match kind {
                InputKind::Password => "password",
                InputKind::Number => "number",
                _ => "text",
            };
            let placeholder = if field.generated_when_empty {
                "generated when left empty".to_owned()
            } else {
                field.default.clone().unwrap_or_default()
            };
            view! {
                <input type=ty data-param=key.clone() prop:value=value
                    min=field.min.map(|m| m.to_string()) max=field.max.map(|m| m.to_string())
                    placeholder=placeholder required=field.required
                    aria-invalid=move || error.get().is_some().to_string() aria-describedby=format!("err-{key} help-{key}")
                    autocomplete=if ty == "password" { "new-password" } else { "off" }
                    on:input=move |ev| set(event_target_value(&ev))/>
            }
            .into_any()
        }
    };
    let limits = match (field.min, field.max) {
        (Some(a), Some(b)) => Some(format!("{a} – {b}")),
        (Some(a), None) => Some(format!("≥ {a}")),
        (None, Some(b)) => Some(format!("≤ {b}")),
        _ => None,
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some() data-field=field.key.clone()>
            <label>
                <span class="label">{field.label.clone()}{field.required.then(|| view! { <span class="required" title="required">"*"</span> })}</span>
                <code class="key">{field.key.clone()}</code>
                {input}
            </label>
            <div class="help" id=format!("help-{}", field.key)>
                {field.help.clone()}
                {limits.map(|l| view! { <span class="limits">{format!(" ({l})")}</span> })}
                {(!field.also.is_empty()).then(|| view! { <span class="also">{format!(" Also applies to {}.", field.also.join(", "))}</span> })}
            </div>
            <div id=format!("err-{}", field.key) aria-live="polite">
                {move || error.get().map(|e| view! { <div class="error" data-testid="field-error">{e}</div> })}
            </div>
        </div>
    }
}

#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(super) fn DeployForm(progress: RwSignal<Option<Progress>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let values = ctx.form_values;
    let token = RwSignal::new(storage_get(TOKEN_KEY).unwrap_or_default());
    // Masked literal secrets (`********`) of a shared spec: each one asked for.
    let masks = Memo::new(move |_| {
        ctx.lint()
            .map(|s| deploy_link::mask_slots(&s.text))
            .unwrap_or_default()
    });
    let mask_values: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let link_note: RwSignal<Option<String>> = RwSignal::new(None);
    let prefilled = StoredValue::new(false);
    let ask_token = RwSignal::new(token.get_untracked().is_empty());
    let submit_error: RwSignal<Option<(String, Vec<String>)>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let touched = RwSignal::new(false);

    // The form follows the spec as it is edited.
    let groups = Memo::new(move |_| {
        ctx.parsed()
            .map(|s| form::groups(&s.analysis.spec))
            .unwrap_or_default()
    });
    Effect::new(move |_| {
        let groups = groups.get();
        values.update(|m| {
            for f in groups.iter().flat_map(|g| &g.fields) {
                m.entry(f.key.clone())
                    .or_insert_with(|| f.default.clone().unwrap_or_default());
            }
        });
        // A deploy link's `param.<key>=<value>` prefills once the form exists.
        if !groups.is_empty() && !prefilled.get_value() {
            prefilled.set_value(true);
            let fields: Vec<Field> = groups.iter().flat_map(|g| g.fields.clone()).collect();
            let p = deploy_link::prefill(&query_pairs(), &fields);
            if !p.values.is_empty() {
                values.update(|m| m.extend(p.values));
            }
            let mut notes = Vec::new();
            if !p.ignored_secrets.is_empty() {
                notes.push(format!(
                    "Ignored from the link (secret values never travel in a link; enter them here): {}.",
                    p.ignored_secrets.join(", ")
                ));
            }
            if !p.unknown.is_empty() {
                notes.push(format!(
                    "The spec declares no parameter {}.",
                    p.unknown.join(", ")
                ));
            }
            if !notes.is_empty() {
                link_note.set(Some(notes.join(" ")));
            }
        }
    });
    let check = move |field: &Field, value: &str| -> Option<String> {
        let snapshot = crate::lint::last_parsed()?;
        form::check(&snapshot.analysis.spec, field, value).err()
    };
    let all_errors = move || -> Vec<String> {
        let groups = groups.get();
        values.with(|v| {
            groups
                .iter()
                .flat_map(|g| &g.fields)
                .filter_map(|f| {
                    check(f, v.get(&f.key).map(String::as_str).unwrap_or(""))
                        .map(|e| format!("{}: {e}", f.key))
                })
                .collect()
        })
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        submit_error.set(None);
        if ctx.counts.get_untracked().errors > 0 {
            submit_error.set(Some((
                format!(
                    "Fix the {} error(s) in the spec first.",
                    ctx.counts.get_untracked().errors
                ),
                Vec::new(),
            )));
            return;
        }
        let mut errors = all_errors();
        let text = editor_text();
        let filled = deploy_link::fill_masks(&text, &mask_values.get_untracked());
        if let Err(e) = &filled {
            errors.push(e.clone());
        }
        if !errors.is_empty() {
            submit_error.set(Some(("Some parameters need attention.".into(), errors)));
            return;
        }
        let tok = token.get_untracked();
        if tok.is_empty() {
            ask_token.set(true);
            submit_error.set(Some((
                "Enter the server's API token (printed by `specstudio serve`).".into(),
                Vec::new(),
            )));
            return;
        }
        storage_set(TOKEN_KEY, &tok);
        ask_token.set(false);
        let params = form::payload(&values.get_untracked());
        let spec_id = ctx.spec_id.get_untracked();
        let masked = text.contains(shared::redact::MASK);
        let text = filled.unwrap_or(text);
        busy.set(true);
        spawn_local(async move {
            let source = match &spec_id {
                Some(id)
                    if !masked
                        && crate::lint::current().is_some_and(|s| s.text == text)
                        && ctx.preview =>
                {
                    SpecSource::Id(id)
                }
                _ => SpecSource::Text(&text),
            };
            let result = api::create_deployment(source, params, &tok).await;
            busy.set(false);
            match result {
                Ok(accepted) => {
                    let id = accepted.id;
                    progress.set(Some(Progress::new(
                        id.clone(),
                        accepted.generated.into_iter().collect(),
                    )));
                    follow(id, progress);
                    spawn_local(async {
                        sleep(50).await;
                        let el = web_sys::window().and_then(|w| w.document()).and_then(|d| {
                            d.query_selector("[data-testid=deploy-progress]")
                                .ok()
                                .flatten()
                        });
                        if let Some(el) = el {
                            el.scroll_into_view();
                        }
                    });
                }
                Err(e) => {
                    if e.is_auth() {
                        ask_token.set(true);
                    }
                    let details = e.detail_lines();
                    submit_error.set(Some((format!("Deploy failed: {e}"), details)));
                }
            }
        });
    };

    view! {
        <form class="deploy-form" data-testid="deploy-form" on:submit=submit novalidate>
            {move || link_note.get().map(|n| view! { <p class="note" data-testid="link-note" role="status">{n}</p> })}
            {move || {
                let slots = masks.get();
                (!slots.is_empty()).then(|| view! {
                    <fieldset class="group masked" data-testid="masked-secrets">
                        <legend>"Masked secrets"</legend>
                        <p class="help">"This spec was shared with its literal secrets masked as ********. Enter each value: the mask is never deployed."</p>
                        {slots.into_iter().enumerate().map(|(i, slot)| {
                            let id = format!("mask-{i}");
                            let err_id = format!("mask-err-{i}");
                            let missing = move || touched.get() && mask_values.with(|v| v.get(i).is_none_or(|s| s.is_empty()));
                            view! {
                                <div class="field" class:invalid=missing>
                                    <label for=id.clone()>
                                        <span class="label">{slot.label.clone()}<span class="required" title="required">"*"</span></span>
                                        <code class="key">{format!("line {}", slot.line)}</code>
                                    </label>
                                    <input type="password" id=id data-testid="mask-input" data-line=slot.line autocomplete="new-password" required
                                        aria-invalid=move || missing().to_string() aria-describedby=err_id.clone()
                                        prop:value=move || mask_values.with(|v| v.get(i).cloned().unwrap_or_default())
                                        on:input=move |ev| {
                                            let v = event_target_value(&ev);
                                            mask_values.update(|m| {
                                                if m.len() <= i { m.resize(i + 1, String::new()); }
                                                m[i] = v;
                                            });
                                        }/>
                                    <div id=err_id>{move || missing().then(|| view! { <div class="error" data-testid="field-error">"required: the shared spec masked this value"</div> })}</div>
                                </div>
                            }
                        }).collect_view()}
                    </fieldset>
                })
            }}
            {move || groups.get().into_iter().map(|g| {
                let fields = g.fields.clone();
                view! {
                    <fieldset class="group" data-service=g.service.clone()>
                        <legend>{g.service.clone()}</legend>
                        {fields.into_iter().map(|f| {
                            let f2 = f.clone();
                            let error = Signal::derive(move || {
                                let v = values.with(|v| v.get(&f2.key).cloned().unwrap_or_default());
                                if !touched.get() && v.is_empty() { return None; }
                                check(&f2, &v)
                            });
                            view! { <FieldInput field=f values=values error=error/> }
                        }).collect_view()}
                        {(!g.links.is_empty()).then(|| view! {
                            <p class="links">{g.links.iter().map(|(k, t)| format!("{k} → {t} (wired automatically)")).collect::<Vec<_>>().join("; ")}</p>
                        })}
                    </fieldset>
                }
            }).collect_view()}
            {move || ask_token.get().then(|| view! {
                <label class="token">
                    <span>"API token"</span>
                    <input type="password" data-testid="token-input" autocomplete="off"
                        prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
                    <small>"Asked once; kept in this browser's local storage."</small>
                </label>
            })}
            {move || submit_error.get().map(|(m, details)| view! {
                <div class="error" data-testid="deploy-error">{m}<ul>{details.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul></div>
            })}
            <div class="actions">
                <button type="submit" class="primary" data-testid="deploy-submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Deploying…" } else { "Deploy" }}
                </button>
                {move || (!ask_token.get()).then(|| view! { <button type="button" class="link" on:click=move |_| ask_token.set(true)>"change token"</button> })}
            </div>
        </form>
    }
}
