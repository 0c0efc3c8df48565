//! What the page makes of the server's answers, over the typed wire contract
//! (`shared::wire`): a response body decoded into its type or a located
//! [`ApiError`], an error's detail lines, an event's log line, and the text
//! the deploy drawer shows of a deployment (containers, endpoints' `mysql`
//! command lines, the auto-stop line).
//!
//! Plain Rust (no browser), so it is tested natively; `api.rs` does the
//! fetching and the `deploy/` views the showing.
//!
//! ```
//! use shared::wire::Accepted;
//! let a: Accepted = specstudio_frontend::deployment::decode(202, "Accepted", r#"{"id":"d1","url":"/api/deployments/d1"}"#).unwrap();
//! assert_eq!(a.id, "d1");
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use shared::wire::{
    ContainerView, DeploymentSummary, DeploymentView, Endpoint, EndpointKind, ErrorBody, Event,
    LintReport, ServerlessView, Status,
};

/// A failed call: HTTP status (0 when the server could not be reached or
/// answered something that is not the contract) and the server's error body
/// when it sent one.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub body: Option<ErrorBody>,
}

impl ApiError {
    /// An error raised by the page itself (no answer, or an unreadable one).
    pub fn local(message: impl Into<String>) -> Self {
        ApiError {
            status: 0,
            message: message.into(),
            body: None,
        }
    }

    /// The token was missing or wrong.
    pub fn is_auth(&self) -> bool {
        self.status == 401 || self.status == 403
    }

