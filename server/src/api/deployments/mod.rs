//! `/api/deployments`: create, change and delete here; the list and the view
//! in [`view`], the event stream in [`events`], kept logs in [`logs`].

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use shared::params::Source;
pub use shared::wire::{
    Accepted, AutoscalingView, ContainerView, CreateDeployment, DeploymentSummary, DeploymentView,
    Endpoint, EndpointKind, PatchDeployment, ReplicationView, ServerlessView,
};

use super::{AppError, AppState, Authed, Body};
use crate::plan::{self, DesiredStack};
use crate::store::{DeploymentRecord, Desired, Status};

pub mod events;
pub mod logs;
pub mod view;
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("OS randomness");
    plan::hex(&buf)
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

fn plan_issues(issues: Vec<plan::PlanIssue>) -> AppError {
    let code = if issues
        .iter()
        .all(|i| matches!(i, plan::PlanIssue::Unresolved(_)))
    {
        "unresolvable_template"
    } else if issues
        .iter()
        .all(|i| matches!(i, plan::PlanIssue::UnknownInstanceType { .. }))
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
        // name the flag that would let it through
        if let Some(key) =
            d.path.rsplit('/').next().filter(|k| {
                d.code == "C101" && crate::runtime_opts::ALLOWABLE_HOST_KEYS.contains(k)
            })
        {
            let how = format!("; an operator may allow it with `--allow-host-key {key}`");
            d.message.push_str(&how);
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
    responses((status = 202, body = Accepted), (status = 400, body = crate::api::error::ErrorBody),
        (status = 401, body = crate::api::error::ErrorBody), (status = 404, body = crate::api::error::ErrorBody),
        (status = 422, description = "invalid spec, params, templates, instance type or image", body = crate::api::error::ErrorBody),
        (status = 503, body = crate::api::error::ErrorBody)))]
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
pub(super) fn get_record(state: &AppState, id: &str) -> Result<DeploymentRecord, AppError> {
    state
        .store()
        .get_deployment(id)?
        .ok_or_else(|| AppError::NotFound(format!("deployment `{id}`")))
}

/// Change modifiable parameters; a replica-count change scales the replicas.
#[utoipa::path(patch, path = "/api/deployments/{id}", params(("id" = String, Path)),
    request_body = PatchDeployment, security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 400, body = crate::api::error::ErrorBody),
        (status = 401, body = crate::api::error::ErrorBody), (status = 404, body = crate::api::error::ErrorBody),
        (status = 409, body = crate::api::error::ErrorBody), (status = 422, body = crate::api::error::ErrorBody)))]
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
    // the rules the page also runs before a PATCH (`shared::params`); a
    // secret is compared in constant time
    let issues = shared::params::patch_issues(
        spec,
        &req.params,
        &rec.params.current_values(),
        &|given, stored| super::constant_time_eq(given.as_bytes(), stored.as_bytes()),
    );
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
    state.ctl.lifecycle(&id).provisioning()?;
    state.ctl.kick(&id);
    Ok(accepted(id))
}

/// Delete a deployment: its containers, network and volumes.
#[utoipa::path(delete, path = "/api/deployments/{id}", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 401, body = crate::api::error::ErrorBody),
        (status = 404, body = crate::api::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let rec = get_record(&state, &id)?;
    if rec.desired != Desired::Deleted {
        state.ctl.lifecycle(&id).request_delete()?;
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
