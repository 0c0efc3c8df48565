//! Handler tests through `tower::ServiceExt::oneshot`: every error path, no
//! Docker needed (the controller runs without an engine).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use shared::params::{ResolvedParam, ResolvedParams, Source};
use specstudio::api::{self, AppState};
use specstudio::controller::Controller;
use specstudio::plan::ImageMap;
use specstudio::store::{DeploymentRecord, Desired, Status, Store};
use tower::ServiceExt;

const TOKEN: &str = "test-token";
const SEED: &str = include_str!("../../examples/serverless-mysql-master-replica.yaml");

fn state_with(dist: Option<std::path::PathBuf>) -> AppState {
    let store = Arc::new(Store::in_memory().unwrap());
    let images =
        ImageMap::parse(&["docker.io/bitnami/mysql:*=specstudio/mysql:local".into()]).unwrap();
    AppState::new(
        Arc::new(Controller::new(store, None, images)),
        TOKEN.into(),
        dist,
    )
}

fn state() -> AppState {
    state_with(None)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Vec<u8>, header::HeaderMap) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body, headers)
}

fn req(method: Method, uri: &str, body: impl Into<Body>, token: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

async fn json_call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Value,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let (s, b, _) = send(app, req(method, uri, body.to_string(), token)).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// `POST /api/deployments` with the token.
async fn create(app: &Router, body: Value) -> (StatusCode, Value) {
    json_call(app, Method::POST, "/api/deployments", body, Some(TOKEN)).await
}

/// `POST /api/deployments` of a spec that must itself lint clean (the
/// request is refused later, by planning).
async fn create_clean(app: &Router, spec: &str) -> (StatusCode, Value) {
    let report = shared::analyze(spec);
    assert!(
        !report.has_errors(),
        "fixture must lint clean: {:?}",
        report.diagnostics
    );
    create(app, json!({"spec": spec})).await
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

fn seed_params() -> Value {
    json!({
        "masterInstanceType": "t3.small",
        "replicaInstanceType": "e2-medium",
        "mysqlUsername": "app",
        "mysqlDatabase": "appdb",
        "mysqlPassword": "app-pw-secret-1",
    })
}

#[tokio::test]
async fn healthz_and_metrics() {
    let app = api::app(state());
    let (s, v) = json_call(&app, Method::GET, "/healthz", Value::Null, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["docker"], false);
    let (s, b, h) = send(&app, req(Method::GET, "/metrics", "", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(b).unwrap();
    assert!(
        text.contains(
            "specstudio_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("specstudio_deployments{status=\"running\"} 0"));
}

#[tokio::test]
async fn validate_answers_exactly_the_lint_json() {
    let app = api::app(state());
    for text in [
        SEED,
        "services:\n  Web:\n    image: nginx\n    ports: 3306\n",
        "a: [",
        "",
    ] {
        let (s, b, h) = send(
            &app,
            req(Method::POST, "/api/validate", text.to_owned(), None),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "application/json");
        let expected = shared::output::json_report_string("spec.yaml", text, &shared::check(text));
        assert_eq!(String::from_utf8(b).unwrap(), expected);
    }
}

#[tokio::test]
async fn validate_rejects_non_utf8_and_huge_bodies() {
    let app = api::app(state());
    let (s, b, _) = send(
        &app,
        req(Method::POST, "/api/validate", vec![0xff, 0xfe, 0x00], None),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_code(&serde_json::from_slice(&b).unwrap()),
        "bad_request"
    );
    let huge = "#".repeat(5 * 1024 * 1024 + 10);
    for uri in ["/api/validate", "/api/specs", "/api/deployments"] {
        let (s, b, h) = send(&app, req(Method::POST, uri, huge.clone(), Some(TOKEN))).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{uri}");
        assert_eq!(h[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            error_code(&serde_json::from_slice(&b).unwrap()),
            "payload_too_large"
        );
    }
}

#[tokio::test]
async fn specs_round_trip_and_unknown_ids() {
    let app = api::app(state());
    let (s, b, _) = send(&app, req(Method::POST, "/api/specs", SEED, None)).await;
    assert_eq!(s, StatusCode::CREATED);
    let v: Value = serde_json::from_slice(&b).unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["url"], format!("/s/{id}"));
    assert!(id.len() >= 8 && id.len() <= 16);
    // content hash: same text, same id
    let (_, b2, _) = send(&app, req(Method::POST, "/api/specs", SEED, None)).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&b2).unwrap()["id"],
        id.as_str()
    );
    let (s, v) = json_call(
        &app,
        Method::GET,
        &format!("/api/specs/{id}"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // Stored specs are public: the seed's literal replication password is masked.
    assert_eq!(v["text"], shared::redact::mask_literal_secrets(SEED));
    assert!(!v.to_string().contains("xFAwjmUcECktqL"));
    assert!(v["diagnostics"].is_array());
    let (s, v) = json_call(&app, Method::GET, "/api/specs/nope", Value::Null, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "not_found");
    let (s, b, _) = send(&app, req(Method::POST, "/api/specs", "  \n", None)).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&b)
    );
}

#[tokio::test]
async fn mutating_deployment_routes_need_the_token() {
    let app = api::app(state());
    let body = json!({"spec": SEED, "params": seed_params()});
    for token in [None, Some("wrong"), Some("")] {
        let (s, v) = json_call(&app, Method::POST, "/api/deployments", body.clone(), token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(error_code(&v), "unauthorized");
        let (s, _) = json_call(
            &app,
            Method::PATCH,
            "/api/deployments/x",
            json!({"params": {}}),
            token,
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _) = json_call(
            &app,
            Method::DELETE,
            "/api/deployments/x",
            Value::Null,
            token,
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // reads are public
    let (s, v) = json_call(&app, Method::GET, "/api/deployments", Value::Null, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!([]));
}

#[tokio::test]
async fn create_rejects_malformed_requests() {
    let app = api::app(state());
    let (s, b, _) = send(
        &app,
        req(Method::POST, "/api/deployments", "{not json", Some(TOKEN)),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&b)
    );
    let (s, v) = create(&app, json!({"params": {}})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&v), "bad_request");
    let (s, _) = create(&app, json!({"spec": SEED, "specId": "x"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = create(&app, json!({"spec": SEED, "bogus": 1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = create(&app, json!({"specId": "unknown"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "not_found");
}

#[tokio::test]
async fn invalid_spec_is_422_with_diagnostics() {
    let app = api::app(state());
    let bad = "services:\n  Web:\n    image: nginx\n    ports: 3306\n  Web2: [\n";
    let (s, v) = create(&app, json!({"spec": bad})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&v), "invalid_spec");
    assert!(v["error"]["details"]["summary"]["errors"].as_u64().unwrap() >= 1);
    assert!(!v["error"]["details"]["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .is_empty());
    let (_, list) = json_call(&app, Method::GET, "/api/deployments", Value::Null, None).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn bad_params_are_422_naming_each() {
    let app = api::app(state());
    // missing required params
    let (s, v) = create(&app, json!({"spec": SEED, "params": {}})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&v), "invalid_params");
    let keys: Vec<&str> = v["error"]["details"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    for k in [
        "masterInstanceType",
        "replicaInstanceType",
        "mysqlUsername",
        "mysqlDatabase",
    ] {
        assert!(keys.contains(&k), "{k} not named in {keys:?}");
        assert!(v["error"]["message"].as_str().unwrap().contains(k));
    }
    // generated secrets are not asked for
    assert!(!keys.contains(&"mysqlRootPassword"));
    // wrong type, out of limits, unknown key
    for (extra, key) in [
        (json!({"numReadReplicas": "many"}), "numReadReplicas"),
        (json!({"numReadReplicas": 11}), "numReadReplicas"),
        (json!({"numReadReplicas": 0}), "numReadReplicas"),
        (json!({"numReadReplicaz": 2}), "numReadReplicaz"),
        (json!({"mysqlUsername": {"nested": true}}), "mysqlUsername"),
    ] {
        let mut params = seed_params();
        for (k, val) in extra.as_object().unwrap() {
            params[k] = val.clone();
        }
        let (s, v) = create(&app, json!({"spec": SEED, "params": params})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{extra}");
        assert_eq!(error_code(&v), "invalid_params");
        assert_eq!(v["error"]["details"]["issues"][0]["key"], key, "{v}");
    }
    // a fractional replica count passes the Float64 type but is not a count
    let mut params = seed_params();
    params["numReadReplicas"] = json!(1.5);
    let (s, v) = create(&app, json!({"spec": SEED, "params": params})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&v), "invalid_deployment");
}

#[tokio::test]
async fn unknown_instance_type_is_422() {
    let app = api::app(state());
    let mut params = seed_params();
    params["masterInstanceType"] = json!("x9.gigantic");
    let (s, v) = create(&app, json!({"spec": SEED, "params": params})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&v), "unknown_instance_type");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("x9.gigantic"));
    let known = v["error"]["details"]["issues"][0]["known"]
        .as_array()
        .unwrap();
    for t in [
        "t3.small",
        "t3.medium",
        "t3.large",
        "m5.large",
        "e2-medium",
        "e2-standard-2",
        "n2-standard-2",
    ] {
        assert!(known.iter().any(|k| k == t), "{t}");
    }
}

#[tokio::test]
async fn unresolvable_template_is_422() {
    let app = api::app(state());
    let spec = "services:\n  Web:\n    image: nginx\n    ports:\n      - '80'\n    environment:\n      - OWNER=$sys.tenant.email\n";
    let (s, v) = create_clean(&app, spec).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "unresolvable_template");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tenant.email"));
}

#[tokio::test]
async fn unresolvable_template_in_command_or_entrypoint_is_422() {
    let app = api::app(state());
    for field in ["command", "entrypoint"] {
        for value in [
            "[\"--owner={{ $sys.tenant.email }}\"]",
            "run --owner={{ $sys.tenant.email }}",
        ] {
            let spec = format!(
                "services:\n  Web:\n    image: nginx\n    ports:\n      - '80'\n    {field}: {value}\n"
            );
            let (s, v) = create_clean(&app, &spec).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert_eq!(error_code(&v), "unresolvable_template", "{v}");
            let message = v["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("tenant.email") && message.contains(field),
                "{message}"
            );
        }
    }
}

#[tokio::test]
async fn valid_request_without_docker_is_503_and_creates_nothing() {
    let app = api::app(state());
    let (s, v) = create(&app, json!({"spec": SEED, "params": seed_params()})).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&v), "unavailable");
    let (_, list) = json_call(&app, Method::GET, "/api/deployments", Value::Null, None).await;
    assert_eq!(list, json!([]));
}

fn insert_record(state: &AppState) -> String {
    let analysis = shared::analyze(SEED);
    let mut given = BTreeMap::new();
    for (k, v) in seed_params().as_object().unwrap() {
        given.insert(k.clone(), v.clone());
    }
    let params = shared::params::resolve(&analysis.spec, &given, &mut |_| {
        "generated-root-pw-1".into()
    })
    .unwrap();
    let spec_id = api::spec_id(SEED);
    state.store().put_spec(&spec_id, SEED).unwrap();
    let rec = DeploymentRecord {
        id: "dtest".into(),
        spec_id,
        params,
        desired: Desired::Running,
        status: Status::Running,
        message: None,
        created_at: 1,
        updated_at: 1,
    };
    state.store().insert_deployment(&rec).unwrap();
    rec.id
}

#[tokio::test]
async fn unknown_deployments_are_404() {
    let app = api::app(state());
    for (m, uri) in [
        (Method::GET, "/api/deployments/nope"),
        (Method::GET, "/api/deployments/nope/events"),
        (Method::DELETE, "/api/deployments/nope"),
        (Method::PATCH, "/api/deployments/nope"),
    ] {
        let (s, v) = json_call(
            &app,
            m.clone(),
            uri,
            json!({"params": {"numReadReplicas": 2}}),
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {uri}");
        assert_eq!(error_code(&v), "not_found");
    }
}

#[tokio::test]
async fn patch_checks_modifiability_and_values() {
    let st = state();
    let id = insert_record(&st);
    let app = api::app(st.clone());
    let uri = format!("/api/deployments/{id}");
    let cases = [
        (
            json!({"mysqlUsername": "other"}),
            "invalid_params",
            "not modifiable",
        ),
        (
            json!({"mysqlPassword": "changed"}),
            "invalid_params",
            "not modifiable",
        ),
        (json!({"nope": 1}), "invalid_params", "no service declares"),
        (
            json!({"masterInstanceId": "x"}),
            "invalid_params",
            "resource link",
        ),
        (json!({"numReadReplicas": 99}), "invalid_params", "maximum"),
        (
            json!({"replicaInstanceType": "z1.huge"}),
            "unknown_instance_type",
            "z1.huge",
        ),
    ];
    for (params, code, text) in cases {
        let (s, v) = json_call(
            &app,
            Method::PATCH,
            &uri,
            json!({"params": params}),
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{params}: {v}");
        assert_eq!(error_code(&v), code);
        assert!(
            v["error"]["message"].as_str().unwrap().contains(text),
            "{v}"
        );
        // a secret value never appears in an error
        assert!(!v.to_string().contains("app-pw-secret-1"));
    }
    let (s, _) = json_call(
        &app,
        Method::PATCH,
        &uri,
        json!({"params": {}}),
        Some(TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = json_call(&app, Method::PATCH, &uri, json!({"oops": {}}), Some(TOKEN)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // the same value of a non-modifiable param is not a change
    let (s, v) = json_call(
        &app,
        Method::PATCH,
        &uri,
        json!({"params": {"mysqlUsername": "app", "numReadReplicas": 3}}),
        Some(TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let rec = st.store().get_deployment(&id).unwrap().unwrap();
    assert_eq!(
        rec.params.get("Replica", "numReadReplicas").unwrap().value,
        "3"
    );
    assert_eq!(
        rec.params
            .get("ParameterGroup", "mysqlRootPassword")
            .unwrap()
            .value,
        "generated-root-pw-1"
    );
    assert_eq!(
        rec.params
            .get("ParameterGroup", "mysqlRootPassword")
            .unwrap()
            .source,
        Source::Generated
    );
}

#[tokio::test]
async fn deployment_view_hides_secret_params() {
    let st = state();
    let id = insert_record(&st);
    let app = api::app(st.clone());
    let (s, b, _) = send(
        &app,
        req(Method::GET, &format!("/api/deployments/{id}"), "", None),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(b).unwrap();
    assert!(!text.contains("app-pw-secret-1"), "{text}");
    assert!(!text.contains("generated-root-pw-1"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["params"]["mysqlUsername"], "app");
    assert!(v["params"].get("mysqlPassword").is_none());
    assert!(v["params"].get("mysqlRootPassword").is_none());
    // no engine: nothing observed, so the containers are missing
    assert_eq!(v["containers"].as_array().unwrap().len(), 2);
    assert_eq!(v["containers"][0]["state"], "missing");
    assert_eq!(v["status"], "stopped");
    let (_, b, _) = send(&app, req(Method::GET, "/api/deployments", "", None)).await;
    assert!(!String::from_utf8(b).unwrap().contains("app-pw-secret-1"));
}

#[tokio::test]
async fn delete_marks_the_record_and_events_stream() {
    let st = state();
    let id = insert_record(&st);
    let app = api::app(st.clone());
    let (s, v) = json_call(
        &app,
        Method::DELETE,
        &format!("/api/deployments/{id}"),
        Value::Null,
        Some(TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["id"], id.as_str());
    let rec = st.store().get_deployment(&id).unwrap().unwrap();
    assert_eq!(rec.desired, Desired::Deleted);
    // a PATCH on a deployment being deleted conflicts
    let (s, v) = json_call(
        &app,
        Method::PATCH,
        &format!("/api/deployments/{id}"),
        json!({"params": {"numReadReplicas": 2}}),
        Some(TOKEN),
    )
    .await;
    assert!(
        s == StatusCode::CONFLICT || s == StatusCode::NOT_FOUND,
        "{s} {v}"
    );
    // the event stream answers with SSE
    st.store().add_event(&id, "step", "hello").ok();
    if st.store().get_deployment(&id).unwrap().is_some() {
        let resp = app
            .clone()
            .oneshot(req(
                Method::GET,
                &format!("/api/deployments/{id}/events"),
                "",
                None,
            ))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    }
}

#[tokio::test]
async fn events_redact_secrets() {
    let st = state();
    let id = insert_record(&st);
    let rec = st.store().get_deployment(&id).unwrap().unwrap();
    st.ctl.register_secrets(&rec, None);
    st.ctl.hub.emit(
        &id,
        "log",
        "password is app-pw-secret-1 and generated-root-pw-1",
    );
    let events = st.store().events_after(&id, 0).unwrap();
    assert_eq!(events.last().unwrap().message, "password is *** and ***");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json() {
    let app = api::app(state());
    let (s, v) = json_call(&app, Method::GET, "/api/nothing/here", Value::Null, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "not_found");
    let (s, v) = json_call(&app, Method::PUT, "/api/validate", Value::Null, None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&v), "method_not_allowed");
}

#[tokio::test]
async fn openapi_document_lists_the_api() {
    let app = api::app(state());
    let (s, v) = json_call(&app, Method::GET, "/api/openapi.json", Value::Null, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/validate",
        "/api/specs",
        "/api/specs/{id}",
        "/api/deployments",
        "/api/deployments/{id}",
        "/api/deployments/{id}/events",
        "/healthz",
        "/metrics",
    ] {
        assert!(v["paths"].get(p).is_some(), "{p} missing");
    }
    assert!(v["paths"]["/api/deployments/{id}"]["patch"].is_object());
    assert!(v["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn ui_is_served_or_explained() {
    let app = api::app(state_with(Some("/nonexistent-dist".into())));
    let (s, b, h) = send(&app, req(Method::GET, "/", "", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = String::from_utf8(b).unwrap();
    assert!(page.contains("cargo run -p xtask -- build-ui"), "{page}");
    assert!(
        !page.contains("trunk"),
        "no stale build instructions: {page}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<html>SPA</html>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log(1)").unwrap();
    let app = api::app(state_with(Some(dir.path().to_owned())));
    let (s, b, _) = send(&app, req(Method::GET, "/app.js", "", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, b"console.log(1)");
    // client-side routes (share links) fall back to index.html
    let (s, b, _) = send(&app, req(Method::GET, "/s/abc123", "", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, b"<html>SPA</html>");
    // API 404s stay JSON
    let (s, v) = json_call(&app, Method::GET, "/api/zzz", Value::Null, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "not_found");
}

#[test]
fn resolved_params_round_trip_through_the_store() {
    let store = Store::in_memory().unwrap();
    let params = ResolvedParams {
        params: vec![ResolvedParam {
            service: "S".into(),
            key: "k".into(),
            value: "v".into(),
            secret: true,
            modifiable: false,
            source: Source::Generated,
        }],
    };
    store.put_spec("sid", "x").unwrap();
    store
        .insert_deployment(&DeploymentRecord {
            id: "d1".into(),
            spec_id: "sid".into(),
            params: params.clone(),
            desired: Desired::Running,
            status: Status::Provisioning,
            message: None,
            created_at: 0,
            updated_at: 0,
        })
        .unwrap();
    assert_eq!(store.get_deployment("d1").unwrap().unwrap().params, params);
}

#[tokio::test]
async fn events_stream_replays_after_last_event_id() {
    let st = state();
    let id = insert_record(&st);
    let rec = st.store().get_deployment(&id).unwrap().unwrap();
    st.ctl.register_secrets(&rec, None);
    st.ctl.hub.emit(&id, "step", "first");
    st.ctl.hub.emit(&id, "step", "second uses app-pw-secret-1");
    st.ctl.hub.emit(&id, "status", "running");
    let app = api::app(st.clone());
    let request = Request::builder()
        .uri(format!("/api/deployments/{id}/events"))
        .header("last-event-id", "1")
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(request).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let mut text = String::new();
    // replayed events, then a live one
    st.ctl.hub.emit(&id, "log", "[c] live line");
    while !text.contains("live line") {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(
        !text.contains("\"first\""),
        "event 1 is not replayed: {text}"
    );
    assert!(text.contains("id: 2\nevent: step\n"), "{text}");
    assert!(text.contains("second uses ***"));
    assert!(!text.contains("app-pw-secret-1"));
    assert!(text.contains("event: status"));
    assert!(text.contains("event: log"));
    // the stream ends on shutdown (so a graceful shutdown does not hang)
    st.shutdown.send(true).unwrap();
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(_)) = body.frame().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ended");
}

#[tokio::test]
async fn oversized_deployments_are_422() {
    let app = api::app(state());
    let service = |name: &str, n: u32| {
        format!("  {name}:\n    image: nginx\n    x-omnistrate-compute:\n      replicaCount: {n}\n")
    };
    let too_many = format!(
        "services:\n{}{}{}",
        service("A", 20),
        service("B", 20),
        service("C", 20)
    );
    let too_wide = format!("services:\n{}", service("A", 21));
    for (spec, text) in [(too_many, "at most 50"), (too_wide, "limit of 20")] {
        let (s, v) = create_clean(&app, &spec).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(text),
            "{v}"
        );
    }
}

#[tokio::test]
async fn kept_logs_are_tailed_redacted_and_queries_checked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::in_memory().unwrap());
    let images =
        ImageMap::parse(&["docker.io/bitnami/mysql:*=specstudio/mysql:local".into()]).unwrap();
    let settings = specstudio::controller::RuntimeSettings {
        logs_dir: Some(dir.path().join("logs")),
        ..Default::default()
    };
    let ctl = Arc::new(Controller::with_settings(store, None, images, settings));
    let st = AppState::new(ctl.clone(), TOKEN.into(), None);
    let id = insert_record(&st);
    let rec = st.store().get_deployment(&id).unwrap().unwrap();
    ctl.register_secrets(&rec, None);
    let keeper = ctl.kept_logs().expect("a logs dir was given");
    for i in 0..5 {
        keeper
            .append(&id, 1, &format!("[ss-x-master-0] line {i}"))
            .unwrap();
    }
    // a secret that slipped into a kept line is still masked when served
    keeper
        .append(&id, 2, "[ss-x-master-0] pw app-pw-secret-1")
        .unwrap();
    let app = api::app(st);
    let (s, b, h) = send(
        &app,
        req(
            Method::GET,
            &format!("/api/deployments/{id}/logs?tail=3"),
            "",
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(h[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(b).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("line 4") && !text.contains("line 2"),
        "{text}"
    );
    assert!(
        !text.contains("app-pw-secret-1") && text.contains("***"),
        "{text}"
    );
    for bad in ["tail=many", "lines=3"] {
        let (s, v) = json_call(
            &app,
            Method::GET,
            &format!("/api/deployments/{id}/logs?{bad}"),
            Value::Null,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(&v), "bad_request");
    }
    let (s, _) = json_call(
        &app,
        Method::GET,
        "/api/deployments/nope/logs",
        Value::Null,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn view_reports_serverless_and_autoscaling_policies() {
    let st = state();
    let id = insert_record(&st);
    let app = api::app(st);
    let (s, v) = json_call(
        &app,
        Method::GET,
        &format!("/api/deployments/{id}"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["serverless"]["autoStop"], true);
    assert_eq!(v["serverless"]["idleStopAfterSecs"], 300);
    assert_eq!(v["autoscaling"][0]["resource"], "Replica");
    assert_eq!(v["autoscaling"][0]["minReplicas"], 1);
    assert_eq!(v["autoscaling"][0]["maxReplicas"], 5);
    // the seed's replicas carry zone labels
    let zones: Vec<&str> = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["zone"].as_str())
        .collect();
    assert_eq!(zones, ["zone-a"]);
}

#[tokio::test]
async fn a_vanished_database_fails_health_and_writes_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("specstudio.db");
    let store = Arc::new(Store::open(&path).unwrap());
    let images = ImageMap::parse(&[]).unwrap();
    let st = AppState::new(
        Arc::new(Controller::new(store, None, images)),
        TOKEN.into(),
        None,
    );
    let app = api::app(st);
    let (s, _, _) = send(&app, req(Method::GET, "/healthz", Body::empty(), None)).await;
    assert_eq!(s, StatusCode::OK);
    std::fs::remove_file(&path).unwrap();
    let (s, b, _) = send(&app, req(Method::GET, "/healthz", Body::empty(), None)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["status"], "database_lost");
    let (s, b, _) = send(&app, req(Method::POST, "/api/specs", SEED, None)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("database file"),
        "{v}"
    );
    // without Docker, orphans cannot be listed: a JSON 503
    let (s, _) = json_call(&app, Method::GET, "/api/orphans", Value::Null, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn lint_reports_are_capped_and_stored_reports_computed_once() {
    let st = state();
    let app = api::app(st.clone());
    // one diagnostic per unknown top-level key: 20,000 of them
    let spec: String = (0..20_000).map(|i| format!("k{i:05}: {{}}\n")).collect();
    let (s, b, _) = send(&app, req(Method::POST, "/api/validate", spec.clone(), None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(b.len() < 200_000, "report of {} bytes", b.len());
    let v: Value = serde_json::from_slice(&b).unwrap();
    let list = v["files"][0]["diagnostics"].as_array().unwrap();
    assert_eq!(list.len(), specstudio::lint::MAX_DIAGNOSTICS + 1);
    let more = list.last().unwrap();
    assert_eq!(more["code"], specstudio::lint::MORE_CODE);
    assert!(
        more["message"].as_str().unwrap().starts_with("and "),
        "{more}"
    );
    // stored: the report is computed when the spec is stored, then read back
    let (s, b, _) = send(&app, req(Method::POST, "/api/specs", spec.clone(), None)).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = serde_json::from_slice::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (public, stored) = st
        .store()
        .get_public_spec(&id)
        .unwrap()
        .unwrap()
        .expect("report stored with the spec");
    // a changed stored report is what GET answers: it is not recomputed
    let marker = stored.replacen("and ", "and (stored) ", 1);
    st.store().set_spec_report(&id, &public, &marker).unwrap();
    let (s, v) = json_call(
        &app,
        Method::GET,
        &format!("/api/specs/{id}"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let list = v["diagnostics"].as_array().unwrap();
    assert_eq!(list.len(), specstudio::lint::MAX_DIAGNOSTICS + 1);
    assert!(list.last().unwrap()["message"]
        .as_str()
        .unwrap()
        .starts_with("and (stored) "));
}

#[tokio::test]
async fn metric_labels_come_from_fixed_sets() {
    let app = api::app(state());
    let long = "X".repeat(2_000);
    for (i, m) in ["FOO", "BAR", long.as_str(), "PROPFIND"].iter().enumerate() {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let (s, _, _) = send(
            &app,
            req(method, &format!("/api/specs/x{i}"), Body::empty(), None),
        )
        .await;
        assert!(s.is_client_error(), "{s}");
        send(
            &app,
            req(Method::GET, &format!("/nowhere/{i}"), Body::empty(), None),
        )
        .await;
    }
    let (_, b, _) = send(&app, req(Method::GET, "/metrics", Body::empty(), None)).await;
    let text = String::from_utf8(b).unwrap();
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("specstudio_http_requests_total{"))
        .collect();
    for l in &series {
        assert!(
            !l.contains("FOO") && !l.contains("XXX") && !l.contains("PROPFIND"),
            "{l}"
        );
        assert!(
            !l.contains("/x0") && !l.contains("nowhere"),
            "raw path in a label: {l}"
        );
    }
    assert!(
        series
            .iter()
            .any(|l| l.contains("method=\"other\",route=\"/api/specs/{id}\"")),
        "{series:?}"
    );
    assert!(series.len() <= 4, "{series:?}");
}

#[tokio::test]
async fn only_configured_hosts_and_same_origin_requests_are_served() {
    let app = api::app(state());
    let call = |host: &'static str, origin: Option<&'static str>| {
        let app = app.clone();
        async move {
            let mut b = Request::builder()
                .method(Method::POST)
                .uri("/api/validate")
                .header(header::HOST, host);
            if let Some(o) = origin {
                b = b.header(header::ORIGIN, o);
            }
            let (s, body, _) = send(&app, b.body(Body::from("services: {}")).unwrap()).await;
            (
                s,
                serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
            )
        }
    };
    // DNS rebinding: a foreign name resolving to 127.0.0.1
    let (s, v) = call("rebind.attacker.example:8080", None).await;
    assert_eq!(s, StatusCode::MISDIRECTED_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "unknown_host");
    for ok in ["127.0.0.1:8080", "localhost", "[::1]:9"] {
        assert_eq!(call(ok, None).await.0, StatusCode::OK, "{ok}");
    }
    // a cross-site page posting to the loopback server
    let (s, v) = call("127.0.0.1:8080", Some("https://attacker.example")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "forbidden");
    let (s, _) = call("127.0.0.1:8080", Some("null")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call("127.0.0.1:8080", Some("http://127.0.0.1:8080")).await;
    assert_eq!(s, StatusCode::OK);
    // no CORS grant is ever sent
    let (_, _, headers) = send(
        &app,
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/specs")
            .header(header::ORIGIN, "https://attacker.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(headers.get("access-control-allow-origin").is_none());
    // --public-url adds a name
    let mut st = state();
    st.hosts = Arc::new(
        api::guard::HostPolicy::with_public_urls(&["https://studio.example.com".into()]).unwrap(),
    );
    let app = api::app(st);
    let (s, _, _) = send(
        &app,
        Request::builder()
            .uri("/healthz")
            .header(header::HOST, "studio.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn anonymous_spec_storage_is_rate_limited_capped_and_can_be_turned_off() {
    use specstudio::api::quota::SpecQuota;
    let spec = |i: usize| format!("# {i}\n{}", "x".repeat(1000)) + "\nservices: {}\n";
    // a cap of ~3 specs (reports included) and 4 stores a minute per client
    let mut st = state();
    st.specs = Arc::new(SpecQuota::new(true, 4_000, 4));
    let app = api::app(st.clone());
    let post = |body: String, token: Option<&'static str>| {
        let app = app.clone();
        async move {
            let (s, b, h) = send(&app, req(Method::POST, "/api/specs", body, token)).await;
            let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
            (s, v, h)
        }
    };
    let mut ids = Vec::new();
    for i in 0..4 {
        let (s, v, _) = post(spec(i), None).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    // the fifth store within the minute: 429 with Retry-After
    let (s, v, h) = post(spec(4), None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["error"]["code"], "rate_limited");
    assert!(h.get(header::RETRY_AFTER).is_some());
    // the token is not rate limited; the oldest unreferenced specs were evicted
    let (s, _, _) = post(spec(5), Some(TOKEN)).await;
    assert_eq!(s, StatusCode::CREATED);
    let kept: Vec<bool> = ids
        .iter()
        .map(|id| st.store().get_spec(id).unwrap().is_some())
        .collect();
    assert!(!kept[0], "the oldest is evicted first: {kept:?}");
    assert!(kept[3], "the newest is kept: {kept:?}");
    assert!(
        kept.windows(2).all(|w| w[0] <= w[1]),
        "evicted oldest first: {kept:?}"
    );
    // a spec a deployment uses is never evicted: the storage is then full
    let mut st = state();
    st.specs = Arc::new(SpecQuota::new(true, 1_500, 100));
    let app2 = api::app(st.clone());
    let (s, b, _) = send(&app2, req(Method::POST, "/api/specs", spec(0), None)).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = serde_json::from_slice::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rec = specstudio::store::DeploymentRecord {
        id: "dkeep".into(),
        spec_id: id.clone(),
        params: ResolvedParams { params: Vec::new() },
        desired: Desired::Running,
        status: Status::Running,
        message: None,
        created_at: 0,
        updated_at: 0,
    };
    st.store().insert_deployment(&rec).unwrap();
    let (s, b, _) = send(&app2, req(Method::POST, "/api/specs", spec(1), None)).await;
    assert_eq!(
        s,
        StatusCode::INSUFFICIENT_STORAGE,
        "{}",
        String::from_utf8_lossy(&b)
    );
    assert!(st.store().get_spec(&id).unwrap().is_some());
    // off: the token is required
    let mut st = state();
    st.specs = Arc::new(SpecQuota::new(false, 1 << 20, 100));
    let app3 = api::app(st);
    let (s, _, _) = send(&app3, req(Method::POST, "/api/specs", spec(0), None)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = send(&app3, req(Method::POST, "/api/specs", spec(0), Some(TOKEN))).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a_body_that_never_arrives_is_408() {
    let mut st = state();
    st.body_timeout = std::time::Duration::from_millis(200);
    let app = api::app(st);
    let stream = futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let r = Request::builder()
        .method(Method::POST)
        .uri("/api/validate")
        .body(Body::from_stream(stream))
        .unwrap();
    let (s, b, _) = send(&app, r).await;
    assert_eq!(s, StatusCode::REQUEST_TIMEOUT);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error"]["code"], "request_timeout");
}

#[tokio::test]
async fn patch_is_no_oracle_for_non_modifiable_secrets() {
    let st = state();
    let id = insert_record(&st);
    let app = api::app(st.clone());
    let uri = format!("/api/deployments/{id}");
    let mut answers = Vec::new();
    for guess in ["app-pw-secret-1", "wrong-guess-00", ""] {
        let (s, v) = json_call(
            &app,
            Method::PATCH,
            &uri,
            json!({"params": {"mysqlPassword": guess}}),
            Some(TOKEN),
        )
        .await;
        answers.push((s, v));
    }
    // the stored value and any other value get the same answer
    for (s, v) in &answers {
        assert_eq!(*s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v, &answers[0].1);
        assert!(!v.to_string().contains("app-pw-secret-1"));
    }
    let events = st.store().events_after(&id, 0).unwrap();
    assert!(events.iter().all(|e| !e.message.contains("mysqlPassword")));
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let st = state();
    let id = insert_record(&st);
    let app = api::app(st);
    for auth in [format!("BEARER {TOKEN}"), format!("bEaReR {TOKEN}")] {
        let r = Request::builder()
            .method(Method::DELETE)
            .uri(format!("/api/deployments/{id}x"))
            .header(header::AUTHORIZATION, auth.clone())
            .body(Body::empty())
            .unwrap();
        let (s, _, _) = send(&app, r).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{auth}: authorised, then unknown");
    }
    for auth in [
        format!("Basic {TOKEN}"),
        format!("Bearer {TOKEN}x"),
        "Bearer".into(),
    ] {
        let r = Request::builder()
            .method(Method::DELETE)
            .uri(format!("/api/deployments/{id}"))
            .header(header::AUTHORIZATION, auth.clone())
            .body(Body::empty())
            .unwrap();
        let (s, _, _) = send(&app, r).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{auth}");
    }
}

#[tokio::test]
async fn param_values_that_would_break_mysql_are_422_before_docker() {
    let app = api::app(state());
    let good = json!({
        "masterInstanceType": "t3.small",
        "replicaInstanceType": "e2-medium",
        "mysqlUsername": "appuser",
        "mysqlDatabase": "appdb",
        "mysqlPassword": "App-pw-1234567",
        "numReadReplicas": 1,
    });
    let long = "u".repeat(1000);
    for (key, value, needle) in [
        ("mysqlUsername", json!("root"), "cannot be `root`"),
        ("mysqlUsername", json!("ROOT"), "cannot be `root`"),
        ("mysqlUsername", json!(""), ""),
        ("mysqlUsername", json!(long), ""),
        ("mysqlUsername", json!("app\nuser"), "line break"),
        (
            "mysqlUsername",
            json!("x'; DROP USER root; --"),
            "letters, digits",
        ),
        (
            "mysqlDatabase",
            json!("db`; DROP DATABASE mysql"),
            "letters, digits",
        ),
        ("mysqlPassword", json!(""), ""),
        ("masterInstanceType", json!("t3.micro\n"), "line break"),
    ] {
        let mut params = good.clone();
        params[key] = value.clone();
        let (s, v) = create(&app, json!({"spec": SEED, "params": params})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{key}={value}: {v}");
        assert_eq!(error_code(&v), "invalid_params", "{key}={value}: {v}");
        let text = v.to_string();
        assert!(text.contains(key), "{key}: {v}");
        assert!(text.contains(needle), "{key}={value}: {v}");
        if key == "mysqlPassword" {
            assert!(!text.contains("App-pw-1234567"));
        }
    }
    // the good values pass the params (then: no Docker here → 503)
    let (s, v) = create(&app, json!({"spec": SEED, "params": good})).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
}

#[tokio::test]
async fn stored_specs_mask_secrets_in_flags_urls_and_labels() {
    let app = api::app(state());
    let spec = "services:\n  App:\n    image: app:1\n    command: mysqladmin ping -uroot -pFlagPw-1\n    environment:\n      - DATABASE_URL=mysql://app:UrlPw-2@master:3306/app\n    labels:\n      com.example.db-password: LabelPw-3\n";
    let (s, b, _) = send(&app, req(Method::POST, "/api/specs", spec, None)).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = serde_json::from_slice::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, v) = json_call(
        &app,
        Method::GET,
        &format!("/api/specs/{id}"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let text = v.to_string();
    for secret in ["FlagPw-1", "UrlPw-2", "LabelPw-3"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    for c in ["S003", "S004", "S005"] {
        assert!(codes.contains(&c), "{c}: {codes:?}");
    }
}

#[tokio::test]
async fn errors_are_json_everywhere_and_the_document_matches() {
    let app = api::app(state());
    for (m, uri, want) in [
        (Method::GET, "/api", StatusCode::NOT_FOUND),
        (Method::GET, "/api/", StatusCode::NOT_FOUND),
        (Method::GET, "/api/specs/%FF%FE", StatusCode::BAD_REQUEST),
        (
            Method::GET,
            "/api/deployments/x/logs?tail=%31%30",
            StatusCode::NOT_FOUND,
        ),
        (Method::POST, "/healthz", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let (s, b, h) = send(&app, req(m.clone(), uri, Body::empty(), None)).await;
        assert_eq!(s, want, "{m} {uri}: {}", String::from_utf8_lossy(&b));
        assert!(
            h.get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json")),
            "{m} {uri}"
        );
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert!(v["error"]["code"].is_string(), "{m} {uri}: {v}");
    }
    let (_, doc) = json_call(&app, Method::GET, "/api/openapi.json", Value::Null, None).await;
    let logs = &doc["paths"]["/api/deployments/{id}/logs"]["get"]["parameters"];
    let tail = logs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tail")
        .unwrap();
    assert_eq!(tail["in"], "query", "{tail}");
    let details = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["details"];
    assert!(
        details.to_string().contains("null"),
        "details nullable: {details}"
    );
    let events =
        &doc["paths"]["/api/deployments/{id}/events"]["get"]["responses"]["200"]["content"];
    assert!(events.get("text/event-stream").is_some(), "{events}");
    for p in [
        "/api/orphans",
        "/api/orphans/{id}",
        "/api/deployments/{id}/reseed",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the document"
        );
    }
}

/// The list and the view parse as the wire types the page reads
/// (`shared::wire`); the list carries what the page shows without a call per
/// deployment; the OpenAPI schemas name exactly the fields sent.
#[tokio::test]
async fn list_and_view_are_the_wire_types_and_the_document_names_their_fields() {
    let st = state();
    let id = insert_record(&st);
    let app = api::app(st.clone());
    let (s, list) = json_call(&app, Method::GET, "/api/deployments", Value::Null, None).await;
    assert_eq!(s, StatusCode::OK);
    let items: Vec<shared::wire::DeploymentSummary> = serde_json::from_value(list.clone()).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, id);
    assert_eq!(items[0].params["mysqlUsername"], "app");
    assert!(!items[0].params.contains_key("mysqlPassword"));
    assert!(!list.to_string().contains("app-pw-secret-1"));
    let (_, view) = json_call(
        &app,
        Method::GET,
        &format!("/api/deployments/{id}"),
        Value::Null,
        None,
    )
    .await;
    let typed: shared::wire::DeploymentView = serde_json::from_value(view.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), view);
    let (_, doc) = json_call(&app, Method::GET, "/api/openapi.json", Value::Null, None).await;
    for (schema, sent) in [("DeploymentSummary", &list[0]), ("DeploymentView", &view)] {
        let props = doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{schema} has no properties"));
        let sent = sent.as_object().unwrap();
        for key in sent.keys() {
            assert!(
                props.contains_key(key),
                "{schema}.{key} is sent but not documented"
            );
        }
        for key in props.keys() {
            // `message` is omitted when there is none
            assert!(
                sent.contains_key(key) || key == "message",
                "{schema}.{key} is documented but never sent"
            );
        }
    }
    let kinds = &doc["components"]["schemas"]["EventKind"]["enum"];
    assert_eq!(kinds, &json!(["step", "status", "error", "log"]));
}
