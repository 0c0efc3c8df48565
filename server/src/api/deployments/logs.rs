//! `GET /api/deployments/{id}/logs`: kept container logs.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::get_record;
use crate::api::{AppError, AppState};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// How many of the newest lines (default 200, at most 5000).
    pub tail: Option<usize>,
}

/// Kept container logs (`omnistrateLogging`), newest last, secrets redacted.
#[utoipa::path(get, path = "/api/deployments/{id}/logs", params(("id" = String, Path), LogsQuery),
    responses((status = 200, description = "log lines: `<unix ms> [container] line`", content_type = "text/plain"),
        (status = 400, description = "`tail` is not a whole number the server can read", body = crate::api::error::ErrorBody),
        (status = 404, body = crate::api::error::ErrorBody)))]
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
