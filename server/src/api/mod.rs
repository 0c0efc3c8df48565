//! The HTTP API: `fn app(state) -> Router`.

pub mod assets;
pub mod deployments;
pub mod error;
pub mod guard;
pub mod metrics;
pub mod openapi;
pub mod quota;
pub mod recovery;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Path, Request, State,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::controller::Controller;
pub use error::AppError;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 5 * 1024 * 1024;

/// How long a client has to send a request body.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Default)]
pub struct HttpMetrics {
    /// (method, route, status) → count
    pub requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

/// Everything handlers share.
#[derive(Clone)]
pub struct AppState {
    pub ctl: Arc<Controller>,
    pub token: Arc<String>,
    pub dist_dir: Option<PathBuf>,
    pub http: Arc<HttpMetrics>,
    /// Flips to `true` on shutdown: open event streams end so that the
    /// graceful shutdown does not wait for them.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Bounded linting (off the async workers, limited concurrency).
    pub linter: crate::lint::Linter,
    /// Host names served (`Host` allow-list and same-origin check).
    pub hosts: Arc<guard::HostPolicy>,
    /// Anonymous spec storage limits.
    pub specs: Arc<quota::SpecQuota>,
    /// How long a client has to send a request body (`408` after).
    pub body_timeout: std::time::Duration,
}

impl AppState {
    pub fn new(ctl: Arc<Controller>, token: String, dist_dir: Option<PathBuf>) -> AppState {
        AppState {
            ctl,
            token: Arc::new(token),
            dist_dir,
            http: Default::default(),
            shutdown: tokio::sync::watch::channel(false).0,
            linter: Default::default(),
            hosts: Default::default(),
            specs: Default::default(),
            body_timeout: BODY_TIMEOUT,
        }
    }

    pub fn store(&self) -> &crate::store::Store {
        &self.ctl.store
    }
}

/// Rejects a request without `Authorization: Bearer <token>`.
pub struct Authed;

impl FromRequestParts<AppState> for Authed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if authorized(&parts.headers, &state.token) {
            Ok(Authed)
        } else {
            Err(AppError::Unauthorized)
        }
    }
}

/// Whether `headers` carry `Authorization: Bearer <token>`.
pub fn authorized(headers: &axum::http::HeaderMap, token: &str) -> bool {
    {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                // the scheme is case-insensitive (RFC 9110)
                let (scheme, rest) = v.trim_start().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(rest)
            })
            .map(str::trim)
            .unwrap_or("");
        constant_time_eq(given.as_bytes(), token.as_bytes()) && !given.is_empty()
    }
}

/// Equality that takes the same time whatever the contents, and leaks no
/// more than the longer length: both inputs are hashed first (SHA-256), and
/// the digests compared byte by byte without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (da, db) = (Sha256::digest(a), Sha256::digest(b));
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The raw body, with a JSON 413 past [`BODY_LIMIT`].
pub struct Body(pub Bytes);

impl FromRequest<AppState> for Body {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        // a body trickled byte by byte must not hold a connection forever
        let read = tokio::time::timeout(state.body_timeout, Bytes::from_request(req, state))
            .await
            .map_err(|_| AppError::RequestTimeout)?;
        match read {
            Ok(b) => Ok(Body(b)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::PayloadTooLarge),
            Err(e) => Err(AppError::BadRequest(format!(
                "could not read the body: {e}"
            ))),
        }
    }
}

