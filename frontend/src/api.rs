//! Every call the page makes to `specstudio serve` (issue #3's JSON API).
//!
//! Linting never comes here: it runs in the page. The server is only needed
//! for long share links, deployments and their events.

use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

/// A failed call: HTTP status (0 when the server could not be reached) and the
/// server's `{"error":{"message","details"}}` when it sent one.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub details: Value,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.status == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} ({})", self.message, self.status)
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn js_error(e: JsValue) -> ApiError {
    ApiError {
        status: 0,
        message: format!(
            "the server could not be reached ({})",
            e.as_string().unwrap_or_else(|| format!("{e:?}"))
        ),
        details: Value::Null,
    }
}

enum Body {
    None,
    Json(Value),
    Text(String),
}

async fn call(method: &str, url: &str, body: Body, token: Option<&str>) -> ApiResult<Value> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(js_error)?;
    headers
        .set("Accept", "application/json")
        .map_err(js_error)?;
    match &body {
        Body::None => {}
        Body::Json(value) => {
            headers
                .set("Content-Type", "application/json")
                .map_err(js_error)?;
            init.set_body(&JsValue::from_str(&value.to_string()));
        }
        Body::Text(text) => {
            headers
                .set("Content-Type", "text/yaml; charset=utf-8")
                .map_err(js_error)?;
            init.set_body(&JsValue::from_str(text));
        }
    }
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        headers
            .set("Authorization", &format!("Bearer {token}"))
            .map_err(js_error)?;
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(url, &init).map_err(js_error)?;
    let window = web_sys::window().expect("a window");
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_error)?
        .unchecked_into();
    let status = response.status();
    let text = JsFuture::from(response.text().map_err(js_error)?)
        .await
        .map_err(js_error)?
        .as_string()
        .unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if (200..300).contains(&status) {
        Ok(value)
    } else {
        let error = value.get("error").cloned().unwrap_or(Value::Null);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| value.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
            .unwrap_or_else(|| response.status_text());
        Err(ApiError {
            status,
            message,
            details: error.get("details").cloned().unwrap_or(value),
        })
    }
}

/// A stored spec's short link.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSpec {
    pub id: String,
    pub url: String,
}

/// `POST /api/specs`: store a spec (the body is the spec text, as for
/// `/api/validate`) → `{id, url}`.
pub async fn store_spec(text: &str) -> ApiResult<StoredSpec> {
    let value = call("POST", "/api/specs", Body::Text(text.to_owned()), None).await?;
    let id = id_of(&value)?;
    let url = value
        .get("url")
        .and_then(Value::as_str)
        .map_or_else(|| format!("/s/{id}"), str::to_owned);
    Ok(StoredSpec { id, url })
}

/// `GET /api/specs/{id}`: the stored text (literal secrets come back masked).
pub async fn load_spec(id: &str) -> ApiResult<String> {
    let value = call(
        "GET",
        &format!("/api/specs/{}", encode(id)),
        Body::None,
        None,
    )
    .await?;
    value
        .get("text")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError {
            status: 0,
            message: "the stored spec has no text".into(),
            details: value,
        })
}

/// The `id` of a `{id, url}` answer.
fn id_of(value: &Value) -> ApiResult<String> {
    value
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError {
            status: 0,
            message: "the server answered without an id".into(),
            details: value.clone(),
        })
}

/// What to deploy.
pub enum SpecSource<'a> {
    Text(&'a str),
    Id(&'a str),
}

/// `POST /api/deployments` → the new deployment's id.
/// `POST /api/deployments`: the id, and the secrets the server generated
/// (shown once, never stored by the page).
pub async fn create_deployment(
    spec: SpecSource<'_>,
    params: serde_json::Map<String, Value>,
    token: &str,
) -> ApiResult<(String, Vec<(String, String)>)> {
    let mut body = json!({ "params": params });
    match spec {
        SpecSource::Text(text) => body["spec"] = Value::String(text.to_owned()),
        SpecSource::Id(id) => body["specId"] = Value::String(id.to_owned()),
    }
    let value = call("POST", "/api/deployments", Body::Json(body), Some(token)).await?;
    let generated = value
        .get("generated")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok((id_of(&value)?, generated))
}

/// One endpoint of a deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    /// `Master`, `Replica` (reader), `Replica-1`.
    pub name: String,
    /// `service` (one per service: the reader for replicas) or `replica`.
    pub kind: String,
    pub resource: String,
    pub replica: Option<u64>,
    pub host: String,
    pub port: u64,
}

/// A deployment as listed.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    pub id: String,
    pub status: String,
    pub endpoints: Vec<Endpoint>,
    /// Exported parameter values (secrets are never sent).
    pub params: serde_json::Map<String, Value>,
    /// Serving containers (detail view only).
    pub containers: Vec<Instance>,
    /// Warm spares of autoscaled services (detail view only).
    pub spares: Vec<Instance>,
    pub serverless: Option<Serverless>,
    /// A master's data volume vanished; the server waits for a re-seed.
    pub needs_reseed: bool,
}

