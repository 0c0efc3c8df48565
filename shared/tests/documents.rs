//! Several YAML documents in one file are merged as compose-go merges them
//! (each document a layer over the ones before it), and findings stay on the
//! token where they are written.

fn analyze(text: &str) -> shared::Analysis {
    shared::analyze(text)
}

fn env(analysis: &shared::Analysis, service: &str) -> Vec<(String, String)> {
    analysis
        .spec
        .service(service)
        .unwrap_or_else(|| panic!("no service {service}"))
        .environment
        .iter()
        .map(|e| {
            let value = e
                .value
                .as_ref()
                .map(|v| v.value.clone())
                .unwrap_or_default();
            (e.name.value.clone(), value)
        })
        .collect()
}

fn errors(text: &str) -> Vec<(&'static str, String)> {
    shared::check(text)
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code, text[d.span.start..d.span.end].to_owned()))
        .collect()
}

#[test]
fn a_service_is_the_merge_of_its_documents() {
    // compose-go's TestLoadMultiDocumentYaml: the image from the first
    // document, the environment from the second.
    let text = "services:\n  app:\n    image: alpine\n---\nservices:\n  app:\n    environment:\n      HELLO: WORLD\n";
    let a = analyze(text);
    let app = a.spec.service("app").unwrap();
    assert_eq!(app.image.as_ref().unwrap().value, "alpine");
    assert_eq!(env(&a, "app"), [("HELLO".to_owned(), "WORLD".to_owned())]);
    assert!(errors(text).is_empty(), "{:?}", errors(text));
}

#[test]
fn later_documents_override_scalars_and_add_services() {
    let text = "services:\n  app:\n    image: nginx:1\n    restart: always\n---\nservices:\n  app:\n    image: nginx:2\n  db:\n    image: postgres\n";
    let a = analyze(text);
    assert_eq!(a.spec.services.len(), 2);
    let app = a.spec.service("app").unwrap();
    let image = app.image.as_ref().unwrap();
    assert_eq!(image.value, "nginx:2");
    // The value is the second document's token.
    assert_eq!(&text[image.span.start..image.span.end], "nginx:2");
    assert!(image.span.start > text.find("---").unwrap());
}

#[test]
fn lists_are_appended_with_one_item_per_identity() {
    let text = "services:\n  app:\n    image: nginx\n    ports: [\"80:80\"]\n    environment:\n      - A=1\n      - B=2\n    command: [a, b]\n---\nservices:\n  app:\n    ports: [\"80:80\", \"443:443\"]\n    environment:\n      - B=3\n    command: [c]\n";
    let a = analyze(text);
    let app = a.spec.service("app").unwrap();
    assert_eq!(app.ports.len(), 2, "80:80 is kept once");
    assert_eq!(
        env(&a, "app"),
        [
            ("A".to_owned(), "1".to_owned()),
            ("B".to_owned(), "3".to_owned())
        ]
    );
    // `command` is replaced, not appended.
    let command = a.spec.service("app").unwrap().command.as_ref().unwrap();
    assert_eq!(
        format!("{command:?}").matches("\"c\"").count(),
        1,
        "{command:?}"
    );
    assert!(!format!("{command:?}").contains("\"a\""), "{command:?}");
    assert!(errors(text).is_empty(), "{:?}", errors(text));
}

#[test]
fn reset_removes_and_override_replaces() {
    let text = "services:\n  app:\n    image: nginx\n    environment:\n      A: \"1\"\n    ports: [\"80:80\"]\n---\nservices:\n  app:\n    environment: !override\n      B: \"2\"\n    ports: !reset []\n";
    let a = analyze(text);
    let app = a.spec.service("app").unwrap();
    assert!(app.ports.is_empty(), "ports were reset");
    assert_eq!(env(&a, "app"), [("B".to_owned(), "2".to_owned())]);
}

#[test]
fn a_null_override_keeps_the_earlier_value() {
    let text = "services:\n  app:\n    image: nginx\n---\nservices:\n  app:\n    image:\n";
    let a = analyze(text);
    assert_eq!(
        a.spec.service("app").unwrap().image.as_ref().unwrap().value,
        "nginx"
    );
}

#[test]
fn findings_in_a_later_document_are_located_there() {
    // A misspelt key in the second document is reported on its own token.
    let text = "services:\n  app:\n    image: nginx\n---\nservices:\n  app:\n    restat: always\n";
    let found: Vec<_> = shared::check(text)
        .into_iter()
        .filter(|d| d.code == "C002")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(&text[found[0].span.start..found[0].span.end], "restat");
}

#[test]
fn an_empty_trailing_document_is_skipped_silently() {
    // compose-go's TestLoadMultiDocumentYaml_TrailingSeparator.
    let text = "services:\n  app:\n    image: nginx\n---\n";
    let a = analyze(text);
    assert_eq!(
        a.spec.service("app").unwrap().image.as_ref().unwrap().value,
        "nginx"
    );
    assert!(a.diagnostics.is_empty(), "{:#?}", a.diagnostics);
}

