//! `GET /api/deployments` and `GET /api/deployments/{id}`: what is planned,
//! observed and measured, without secrets.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::Json;
use shared::params::ResolvedParams;

use super::{
    get_record, AutoscalingView, ContainerView, DeploymentSummary, DeploymentView, Endpoint,
    ReplicationView, ServerlessView,
};
use crate::api::{AppError, AppState};
use crate::mysql::ReplicationHealth;
use crate::plan::{DesiredStack, Probe};
use crate::store::Status;

fn visible_params(p: &ResolvedParams) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for param in &p.params {
        if param.secret {
            continue;
        }
        out.entry(param.key.clone())
            .or_insert_with(|| param.value.clone());
    }
    // a key that is secret on any service stays hidden
    for param in &p.params {
        if param.secret {
            out.remove(&param.key);
        }
    }
    out
}

/// What a deployment's view and its list item share: built from memory (the
/// planned stack, the endpoints' counters) and one engine observation.
struct Observation {
    containers: Vec<ContainerView>,
    spares: Vec<ContainerView>,
    endpoints: Vec<Endpoint>,
    serverless: Option<ServerlessView>,
    all_running: bool,
    any_running: bool,
}

fn observation(
    ctl: &crate::controller::Controller,
    id: &str,
    stack: Option<&DesiredStack>,
    observed: &crate::docker::Observed,
) -> Observation {
    let net = ctl.endpoints.get(id);
    let backends = net.as_ref().map(|n| n.backends()).unwrap_or_default();
    let usage = net.as_ref().map(|n| n.usage()).unwrap_or_default();
    let mut endpoints: Vec<Endpoint> = net
        .as_ref()
        .map(|n| n.listeners())
        .unwrap_or_default()
        .into_iter()
        .map(|l| Endpoint {
            name: l.spec.name.clone(),
            kind: l.spec.kind(),
            resource: l.spec.resource.clone(),
            replica: l.spec.replica,
            host: ctl.endpoint_host(),
            port: l.port,
            connections: l.connections.load(std::sync::atomic::Ordering::Relaxed),
            active: l.active.load(std::sync::atomic::Ordering::Relaxed),
        })
        .collect();
    // services first, in start order; then each service's replicas
    let order: Vec<&str> = stack
        .map(|s| s.services.iter().map(|p| p.resource.as_str()).collect())
        .unwrap_or_default();
    endpoints.sort_by_key(|e| {
        (
            order.iter().position(|r| *r == e.resource),
            e.replica.map_or(0, |r| r + 1),
        )
    });
    let mut out = Observation {
        containers: Vec::new(),
        spares: Vec::new(),
        endpoints,
        serverless: None,
        all_running: true,
        any_running: false,
    };
    let Some(stack) = stack else {
        return out;
    };
    for c in stack.spares() {
        let o = observed.containers.iter().find(|o| o.name == c.name);
        out.spares.push(ContainerView {
            name: c.name.clone(),
            resource: c.resource.clone(),
            replica: c.replica,
            state: o
                .map(|o| o.state.clone())
                .unwrap_or_else(|| "missing".into()),
            zone: c.zone.clone(),
            node: None,
            host_port: None,
            routable: false,
            cpu_percent: None,
            memory_bytes: None,
        });
    }
    for c in stack.active() {
        let o = observed.containers.iter().find(|o| o.name == c.name);
        let running = o.is_some_and(|o| o.running());
        out.all_running &= running;
        out.any_running |= running;
        // a stopped container's last sample would mislead
        let u = usage.get(&c.name).filter(|_| running);
        out.containers.push(ContainerView {
            name: c.name.clone(),
            resource: c.resource.clone(),
            replica: c.replica,
            state: o
                .map(|o| o.state.clone())
                .unwrap_or_else(|| "missing".into()),
            // where it runs (a swarm node's zone) before the planned label
            zone: o.and_then(|o| o.zone.clone()).or_else(|| c.zone.clone()),
            node: o.and_then(|o| o.node.clone()),
            host_port: o.and_then(|o| c.ports.first().and_then(|p| o.ports.get(p).copied())),
            routable: running
                && backends
                    .get(&c.name)
                    .is_some_and(|b| b.routable && !b.draining),
            cpu_percent: u.map(|u| (u.cpu_percent * 10.0).round() / 10.0),
            memory_bytes: u.map(|u| u.memory_bytes),
        });
    }
    out.serverless = stack
        .services
        .iter()
        .any(|p| p.serverless.is_some())
        .then(|| ServerlessView {
            auto_stop: stack.auto_stop(),
            idle_stop_after_secs: ctl.settings.idle_stop_after.as_secs(),
            idle_secs: net.as_ref().map_or(0.0, |n| n.idle_ms() as f64 / 1000.0),
            wakes: net
                .as_ref()
                .map_or(0, |n| n.wakes.load(std::sync::atomic::Ordering::Relaxed)),
            stops: net
                .as_ref()
                .map_or(0, |n| n.stops.load(std::sync::atomic::Ordering::Relaxed)),
        });
    out
}

/// The reconciled status, corrected by what is observed now: a running
/// deployment whose containers stopped, or whose replication broke.
fn observed_status(
    reconciled: Status,
    planned: bool,
    o: &Observation,
    replication_healthy: bool,
) -> Status {
    match reconciled {
        Status::Running | Status::Degraded if planned => {
            if !o.all_running {
                if o.any_running {
                    Status::Degraded
                } else {
                    Status::Stopped
                }
            } else if !replication_healthy {
                Status::Degraded
            } else {
                Status::Running
            }
        }
        s => s,
    }
}