/// One container of a deployment, as the status line shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub resource: String,
    pub replica: u64,
    pub state: String,
    pub zone: Option<String>,
    pub cpu_percent: Option<f64>,
}

/// A deployment's auto-stop state.
#[derive(Clone, Debug, PartialEq)]
pub struct Serverless {
    pub auto_stop: bool,
    pub idle_stop_after_secs: u64,
    pub wakes: u64,
    pub stops: u64,
}

fn instances(value: &Value, key: &str) -> Vec<Instance> {
    let text = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| Instance {
                    resource: text(c, "resource").unwrap_or_default(),
                    replica: c.get("replica").and_then(Value::as_u64).unwrap_or(0),
                    state: text(c, "state").unwrap_or_else(|| "?".into()),
                    zone: text(c, "zone"),
                    cpu_percent: c.get("cpuPercent").and_then(Value::as_f64),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn serverless(value: &Value) -> Option<Serverless> {
    let s = value.get("serverless")?;
    let count = |k: &str| s.get(k).and_then(Value::as_u64).unwrap_or(0);
    Some(Serverless {
        auto_stop: s.get("autoStop")?.as_bool()?,
        idle_stop_after_secs: count("idleStopAfterSecs"),
        wakes: count("wakes"),
        stops: count("stops"),
    })
}

fn deployment(value: &Value) -> Deployment {
    let endpoints = value
        .get("endpoints")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| Endpoint {
                    name: e
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    kind: e
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or("service")
                        .to_owned(),
                    resource: e
                        .get("resource")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    replica: e.get("replica").and_then(Value::as_u64),
                    host: e
                        .get("host")
                        .and_then(Value::as_str)
                        .unwrap_or("127.0.0.1")
                        .to_owned(),
                    port: e.get("port").and_then(Value::as_u64).unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    let params = match value.get("params").or_else(|| value.get("parameters")) {
        Some(Value::Object(map)) => map.clone(),
        // `[{key, value}]` lists are accepted too.
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|p| Some((p.get("key")?.as_str()?.to_owned(), p.get("value")?.clone())))
            .collect(),
        _ => Default::default(),
    };
    Deployment {
        id: value
            .get("id")
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default(),
        status: value
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned(),
        endpoints,
        params,
        containers: instances(value, "containers"),
        spares: instances(value, "spares"),
        serverless: serverless(value),
        needs_reseed: value
            .get("needsReseed")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// `GET /api/deployments`.
pub async fn list_deployments() -> ApiResult<Vec<Deployment>> {
    let value = call("GET", "/api/deployments", Body::None, None).await?;
    let list = value
        .as_array()
        .or_else(|| value.get("deployments").and_then(Value::as_array))
        .cloned()
        .unwrap_or_default();
    // The list holds summaries; the details carry endpoints and parameters.
    let mut out = Vec::with_capacity(list.len());
    for item in &list {
        let summary = deployment(item);
        out.push(get_deployment(&summary.id).await.unwrap_or(summary));
    }
    Ok(out)
}

/// `GET /api/deployments/{id}`.
pub async fn get_deployment(id: &str) -> ApiResult<Deployment> {
    let value = call(
        "GET",
        &format!("/api/deployments/{}", encode(id)),
        Body::None,
        None,
    )
    .await?;
    Ok(deployment(&value))
}

/// `PATCH /api/deployments/{id}` with changed modifiable params (scaling).
pub async fn patch_deployment(
    id: &str,
    params: serde_json::Map<String, Value>,
    token: &str,
) -> ApiResult<()> {
    call(
        "PATCH",
        &format!("/api/deployments/{}", encode(id)),
        Body::Json(json!({ "params": params })),
        Some(token),
    )
    .await
    .map(|_| ())
}

/// `DELETE /api/deployments/{id}`.
pub async fn delete_deployment(id: &str, token: &str) -> ApiResult<()> {
    call(
        "DELETE",
        &format!("/api/deployments/{}", encode(id)),
        Body::None,
        Some(token),
    )
    .await
    .map(|_| ())
}

/// `POST /api/deployments/{id}/reseed`: re-make a lost master volume from
/// the most advanced replica.
pub async fn reseed_deployment(id: &str, token: &str) -> ApiResult<()> {
    call(
        "POST",
        &format!("/api/deployments/{}/reseed", encode(id)),
        Body::None,
        Some(token),
    )
    .await
    .map(|_| ())
}

/// URL of a deployment's server-sent-events stream.
pub fn events_url(id: &str) -> String {
    format!("/api/deployments/{}/events", encode(id))
}

fn encode(part: &str) -> String {
    js_sys::encode_uri_component(part).into()
}
