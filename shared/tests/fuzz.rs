//! Property tests: no input makes the core panic, and every diagnostic is
//! well-located (inside the text, on character boundaries) and renderable.

use proptest::prelude::*;

fn check_well_formed(text: &str) {
    let analysis = shared::analyze(text);
    for d in &analysis.diagnostics {
        assert!(d.span.start <= d.span.end, "{d:?}");
        assert!(d.span.end <= text.len(), "{d:?}");
        assert!(
            text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end),
            "{d:?}"
        );
        if let Some(fix) = &d.fix {
            for edit in &fix.edits {
                assert!(
                    edit.span.end <= text.len()
                        && text.is_char_boundary(edit.span.start)
                        && text.is_char_boundary(edit.span.end)
                );
            }
            let _ = shared::analyze(&fix.apply(text));
        }
    }
    let _ = shared::output::human("fuzz.yaml", text, &analysis.diagnostics);
    let _ = shared::output::json_report_string("fuzz.yaml", text, &analysis.diagnostics);
    let _ = shared::output::dot(&analysis.graph);
    let _ = shared::output::mermaid(&analysis.graph);
}

/// Scalars that exercise templates, ports, env syntax and odd characters.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_ .:/=-]{0,12}",
        Just("$master.sys.network.externalClusterServerlessEndpoint.openPorts[0]".to_owned()),
        Just("$parameterGroup.var.mysqlPassword".to_owned()),
        Just("{{ $var.x }}:{{ $sys.id }}".to_owned()),
        Just("$var.".to_owned()),
        Just("{{ $var.a".to_owned()),
        Just("'3306'".to_owned()),
        Just("127.0.0.1:99999:3306/tcp".to_owned()),
        Just("[::1]:80:80".to_owned()),
        Just("MYSQL_REPLICATION_MODE=slave".to_owned()),
        Just("é😀\u{0}".to_owned()),
        Just("omnistrate/noop".to_owned()),
        Just("Resource".to_owned()),
        Just("-1e400".to_owned()),
        Just("~".to_owned()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "services",
            "image",
            "ports",
            "volumes",
            "environment",
            "depends_on",
            "networks",
            "x-omnistrate-api-params",
            "x-omnistrate-compute",
            "x-omnistrate-capabilities",
            "x-omnistrate-integrations",
            "key",
            "type",
            "required",
            "defaultValue",
            "limits",
            "min",
            "max",
            "dependentResourceKey",
            "instanceTypes",
            "apiParam",
            "cloudProvider",
            "replicaCountAPIParam",
            "autoscaling",
            "minReplicas",
            "maxReplicas",
            "serverlessConfiguration",
            "targetPort",
            "endpointPerReplica",
            "Master",
            "Replica",
            "ParameterGroup",
            "<<",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
    ]
}

#[derive(Clone, Debug)]
enum Yaml {
    Scalar(String),
    List(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

fn yaml() -> impl Strategy<Value = Yaml> {
    let leaf = scalar().prop_map(Yaml::Scalar);
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Yaml::List),
            prop::collection::vec((key(), inner), 0..6).prop_map(Yaml::Map),
        ]
    })
}

fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\0', "\\0")
    )
}

/// Block-style rendering, sometimes quoting scalars.
fn render(node: &Yaml, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Yaml::Scalar(s) => {
            out.push_str(&quote(s));
            out.push('\n');
        }
        Yaml::List(items) if items.is_empty() => out.push_str("[]\n"),
        Yaml::Map(entries) if entries.is_empty() => out.push_str("{}\n"),
        Yaml::List(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&format!("{pad}- "));
                render(item, indent + 2, out);
            }
        }
        Yaml::Map(entries) => {
            out.push('\n');
            for (k, v) in entries {
                out.push_str(&format!("{pad}{k}: "));
                render(v, indent + 2, out);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_well_formed(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z:\\-\\[\\]{}&*!|>'\" \n\t#$.]{0,200}") {
        check_well_formed(&text);
    }

    #[test]
    fn arbitrary_yaml_trees_never_panic(tree in yaml()) {
        let mut text = String::from("services:");
        render(&tree, 2, &mut text);
        check_well_formed(&text);
        let mut root = String::new();
        render(&tree, 0, &mut root);
        check_well_formed(&root);
    }

    #[test]
    fn seed_mutations_never_panic(at in 0usize..5000, cut in 0usize..40, insert in "[a-zA-Z$.{}:\\- \n]{0,6}") {
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let at = at.min(seed.len());
        let end = (at + cut).min(seed.len());
        if seed.is_char_boundary(at) && seed.is_char_boundary(end) {
            let mut text = seed.to_owned();
            text.replace_range(at..end, &insert);
            check_well_formed(&text);
        }
    }
}