/// Every deployment, with what the list shows: one store query and one
/// engine listing, whatever the number of deployments (the stacks and
/// endpoint counters are in memory; no replication probe).
#[utoipa::path(get, path = "/api/deployments", responses((status = 200, body = Vec<DeploymentSummary>)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<DeploymentSummary>>, AppError> {
    let records = state.store().list_deployments()?;
    let ctl = &state.ctl;
    let mut observed = match ctl.engine() {
        Some(engine) if !records.is_empty() => {
            tokio::time::timeout(Duration::from_secs(5), engine.observe_all())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default()
        }
        _ => Default::default(),
    };
    Ok(Json(
        records
            .into_iter()
            .map(|r| {
                let stack = ctl.stack(&r.id);
                let seen = observed.remove(&r.id).unwrap_or_default();
                let o = observation(ctl, &r.id, stack.as_deref(), &seen);
                DeploymentSummary {
                    needs_reseed: ctl.has_lost_data(&r.id),
                    status: observed_status(r.status, stack.is_some(), &o, true),
                    params: visible_params(&r.params),
                    id: r.id,
                    message: r.message,
                    spec_id: r.spec_id,
                    created_at: r.created_at,
                    containers: o.containers,
                    spares: o.spares,
                    endpoints: o.endpoints,
                    serverless: o.serverless,
                }
            })
            .collect(),
    ))
}
/// One deployment, observed now: containers, endpoints, replication health.
#[utoipa::path(get, path = "/api/deployments/{id}", params(("id" = String, Path)),
    responses((status = 200, body = DeploymentView), (status = 404, body = crate::api::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DeploymentView>, AppError> {
    let rec = get_record(&state, &id)?;
    let ctl = &state.ctl;
    let stack = ctl.plan_record(&rec).ok();
    let observed = ctl.observe(&id).await.unwrap_or_default();
    let o = observation(ctl, &id, stack.as_ref(), &observed);
    // the one probe of the view (to be read from a background sampler)
    let replication = replication(ctl, &id, stack.as_ref(), &observed).await;
    let status = observed_status(
        rec.status,
        stack.is_some(),
        &o,
        replication.iter().all(|r| r.healthy),
    );
    let autoscaling = stack
        .as_ref()
        .map(|s| autoscaling(s, &o.containers))
        .unwrap_or_default();
    Ok(Json(DeploymentView {
        needs_reseed: ctl.has_lost_data(&rec.id),
        serverless: o.serverless,
        autoscaling,
        id: rec.id.clone(),
        status,
        message: rec.message.clone(),
        spec_id: rec.spec_id.clone(),
        created_at: rec.created_at,
        updated_at: rec.updated_at,
        containers: o.containers,
        spares: o.spares,
        endpoints: o.endpoints,
        replication,
        params: visible_params(&rec.params),
    }))
}

fn autoscaling(stack: &DesiredStack, containers: &[ContainerView]) -> Vec<AutoscalingView> {
    stack
        .services
        .iter()
        .filter_map(|p| {
            let a = p.autoscaling.as_ref()?;
            let serving: Vec<f64> = containers
                .iter()
                .filter(|c| c.resource == p.resource && c.routable)
                .filter_map(|c| c.cpu_percent)
                .collect();
            Some(AutoscalingView {
                resource: p.resource.clone(),
                replicas: p.replicas,
                min_replicas: a.min_replicas,
                max_replicas: a.max_replicas,
                cpu_percent: (!serving.is_empty())
                    .then(|| serving.iter().sum::<f64>() / serving.len() as f64),
            })
        })
        .collect()
}

/// Replication health of the stack's MySQL replicas (none without a plan
/// or an engine).
async fn replication(
    ctl: &std::sync::Arc<crate::controller::Controller>,
    id: &str,
    stack: Option<&DesiredStack>,
    observed: &crate::docker::Observed,
) -> Vec<ReplicationView> {
    let Some(stack) = stack else {
        return Vec::new();
    };
    if ctl.engine().is_none() {
        return Vec::new();
    }
    let replicas: Vec<_> = stack
        .active()
        .filter(|c| matches!(c.probe, Probe::Mysql { replica: true, .. }))
        .collect();
    let checks = replicas.iter().map(|c| async {
        if !observed
            .containers
            .iter()
            .any(|o| o.name == c.name && o.running())
        {
            return Err("not running".to_string());
        }
        // sampled in the background, read from memory
        ctl.replication_health(id, c).await
    });
    let results = futures_util::future::join_all(checks).await;
    replicas
        .iter()
        .zip(results)
        .map(|(c, r)| {
            let (h, error) = match r {
                Ok(Some(h)) => (h, None),
                Ok(None) => (
                    unhealthy(),
                    Some("replication is not configured".to_owned()),
                ),
                Err(e) => (unhealthy(), Some(e)),
            };
            let error = error
                .or(h.last_error.clone())
                .map(|e| ctl.hub.redact(id, &e));
            ReplicationView {
                resource: c.resource.clone(),
                replica: c.replica,
                container: c.name.clone(),
                healthy: h.healthy(),
                io_running: h.io_running,
                sql_running: h.sql_running,
                seconds_behind_master: h.seconds_behind_master,
                error,
            }
        })
        .collect()
}

fn unhealthy() -> ReplicationHealth {
    ReplicationHealth {
        io_running: false,
        sql_running: false,
        seconds_behind_master: None,
        last_error: None,
    }
}
