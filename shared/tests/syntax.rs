//! The YAML layer: spans, limits and YAML-level diagnostics.

use shared::syntax::{parse, Shape, YamlProblemKind};

fn text_of(text: &str, span: shared::Span) -> &str {
    &text[span.start..span.end]
}

#[test]
fn keys_and_values_keep_exact_spans() {
    let text = "services:\n  Master:\n    image: 'docker.io/bitnami/mysql:8.1.0'\n    ports: [\"3306\", 33060]\n    x: é-plain\n";
    let (tree, problems) = parse(text);
    assert!(problems.is_empty(), "{problems:?}");
    let tree = tree.unwrap();
    let root = tree.root.unwrap();
    let services = tree.get_value(root, "services").unwrap();
    let master = tree.get(services, "Master").unwrap();
    assert_eq!(text_of(text, tree.span(master.key)), "Master");
    let image = tree.get_value(master.value, "image").unwrap();
    assert_eq!(
        text_of(text, tree.value_span(image)),
        "docker.io/bitnami/mysql:8.1.0"
    );
    let ports = tree.get_value(master.value, "ports").unwrap();
    assert_eq!(tree.shape(ports), Shape::Sequence);
    assert_eq!(text_of(text, tree.span(ports)), "[\"3306\", 33060]");
    let first = tree.items(ports)[0];
    assert_eq!(text_of(text, tree.value_span(first)), "3306");
    let x = tree.get_value(master.value, "x").unwrap();
    assert_eq!(text_of(text, tree.value_span(x)), "é-plain");
    assert_eq!(tree.path(first), "/services/Master/ports/0");
}

#[test]
fn duplicate_keys_are_reported_not_fatal() {
    let text = "a: 1\nb: 2\na: 3\n";
    let (tree, problems) = parse(text);
    assert!(tree.is_some());
    assert_eq!(problems.len(), 1);
    match &problems[0].kind {
        YamlProblemKind::DuplicateKey { key, first } => {
            assert_eq!(key, "a");
            assert_eq!(first.start, 0);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(problems[0].span.start, 10);
}

#[test]
fn tabs_in_indentation_are_located() {
    let text = "services:\n\tMaster:\n    image: x\n";
    let (_, problems) = parse(text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, YamlProblemKind::Tab);
    assert_eq!(problems[0].span, shared::Span::new(10, 11));
}

#[test]
fn syntax_errors_are_located() {
    let text = "services:\n  Master:\n    image: \"unclosed\n";
    let (tree, problems) = parse(text);
    assert!(tree.is_none());
    assert!(
        matches!(problems[0].kind, YamlProblemKind::Syntax(_)),
        "{problems:?}"
    );
}

#[test]
fn aliases_and_merge_keys_work() {
    let text = "x-base: &base\n  image: mysql\n  ports: ['3306']\nservices:\n  A:\n    <<: *base\n    ports: ['1']\n";
    let (tree, problems) = parse(text);
    assert!(problems.is_empty(), "{problems:?}");
    let tree = tree.unwrap();
    let services = tree.get_value(tree.root.unwrap(), "services").unwrap();
    let a = tree.get_value(services, "A").unwrap();
    assert_eq!(tree.str(tree.get_value(a, "image").unwrap()), Some("mysql"));
    let ports = tree.get_value(a, "ports").unwrap();
    assert_eq!(tree.str(tree.items(ports)[0]), Some("1"));
}

#[test]
fn billion_laughs_is_cut_off_quickly() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
    }
    let analysis = shared::analyze(&text);
    assert!(analysis.diagnostics.iter().any(|d| d.code == "Y006"));
    // Aliases are shared, never copied: the tree holds what was written (about
    // 10 nodes a line), not the 10^12 nodes the aliases would expand to.
    assert!(
        analysis.tree.nodes.len() < 200,
        "{} nodes",
        analysis.tree.nodes.len()
    );
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let analysis = shared::analyze(&text);
    assert!(
        analysis.diagnostics.iter().any(|d| d.code == "Y005"),
        "{:?}",
        analysis.diagnostics
    );
}

#[test]
fn recursive_alias_is_reported() {
    let analysis = shared::analyze("a: &a\n  self: *a\n");
    assert!(
        analysis
            .diagnostics
            .iter()
            .any(|d| d.code == "Y007" || d.code == "Y001"),
        "{:?}",
        analysis.diagnostics
    );
}

#[test]
fn oversized_input_is_refused() {
    let text = "#".repeat(shared::syntax::MAX_INPUT_BYTES + 1);
    let analysis = shared::analyze(&text);
    assert_eq!(analysis.diagnostics.len(), 1);
    assert_eq!(analysis.diagnostics[0].code, "Y004");
}