impl Body {
    pub fn text(&self) -> Result<&str, AppError> {
        std::str::from_utf8(&self.0)
            .map_err(|_| AppError::BadRequest("the body is not UTF-8 text".into()))
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, AppError> {
        serde_json::from_slice(&self.0)
            .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/validate", post(validate))
        .route("/api/specs", post(create_spec))
        .route("/api/specs/{id}", get(get_spec))
        .route(
            "/api/deployments",
            get(deployments::view::list).post(deployments::create),
        )
        .route(
            "/api/deployments/{id}",
            get(deployments::view::get_one)
                .patch(deployments::patch)
                .delete(deployments::delete),
        )
        .route(
            "/api/deployments/{id}/events",
            get(deployments::events::events),
        )
        .route("/api/deployments/{id}/logs", get(deployments::logs::logs))
        .route("/api/deployments/{id}/reseed", post(recovery::reseed))
        .route("/api/orphans", get(recovery::list))
        .route("/api/orphans/{id}", axum::routing::delete(recovery::remove))
        .route("/api", axum::routing::any(api_not_found))
        .route("/api/", axum::routing::any(api_not_found))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed);
    let router = match &state.dist_dir {
        Some(dir) if dir.join("index.html").is_file() => api.fallback_service(assets::router(dir)),
        _ => api.fallback(no_ui),
    };
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe_request,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Counts requests, logs them in a span, and turns the framework's non-JSON
/// error responses (e.g. 413 from a body limit) into JSON errors.
async fn observe_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // label values from fixed sets: an invented method is `other`, a route
    // its template (or `/api/*` / `static`), never the raw path
    let method = metric_method(req.method()).to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| {
            if req.uri().path().starts_with("/api/") {
                "/api/*".into()
            } else {
                "static".into()
            }
        });
    let span = tracing::info_span!("http", %method, route = %route);
    let started = std::time::Instant::now();
    let resp = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let status = resp.status();
    span.in_scope(|| {
        tracing::debug!(
            status = status.as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request"
        );
    });
    if let Ok(mut m) = state.http.requests.lock() {
        *m.entry((method, route, status.as_u16())).or_default() += 1;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return AppError::PayloadTooLarge.into_response();
    }
    // every other error the framework answers in text (a path that does not
    // decode, a query it cannot parse…) becomes a JSON error too
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if (status.is_client_error() || status.is_server_error()) && !is_json && !is_sse {
        return json_error_from(resp).await;
    }
    resp
}

/// The `method` label of a request: one of a fixed set.
fn metric_method(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A framework's plain-text error response as our JSON error (same status;
/// the text, bounded, as the message on 4xx; hidden on 5xx).
async fn json_error_from(resp: Response) -> Response {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "error",
    };
    let message = if status.is_server_error() || text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let body = serde_json::json!({"error": {"code": code, "message": message, "details": null}});
    let mut out = (status, Json(body)).into_response();
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(v) = headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

async fn api_not_found() -> AppError {
    AppError::NotFound("API route".into())
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

async fn no_ui() -> Response {
    (
        StatusCode::OK,
        Html(
            "<!doctype html><html><head><meta charset=utf-8><title>specstudio</title></head><body>\
             <h1>specstudio server</h1><p>The API is up (<a href=\"/api/openapi.json\">OpenAPI</a>, \
             <a href=\"/healthz\">health</a>), but the web UI has not been built.</p>\
             <p>Build it with <code>cargo run -p xtask -- build-ui</code> (output in <code>dist/</code>; \
             <code>scripts/serve.sh</code> does it for you), then start \
             <code>specstudio serve --dist-dir dist</code>.</p></body></html>",
        ),
    )
        .into_response()
}

pub use shared::wire::{Health, SpecCreated, StoredSpec};

/// Liveness: the server answers; `docker` tells whether the engine is
/// reachable. `503` when the database file vanished or was replaced.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let docker = state.ctl.engine().is_some();
    if state.store().is_lost() {
        let body = Health {
            status: "database_lost".into(),
            docker,
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    Json(Health {
        status: "ok".into(),
        docker,
    })
    .into_response()
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    metrics::response(&state)
}

/// Validate a spec: the same JSON as `specstudio lint --format json` for one file.
#[utoipa::path(post, path = "/api/validate",
    request_body(content = String, content_type = "text/plain", description = "spec YAML"),
    responses((status = 200, description = "lint report", body = Object), (status = 413, body = error::ErrorBody)))]
pub async fn validate(State(state): State<AppState>, body: Body) -> Result<Response, AppError> {
    let text: Arc<str> = Arc::from(body.text()?);
    let report = state.linter.report(text).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        report,
    )
        .into_response())
}

pub fn spec_id(text: &str) -> String {
    crate::plan::hex(&Sha256::digest(text.as_bytes())[..6])
}

