//! A deployment being followed: its event stream and status polling, the
//! generated secrets (shown once), endpoints with `mysql` command lines,
//! containers and the auto-stop line.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::wire::{DeploymentView, Event, EventKind, Status, StatusChange};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::support::{copy, sleep};
use crate::api;
use crate::deployment::{event_line, settled, Shown};

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Progress {
    pub id: String,
    /// The last status the events or a poll told (`provisioning` at first).
    pub status: Status,
    /// The deletion completed (a `status: deleted` event): nothing to poll.
    pub deleted: bool,
    pub lines: Vec<String>,
    pub deployment: Option<DeploymentView>,
    /// Secrets the server generated: shown once, kept only in this signal.
    pub generated: Vec<(String, String)>,
}

impl Progress {
    pub(super) fn new(id: String, generated: Vec<(String, String)>) -> Self {
        Progress {
            lines: vec![format!("deployment {id} accepted")],
            id,
            status: Status::Provisioning,
            deleted: false,
            deployment: None,
            generated,
        }
    }
}

/// Lines of the progress log kept (the oldest go first).
const LOG_LINES: usize = 400;

/// Stream events and poll the deployment until it settles.
pub(super) fn follow(id: String, progress: RwSignal<Option<Progress>>) {
    let Ok(source) = web_sys::EventSource::new(&api::events_url(&id)) else {
        return;
    };
    let on_event = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        // The browser's own `error` (connection lost; it reconnects with
        // `Last-Event-ID`) is a plain Event, not a message: skip it.
        let Some(data) = ev
            .dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string())
        else {
            return;
        };
        let line = match serde_json::from_str::<Event>(&data) {
            Ok(event) => {
                let change = event.status_change();
                let line = event_line(&event);
                progress.update(|p| {
                    if let Some(p) = p {
                        match change {
                            Some(StatusChange::To(status)) => p.status = status,
                            Some(StatusChange::Deleted) => p.deleted = true,
                            None => {}
                        }
                    }
                });
                line
            }
            Err(e) => format!(
                "[{}] an event the page does not understand ({e})",
                ev.type_()
            ),
        };
        progress.update(|p| {
            if let Some(p) = p {
                p.lines.push(line);
                if p.lines.len() > LOG_LINES {
                    p.lines.remove(0);
                }
            }
        });
    });
    // Each event is named after its kind; these are the only ones sent.
    for kind in EventKind::ALL {
        let _ = source
            .add_event_listener_with_callback(kind.as_str(), on_event.as_ref().unchecked_ref());
    }
    on_event.forget();
    spawn_local(async move {
        for _ in 0..600 {
            sleep(1500).await;
            let gone =
                progress.with_untracked(|p| p.as_ref().is_none_or(|p| p.id != id || p.deleted));
            if gone {
                break;
            }
            if let Ok(d) = api::get_deployment(&id).await {
                let status = d.status;
                progress.update(|p| {
                    if let Some(p) = p {
                        p.status = status;
                        p.deployment = Some(d);
                    }
                });
                if settled(status) {
                    break;
                }
            }
        }
        source.close();
    });
}

/// A deployment's auto-stop line, containers and endpoints with `mysql`
/// command lines.
#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(super) fn Endpoints(shown: Shown) -> impl IntoView {
    let serverless = shown.serverless_line();
    let containers = shown.container_line();
    let rows: Vec<_> = shown
        .endpoints
        .iter()
        .map(|e| {
            let kind = match e.kind {
                shared::wire::EndpointKind::Service => "service",
                shared::wire::EndpointKind::Replica => "replica",
            };
            (
                shown.endpoint_label(e),
                format!("{}:{}", e.host, e.port),
                shown.mysql_command(e),
                kind,
            )
        })
        .collect();
    view! {
        {serverless.map(|line| view! { <p class="serverless" data-testid="serverless">{line}</p> })}
        <p class="containers" data-testid="containers">{containers}</p>
        <ul class="endpoints" data-testid="endpoints">
            {rows.into_iter().map(|(label, address, cmd, kind)| {
                let c2 = cmd.clone();
                view! {
                    <li data-testid="endpoint" data-kind=kind>
                        <span class="res">{label}</span>
                        <code>{address}</code>
                        <code class="cmd" data-testid="mysql-command">{cmd}</code>
                        <button on:click=move |_| copy(&c2)>"Copy"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The secrets the server generated, shown once right after the deploy.
#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(super) fn GeneratedSecrets(progress: RwSignal<Option<Progress>>) -> impl IntoView {
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
