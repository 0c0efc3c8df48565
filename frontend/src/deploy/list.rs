//! The deployments list: status, endpoints, scale, re-seed, delete (with a
//! confirmation naming the deployment); the token is asked where needed.
//!
//! A scale is followed: the row says "scaling…" (kept across list refreshes)
//! until the deployment runs with the asked number of replicas, then
//! "scaled to N" ([`follow_scale`]).

use std::collections::{BTreeMap, HashMap};

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::progress::{Endpoints, Progress};
use super::support::{replica_param, sleep, ReplicaParam, TOKEN_KEY};
use shared::wire::Status;

use crate::api;
use crate::deployment::Listed;
use crate::state::{storage_get, storage_set};

/// The list's rows, in the list's order.
///
/// The summaries of `GET /api/deployments` carry everything a row shows: one
/// call for the whole list (the server observes every deployment at once).
async fn load() -> Result<Vec<Listed>, String> {
    let summaries = api::list_deployments().await.map_err(|e| e.to_string())?;
    Ok(summaries.iter().map(Listed::from).collect())
}

/// What a row's user typed or was told: kept per deployment across list
/// refreshes (a refresh re-renders every row; a typed count, an open
/// confirmation or "scaling…" must not vanish with it). Reference-counted
/// signals, so they outlive the render that first showed the row.
#[derive(Clone)]
struct RowUi {
    count: ArcRwSignal<String>,
    message: ArcRwSignal<Option<String>>,
    need_token: ArcRwSignal<bool>,
    row_token: ArcRwSignal<String>,
    confirming: ArcRwSignal<bool>,
    /// Bumped by each accepted scale: an older scale's follower stops.
    scale_seq: ArcRwSignal<u32>,
}

impl RowUi {
    fn new(count: String) -> Self {
        Self {
            count: ArcRwSignal::new(count),
            message: ArcRwSignal::new(None),
            need_token: ArcRwSignal::new(false),
            row_token: ArcRwSignal::new(String::new()),
            confirming: ArcRwSignal::new(false),
            scale_seq: ArcRwSignal::new(0),
        }
    }
}

/// A row's message while its scale is under way.
const SCALING: &str = "scaling…";
/// How often a scale is checked, and for how long at most (10 minutes).
const SCALE_POLL_MS: i32 = 2000;
const SCALE_POLLS: u32 = 300;

/// Follow a row's accepted scale (scale number `seq` of the row) until it
/// settles: "scaled to N" once the deployment runs with the asked replicas
/// ([`Listed::scaled_to`]), or why not when it fails. Stops early when another
/// scale or action of the row took over, the row is gone or the list closed.
/// The list is re-rendered only when what it shows changed.
async fn follow_scale(
    id: String,
    param: ReplicaParam,
    asked: String,
    seq: u32,
    ui: RowUi,
    list: RwSignal<Result<Vec<Listed>, String>>,
) {
    let ours = || {
        ui.scale_seq.get_untracked() == seq
            && ui.message.get_untracked().as_deref() == Some(SCALING)
    };
    for _ in 0..SCALE_POLLS {
        sleep(SCALE_POLL_MS).await;
        if !ours() {
            return;
        }
        let Ok(rows) = load().await else { continue };
        let row = rows.iter().find(|r| r.id == id).cloned();
        match list.try_with_untracked(|shown| shown.as_ref().ok() != Some(&rows)) {
            None => return,
            Some(true) => {
                list.try_set(Ok(rows));
            }
            Some(false) => {}
        }
        let settled = match row {
            None => return,
            Some(r) if r.scaled_to(&param.service, &param.key, &asked) => {
                format!("scaled to {}", asked.trim())
            }
            Some(r) if r.status == Status::Failed => format!(
                "scaling to {} failed: the deployment is {}",
                asked.trim(),
                r.status.as_str()
            ),
            Some(_) => continue,
        };
        if ours() {
            ui.message.set(Some(settled));
        }
        return;
    }
}