#[test]
fn duplicate_keys_in_large_mappings_are_found() {
    let mut text = String::new();
    for i in 0..50_000 {
        text.push_str(&format!("k{i}: 1\n"));
    }
    text.push_str("k123: 2\n");
    let started = std::time::Instant::now();
    let (_, problems) = parse(&text);
    assert_eq!(problems.len(), 1);
    assert!(
        matches!(&problems[0].kind, YamlProblemKind::DuplicateKey { key, .. } if key == "k123")
    );
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn spans_survive_non_ascii_text_with_any_line_ends() {
    for eol in ["\n", "\r\n", "\r"] {
        let text = [
            "services:",
            "  Wéb😀:",
            "    image: nginx",
            "    dependsx: 1",
            "",
        ]
        .join(eol);
        let diagnostics = shared::check(&text);
        let unknown = diagnostics.iter().find(|d| d.code == "C002").expect("C002");
        assert_eq!(
            &text[unknown.span.start..unknown.span.end],
            "dependsx",
            "eol {eol:?}"
        );
        let index = shared::LineIndex::new(&text);
        assert_eq!(
            index.position(&text, unknown.span.start).line,
            4,
            "eol {eol:?}"
        );
    }
}

fn codes_at(text: &str) -> Vec<(&'static str, usize)> {
    let index = shared::LineIndex::new(text);
    shared::check(text)
        .iter()
        .map(|d| (d.code, index.position(text, d.span.start).line))
        .collect()
}

#[test]
fn a_syntax_error_leaves_out_its_block_and_later_problems_are_still_reported() {
    let unclosed_quote = "services:\n  web:\n    image: nginx\n    depends_on: [db]\n    bogus: 1\n  db:\n    image: \"mysql\n    ports: [\"3306\"]\n  cache:\n    image: redis\n    ports: [\"99999\"]\nunknown_top: 1\n";
    assert_eq!(
        codes_at(unclosed_quote),
        [("C002", 5), ("Y001", 7), ("C005", 11), ("C001", 12)]
    );
    // An unclosed `[` is blamed on its own block, not on the next service.
    let unclosed_flow = "services:\n  web:\n    image: nginx\n    ports: [80, 90\n  cache:\n    image: redis\n    ports: [\"99999\"]\n";
    assert_eq!(codes_at(unclosed_flow), [("Y001", 5), ("C005", 7)]);
    let analysis = shared::analyze(unclosed_flow);
    assert!(
        !analysis.parsed,
        "a document with a syntax error is not `parsed`"
    );
    assert_eq!(analysis.spec.services.len(), 1, "cache is still read");
}

#[test]
fn what_pyyaml_and_go_yaml_accept_is_read_with_an_info() {
    for text in [
        "services:\n  a:\n    image: x\n    ports: [\n      \"80:80\"\n    ]\n",
        "a:\n  b: [1,\n  2]\n",
        "a:\n  b: {x: 1,  # note\n  y: 2}\n",
        "a: [1,\n2]\n",
        "x:\n  y: \"abc\n  def\"\n",
    ] {
        let analysis = shared::analyze(text);
        assert!(analysis.parsed, "{text}");
        let codes: Vec<_> = analysis
            .diagnostics
            .iter()
            .map(|d| d.code)
            .filter(|c| c.starts_with('Y'))
            .collect();
        assert!(codes.iter().all(|c| *c == "Y009"), "{text}: {codes:?}");
        assert!(!codes.is_empty(), "{text}");
    }
    let joined = shared::analyze("a:\n  b: {x: 1,  # note\n  y: 2}\n");
    let root = joined.tree.root.unwrap();
    let b = joined.tree.get_value(root, "b").or_else(|| {
        let a = joined.tree.get_value(root, "a")?;
        joined.tree.get_value(a, "b")
    });
    assert_eq!(joined.tree.entries(b.unwrap()).len(), 2);
}

#[test]
fn references_in_block_scalars_are_located_on_themselves() {
    for (style, body) in [
        ("|", "        #!/bin/bash\n        echo start\n        ray start --num-gpus='{{ $sys.compute.node.gpuz }}' --block\n"),
        (">-", "        ray start\n        --num-gpus={{ $sys.compute.node.gpuz }}\n        --block\n"),
        ("|+", "\n        x=1\n          indented {{ $sys.compute.node.gpuz }}\n\n"),
    ] {
        let text = format!(
            "services:\n  Ray:\n    image: rayproject/ray\n    command:\n      - bash\n      - -c\n      - {style}\n{body}    x-omnistrate-compute:\n      instanceTypes:\n        - cloudProvider: aws\n          name: g5.xlarge\n"
        );
        let diagnostics = shared::check(&text);
        let t004: Vec<_> = diagnostics.iter().filter(|d| d.code == "T004").collect();
        assert_eq!(t004.len(), 1, "{style}: {diagnostics:?}");
        assert_eq!(
            &text[t004[0].span.start..t004[0].span.end],
            "$sys.compute.node.gpuz",
            "{style}"
        );
    }
    // Interpolation tokens too.
    let text = "services:\n  web:\n    image: nginx\n    command:\n      - sh\n      - -c\n      - |\n        echo ${HOME%%/}\n";
    let d: Vec<_> = shared::check(text)
        .into_iter()
        .filter(|d| d.code == "C014")
        .collect();
    assert_eq!(d.len(), 1);
    assert_eq!(&text[d[0].span.start..d[0].span.end], "${HOME%%/}");
}

/// compose-go refuses tab indentation (its loader's decode-error tests): we
/// report each tabbed line (Y003) and read the tabs as spaces to go on, so
/// what sits under a tabbed line is not taken for a top-level key (no false
/// C001) and later problems are still found.
#[test]
fn tab_indentation_recovery_makes_no_false_findings() {
    let cases = [
        // a whole file indented with tabs
        "services:\n\tfoo:\n\t\timage: busybox\n",
        // one tabbed key inside a service, scanner noticing it a line early
        "services:\n  web:\n    image: busybox\n\tbuild: .\n  db:\n    image: postgres\n",
        // a tab before a list under a key
        "services:\n  foo:\n    image: busybox\n    environment:\n\t  - FOO=bar\n  bar:\n    image: busybox\nvolumes:\n  data: {}\n",
    ];
    for text in cases {
        let diagnostics = shared::check(text);
        let codes: Vec<_> = diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"Y003"), "{text}\n{diagnostics:#?}");
        for d in &diagnostics {
            assert!(
                d.code == "Y003" || !d.is_error(),
                "only the tab errors in\n{text}\n{diagnostics:#?}"
            );
            if d.code == "Y003" {
                assert!(text[d.span.start..d.span.end].bytes().all(|b| b == b'\t'));
            }
        }
    }
    // Problems after the tabbed block are still reported.
    let text =
        "services:\n  tabbed:\n\t\timage: busybox\n  ok:\n    image: nginx\n    ports: ['99999']\n";
    let codes: Vec<_> = shared::check(text).iter().map(|d| d.code).collect();
    assert!(
        codes.contains(&"Y003") && codes.contains(&"C005"),
        "{codes:?}"
    );
}

