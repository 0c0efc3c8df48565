//! One error type for every handler: `{"error":{"code","message","details"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// A `Host` this server does not answer to.
    #[error("{0}")]
    MisdirectedHost(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("request body larger than 5 MiB")]
    PayloadTooLarge,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// The spec has error diagnostics; details = the lint JSON report.
    #[error("the spec has {count} error diagnostic(s)")]
    InvalidSpec { count: usize, report: Value },
    /// A 422 with a code and details (params, templates, instance types…).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("{0}")]
    Unavailable(String),
    /// Rate limited; retry after this many seconds.
    #[error("too many specs stored from this client; retry in {0} s")]
    TooManyRequests(u64),
    #[error("the request body was not received in time")]
    RequestTimeout,
    #[error("spec storage is full and every stored spec is used by a deployment")]
    StorageFull,
    /// Anything else: logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

pub use shared::wire::{ErrorBody, ErrorDetail};

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::MisdirectedHost(_) => StatusCode::MISDIRECTED_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::InvalidSpec { .. } | AppError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::MisdirectedHost(_) => "unknown_host",
            AppError::NotFound(_) => "not_found",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Conflict(_) => "conflict",
            AppError::InvalidSpec { .. } => "invalid_spec",
            AppError::Unprocessable { code, .. } => code,
            AppError::Unavailable(_) => "unavailable",
            AppError::TooManyRequests(_) => "rate_limited",
            AppError::StorageFull => "storage_full",
            AppError::RequestTimeout => "request_timeout",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>, details: Value) -> Self {
        AppError::Unprocessable {
            code,
            message: message.into(),
            details,
        }
    }
}

impl From<crate::lint::LintError> for AppError {
    fn from(e: crate::lint::LintError) -> Self {
        match e {
            crate::lint::LintError::Busy => AppError::Unavailable(e.to_string()),
            crate::lint::LintError::Worker(_) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            // loud and explicit: the operator must act (no internals: the
            // message names only the data dir's file)
            crate::store::StoreError::Lost(_) => AppError::Unavailable(e.to_string()),
            crate::store::StoreError::Sql(_) => AppError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, details) = match &self {
            AppError::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                ("internal server error".to_owned(), Value::Null)
            }
            AppError::InvalidSpec { report, .. } => (self.to_string(), report.clone()),
            AppError::Unprocessable { details, .. } => (self.to_string(), details.clone()),
            AppError::Unauthorized => (
                self.to_string(),
                json!({"hint": "send `Authorization: Bearer <token>`; the token is in <data-dir>/token or SPECSTUDIO_TOKEN"}),
            ),
            _ => (self.to_string(), Value::Null),
        };
        let body = ErrorBody::new(self.code(), message, details);
        let mut resp = (status, axum::Json(body)).into_response();
        if let AppError::TooManyRequests(secs) = self {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        if matches!(self, AppError::Unauthorized) {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
