//! The user's two seed specs: what they must and must not report.

use std::path::Path;

fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn codes(text: &str, severity: shared::Severity) -> Vec<&'static str> {
    shared::check(text)
        .into_iter()
        .filter(|d| d.severity == severity)
        .map(|d| d.code)
        .collect()
}

#[test]
fn serverless_seed_has_no_errors() {
    let text = example("serverless-mysql-master-replica.yaml");
    let diagnostics = shared::check(&text);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(
        errors.is_empty(),
        "{}",
        shared::output::human("seed", &text, &diagnostics)
    );
}

#[test]
fn serverless_seed_graph_matches_the_contract() {
    let text = example("serverless-mysql-master-replica.yaml");
    let analysis = shared::analyze(&text);
    let graph = serde_json::to_value(&analysis.graph).unwrap();
    let nodes = graph["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert_eq!(
        nodes[0],
        serde_json::json!({"id": "Master", "kind": "compute", "image": "docker.io/bitnami/mysql:8.1.0"})
    );
    assert_eq!(
        nodes[2],
        serde_json::json!({"id": "ParameterGroup", "kind": "passive", "image": "omnistrate/noop"})
    );
    let edges = graph["edges"].as_array().unwrap();
    let has = |from: &str, to: &str, kind: &str, via: &str| {
        edges
            .iter()
            .any(|e| e["from"] == from && e["to"] == to && e["kind"] == kind && e["via"] == via)
    };
    assert!(has(
        "Replica",
        "Master",
        "resource-link",
        "masterInstanceId"
    ));
    assert!(has("Replica", "Master", "reference", "MYSQL_MASTER_HOST"));
    assert!(has(
        "Replica",
        "Master",
        "reference",
        "MYSQL_MASTER_PORT_NUMBER"
    ));
    assert!(has(
        "Master",
        "ParameterGroup",
        "resource-link",
        "parameterGroupId"
    ));
    assert!(has(
        "Master",
        "ParameterGroup",
        "reference",
        "MYSQL_PASSWORD"
    ));
    assert!(edges.iter().all(|e| e.get("cycle").is_none()));
}

#[test]
fn hello_world_seed_reports_its_known_problems() {
    let text = example("hello-world-mysql.yaml");
    let errors = codes(&text, shared::Severity::Error);
    let warnings = codes(&text, shared::Severity::Warning);
    assert!(
        errors.contains(&"M003"),
        "MYSQL_MASTER_HOST=localhost: {errors:?}"
    );
    assert!(errors.contains(&"M007"), "shared ./data bind: {errors:?}");
    assert!(
        warnings.contains(&"S001"),
        "literal passwords: {warnings:?}"
    );
}

#[test]
fn template_references_keep_their_own_spans() {
    let text = example("serverless-mysql-master-replica.yaml");
    let analysis = shared::analyze(&text);
    for usage in &analysis.spec.templates {
        let token = &text[usage.span.start..usage.span.end];
        assert!(token.starts_with('$'), "{token}");
        assert!(token.ends_with(&usage.reference.path), "{token}");
    }
    assert!(analysis.spec.templates.len() >= 10);
}
