//! A deployment being followed: its event stream and status polling, the
//! generated secrets (shown once), endpoints with `mysql` command lines,
//! containers and the auto-stop line.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::support::{copy, sleep};
use crate::api::{self, Deployment};

#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub id: String,
    pub lines: Vec<String>,
    pub deployment: Option<Deployment>,
    /// Secrets the server generated: shown once, kept only in this signal.
    pub generated: Vec<(String, String)>,
}

/// Stream events and poll the deployment until it settles.
pub fn follow(
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
pub fn Endpoints(deployment: Deployment, values: BTreeMap<String, String>) -> impl IntoView {
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
pub fn GeneratedSecrets(progress: RwSignal<Option<Progress>>) -> impl IntoView {
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