#[test]
fn compose_refusals_are_located_errors() {
    // A document that is not a mapping (compose-go: "top-level object must
    // be a mapping").
    let text = "services:\n  app:\n    image: nginx\n---\n- one\n- two\n";
    assert_eq!(errors(text), [("C013", "- one".to_owned())]);
    // An alias to an anchor of another document (go-yaml: unknown anchor).
    let text = "x-img: &img nginx\nservices:\n  app:\n    image: *img\n---\nservices:\n  db:\n    image: *img\n";
    let found = errors(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "Y001");
    assert_eq!(found[0].1, "*img");
    assert!(text[..text.find("---").unwrap()].matches("*img").count() == 1);
}

#[test]
fn many_documents_cost_linear_work() {
    // 5,000 one-service documents: merged, each service once.
    let mut text = String::new();
    for i in 0..5_000 {
        text.push_str(&format!("services:\n  s{i}:\n    image: nginx\n---\n"));
    }
    let a = analyze(&text);
    assert_eq!(a.spec.services.len(), shared::syntax::MAX_MERGED_DOCUMENTS);
    let past: Vec<_> = a
        .diagnostics
        .iter()
        .filter(|d| d.code == "Y008" && d.severity == shared::Severity::Warning)
        .collect();
    assert!(!past.is_empty());
}

#[test]
fn a_list_in_one_document_and_a_mapping_in_another_merge_by_name() {
    // compose-go's TestMergeYamlEnvironmentMixed / LabelsMixed: both forms
    // are the same entries; the later value of a name wins, the others stay.
    let text = "services:\n  app:\n    image: nginx\n    environment:\n      - A=1\n      - B=2\n      - BARE\n---\nservices:\n  app:\n    environment:\n      B: three\n      C: '4'\n";
    let a = analyze(text);
    let mut found = env(&a, "app");
    found.sort();
    assert_eq!(
        found,
        [
            ("A".to_owned(), "1".to_owned()),
            ("B".to_owned(), "three".to_owned()),
            ("BARE".to_owned(), String::new()),
            ("C".to_owned(), "4".to_owned()),
        ]
    );
    // Names and values from the list stay on their part of the item.
    let app = a.spec.service("app").unwrap();
    let a_var = app
        .environment
        .iter()
        .find(|e| e.name.value == "A")
        .unwrap();
    assert_eq!(&text[a_var.name.span.start..a_var.name.span.end], "A");
    let value = a_var.value.as_ref().unwrap();
    assert_eq!(&text[value.span.start..value.span.end], "1");
    assert!(errors(text).is_empty(), "{:?}", errors(text));
    // The other way round, and for `depends_on`: a name the list repeats is
    // one dependency, conditions from the mapping kept.
    let text = "services:\n  db:\n    image: postgres\n  cache:\n    image: redis\n  app:\n    image: nginx\n    depends_on:\n      db:\n        condition: service_started\n---\nservices:\n  app:\n    depends_on: [db, cache]\n    environment:\n      - MODE=prod\n";
    let a = analyze(text);
    let app = a.spec.service("app").unwrap();
    let mut deps: Vec<&str> = app
        .depends_on
        .iter()
        .map(|d| d.service.value.as_str())
        .collect();
    deps.sort();
    assert_eq!(deps, ["cache", "db"]);
    assert!(errors(text).is_empty(), "{:?}", errors(text));
    // A finding on a list item's value is on that value's text.
    let text = "services:\n  db:\n    image: mysql:8.0\n    environment:\n      MYSQL_ROOT_PASSWORD_FILE: /run/secrets/root\n---\nservices:\n  db:\n    environment:\n      - MYSQL_REPLICATION_MODE=leader\n";
    let found = errors(text);
    assert!(
        found
            .iter()
            .any(|(code, token)| *code == "M001" && token == "leader"),
        "{found:?}"
    );
}

#[test]
fn an_extension_key_is_replaced_whole() {
    // compose-go's `mergeMappings`: `x-…` keys are not merged. The earlier
    // compute's bad `replicaCount` is gone with it.
    let text = "services:\n  app:\n    image: nginx\n    x-omnistrate-compute:\n      replicaCount: many\n      instanceTypes:\n        - cloudProvider: aws\n          name: t3.small\n---\nservices:\n  app:\n    x-omnistrate-compute:\n      instanceTypes:\n        - cloudProvider: aws\n          name: t3.medium\n";
    let a = analyze(text);
    let root = a.tree.root.unwrap();
    let services = a.tree.get_value(root, "services").unwrap();
    let app = a.tree.get_value(services, "app").unwrap();
    let compute = a.tree.get_value(app, "x-omnistrate-compute").unwrap();
    assert!(a.tree.get_value(compute, "replicaCount").is_none());
    assert!(a.tree.span(compute).start > text.find("---").unwrap());
}
