//! `/api/deployments`: create, list, describe, change, delete, events.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use shared::params::{ResolvedParams, Source};
pub use shared::wire::{
    Accepted, AutoscalingView, ContainerView, CreateDeployment, DeploymentSummary, DeploymentView,
    Endpoint, EndpointKind, PatchDeployment, ReplicationView, ServerlessView,
};

use super::{AppError, AppState, Authed, Body};
use crate::deploy::{self, DesiredStack, Probe};
use crate::mysql::ReplicationHealth;
use crate::store::{DeploymentRecord, Desired, Event, Status};

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

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("OS randomness");
    deploy::hex(&buf)
}

/// A random password: 24 characters of [A-Za-z0-9].
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut buf = [0u8; 24];
    getrandom::fill(&mut buf).expect("OS randomness");
    buf.iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn param_issues(issues: Vec<shared::params::ParamIssue>) -> AppError {
    let names: Vec<String> = issues
        .iter()
        .map(|i| format!("{}: {}", i.key, i.message))
        .collect();
    AppError::unprocessable(
        "invalid_params",
        format!("invalid parameters: {}", names.join("; ")),
        json!({ "issues": issues }),
    )
}

fn plan_issues(issues: Vec<deploy::PlanIssue>) -> AppError {
    let code = if issues
        .iter()
        .all(|i| matches!(i, deploy::PlanIssue::Unresolved(_)))
    {
        "unresolvable_template"
    } else if issues
        .iter()
        .all(|i| matches!(i, deploy::PlanIssue::UnknownInstanceType { .. }))
    {
        "unknown_instance_type"
    } else {
        "invalid_deployment"
    };
    let messages: Vec<String> = issues.iter().map(|i| i.message()).collect();
    AppError::unprocessable(code, messages.join("; "), json!({ "issues": issues }))
}

async fn check_spec(state: &AppState, text: &str) -> Result<shared::Analysis, AppError> {
    let mut analysis = state.linter.analyze(std::sync::Arc::from(text)).await?;
    // host-escaping keys the operator allowed are not errors here
    let allowed = &state.ctl.settings.allowed_host_keys;
    analysis.diagnostics.retain(|d| {
        !(d.code == "C101"
            && d.path
                .rsplit('/')
                .next()
                .is_some_and(|k| allowed.contains(k)))
    });
    // The editor shows this server's refusals (C101 keys, C102 reserved
    // labels) as warnings, since the file is valid compose; for a deploy
    // here they are errors.
    for d in &mut analysis.diagnostics {
        if matches!(d.code, "C101" | "C102") {
            d.severity = shared::Severity::Error;
        }
    }
    if analysis.has_errors() {
        return Err(AppError::InvalidSpec {
            count: analysis.summary().errors,
            report: super::lint_report(text, &analysis.diagnostics),
        });
    }
    Ok(analysis)
}

/// Images the stack needs that are missing locally (a pull is tried first).
async fn check_images(state: &AppState, stack: &DesiredStack) -> Result<(), AppError> {
    let Some(engine) = &state.ctl.engine() else {
        return Ok(());
    };
    let images: std::collections::BTreeSet<&str> =
        stack.containers.iter().map(|c| c.image.as_str()).collect();
    for image in images {
        match engine.image_exists(image).await {
            Ok(true) => {}
            Ok(false) => {
                if let Err(e) = engine.pull(image, Duration::from_secs(20)).await {
                    return Err(AppError::unprocessable(
                        "image_unavailable",
                        crate::controller::missing_image_message(image, &e),
                        json!({ "image": image, "buildScript": "images/mysql/build.sh" }),
                    ));
                }
            }
            Err(e) => return Err(AppError::Unavailable(e.to_string())),
        }
    }
    Ok(())
}