/// Store a spec (content-addressed) for share links and deploy buttons.
#[utoipa::path(post, path = "/api/specs",
    request_body(content = String, content_type = "text/plain", description = "spec YAML"),
    responses((status = 201, body = SpecCreated), (status = 400, body = error::ErrorBody),
        (status = 401, description = "anonymous spec storage is off (`--no-anonymous-specs`) and no token was sent", body = error::ErrorBody),
        (status = 413, body = error::ErrorBody),
        (status = 422, description = "the spec is too large to check and mask (`spec_too_large`)", body = error::ErrorBody),
        (status = 429, description = "this client stored too many specs recently", body = error::ErrorBody),
        (status = 507, description = "spec storage is full of specs that deployments use", body = error::ErrorBody)))]
pub async fn create_spec(
    State(state): State<AppState>,
    quota::ClientIp(client): quota::ClientIp,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let authed = authorized(&headers, &state.token);
    if !state.specs.anonymous && !authed {
        return Err(AppError::Unauthorized);
    }
    let text = body.text()?;
    if text.trim().is_empty() {
        return Err(AppError::BadRequest("the spec is empty".into()));
    }
    crate::lint::check_size(text)?;
    if !authed {
        if let Err(wait) = state.specs.take(client) {
            return Err(AppError::TooManyRequests(wait.as_secs().max(1)));
        }
    }
    let id = spec_id(text);
    match state
        .store()
        .put_spec_bounded(&id, text, state.specs.max_total_bytes)
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            evicted = n,
            "old unreferenced specs evicted to store a new one"
        ),
        Err(Some(e)) => return Err(e.into()),
        Err(None) => return Err(AppError::StorageFull),
    }
    // the public text (secrets masked) and its report, computed once
    if let Ok(Some(None)) = state.store().get_public_spec(&id) {
        public_spec(&state, &id, text.to_owned()).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(SpecCreated {
            url: format!("/s/{id}"),
            id,
        }),
    )
        .into_response())
}

/// A stored spec with its diagnostics.
#[utoipa::path(get, path = "/api/specs/{id}", params(("id" = String, Path)),
    responses((status = 200, body = StoredSpec), (status = 404, body = error::ErrorBody)))]
pub async fn get_spec(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StoredSpec>, AppError> {
    let stored = state
        .store()
        .get_public_spec(&id)?
        .ok_or_else(|| AppError::NotFound(format!("spec `{id}`")))?;
    // Stored specs are public: literal passwords are shown masked (the stored
    // text, used for deployments, keeps them).
    let (text, report) = match stored {
        Some(s) => s,
        None => {
            // stored before public texts were kept: computed once, now
            let raw = state
                .store()
                .get_spec(&id)?
                .ok_or_else(|| AppError::NotFound(format!("spec `{id}`")))?;
            public_spec(&state, &id, raw).await?
        }
    };
    let report: shared::wire::LintReport = serde_json::from_str(&report)
        .map_err(|e| AppError::Internal(format!("stored lint report of {id}: {e}")))?;
    Ok(Json(StoredSpec {
        id,
        text,
        diagnostics: report
            .files
            .into_iter()
            .next()
            .map(|f| f.diagnostics)
            .unwrap_or_default(),
        summary: report.summary,
    }))
}

/// Mask a spec's secrets and lint the result (bounded, off the async
/// workers), and store both: `(public text, report)`.
async fn public_spec(
    state: &AppState,
    id: &str,
    text: String,
) -> Result<(String, String), AppError> {
    let (public, report) = state
        .linter
        .run_sized(text.len(), move || crate::lint::public_and_report(&text))
        .await?;
    state.store().set_spec_report(id, &public, &report)?;
    Ok((public, report))
}

/// The lint report of an analysed spec, as JSON (the shape of `/api/validate`).
pub fn lint_report(text: &str, diagnostics: &[shared::Diagnostic]) -> Value {
    serde_json::to_value(shared::output::json_report("spec.yaml", text, diagnostics))
        .unwrap_or(Value::Null)
}
