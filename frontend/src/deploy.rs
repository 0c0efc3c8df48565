//! Deploy: a form generated from the spec's api-params (checked as the user
//! types with the server's own rules), submission with the bearer token, live
//! progress from the events stream, endpoints with `mysql` command lines, and
//! the deployments list (scale, delete).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::{self, Deployment, SpecSource};
use crate::app::{editor_text, storage_get, storage_set, Ctx};
use crate::deploy_link;
use crate::form::{self, Field, InputKind};

/// `(name, value)` pairs of the page's query string.
fn query_pairs() -> Vec<(String, String)> {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let entries = js_sys::try_iter(&params).ok().flatten();
    for entry in entries.into_iter().flatten().flatten() {
        let pair = js_sys::Array::from(&entry);
        if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            out.push((k, v));
        }
    }
    out
}

const TOKEN_KEY: &str = "specstudio.token";

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn copy(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// The replica-count api-param of the spec, if any (`numReadReplicas`).
fn replica_param() -> Option<String> {
    let snapshot = crate::lint::last_parsed()?;
    snapshot.analysis.spec.services.iter().find_map(|s| {
        s.compute
            .as_ref()?
            .replica_count_api_param
            .as_ref()
            .map(|p| p.value.clone())
    })
}

/// `mysql` client command line for an endpoint.
fn mysql_command(endpoint: &api::Endpoint, params: &BTreeMap<String, String>) -> String {
    let find = |needles: &[&str]| {
        params
            .iter()
            .find(|(k, v)| {
                !v.is_empty() && needles.iter().any(|n| k.to_ascii_lowercase().contains(n))
            })
            .map(|(_, v)| v.clone())
    };
    let user = find(&["username", "user"]).unwrap_or_else(|| "root".into());
    let db = find(&["database"])
        .map(|d| format!(" {d}"))
        .unwrap_or_default();
    format!(
        "mysql -h {} -P {} -u {user} -p{db}",
        endpoint.host, endpoint.port
    )
}

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

#[derive(Clone, Debug, PartialEq)]
struct Progress {
    id: String,
    lines: Vec<String>,
    deployment: Option<Deployment>,
    /// Secrets the server generated: shown once, kept only in this signal.
    generated: Vec<(String, String)>,
}

#[component]
fn DeployForm(progress: RwSignal<Option<Progress>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let values = ctx.form_values;
    let token = RwSignal::new(storage_get(TOKEN_KEY).unwrap_or_default());
    // Masked literal secrets (`********`) of a shared spec: each one asked for.
    let masks = Memo::new(move |_| {
        ctx.revision.get();
        crate::lint::current()
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
        ctx.revision.get();
        crate::lint::last_parsed()
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
                Ok((id, generated)) => {
                    progress.set(Some(Progress {
                        id: id.clone(),
                        lines: vec![format!("deployment {id} accepted")],
                        deployment: None,
                        generated,
                    }));
                    follow(id, progress, values);
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
                    if e.status == 401 || e.status == 403 {
                        ask_token.set(true);
                    }
                    let details = detail_lines(&e.details);
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

fn detail_lines(details: &serde_json::Value) -> Vec<String> {
    let list = details
        .as_array()
        .cloned()
        .or_else(|| details.get("issues").and_then(|v| v.as_array()).cloned())
        .or_else(|| {
            details
                .get("diagnostics")
                .and_then(|v| v.as_array())
                .cloned()
        })
        .unwrap_or_default();
    list.iter()
        .map(|d| {
            let key = d
                .get("key")
                .or_else(|| d.get("code"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let msg = d
                .get("message")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| d.to_string());
            if key.is_empty() {
                msg
            } else {
                format!("{key}: {msg}")
            }
        })
        .collect()
}

/// Stream events and poll the deployment until it settles.
fn follow(
    id: String,
    progress: RwSignal<Option<Progress>>,
    values: RwSignal<BTreeMap<String, String>>,
) {
    let _ = values;
    if let Ok(source) = web_sys::EventSource::new(&api::events_url(&id)) {
        let push = move |line: String| {
            progress.update(|p| {
                if let Some(p) = p {
                    p.lines.push(line);
                    if p.lines.len() > 400 {
                        p.lines.remove(0);
                    }
                }
            })
        };
        let on_event =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                let data = ev.data().as_string().unwrap_or_default();
                if data.is_empty() {
                    return;
                }
                let line = match serde_json::from_str::<serde_json::Value>(&data) {
                    Ok(v) => {
                        let what = v
                            .get("step")
                            .or_else(|| v.get("kind"))
                            .or_else(|| v.get("type"))
                            .and_then(|s| s.as_str())
                            .unwrap_or(&ev.type_())
                            .to_owned();
                        let msg = v
                            .get("message")
                            .or_else(|| v.get("line"))
                            .and_then(|s| s.as_str())
                            .map(str::to_owned)
                            .unwrap_or_else(|| data.clone());
                        format!("[{what}] {msg}")
                    }
                    Err(_) => format!("[{}] {data}", ev.type_()),
                };
                push(line);
            });
        for name in [
            "message", "step", "progress", "status", "log", "ready", "done", "error",
        ] {
            let _ =
                source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
        }
        on_event.forget();
        spawn_local(async move {
            for _ in 0..600 {
                sleep(1500).await;
                if progress.with_untracked(|p| p.as_ref().map(|p| p.id != id).unwrap_or(true)) {
                    break;
                }
                if let Ok(d) = api::get_deployment(&id).await {
                    let settled = matches!(
                        d.status.as_str(),
                        "running" | "failed" | "stopped" | "degraded"
                    );
                    progress.update(|p| {
                        if let Some(p) = p {
                            p.deployment = Some(d)
                        }
                    });
                    if settled {
                        break;
                    }
                }
            }
            source.close();
        });
    }
}

#[component]
fn Endpoints(deployment: Deployment, values: BTreeMap<String, String>) -> impl IntoView {
    let per_replica: Vec<String> = deployment
        .endpoints
        .iter()
        .filter(|e| e.kind == "replica")
        .map(|e| e.resource.clone())
        .collect();
    let zones = zones_of(&deployment);
    let serverless = deployment.serverless.as_ref().map(serverless_line);
    let containers = container_lines(&deployment);
    view! {
        {serverless.map(|line| view! { <p class="serverless" data-testid="serverless">{line}</p> })}
        <p class="containers" data-testid="containers">{containers}</p>
        <ul class="endpoints" data-testid="endpoints">
            {deployment.endpoints.into_iter().map(|e| {
                let cmd = mysql_command(&e, &values);
                let c2 = cmd.clone();
                let label = match e.replica {
                    Some(r) => {
                        let zone = zones
                            .get(&(e.resource.clone(), r))
                            .map(|z| format!(" ({z})"))
                            .unwrap_or_default();
                        format!("{} #{r}{zone}", e.resource)
                    }
                    None if per_replica.contains(&e.resource) => format!("{} (reader)", e.resource),
                    None => e.resource.clone(),
                };
                view! {
                    <li data-testid="endpoint" data-kind=e.kind.clone()>
                        <span class="res">{label}</span>
                        <code>{format!("{}:{}", e.host, e.port)}</code>
                        <code class="cmd" data-testid="mysql-command">{cmd}</code>
                        <button on:click=move |_| copy(&c2)>"Copy"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The secrets the server generated, shown once right after the deploy.
#[component]
fn GeneratedSecrets(progress: RwSignal<Option<Progress>>) -> impl IntoView {
    let generated =
        progress.with_untracked(|p| p.as_ref().map(|p| p.generated.clone()).unwrap_or_default());
    view! {
        <div class="generated" data-testid="generated-secrets" role="alert">
            <p><b>"Store these now."</b>" The server generated them for this deployment and will never show them again (not in the list, events or logs)."</p>
            {generated.into_iter().map(|(key, value)| {
                let v = value.clone();
                let input_id = format!("gen-{key}");
                view! {
                    <div class="copy-field">
                        <label for=input_id.clone()>{key.clone()}</label>
                        <input id=input_id readonly type="text" data-testid="generated-secret" data-param=key.clone() prop:value=value
                            on:focus=|ev| { event_target::<web_sys::HtmlInputElement>(&ev).select(); }/>
                        <button type="button" on:click=move |_| copy(&v)>"Copy"</button>
                    </div>
                }
            }).collect_view()}
            <button type="button" data-testid="secrets-stored" on:click=move |_| progress.update(|p| if let Some(p) = p { p.generated.clear() })>
                "I stored them: hide"
            </button>
        </div>
    }
}

#[component]
fn DeploymentsList(progress: RwSignal<Option<Progress>>) -> impl IntoView {
    let list: RwSignal<Result<Vec<Deployment>, String>> = RwSignal::new(Ok(Vec::new()));
    let refresh = move || {
        spawn_local(async move {
            list.set(api::list_deployments().await.map_err(|e| e.to_string()));
        })
    };
    // Load now, and again whenever the deployment being followed changes status.
    Effect::new(move |previous: Option<Option<(String, Option<String>)>>| {
        let followed = progress.with(|p| {
            p.as_ref().map(|p| {
                (
                    p.id.clone(),
                    p.deployment.as_ref().map(|d| d.status.clone()),
                )
            })
        });
        if previous.as_ref() != Some(&followed) {
            refresh();
        }
        followed
    });
    let replica_key = replica_param();
    view! {
        <section class="deployments" data-testid="deployments">
            <h3>"Deployments" <button class="link" on:click=move |_| refresh()>"refresh"</button></h3>
            {move || match list.get() {
                Err(e) => view! { <p class="muted">{format!("Deployments unavailable: {e}")}</p> }.into_any(),
                Ok(items) if items.is_empty() => view! { <p class="muted">"None yet."</p> }.into_any(),
                Ok(items) => items.into_iter().map(|d| {
                    let id = d.id.clone();
                    let replica_key = replica_key.clone();
                    let current = replica_key.as_ref().and_then(|k| d.params.get(k)).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).unwrap_or_else(|| "1".into());
                    let count = RwSignal::new(current);
                    let message = RwSignal::new(None::<String>);
                    // The token is asked here when an action needs it and none is remembered.
                    let need_token = RwSignal::new(false);
                    let row_token = RwSignal::new(String::new());
                    let confirming = RwSignal::new(false);
                    let token_or_ask = move || -> Option<String> {
                        let typed = row_token.get_untracked();
                        if !typed.is_empty() {
                            storage_set(TOKEN_KEY, &typed);
                            need_token.set(false);
                            return Some(typed);
                        }
                        match storage_get(TOKEN_KEY).filter(|t| !t.is_empty()) {
                            Some(t) => Some(t),
                            None => {
                                need_token.set(true);
                                message.set(Some("Enter the server's API token, then try again.".into()));
                                None
                            }
                        }
                    };
                    let on_auth_error = move |e: &api::ApiError| {
                        if e.status == 401 || e.status == 403 {
                            need_token.set(true);
                            row_token.set(String::new());
                        }
                    };
                    let (id_scale, id_del) = (id.clone(), id.clone());
                    let exported: BTreeMap<String, String> = d.params.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect();
                    view! {
                        <div class="deployment" data-testid="deployment" data-id=id.clone() data-status=d.status.clone()>
                            <div class="row"><code>{id.clone()}</code><span class=format!("status {}", d.status)>{d.status.clone()}</span></div>
                            <Endpoints deployment=d.clone() values=exported/>
                            <div class="row">
                                {replica_key.clone().map(|key| view! {
                                    <label>"Replicas "<input type="number" min="1" data-testid="scale-input" prop:value=move || count.get() on:input=move |ev| count.set(event_target_value(&ev))/></label>
                                    <button data-testid="scale-button" on:click=move |_| {
                                        let id = id_scale.clone();
                                        let key = key.clone();
                                        let Some(tok) = token_or_ask() else { return };
                                        spawn_local(async move {
                                            let mut params = serde_json::Map::new();
                                            params.insert(key, serde_json::Value::String(count.get_untracked()));
                                            message.set(Some(match api::patch_deployment(&id, params, &tok).await {
                                                Ok(()) => "scaling…".into(),
                                                Err(e) => { on_auth_error(&e); e.to_string() }
                                            }));
                                        });
                                    }>"Scale"</button>
                                })}
                                {d.needs_reseed.then(|| {
                                    let id = id.clone();
                                    view! {
                                        <button data-testid="reseed-button" title="The master's data volume vanished; copy the most advanced replica's data into a new master volume"
                                            on:click=move |_| {
                                                let Some(tok) = token_or_ask() else { return };
                                                let id = id.clone();
                                                spawn_local(async move {
                                                    message.set(Some(match api::reseed_deployment(&id, &tok).await {
                                                        Ok(()) => "re-seeding the master from the most advanced replica…".into(),
                                                        Err(e) => { on_auth_error(&e); e.to_string() }
                                                    }));
                                                });
                                            }>"Re-seed master"</button>
                                    }
                                })}
                                <button class="danger" data-testid="delete-button" on:click=move |_| confirming.set(true)>"Delete"</button>
                                {move || message.get().map(|m| view! { <span class="muted" role="status">{m}</span> })}
                            </div>
                            {move || need_token.get().then(|| view! {
                                <label class="token">
                                    <span>"API token"</span>
                                    <input type="password" data-testid="row-token-input" autocomplete="off"
                                        prop:value=move || row_token.get() on:input=move |ev| row_token.set(event_target_value(&ev))/>
                                </label>
                            })}
                            {
                                let id_confirm = id_del.clone();
                                move || confirming.get().then(|| {
                                    let id = id_confirm.clone();
                                    let id_label = id.clone();
                                    view! {
                                        <div class="confirm" role="alertdialog" aria-label="Confirm deletion" data-testid="confirm-delete-box">
                                            <p>{format!("Delete deployment {id_label}? Its containers, volumes and data are removed.")}</p>
                                            <button class="danger" data-testid="confirm-delete" on:click=move |_| {
                                                let Some(tok) = token_or_ask() else { return };
                                                confirming.set(false);
                                                let id = id.clone();
                                                spawn_local(async move {
                                                    match api::delete_deployment(&id, &tok).await {
                                                        Ok(()) => message.set(Some("deleting…".into())),
                                                        Err(e) => { on_auth_error(&e); message.set(Some(e.to_string())) }
                                                    }
                                                    sleep(800).await;
                                                    list.set(api::list_deployments().await.map_err(|e| e.to_string()));
                                                });
                                            }>{format!("Delete {id_label}")}</button>
                                            <button data-testid="cancel-delete" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                        </div>
                                    }
                                })
                            }
                        </div>
                    }
                }).collect_view().into_any(),
            }}
        </section>
    }
}

#[component]
pub fn DeployPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let progress: RwSignal<Option<Progress>> = RwSignal::new(None);
    view! {
        {move || ctx.deploy_open.get().then(|| view! {
            <div class="drawer" data-testid="deploy-panel">
                <header>
                    <h2>"Deploy"</h2>
                    <span class="spacer"></span>
                    <button class="link" on:click=move |_| ctx.deploy_open.set(false)>"close"</button>
                </header>
                {move || (ctx.counts.get().errors > 0).then(|| view! {
                    <p class="warn">{format!("The spec has {} error(s); the server will refuse it until they are fixed.", ctx.counts.get().errors)}</p>
                })}
                {move || ctx.spec_id.get().map(|id| {
                    let (md, html) = crate::share::deploy_snippets(&id);
                    view! {
                        <details class="snippet"><summary>"Deploy with specstudio button"</summary>
                            <pre data-testid="deploy-snippet-md">{md}</pre><pre>{html}</pre>
                        </details>
                    }
                })}
                <DeployForm progress=progress/>
                {move || progress.get().map(|p| {
                    let status = p.deployment.as_ref().map(|d| d.status.clone()).unwrap_or_else(|| "provisioning".into());
                    view! {
                        <section class="progress" data-testid="deploy-progress" data-status=status.clone()>
                            <h3>{format!("Deployment {} — {status}", p.id)}</h3>
                            {(!p.generated.is_empty()).then(|| view! { <GeneratedSecrets progress=progress/> })}
                            <pre class="log">{p.lines.join("\n")}</pre>
                            {p.deployment.clone().filter(|d| !d.endpoints.is_empty()).map(|d| {
                                let exported: BTreeMap<String, String> = d.params.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect();
                                view! { <Endpoints deployment=d values=exported/> }
                            })}
                        </section>
                    }
                })}
                <DeploymentsList progress=progress/>
            </div>
        })}
    }
}

/// (resource, replica) → zone.
fn zones_of(deployment: &Deployment) -> BTreeMap<(String, u64), String> {
    deployment
        .containers
        .iter()
        .filter_map(|c| Some(((c.resource.clone(), c.replica), c.zone.clone()?)))
        .collect()
}

/// "Sleeps after 300 s without a client · 2 wakes · 2 stops".
fn serverless_line(s: &api::Serverless) -> String {
    if !s.auto_stop {
        return "Auto-stop is off (not every service enables it)".into();
    }
    format!(
        "Sleeps after {} s without a client; a connection wakes it · {} wake(s) · {} stop(s)",
        s.idle_stop_after_secs, s.wakes, s.stops
    )
}

/// "Master-0 running · Replica-0 running, zone-a, 12% CPU · Replica-1 warm spare".
fn container_lines(deployment: &Deployment) -> String {
    let mut parts: Vec<String> = deployment
        .containers
        .iter()
        .map(|c| {
            let mut s = format!("{}-{} {}", c.resource, c.replica, c.state);
            if let Some(z) = &c.zone {
                s.push_str(&format!(", {z}"));
            }
            if let Some(cpu) = c.cpu_percent {
                s.push_str(&format!(", {cpu:.0}% CPU"));
            }
            s
        })
        .collect();
    parts.extend(
        deployment
            .spares
            .iter()
            .map(|c| format!("{}-{} warm spare", c.resource, c.replica)),
    );
    parts.join(" · ")
}
