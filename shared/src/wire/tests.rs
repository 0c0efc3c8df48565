//! The wire types read what the server writes, and write it back byte for
//! byte (field names, casing, omitted empties).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::*;

/// `json` (compact, as the server sends it) parses as `T` and re-serializes
/// to the same bytes.
fn round_trip<T: Serialize + DeserializeOwned>(json: &str) -> T {
    let value: T = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(serde_json::to_string(&value).unwrap(), json);
    value
}

#[test]
fn deployment_view_keeps_its_shape() {
    // field order as the server writes it
    let json = concat!(
        r#"{"id":"d1","status":"degraded","message":"one replica is down","specId":"s1","#,
        r#""createdAt":1,"updatedAt":2,"needsReseed":false,"containers":["#,
        r#"{"name":"d1-master-0","resource":"master","replica":0,"state":"running","zone":"z1","#,
        r#""hostPort":33061,"routable":true,"cpuPercent":1.5,"memoryBytes":1024},"#,
        r#"{"name":"d1-replica-0","resource":"replica","replica":0,"state":"missing","routable":false}],"#,
        r#""spares":[],"endpoints":["#,
        r#"{"name":"Master","kind":"service","resource":"master","host":"127.0.0.1","port":40001,"connections":3,"active":1},"#,
        r#"{"name":"Replica-1","kind":"replica","resource":"replica","replica":1,"host":"127.0.0.1","port":40002,"connections":0,"active":0}],"#,
        r#""replication":[{"resource":"replica","replica":0,"container":"d1-replica-0","healthy":false,"#,
        r#""ioRunning":false,"sqlRunning":true,"secondsBehindMaster":4,"error":"boom"}],"#,
        r#""serverless":{"autoStop":true,"idleStopAfterSecs":300,"idleSecs":1.5,"wakes":1,"stops":2},"#,
        r#""autoscaling":[{"resource":"replica","replicas":2,"minReplicas":1,"maxReplicas":4,"cpuPercent":12.5}],"#,
        r#""params":{"replicaCount":"2"}}"#
    );
    let view: DeploymentView = round_trip(json);
    assert_eq!(view.status, Status::Degraded);
    assert_eq!(view.endpoints[1].kind, EndpointKind::Replica);
    assert_eq!(view.containers[1].host_port, None);
    // no serverless configuration: `null`, not omitted
    let mut none = view.clone();
    none.serverless = None;
    assert!(serde_json::to_string(&none)
        .unwrap()
        .contains("\"serverless\":null"));
}

#[test]
fn summaries_requests_and_answers_keep_their_shape() {
    round_trip::<DeploymentSummary>(concat!(
        r#"{"id":"d1","status":"running","specId":"s1","createdAt":1,"needsReseed":true,"#,
        r#""containers":[],"spares":[],"endpoints":[],"serverless":null,"params":{}}"#
    ));
    // an older server's summary (before the list carried the view's parts)
    let old: DeploymentSummary = serde_json::from_value(json!({
        "id": "d1", "status": "running", "specId": "s1", "createdAt": 1, "needsReseed": false
    }))
    .unwrap();
    assert!(old.endpoints.is_empty() && old.serverless.is_none());
    round_trip::<Accepted>(r#"{"id":"d1","url":"/api/deployments/d1"}"#);
    let a: Accepted =
        round_trip(r#"{"id":"d1","url":"/api/deployments/d1","generated":{"p":"x"}}"#);
    assert_eq!(a.generated["p"], "x");
    let c: CreateDeployment = round_trip(r#"{"specId":"s1","params":{"n":2,"s":"x"}}"#);
    assert_eq!(c.spec, None);
    round_trip::<CreateDeployment>(r#"{"spec":"services: {}","params":{}}"#);
    assert!(serde_json::from_str::<CreateDeployment>(r#"{"parameters":{}}"#).is_err());
    round_trip::<PatchDeployment>(r#"{"params":{"replicaCount":3}}"#);
    round_trip::<Orphan>(r#"{"deployment":"d1","containers":["c"],"volumes":["v"],"networks":[]}"#);
    round_trip::<SpecCreated>(r#"{"id":"abc","url":"/s/abc"}"#);
    round_trip::<Health>(r#"{"status":"ok","docker":false}"#);
}

#[test]
fn statuses_and_event_kinds_are_closed_sets_of_lowercase_names() {
    for s in Status::ALL {
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            format!("\"{}\"", s.as_str())
        );
        assert_eq!(Status::from_name(s.as_str()), Some(s));
    }
    assert_eq!(Status::parse("nonsense"), Status::Provisioning);
    for k in EventKind::ALL {
        assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        assert_eq!(EventKind::from_name(k.as_str()), Some(k));
    }
    // names the page once listened for but the server never sends
    for name in ["message", "progress", "ready", "done", "type"] {
        assert_eq!(EventKind::from_name(name), None, "{name}");
    }
}

#[test]
fn events_tell_their_status_changes() {
    let e: Event =
        round_trip(r#"{"seq":7,"deploymentId":"d1","ts":5,"kind":"status","message":"running"}"#);
    assert_eq!(e.status_change(), Some(StatusChange::To(Status::Running)));
    assert!(!e.ends_stream());
    let gone = Event {
        message: "deleted".into(),
        ..e.clone()
    };
    assert!(gone.ends_stream());
    let step = Event {
        kind: EventKind::Step,
        message: "deleted".into(),
        ..e
    };
    assert_eq!(step.status_change(), None);
    assert!(serde_json::from_str::<Event>(
        r#"{"seq":1,"deploymentId":"d","ts":0,"kind":"progress","message":""}"#
    )
    .is_err());
}

#[test]
fn error_bodies_keep_null_details_and_type_param_issues() {
    round_trip::<ErrorBody>(
        r#"{"error":{"code":"not_found","message":"x not found","details":null}}"#,
    );
    let body: ErrorBody = round_trip(
        r#"{"error":{"code":"invalid_params","message":"m","details":{"issues":[{"key":"a","message":"bad","service":"db"},{"key":"b","message":"worse"}]}}}"#,
    );
    let issues = body.param_issues();
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].service.as_deref(), Some("db"));
    assert_eq!(issues[1].service, None);
}

/// Every fixture's lint report (the bytes `POST /api/validate` answers)
/// reads into [`LintReport`] and writes back identical.
#[test]
fn lint_reports_read_back_byte_for_byte() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (mut files, mut fixes) = (0, 0);
    for rule in std::fs::read_dir(&dir).unwrap() {
        for f in std::fs::read_dir(rule.unwrap().path()).unwrap() {
            let path = f.unwrap().path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let diagnostics = crate::check(&text);
            let json = crate::output::json_report_string("spec.yaml", &text, &diagnostics);
            let report: LintReport = round_trip(&json);
            fixes += report.files[0]
                .diagnostics
                .iter()
                .filter(|d| d.fix.is_some())
                .count();
            files += 1;
        }
    }
    assert!(files > 20 && fixes > 0, "{files} fixtures, {fixes} fixes");
}