/// Deploy a spec with parameters. Everything is checked (spec, params,
/// templates, instance types, images) before any Docker object is created.
#[utoipa::path(post, path = "/api/deployments", request_body = CreateDeployment,
    security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 422, description = "invalid spec, params, templates, instance type or image", body = super::error::ErrorBody),
        (status = 503, body = super::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _auth: Authed,
    body: Body,
) -> Result<Response, AppError> {
    let req: CreateDeployment = body.json()?;
    let text = match (req.spec, req.spec_id) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadRequest(
                "give either `spec` or `specId`, not both".into(),
            ))
        }
        (None, None) => {
            return Err(AppError::BadRequest(
                "`spec` or `specId` is required".into(),
            ))
        }
        (Some(text), None) => text,
        (None, Some(id)) => state
            .store()
            .get_spec(&id)?
            .ok_or_else(|| AppError::NotFound(format!("spec `{id}`")))?,
    };
    if text.len() > super::BODY_LIMIT {
        return Err(AppError::PayloadTooLarge);
    }
    let analysis = check_spec(&state, &text).await?;
    if analysis.spec.services.iter().all(|s| s.is_passive()) {
        return Err(AppError::unprocessable(
            "nothing_to_deploy",
            "the spec has no service that runs a container",
            Value::Null,
        ));
    }
    let params = shared::params::resolve(&analysis.spec, &req.params, &mut |_| generate_password())
        .map_err(param_issues)?;
    // Shown once to the person deploying (a key shared by services is one value).
    let generated: BTreeMap<String, String> = params
        .params
        .iter()
        .filter(|p| p.source == shared::params::Source::Generated)
        .map(|p| (p.key.clone(), p.value.clone()))
        .collect();
    let id = format!("d{}", random_hex(5));
    let stack = state
        .ctl
        .plan_request(&analysis, &params, &id)
        .map_err(plan_issues)?;
    if state.ctl.engine().is_none() {
        return Err(AppError::Unavailable(
            "docker is not reachable from this server; start dockerd (the server connects within seconds)".into(),
        ));
    }
    check_images(&state, &stack).await?;
    let spec_id = super::spec_id(&text);
    state.store().put_spec(&spec_id, &text)?;
    let now = crate::store::now_ms();
    let rec = DeploymentRecord {
        id: id.clone(),
        spec_id,
        params,
        desired: Desired::Running,
        status: Status::Provisioning,
        message: None,
        created_at: now,
        updated_at: now,
    };
    state.store().insert_deployment(&rec)?;
    state.ctl.register_secrets(&rec, Some(&stack));
    state
        .ctl
        .counters
        .deployments_created
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    state.ctl.hub.emit(
        &id,
        "step",
        &format!(
            "deployment accepted: {} container(s) planned ({})",
            stack.containers.len(),
            stack
                .containers
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    state.ctl.kick(&id);
    Ok(accepted_with(id, generated))
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
    observed: &crate::provision::Observed,
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
            kind: match l.spec.kind() {
                crate::endpoints::EndpointKind::Service => EndpointKind::Service,
                crate::endpoints::EndpointKind::Replica => EndpointKind::Replica,
            },
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
            zone: c.zone.clone(),
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

fn get_record(state: &AppState, id: &str) -> Result<DeploymentRecord, AppError> {
    state
        .store()
        .get_deployment(id)?
        .ok_or_else(|| AppError::NotFound(format!("deployment `{id}`")))
}

/// One deployment, observed now: containers, endpoints, replication health.
#[utoipa::path(get, path = "/api/deployments/{id}", params(("id" = String, Path)),
    responses((status = 200, body = DeploymentView), (status = 404, body = super::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DeploymentView>, AppError> {
    let rec = get_record(&state, &id)?;
    let ctl = &state.ctl;
    let stack = ctl.plan_record(&rec).ok();
    let observed = ctl.observe(&id).await.unwrap_or_default();
    let o = observation(ctl, &id, stack.as_ref(), &observed);
    let replication = match (&stack, ctl.engine()) {
        (Some(stack), Some(engine)) => replication(ctl, &engine, &id, stack, &observed).await,
        _ => Vec::new(),
    };
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

/// Replication health of the stack's MySQL replicas.
async fn replication(
    ctl: &crate::controller::Controller,
    engine: &crate::provision::Engine,
    id: &str,
    stack: &DesiredStack,
    observed: &crate::provision::Observed,
) -> Vec<ReplicationView> {
    let host = ctl.probe_host();
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
        tokio::time::timeout(Duration::from_secs(4), ctl.replication_of(engine, c, &host))
            .await
            .unwrap_or_else(|_| Err("timed out".into()))
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

/// Change modifiable parameters; a replica-count change scales the replicas.
#[utoipa::path(patch, path = "/api/deployments/{id}", params(("id" = String, Path)),
    request_body = PatchDeployment, security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    _auth: Authed,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, AppError> {
    let rec = get_record(&state, &id)?;
    let req: PatchDeployment = body.json()?;
    if rec.desired == Desired::Deleted {
        return Err(AppError::Conflict(format!(
            "deployment `{id}` is being deleted"
        )));
    }
    if req.params.is_empty() {
        return Err(AppError::BadRequest(
            "`params` holds nothing to change".into(),
        ));
    }
    let text = state
        .store()
        .get_spec(&rec.spec_id)?
        .ok_or_else(|| AppError::Internal(format!("spec {} missing", rec.spec_id)))?;
    let analysis = state
        .linter
        .analyze(std::sync::Arc::from(text.as_str()))
        .await?;
    let spec = &analysis.spec;
    let mut issues = Vec::new();
    for (key, value) in &req.params {
        let declared: Vec<_> = spec
            .services
            .iter()
            .filter_map(|s| s.param(key).map(|p| (s, p)))
            .collect();
        let issue = |message: String| shared::params::ParamIssue {
            key: key.clone(),
            service: None,
            message,
        };
        if declared.is_empty() {
            issues.push(issue(format!("no service declares a parameter `{key}`")));
            continue;
        }
        if declared
            .iter()
            .all(|(_, p)| !shared::params::is_user_param(p))
        {
            issues.push(issue(format!(
                "`{key}` is a resource link the deployment wires itself"
            )));
            continue;
        }
        let stored = rec.params.params.iter().find(|p| &p.key == key);
        let secret = stored.is_some_and(|p| p.secret);
        let new = shared::params::value_text(value);
        // a secret is never compared in a way that tells its value: a
        // non-modifiable one is refused whatever was sent, a modifiable one
        // compared in constant time
        let changed = match (stored, &new) {
            (_, None) | (None, _) => true,
            (Some(_), Some(_)) if secret => {
                let refuse = declared.iter().any(|(_, p)| !p.is_modifiable());
                refuse
                    || !super::constant_time_eq(
                        new.as_deref().unwrap_or("").as_bytes(),
                        stored.map_or(&b""[..], |p| p.value.as_bytes()),
                    )
            }
            (Some(p), Some(n)) => *n != p.value,
        };
        if changed {
            if let Some((s, _)) = declared.iter().find(|(_, p)| !p.is_modifiable()) {
                issues.push(shared::params::ParamIssue {
                    key: key.clone(),
                    service: Some(s.name.value.clone()),
                    message: format!(
                        "`{key}` is not modifiable (modifiable: false on {})",
                        s.name.value
                    ),
                });
            }
        }
    }
    if !issues.is_empty() {
        return Err(param_issues(issues));
    }
    // current explicit values (given or generated), then the changes
    let mut given: BTreeMap<String, Value> = BTreeMap::new();
    for p in &rec.params.params {
        if p.source != Source::Default {
            given
                .entry(p.key.clone())
                .or_insert_with(|| Value::String(p.value.clone()));
        }
    }
    for (k, v) in &req.params {
        given.insert(k.clone(), v.clone());
    }
    let mut params = shared::params::resolve(spec, &given, &mut |_| generate_password())
        .map_err(param_issues)?;
    for p in &mut params.params {
        if let Some(old) = rec.params.get(&p.service, &p.key) {
            if old.value == p.value {
                p.source = old.source;
            }
        }
    }
    let stack = state
        .ctl
        .plan_request(&analysis, &params, &id)
        .map_err(plan_issues)?;
    check_images(&state, &stack).await?;
    state.store().set_params(&id, &params)?;
    // an explicit replica count replaces the autoscaler's
    let sets_replicas = spec.services.iter().any(|s| {
        s.compute
            .as_ref()
            .and_then(|c| c.replica_count_api_param.as_ref())
            .is_some_and(|k| req.params.contains_key(&k.value))
    });
    if sets_replicas {
        state.store().clear_replica_overrides(&id)?;
    }
    let mut updated = rec.clone();
    updated.params = params.clone();
    state.ctl.register_secrets(&updated, Some(&stack));
    let changes: Vec<String> = req
        .params
        .keys()
        .map(|k| {
            let secret = params.params.iter().any(|p| &p.key == k && p.secret);
            match params.params.iter().find(|p| &p.key == k) {
                Some(p) if !secret => format!("{k}={}", p.value),
                _ => format!("{k}=***"),
            }
        })
        .collect();
    state.ctl.hub.emit(
        &id,
        "step",
        &format!("parameters changed: {}", changes.join(", ")),
    );
    // the deployment is provisioning until the next reconcile step ends
    state.store().set_status(&id, Status::Provisioning, None)?;
    state.ctl.hub.emit(&id, "status", "provisioning");
    state.ctl.kick(&id);
    Ok(accepted(id))
}

/// Delete a deployment: its containers, network and volumes.
#[utoipa::path(delete, path = "/api/deployments/{id}", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let rec = get_record(&state, &id)?;
    if rec.desired != Desired::Deleted {
        state.store().set_desired(&id, Desired::Deleted)?;
        state.store().set_status(&id, Status::Deleting, None)?;
        state.ctl.hub.emit(&id, "step", "deletion requested");
    }
    state.ctl.kick(&id);
    Ok(accepted(id))
}

/// `202 {id, url}`: the change is recorded and the controller is on it.
pub(super) fn accepted(id: String) -> Response {
    accepted_with(id, BTreeMap::new())
}

/// `202 {id, url, generated?}`.
fn accepted_with(id: String, generated: BTreeMap<String, String>) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            url: format!("/api/deployments/{id}"),
            id,
            generated,
        }),
    )
        .into_response()
}

struct EventStream {
    id: String,
    replay: VecDeque<Event>,
    rx: tokio::sync::broadcast::Receiver<Event>,
    last: i64,
    done: bool,
    store: std::sync::Arc<crate::store::Store>,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

fn sse_event(e: &Event) -> SseEvent {
    SseEvent::default()
        .id(e.seq.to_string())
        .event(e.kind.as_str())
        .data(serde_json::to_string(e).unwrap_or_default())
}

/// Server-sent events: progress steps, status changes and container log
/// lines (secrets redacted). Replays stored events after `Last-Event-ID`.
#[utoipa::path(get, path = "/api/deployments/{id}/events", params(("id" = String, Path)),
    responses((status = 200, description = "text/event-stream of events", body = Event, content_type = "text/event-stream"),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    get_record(&state, &id)?;
    let rx = state.ctl.hub.subscribe();
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let replay: VecDeque<Event> = state.store().events_after(&id, after)?.into();
    let init = EventStream {
        id,
        replay,
        rx,
        last: after,
        done: false,
        store: state.ctl.store.clone(),
        shutdown: state.shutdown.subscribe(),
    };
    let stream = futures_util::stream::unfold(init, |mut s| async move {
        if s.done {
            return None;
        }
        loop {
            if let Some(e) = s.replay.pop_front() {
                if e.seq <= s.last {
                    continue;
                }
                s.last = e.seq;
                if e.ends_stream() {
                    s.done = true;
                }
                let ev = sse_event(&e);
                return Some((Ok(ev), s));
            }
            if *s.shutdown.borrow() {
                return None;
            }
            let received = tokio::select! {
                r = s.rx.recv() => r,
                _ = s.shutdown.changed() => return None,
            };
            match received {
                Ok(e) if e.deployment_id == s.id && e.seq > s.last => {
                    s.replay.push_back(e);
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if let Ok(missed) = s.store.events_after(&s.id, s.last) {
                        s.replay.extend(missed);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// How many of the newest lines (default 200, at most 5000).
    pub tail: Option<usize>,
}

/// Kept container logs (`omnistrateLogging`), newest last, secrets redacted.
#[utoipa::path(get, path = "/api/deployments/{id}/logs", params(("id" = String, Path), LogsQuery),
    responses((status = 200, description = "log lines: `<unix ms> [container] line`", content_type = "text/plain"),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let rec = get_record(&state, &id)?;
    let mut q = LogsQuery { tail: None };
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("tail", v)) => {
                q.tail = Some(v.parse().map_err(|_| {
                    AppError::BadRequest(format!(
                        "`tail` must be a whole number of lines, not `{v}`"
                    ))
                })?)
            }
            _ => {
                return Err(AppError::BadRequest(format!(
                    "unknown query parameter `{}` (known: tail)",
                    pair.split('=').next().unwrap_or(pair)
                )))
            }
        }
    }
    // the stack the controller last planned; planned now only before that
    let keeps = match state.ctl.stack(&id) {
        Some(stack) => stack.logging,
        None => state.ctl.plan_record(&rec).is_ok_and(|s| s.logging),
    };
    if !keeps {
        return Err(AppError::NotFound(format!(
            "kept logs of `{id}`: its spec does not enable omnistrateLogging (logs are still streamed as `log` events)"
        )));
    }
    let Some(keeper) = state.ctl.kept_logs() else {
        return Err(AppError::NotFound(format!("kept logs of `{id}`")));
    };
    let lines = keeper
        .tail(&id, q.tail.unwrap_or(200).min(5000))
        .map_err(|e| AppError::Internal(format!("reading logs: {e}")))?;
    let mut body = lines.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        state.ctl.hub.redact(&id, &body),
    )
        .into_response())
}
