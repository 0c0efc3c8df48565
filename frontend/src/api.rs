//! Every call the page makes to `specstudio serve`, in the types of the wire
//! contract (`shared::wire`): the server writes them, the page reads them.
//!
//! Linting never comes here: it runs in the page. The server is only needed
//! for long share links, deployments and their events.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use shared::wire::{
    Accepted, CreateDeployment, DeploymentSummary, DeploymentView, PatchDeployment, SpecCreated,
    StoredSpec,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

pub(crate) use crate::deployment::ApiError;

pub(crate) type ApiResult<T> = Result<T, ApiError>;

fn js_error(e: JsValue) -> ApiError {
    ApiError::local(format!(
        "the server could not be reached ({})",
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    ))
}

enum Body {
    None,
    Json(String),
    Text(String),
}

impl Body {
    fn json(value: &impl Serialize) -> Body {
        // The request types are maps and strings: serialising cannot fail.
        Body::Json(serde_json::to_string(value).unwrap_or_default())
    }
}

async fn call<T: DeserializeOwned>(
    method: &str,
    url: &str,
    body: Body,
    token: Option<&str>,
) -> ApiResult<T> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(js_error)?;
    headers
        .set("Accept", "application/json")
        .map_err(js_error)?;
    match &body {
        Body::None => {}
        Body::Json(json) => {
            headers
                .set("Content-Type", "application/json")
                .map_err(js_error)?;
            init.set_body(&JsValue::from_str(json));
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
    let window = web_sys::window().ok_or_else(|| ApiError::local("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_error)?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(js_error)?)
        .await
        .map_err(js_error)?
        .as_string()
        .unwrap_or_default();
    crate::deployment::decode(response.status(), &response.status_text(), &text)
}

/// `POST /api/specs`: store a spec (the body is the spec text, as for
/// `/api/validate`) → its id and short link.
pub(crate) async fn store_spec(text: &str) -> ApiResult<SpecCreated> {
    call("POST", "/api/specs", Body::Text(text.to_owned()), None).await
}

/// `GET /api/specs/{id}`: the stored text (literal secrets come back masked).
/// Its own wasm chunk: only a page opened on a stored spec needs it (and with
/// it the server's answers and errors).
#[leptos::prelude::lazy]
pub(crate) async fn load_spec(id: String) -> ApiResult<String> {
    let url = format!("/api/specs/{}", encode(&id));
    let stored: StoredSpec = call("GET", &url, Body::None, None).await?;
    Ok(stored.text)
}

/// What to deploy.
pub(crate) enum SpecSource<'a> {
    Text(&'a str),
    Id(&'a str),
}

/// `POST /api/deployments`: the id, and the secrets the server generated
/// (shown once, never stored by the page).
pub(crate) async fn create_deployment(
    spec: SpecSource<'_>,
    params: BTreeMap<String, Value>,
    token: &str,
) -> ApiResult<Accepted> {
    let (spec, spec_id) = match spec {
        SpecSource::Text(text) => (Some(text.to_owned()), None),
        SpecSource::Id(id) => (None, Some(id.to_owned())),
    };
    let body = CreateDeployment {
        spec,
        spec_id,
        params,
    };
    call("POST", "/api/deployments", Body::json(&body), Some(token)).await
}

/// `GET /api/deployments`: every deployment with what the list shows
/// (status, containers, endpoints, auto-stop, exported parameters).
pub(crate) async fn list_deployments() -> ApiResult<Vec<DeploymentSummary>> {
    call("GET", "/api/deployments", Body::None, None).await
}

/// `GET /api/deployments/{id}`: one deployment, observed now.
pub(crate) async fn get_deployment(id: &str) -> ApiResult<DeploymentView> {
    let url = format!("/api/deployments/{}", encode(id));
    call("GET", &url, Body::None, None).await
}

/// `PATCH /api/deployments/{id}` with changed modifiable params (scaling).
pub(crate) async fn patch_deployment(
    id: &str,
    params: BTreeMap<String, Value>,
    token: &str,
) -> ApiResult<Accepted> {
    let url = format!("/api/deployments/{}", encode(id));
    let body = PatchDeployment { params };
    call("PATCH", &url, Body::json(&body), Some(token)).await
}

/// `DELETE /api/deployments/{id}`.
pub(crate) async fn delete_deployment(id: &str, token: &str) -> ApiResult<Accepted> {
    let url = format!("/api/deployments/{}", encode(id));
    call("DELETE", &url, Body::None, Some(token)).await
}

/// `POST /api/deployments/{id}/reseed`: re-make a lost master volume from
/// the most advanced replica.
pub(crate) async fn reseed_deployment(id: &str, token: &str) -> ApiResult<Accepted> {
    let url = format!("/api/deployments/{}/reseed", encode(id));
    call("POST", &url, Body::None, Some(token)).await
}

/// URL of a deployment's server-sent-events stream.
pub(crate) fn events_url(id: &str) -> String {
    format!("/api/deployments/{}/events", encode(id))
}

fn encode(part: &str) -> String {
    js_sys::encode_uri_component(part).into()
}