    /// One line per thing to fix, when the server said which (invalid
    /// parameters, the spec's error diagnostics); empty otherwise (the
    /// message says it all).
    pub fn detail_lines(&self) -> Vec<String> {
        self.body.as_ref().map(error_lines).unwrap_or_default()
    }
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

/// Longest piece of an unexpected body quoted in an error.
const QUOTE_MAX: usize = 200;

/// The answer to a call: `T` on a 2xx status, else the server's error.
/// A 2xx body that is not a `T` is an error too (named, never a panic).
pub fn decode<T: DeserializeOwned>(
    status: u16,
    status_text: &str,
    text: &str,
) -> Result<T, ApiError> {
    if (200..300).contains(&status) {
        return serde_json::from_str(text).map_err(|e| {
            ApiError::local(format!(
                "the server's answer was not understood ({e}); is the page older than the server?"
            ))
        });
    }
    let body = serde_json::from_str::<ErrorBody>(text).ok();
    let message = match &body {
        Some(b) => b.error.message.clone(),
        None if !text.trim().is_empty() => quote(text.trim()),
        None if !status_text.is_empty() => status_text.to_owned(),
        None => "the request failed".to_owned(),
    };
    Err(ApiError {
        status,
        message,
        body,
    })
}

fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `key: message` per invalid parameter, `CODE line N: message` per error
/// diagnostic of an invalid spec.
pub fn error_lines(body: &ErrorBody) -> Vec<String> {
    match body.error.code.as_str() {
        "invalid_params" => body
            .param_issues()
            .into_iter()
            .map(|i| match i.service {
                Some(s) => format!("{} ({s}): {}", i.key, i.message),
                None => format!("{}: {}", i.key, i.message),
            })
            .collect(),
        "invalid_spec" => serde_json::from_value::<LintReport>(body.error.details.clone())
            .map(|report| {
                report
                    .files
                    .iter()
                    .flat_map(|f| &f.diagnostics)
                    .filter(|d| d.severity == "error")
                    .map(|d| format!("{} line {}: {}", d.code, d.range.start.line, d.message))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The progress log's line for an event: `[step] network … created`.
pub fn event_line(event: &Event) -> String {
    format!("[{}] {}", event.kind, event.message)
}

/// A status the deployment stays in until someone acts (polling stops).
pub fn settled(status: Status) -> bool {
    matches!(
        status,
        Status::Running | Status::Failed | Status::Stopped | Status::Degraded
    )
}

/// What the drawer shows of a deployment, from its view (the one being
/// followed) or its list summary: both carry these parts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shown {
    pub endpoints: Vec<Endpoint>,
    pub containers: Vec<ContainerView>,
    pub spares: Vec<ContainerView>,
    pub serverless: Option<ServerlessView>,
    /// Exported parameter values (the server never sends secrets).
    pub params: BTreeMap<String, String>,
}

impl From<&DeploymentView> for Shown {
    fn from(d: &DeploymentView) -> Self {
        Shown {
            endpoints: d.endpoints.clone(),
            containers: d.containers.clone(),
            spares: d.spares.clone(),
            serverless: d.serverless.clone(),
            params: d.params.clone(),
        }
    }
}

impl From<&DeploymentSummary> for Shown {
    fn from(d: &DeploymentSummary) -> Self {
        Shown {
            endpoints: d.endpoints.clone(),
            containers: d.containers.clone(),
            spares: d.spares.clone(),
            serverless: d.serverless.clone(),
            params: d.params.clone(),
        }
    }
}

/// A row of the deployments list.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    pub id: String,
    pub status: Status,
    /// A master's data volume vanished; the server waits for a re-seed.
    pub needs_reseed: bool,
    pub shown: Shown,
}

impl From<&DeploymentSummary> for Listed {
    fn from(d: &DeploymentSummary) -> Self {
        Listed {
            id: d.id.clone(),
            status: d.status,
            needs_reseed: d.needs_reseed,
            shown: Shown::from(d),
        }
    }
}

impl Listed {
    /// Whether a scale of `service` to `asked` replicas (through its `key`
    /// api-param) has settled: the deployment is running, the parameter holds
    /// the asked count and exactly that many of the service's containers run.
    pub fn scaled_to(&self, service: &str, key: &str, asked: &str) -> bool {
        let Ok(want) = asked.trim().parse::<usize>() else {
            return false;
        };
        let replicas: Vec<&ContainerView> = self
            .shown
            .containers
            .iter()
            .filter(|c| c.resource == service)
            .collect();
        self.status == Status::Running
            && self.shown.params.get(key).map(|v| v.trim()) == Some(asked.trim())
            && replicas.len() == want
            && replicas.iter().all(|c| c.state == "running")
    }
}

impl From<&DeploymentView> for Listed {
    fn from(d: &DeploymentView) -> Self {
        Listed {
            id: d.id.clone(),
            status: d.status,
            needs_reseed: d.needs_reseed,
            shown: Shown::from(d),
        }
    }
}

impl Shown {
    /// An endpoint's label: `Replica (reader)`, `Replica #1 (zone-b)`, `Master`.
    pub fn endpoint_label(&self, e: &Endpoint) -> String {
        match e.replica {
            Some(r) => {
                let zone = self
                    .containers
                    .iter()
                    .find(|c| c.resource == e.resource && c.replica == r)
                    .and_then(|c| c.zone.as_deref())
                    .map(|z| format!(" ({z})"))
                    .unwrap_or_default();
                format!("{} #{r}{zone}", e.resource)
            }
            None if self
                .endpoints
                .iter()
                .any(|o| o.kind == EndpointKind::Replica && o.resource == e.resource) =>
            {
                format!("{} (reader)", e.resource)
            }
            None => e.resource.clone(),
        }
    }

    /// `mysql` client command line for an endpoint (user and database from
    /// the exported parameters; the password is asked by `-p`).
    pub fn mysql_command(&self, e: &Endpoint) -> String {
        let find = |needles: &[&str]| {
            self.params
                .iter()
                .find(|(k, v)| {
                    !v.is_empty() && needles.iter().any(|n| k.to_ascii_lowercase().contains(n))
                })
                .map(|(_, v)| v.clone())
        };
        let user = find(&["username", "user"]).unwrap_or_else(|| "root".into());
        let db = find(&["database"])
            .map(|d| format!(" {d}"))
            .unwrap_or_default();
        format!("mysql -h {} -P {} -u {user} -p{db}", e.host, e.port)
    }

    /// "Master-0 running · Replica-0 running, zone-a, on node-2, 12% CPU ·
    /// Replica-1 warm spare" (the node only on a swarm).
    pub fn container_line(&self) -> String {
        let mut parts: Vec<String> = self
            .containers
            .iter()
            .map(|c| {
                let mut s = format!("{}-{} {}", c.resource, c.replica, c.state);
                if let Some(z) = &c.zone {
                    s.push_str(&format!(", {z}"));
                }
                if let Some(n) = &c.node {
                    s.push_str(&format!(", on {n}"));
                }
                if let Some(cpu) = c.cpu_percent {
                    // rounded as an integer: `{:.0}` would pull float
                    // formatting into the page (≈ 3 KB gzipped)
                    s.push_str(&format!(", {}% CPU", cpu.round() as i64));
                }
                s
            })
            .collect();
        parts.extend(
            self.spares
                .iter()
                .map(|c| format!("{}-{} warm spare", c.resource, c.replica)),
        );
        parts.join(" · ")
    }

    /// "Sleeps after 300 s without a client; a connection wakes it · 2 wake(s) · 2 stop(s)".
    pub fn serverless_line(&self) -> Option<String> {
        let s = self.serverless.as_ref()?;
        Some(if s.auto_stop {
            format!(
                "Sleeps after {} s without a client; a connection wakes it · {} wake(s) · {} stop(s)",
                s.idle_stop_after_secs, s.wakes, s.stops
            )
        } else {
            "Auto-stop is off (not every service enables it)".into()
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::wire::{Accepted, DeploymentSummary, DeploymentView, EventKind};

    use super::*;

    /// A list item as `GET /api/deployments` sends it (keys as on the wire).
    fn summary_json() -> serde_json::Value {
        json!({
            "id": "d1", "status": "running", "specId": "s1", "createdAt": 1, "needsReseed": false,
            "containers": [
                {"name": "c0", "resource": "Master", "replica": 0, "state": "running", "routable": true, "zone": "zone-a"},
                {"name": "c1", "resource": "Replica", "replica": 1, "state": "running", "routable": true, "zone": "zone-b", "node": "node-3", "cpuPercent": 12.4}
            ],
            "spares": [{"name": "c2", "resource": "Replica", "replica": 2, "state": "exited", "routable": false}],
            "endpoints": [
                {"name": "Master", "kind": "service", "resource": "Master", "host": "127.0.0.1", "port": 3306, "connections": 0, "active": 0},
                {"name": "Replica", "kind": "service", "resource": "Replica", "host": "127.0.0.1", "port": 3307, "connections": 0, "active": 0},
                {"name": "Replica-1", "kind": "replica", "resource": "Replica", "replica": 1, "host": "127.0.0.1", "port": 3308, "connections": 0, "active": 0}
            ],
            "serverless": {"autoStop": true, "idleStopAfterSecs": 300, "idleSecs": 1.5, "wakes": 2, "stops": 1},
            "params": {"mysqlUsername": "bob", "mysqlDatabase": "appdb", "numReadReplicas": "2"}
        })
    }

    fn summary() -> DeploymentSummary {
        decode(200, "OK", &summary_json().to_string()).expect("a summary")
    }

    #[test]
    fn a_scale_settles_when_running_with_the_asked_replicas() {
        let settled = Listed::from(&summary());
        // One `Replica` container running, the parameter says 2: still scaling.
        assert!(!settled.scaled_to("Replica", "numReadReplicas", "2"));
        let mut two = summary_json();
        two["containers"].as_array_mut().unwrap().push(json!(
            {"name": "c3", "resource": "Replica", "replica": 0, "state": "running", "routable": true}
        ));
        let two: DeploymentSummary = decode(200, "OK", &two.to_string()).unwrap();
        let mut row = Listed::from(&two);
        assert!(row.scaled_to("Replica", "numReadReplicas", "2"));
        assert!(row.scaled_to("Replica", "numReadReplicas", " 2 "));
        // Not yet running, a container still missing, another count asked, or garbage.
        assert!(!row.scaled_to("Replica", "numReadReplicas", "3"));
        assert!(!row.scaled_to("Replica", "numReadReplicas", "two"));
        assert!(!row.scaled_to("Replica", "otherParam", "2"));
        row.shown.containers[2].state = "missing".into();
        assert!(!row.scaled_to("Replica", "numReadReplicas", "2"));
        row.shown.containers[2].state = "running".into();
        row.status = Status::Provisioning;
        assert!(!row.scaled_to("Replica", "numReadReplicas", "2"));
    }

    #[test]
    fn a_2xx_body_decodes_into_its_type() {
        let a: Accepted = decode(
            202,
            "Accepted",
            r#"{"id":"d1","url":"/api/deployments/d1","generated":{"mysqlRootPassword":"x"}}"#,
        )
        .unwrap();
        assert_eq!(a.id, "d1");
        assert_eq!(
            a.generated.get("mysqlRootPassword").map(String::as_str),
            Some("x")
        );
        let list: Vec<DeploymentSummary> =
            decode(200, "OK", &format!("[{}]", summary_json())).unwrap();
        assert_eq!(list[0].status, Status::Running);
    }

    #[test]
    fn a_2xx_body_of_another_shape_is_a_named_error_not_a_panic() {
        let e = decode::<Accepted>(202, "Accepted", r#"{"deployment":"d1"}"#).unwrap_err();
        assert_eq!(e.status, 0);
        assert!(e.message.contains("not understood"), "{}", e.message);
        let e = decode::<Vec<DeploymentSummary>>(200, "OK", "<html>").unwrap_err();
        assert!(e.message.contains("not understood"), "{}", e.message);
    }

    #[test]
    fn an_error_body_gives_its_message_and_typed_details() {
        let body = json!({"error": {"code": "invalid_params", "message": "invalid parameters: numReadReplicas: too big",
            "details": {"issues": [{"key": "numReadReplicas", "service": "Replica", "message": "at most 5"}, {"key": "x", "message": "unknown"}]}}});
        let e = decode::<Accepted>(422, "Unprocessable Entity", &body.to_string()).unwrap_err();
        assert_eq!(e.status, 422);
        assert_eq!(
            e.to_string(),
            "invalid parameters: numReadReplicas: too big (422)"
        );
        assert_eq!(
            e.detail_lines(),
            ["numReadReplicas (Replica): at most 5", "x: unknown"]
        );
        assert!(!e.is_auth());
    }

    #[test]
    fn an_invalid_spec_lists_its_error_diagnostics_only() {
        let pos = |l| json!({"line": l, "column": 1});
        let diag = |code: &str, sev: &str, l| json!({"code": code, "severity": sev, "message": "m", "path": "services", "range": {"start": pos(l), "end": pos(l)}});
        let body = json!({"error": {"code": "invalid_spec", "message": "the spec has 1 error diagnostic(s)",
            "details": {"files": [{"path": "spec.yaml", "diagnostics": [diag("C001", "error", 3), diag("C050", "warning", 4)]}],
                "summary": {"errors": 1, "warnings": 1, "infos": 0}}}});
        let e = decode::<Accepted>(422, "", &body.to_string()).unwrap_err();
        assert_eq!(e.detail_lines(), ["C001 line 3: m"]);
    }

    #[test]
    fn other_errors_have_no_detail_lines_and_auth_is_recognised() {
        let body = json!({"error": {"code": "unauthorized", "message": "missing or wrong bearer token", "details": {"hint": "send it"}}});
        let e = decode::<Accepted>(401, "Unauthorized", &body.to_string()).unwrap_err();
        assert!(e.is_auth());
        assert!(e.detail_lines().is_empty());
        // an error that is not the contract's body: its text, shortened, or the status text
        let e = decode::<Accepted>(502, "Bad Gateway", &"x".repeat(1000)).unwrap_err();
        assert_eq!(e.message.chars().count(), QUOTE_MAX + 1);
        assert!(e.body.is_none());
        let e = decode::<Accepted>(502, "Bad Gateway", "").unwrap_err();
        assert_eq!(e.to_string(), "Bad Gateway (502)");
    }

    #[test]
    fn events_make_log_lines() {
        let e: Event = serde_json::from_str(
            r#"{"seq":3,"deploymentId":"d1","ts":0,"kind":"step","message":"network created"}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::Step);
        assert_eq!(event_line(&e), "[step] network created");
    }

    #[test]
    fn only_resting_statuses_stop_the_polling() {
        let resting: Vec<Status> = Status::ALL.into_iter().filter(|s| settled(*s)).collect();
        assert_eq!(
            resting,
            [
                Status::Running,
                Status::Degraded,
                Status::Stopped,
                Status::Failed
            ]
        );
    }

    #[test]
    fn a_summary_shows_what_the_view_shows() {
        let s = summary();
        let mut view = json!({"updatedAt": 2, "replication": [], "autoscaling": []});
        for (k, v) in summary_json().as_object().unwrap() {
            view[k] = v.clone();
        }
        let view: DeploymentView = serde_json::from_value(view).unwrap();
        assert_eq!(Shown::from(&s), Shown::from(&view));
        assert_eq!(Listed::from(&s), Listed::from(&view));
        assert_eq!(Listed::from(&s).status, Status::Running);
    }

    #[test]
    fn endpoints_are_labelled_with_reader_replica_and_zone() {
        let shown = Shown::from(&summary());
        let labels: Vec<String> = shown
            .endpoints
            .iter()
            .map(|e| shown.endpoint_label(e))
            .collect();
        assert_eq!(
            labels,
            ["Master", "Replica (reader)", "Replica #1 (zone-b)"]
        );
    }

    #[test]
    fn mysql_commands_use_the_exported_user_and_database() {
        let shown = Shown::from(&summary());
        assert_eq!(
            shown.mysql_command(&shown.endpoints[0]),
            "mysql -h 127.0.0.1 -P 3306 -u bob -p appdb"
        );
        let bare = Shown {
            params: BTreeMap::new(),
            ..shown.clone()
        };
        assert_eq!(
            bare.mysql_command(&shown.endpoints[2]),
            "mysql -h 127.0.0.1 -P 3308 -u root -p"
        );
    }

    #[test]
    fn containers_and_auto_stop_read_as_one_line_each() {
        let shown = Shown::from(&summary());
        assert_eq!(
            shown.container_line(),
            "Master-0 running, zone-a · Replica-1 running, zone-b, on node-3, 12% CPU · Replica-2 warm spare"
        );
        assert_eq!(
            shown.serverless_line().as_deref(),
            Some("Sleeps after 300 s without a client; a connection wakes it · 2 wake(s) · 1 stop(s)")
        );
        let off = Shown {
            serverless: Some(ServerlessView::default()),
            ..Shown::default()
        };
        assert_eq!(
            off.serverless_line().as_deref(),
            Some("Auto-stop is off (not every service enables it)")
        );
        assert_eq!(Shown::default().serverless_line(), None);
    }
}