/// A control character beside multi-byte characters, after a directive
/// with multi-byte characters (where the parser once counted bytes as
/// characters) or after a syntax error that recovery blanked: the
/// "unprintable character" error is on the control character itself, and
/// every diagnostic slices the text.
#[test]
fn control_characters_beside_multi_byte_characters_are_located_on_themselves() {
    let prefixes = [
        "",
        "%é ü\n---\n",
        "%TAG !é! tag:ü.example,2000:\n---\n",
        "\u{feff}",
        "x-broken:\n  a: [é, ü\n",
        "x-broken:\n  a: \"é\n",
    ];
    for prefix in prefixes {
        for mb in ["é", "😀", "\u{fffd}", "中"] {
            for body in [
                format!("services:\n  s{mb}:\n    image: {mb}\n\0\n"),
                format!("services:\n  s:\n    image: x # {mb}{mb}\n  \0\n"),
                format!("services:\n  {mb}:\n    image: {mb}\n  t: \0{mb}\n"),
                format!("services:\n  s:\n    image: \"{mb}\r\n{mb}\"\r\n\0\r\n"),
                format!("services:\n  s:\n    image: '{mb}'\r{mb}: x\r\0{mb}\r"),
            ] {
                let text = format!("{prefix}{body}");
                let diagnostics = shared::check(&text);
                for d in &diagnostics {
                    assert!(d.span.fits(&text), "{text:?}: {d:?}");
                }
                let unprintable: Vec<_> = diagnostics
                    .iter()
                    .filter(|d| d.message.contains("unprintable"))
                    .collect();
                assert_eq!(unprintable.len(), 1, "{text:?}: {diagnostics:#?}");
                assert_eq!(text_of(&text, unprintable[0].span), "\0", "{text:?}");
            }
        }
    }
}

/// The fuzz case that found it: lossy-decoded bytes after a `%` directive.
#[test]
fn lossy_decoded_bytes_after_a_directive_are_located_on_characters() {
    let text = String::from_utf8_lossy(b"%\x80\xff\r\xfe\0\r").into_owned();
    for d in shared::check(&text) {
        assert!(d.span.fits(&text), "{text:?}: {d:?}");
        assert!(!d.span.is_empty(), "{text:?}: {d:?}");
    }
}