#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(super) fn DeploymentsList(progress: RwSignal<Option<Progress>>) -> impl IntoView {
    let list: RwSignal<Result<Vec<Listed>, String>> = RwSignal::new(Ok(Vec::new()));
    // Row state lives as long as the list, not as one render of it.
    let rows = StoredValue::new(HashMap::<String, RowUi>::new());
    let row_ui = move |id: &str, count: String| -> RowUi {
        rows.update_value(|m| {
            m.entry(id.to_string()).or_insert_with(|| RowUi::new(count));
        });
        rows.with_value(|m| m[id].clone())
    };
    let refresh = move || {
        spawn_local(async move {
            list.set(load().await);
        })
    };
    // Load now, and again whenever the deployment being followed changes status.
    Effect::new(move |previous: Option<Option<(String, Status, bool)>>| {
        let followed = progress.with(|p| p.as_ref().map(|p| (p.id.clone(), p.status, p.deleted)));
        if previous.as_ref() != Some(&followed) {
            refresh();
        }
        followed
    });
    let replica = replica_param();
    view! {
        <section class="deployments" data-testid="deployments">
            <h3>"Deployments" <button class="link" on:click=move |_| refresh()>"refresh"</button></h3>
            {move || match list.get() {
                Err(e) => view! { <p class="muted">{format!("Deployments unavailable: {e}")}</p> }.into_any(),
                Ok(items) if items.is_empty() => view! { <p class="muted">"None yet."</p> }.into_any(),
                Ok(items) => items.into_iter().map(|d| {
                    let id = d.id.clone();
                    let replica = replica.clone();
                    let current = replica.as_ref().and_then(|r| d.shown.params.get(&r.key)).cloned().unwrap_or_else(|| "1".into());
                    // The token is asked here when an action needs it and none is remembered.
                    let ui = row_ui(&id, current);
                    let follower = ui.clone();
                    let (count, message) = (RwSignal::from(ui.count), RwSignal::from(ui.message));
                    let (need_token, row_token) = (RwSignal::from(ui.need_token), RwSignal::from(ui.row_token));
                    let confirming = RwSignal::from(ui.confirming);
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
                        if e.is_auth() {
                            need_token.set(true);
                            row_token.set(String::new());
                        }
                    };
                    let (id_scale, id_del) = (id.clone(), id.clone());
                    let status = d.status.as_str();
                    view! {
                        <div class="deployment" data-testid="deployment" data-id=id.clone() data-status=status>
                            <div class="row"><code>{id.clone()}</code><span class=format!("status {status}")>{status}</span></div>
                            <Endpoints shown=d.shown.clone()/>
                            <div class="row">
                                {replica.clone().map(|param| view! {
                                    <label>"Replicas "<input type="number" min="1" data-testid="scale-input" prop:value=move || count.get() on:input=move |ev| count.set(event_target_value(&ev))/></label>
                                    <button data-testid="scale-button" on:click=move |_| {
                                        let id = id_scale.clone();
                                        let (param, ui) = (param.clone(), follower.clone());
                                        let Some(tok) = token_or_ask() else { return };
                                        let asked = count.get_untracked();
                                        spawn_local(async move {
                                            let params = BTreeMap::from([(param.key.clone(), serde_json::Value::String(asked.clone()))]);
                                            match api::patch_deployment(&id, params, &tok).await {
                                                Ok(_) => {
                                                    ui.message.set(Some(SCALING.into()));
                                                    ui.scale_seq.update(|s| *s += 1);
                                                    let seq = ui.scale_seq.get_untracked();
                                                    follow_scale(id, param, asked, seq, ui, list).await;
                                                }
                                                Err(e) => { on_auth_error(&e); ui.message.set(Some(e.to_string())) }
                                            }
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
                                                        Ok(_) => "re-seeding the master from the most advanced replica…".into(),
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
                                                        Ok(_) => message.set(Some("deleting…".into())),
                                                        Err(e) => { on_auth_error(&e); message.set(Some(e.to_string())) }
                                                    }
                                                    sleep(800).await;
                                                    list.set(load().await);
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
