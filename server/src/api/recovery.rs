//! Recovery: orphaned Docker objects (`/api/orphans`) and re-seeding a
//! master whose data volume vanished (`/api/deployments/{id}/reseed`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{AppError, AppState, Authed};
use shared::wire::Orphan;

use crate::controller::orphans::OrphanError;
use crate::controller::ReseedError;

impl From<OrphanError> for AppError {
    fn from(e: OrphanError) -> Self {
        match e {
            OrphanError::NoDocker => AppError::Unavailable(e.to_string()),
            OrphanError::Store(s) => s.into(),
            OrphanError::Engine(_) => AppError::Internal(e.to_string()),
            OrphanError::HasRecord(_) => AppError::Conflict(e.to_string()),
            OrphanError::Unknown(d) => AppError::NotFound(format!("orphan `{d}`")),
        }
    }
}

/// Labelled Docker objects of this server that no deployment record owns
/// (kept, containers stopped; data volumes untouched).
#[utoipa::path(get, path = "/api/orphans",
    responses((status = 200, body = Vec<Orphan>), (status = 503, body = super::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Orphan>>, AppError> {
    Ok(Json(
        state
            .ctl
            .orphans()
            .await?
            .into_iter()
            .map(wire_orphan)
            .collect(),
    ))
}

/// Remove an orphan's containers, volumes (its data) and network.
#[utoipa::path(delete, path = "/api/orphans/{id}", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Orphan), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody),
        (status = 503, body = super::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    _auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let removed = state.ctl.remove_orphan(&id).await?;
    Ok((StatusCode::OK, Json(wire_orphan(removed))).into_response())
}

fn wire_orphan(o: crate::controller::orphans::Orphan) -> Orphan {
    Orphan {
        deployment: o.deployment,
        containers: o.containers,
        volumes: o.volumes,
        networks: o.networks,
    }
}

impl From<ReseedError> for AppError {
    fn from(e: ReseedError) -> Self {
        match e {
            ReseedError::NotFound(_) => AppError::NotFound(e.to_string()),
            ReseedError::NothingLost(_) | ReseedError::Impossible(_) => {
                AppError::Conflict(e.to_string())
            }
            ReseedError::NoDocker => AppError::Unavailable(e.to_string()),
            ReseedError::Failed(_) => AppError::Internal(e.to_string()),
        }
    }
}

/// Re-seed containers whose data volume vanished (the master) from the most
/// advanced running replica; the deployment is then reconciled.
#[utoipa::path(post, path = "/api/deployments/{id}/reseed", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 202, body = super::deployments::Accepted), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody),
        (status = 503, body = super::error::ErrorBody)))]
pub async fn reseed(
    State(state): State<AppState>,
    _auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    state.ctl.reseed(&id).await?;
    Ok(super::deployments::accepted(id))
}
