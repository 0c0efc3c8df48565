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
        Just("${PORT:-80}:80".to_owned()),
        Just("${A:-${B:-${C}}}".to_owned()),
        Just("${VAR:}".to_owned()),
        Just("${".to_owned()),
        Just("$${HOME} $$".to_owned()),
        Just("# specstudio-ignore: C005".to_owned()),
        Just("$sys.compute.nodes[*].name".to_owned()),
        Just("$sys.network.node.externalPorts[\"6379\"]".to_owned()),
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
            "extends",
            "include",
            "service",
            "file",
            "network_mode",
            "external",
            "develop",
            "watch",
            "healthcheck",
            "deploy",
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

/// A variable name, sometimes one the generated env sets.
fn var_name() -> impl Strategy<Value = String> {
    prop_oneof![Just("PORT".to_owned()), "[A-Z_][A-Z0-9_]{0,6}"]
}

/// A well-formed interpolation whose value, whatever the variables hold, is a
/// valid port when `PORT` holds one (or is unset: defaults are ports).
fn port_expr() -> impl Strategy<Value = String> {
    let port = 1u32..65536;
    prop_oneof![
        port.clone().prop_map(|p| p.to_string()),
        Just("${PORT}".to_owned()),
        Just("$PORT".to_owned()),
        port.clone().prop_map(|p| format!("${{PORT:-{p}}}")),
        port.clone().prop_map(|p| format!("${{PORT-{p}}}")),
        port.clone()
            .prop_map(|p| format!("${{PORT:-${{PORT:-{p}}}}}")),
        port.prop_map(|p| format!("${{PORT:?set PORT, e.g. {p}}}")),
    ]
}

/// Any well-formed interpolation text (for values nothing is checked on). No
/// `:?`/`?` on variables that may be unset: those are real errors.
fn interpolated_text() -> impl Strategy<Value = String> {
    let op = prop::sample::select(vec![":-", "-", ":+", "+"]);
    prop_oneof![
        (var_name(), op, "[a-z0-9 ./]{0,6}").prop_map(|(v, o, d)| format!("${{{v}{o}{d}}}")),
        var_name().prop_map(|v| format!("${v}")),
        "[a-z ]{0,5}".prop_map(|t| format!("$${t}")),
        (var_name(), var_name()).prop_map(|(a, b)| format!("x-${{{a}:-${{{b}}}}}-y")),
    ]
}

/// A plain compose spec whose values use interpolation everywhere it is
/// allowed, with an env that may or may not set the variables.
fn interpolated_spec() -> impl Strategy<Value = (String, Vec<(String, String)>, bool)> {
    let service = (
        prop::collection::vec((port_expr(), port_expr()), 1..3),
        prop::collection::vec(interpolated_text(), 0..3),
        interpolated_text(),
    );
    let env = prop::collection::vec((var_name(), "[a-z0-9]{0,6}"), 0..4);
    (
        prop::collection::vec(service, 1..4),
        env,
        1u32..65536,
        any::<bool>(),
    )
        .prop_map(|(services, mut env, port, complete)| {
            let mut text = String::from("services:\n");
            for (i, (ports, values, tag)) in services.iter().enumerate() {
                text.push_str(&format!(
                    "  s{i}:\n    image: \"nginx:{tag}\"\n    ports:\n"
                ));
                for (host, container) in ports {
                    text.push_str(&format!("      - \"{host}:{container}\"\n"));
                }
                text.push_str("    environment:\n");
                for (j, value) in values.iter().enumerate() {
                    text.push_str(&format!("      V{j}: \"{value}\"\n"));
                }
            }
            // PORT, when set, is a valid port (the only variable judged).
            env.retain(|(k, _)| k != "PORT");
            env.push(("PORT".to_owned(), port.to_string()));
            (text, env, complete)
        })
}

/// Services that extend earlier ones (string or mapping form, same file or
/// another file), so every service has an image through its chain.
fn extends_spec() -> impl Strategy<Value = String> {
    prop::collection::vec((any::<bool>(), 0usize..8, 0u8..4), 1..8).prop_map(|services| {
        let mut text = String::from("x-base: &base\n  restart: unless-stopped\nservices:\n");
        for (i, (has_image, base, form)) in services.iter().enumerate() {
            text.push_str(&format!("  s{i}:\n    <<: *base\n"));
            if i == 0 || *has_image {
                text.push_str("    image: busybox\n");
                continue;
            }
            let base = base % i;
            match form {
                0 => text.push_str(&format!("    extends: s{base}\n")),
                1 => text.push_str(&format!("    extends:\n      service: s{base}\n")),
                2 => text.push_str("    extends:\n      file: common.yaml\n      service: web\n"),
                _ => text.push_str(&format!(
                    "    extends: s{base}\n    ports: !reset []\n    environment: !override\n      A: b\n"
                )),
            }
        }
        text
    })
}

/// A valid service split in two: the keys chosen go to a base service, the
/// rest stay on a child that `extends` it (each is a valid service alone, as
/// compose requires of a same-file base).
fn split_spec() -> impl Strategy<Value = String> {
    const PARTS: [&str; 7] = [
        "    ports:\n      - \"${PORT:-8080}:80\"\n",
        "    environment:\n      MODE: prod\n      LEVEL: \"3\"\n",
        "    volumes:\n      - data:/var/lib/app\n",
        "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 30s\n",
        "    deploy:\n      resources:\n        limits:\n          memory: 512m\n",
        "    depends_on:\n      - cache\n",
        "    restart: unless-stopped\n",
    ];
    (
        prop::collection::vec(any::<bool>(), PARTS.len()),
        any::<bool>(),
        prop::sample::select(vec!["nginx:1.27", "mysql:8.0", "bitnami/mysql:8.0"]),
    )
        .prop_map(|(to_base, mapping_form, image)| {
            let mut base = format!("  app-base:\n    image: {image}\n");
            let mut child = String::from(if mapping_form {
                "  app:\n    extends:\n      service: app-base\n"
            } else {
                "  app:\n    extends: app-base\n"
            });
            if image.contains("mysql") {
                base.push_str("    env_file: [mysql.env]\n");
            }
            for (part, in_base) in PARTS.iter().zip(to_base) {
                if in_base {
                    base.push_str(part);
                } else {
                    child.push_str(part);
                }
            }
            format!("services:\n  cache:\n    image: redis:7\n{base}{child}volumes:\n  data:\n")
        })
}

/// A valid spec whose service keys are spread over up to three YAML
/// documents (compose merges them into the one-document spec).
fn documents_spec() -> impl Strategy<Value = String> {
    const PARTS: [&str; 6] = [
        "    ports:\n      - \"${PORT:-8080}:80\"\n",
        "    environment:\n      MODE: prod\n",
        "    volumes:\n      - data:/var/lib/app\n",
        "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 30s\n",
        "    depends_on:\n      - cache\n",
        "    restart: unless-stopped\n",
    ];
    (prop::collection::vec(0usize..3, PARTS.len()), any::<bool>()).prop_map(|(doc_of, trailing)| {
        let mut docs = [
            String::from(
                "services:\n  cache:\n    image: redis:7\n  app:\n    image: nginx:1.27\n",
            ),
            String::from("services:\n  app:\n"),
            String::from("volumes:\n  data:\nservices:\n  app:\n"),
        ];
        for (part, doc) in PARTS.iter().zip(doc_of) {
            docs[doc].push_str(part);
        }
        // A service key with no keys under it would be a null override: fine.
        let mut text = docs.join("---\n");
        if trailing {
            text.push_str("---\n");
        }
        text
    })
}

/// A valid spec whose `environment` and `depends_on` are written in each of
/// two documents, each in list or mapping form at random (compose-go merges
/// the two forms by name).
fn two_forms_spec() -> impl Strategy<Value = String> {
    (prop::collection::vec(any::<bool>(), 4), any::<bool>()).prop_map(|(forms, swap)| {
        let env = |list: bool, name: &str, value: &str| {
            if list {
                format!("    environment:\n      - {name}={value}\n")
            } else {
                format!("    environment:\n      {name}: \"{value}\"\n")
            }
        };
        let deps = |list: bool, name: &str| {
            if list {
                format!("    depends_on:\n      - {name}\n")
            } else {
                format!("    depends_on:\n      {name}:\n        condition: service_started\n")
            }
        };
        let first = format!(
            "services:\n  cache:\n    image: redis:7\n  db:\n    image: postgres:16\n  app:\n    image: nginx:1.27\n{}{}",
            env(forms[0], "MODE", "prod"),
            deps(forms[1], "cache")
        );
        let second = format!(
            "services:\n  app:\n{}{}",
            env(forms[2], if swap { "MODE" } else { "LEVEL" }, "3"),
            deps(forms[3], if swap { "cache" } else { "db" })
        );
        format!("{first}---\n{second}")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), .. ProptestConfig::default() })]

    #[test]
    fn a_list_and_a_mapping_across_documents_never_make_a_false_error(text in two_forms_spec()) {
        let errors: Vec<_> = shared::check(&text).into_iter().filter(|d| d.is_error()).collect();
        prop_assert!(errors.is_empty(), "{text}\n{errors:#?}");
        let analysis = shared::analyze(&text);
        let app = analysis.spec.service("app").unwrap();
        prop_assert!(app.environment.iter().any(|e| e.name.value == "MODE"));
        prop_assert!(app.depends_on.iter().any(|d| d.service.value == "cache"));
    }

    #[test]
    fn splitting_a_service_with_extends_never_makes_a_false_error(text in split_spec()) {
        let errors: Vec<_> = shared::check(&text).into_iter().filter(|d| d.is_error()).collect();
        prop_assert!(errors.is_empty(), "{text}\n{errors:#?}");
    }

    #[test]
    fn a_base_in_another_file_never_makes_a_false_error(text in split_spec()) {
        // The same split, the base read from another file (which holds the
        // whole valid spec).
        let child = text
            .replace("extends:\n      service: app-base\n", "extends:\n      file: base.yml\n      service: app-base\n")
            .replace("extends: app-base\n", "extends:\n      file: base.yml\n      service: app-base\n");
        let mut options = shared::Options::default();
        options.files.insert("base.yml".into(), text.clone());
        let errors: Vec<_> = shared::analyze_with(&child, &options)
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .collect();
        prop_assert!(errors.is_empty(), "{child}\n{errors:#?}");
    }

    #[test]
    fn moving_resources_to_an_included_file_never_makes_a_false_error(
        text in split_spec(),
        volume in 0u8..3,
        long_form in any::<bool>(),
    ) {
        // `cache` (and the `data` volume: moved, or defined identically on
        // both sides) goes to an included file; the project is the same.
        let mut spec = text.replace("  cache:\n    image: redis:7\n", "");
        let mut included = String::from("services:\n  cache:\n    image: redis:7\n");
        if volume > 0 {
            included.push_str("volumes:\n  data:\n");
        }
        if volume == 1 {
            spec = spec.replace("volumes:\n  data:\n", "");
        }
        let entry = if long_form {
            "include:\n  - path: [lib/cache.yml]\n    project_directory: lib\n"
        } else {
            "include:\n  - lib/cache.yml\n"
        };
        let spec = format!("{entry}{spec}");
        let mut options = shared::Options::default();
        options.files.insert("lib/cache.yml".into(), included);
        let errors: Vec<_> = shared::analyze_with(&spec, &options)
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .collect();
        prop_assert!(errors.is_empty(), "{spec}\n{errors:#?}");
    }

    #[test]
    fn merging_documents_never_makes_a_false_error(text in documents_spec()) {
        let errors: Vec<_> = shared::check(&text).into_iter().filter(|d| d.is_error()).collect();
        prop_assert!(errors.is_empty(), "{text}\n{errors:#?}");
    }

    #[test]
    fn interpolation_never_makes_a_false_error((text, env, complete) in interpolated_spec(), known in any::<bool>()) {
        let mut options = shared::Options::default();
        if known {
            options.vars = shared::interpolation::Vars::known(env, complete);
        }
        let errors: Vec<_> = shared::analyze_with(&text, &options)
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .collect();
        prop_assert!(errors.is_empty(), "{text}\n{errors:#?}");
    }

    #[test]
    fn project_config_text_never_panics(text in "(\\[rules\\]\n)?([A-Za-z0-9_-]{0,8} ?= ?\"?[a-z]{0,7}\"?\n){0,4}[\\[\\]=\"#a-z \n]{0,20}") {
        match shared::config::Config::parse(&text) {
            Ok(_) => {}
            Err(e) => {
                if let Some(span) = e.span {
                    prop_assert!(span.start <= span.end && span.end <= text.len());
                }
            }
        }
    }

    #[test]
    fn ignore_comments_are_located_in_the_text(text in "([a-z: -]{0,10}# specstudio-ignore(-file)?: [A-Z0-9, -]{0,12}\n){0,4}[a-z: \n]{0,10}") {
        for ignore in shared::config::ignores(&text) {
            prop_assert_eq!(&text[ignore.span.start..ignore.span.end], ignore.code.as_str());
        }
        check_well_formed(&text);
    }

    #[test]
    fn extends_never_makes_a_false_error(text in extends_spec()) {
        let errors: Vec<_> = shared::check(&text).into_iter().filter(|d| d.is_error()).collect();
        prop_assert!(errors.is_empty(), "{text}\n{errors:#?}");
    }
}

/// `default` cases, or what `PROPTEST_CASES` asks for (an explicit `cases`
/// in a config would otherwise override it): `PROPTEST_CASES=20000 cargo
/// test -p specstudio-shared --test fuzz` runs the fuzz targets long.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Text biased to what broke spans before: multi-byte characters (and the
/// U+FFFD a lossy decode makes) right beside control characters, line
/// breaks of every kind, directives (`%…`, where the parser once counted
/// bytes as characters), and syntax errors that recovery blanks out.
fn multibyte_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "é",
        "😀",
        "\u{fffd}",
        "\u{feff}",
        "中",
        "\0",
        "\u{1}",
        "\u{7f}",
        "\u{85}",
        "\r",
        "\n",
        "\r\n",
        "\t",
        " ",
        "  ",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "#",
        " # é\n",
        "'",
        "\"",
        "|\n",
        "---\n",
        "%",
        "%é ü\n",
        "%TAG !é! tag:é\n",
        "&é ",
        "*é",
        "!é ",
        "services:\n",
        "  s:\n",
        "    image: é\n",
        "  x: [é,\n",
        "k: \"é\n",
        "a",
        "b: ",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), .. ProptestConfig::default() })]

    #[test]
    fn multibyte_and_control_characters_stay_on_boundaries(text in multibyte_text()) {
        check_well_formed(&text);
    }

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
        // The same tree as two documents, merged over each other.
        check_well_formed(&format!("{text}\n---\n{text}\n---\n{root}"));
    }

    #[test]
    fn any_extends_file_base_never_panics(tree in yaml(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        // Whatever the base file holds, the findings stay in the spec's text.
        let mut base = String::from("services:\n  base:");
        render(&tree, 4, &mut base);
        base.push_str(&String::from_utf8_lossy(&bytes));
        let child = "services:\n  é:\n    extends:\n      file: b.yml\n      service: base\n    ports: [\"80\"]\n";
        let mut options = shared::Options::default();
        options.files.insert("b.yml".into(), base);
        for d in shared::analyze_with(child, &options).diagnostics {
            prop_assert!(d.span.fits(child), "{d:?}");
        }
    }

    #[test]
    fn any_included_file_never_panics(
        tree in yaml(),
        entry in yaml(),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        // Whatever the included file holds (and whatever shape the `include`
        // entries take), the findings stay in the spec's text.
        let mut included = String::from("services:\n  db:");
        render(&tree, 4, &mut included);
        included.push_str(&String::from_utf8_lossy(&bytes));
        let mut root = String::new();
        render(&tree, 0, &mut root);
        let mut odd = String::from("include:");
        render(&entry, 2, &mut odd);
        for spec in [
            "include:\n  - i.yml\n  - path: [r.yml, i.yml]\nservices:\n  é:\n    image: x\n    depends_on: [db]\n".to_owned(),
            format!("{odd}services:\n  db:\n    image: x\n"),
        ] {
            let mut options = shared::Options::default();
            options.files.insert("i.yml".into(), included.clone());
            options.files.insert("r.yml".into(), root.clone());
            for d in shared::analyze_with(&spec, &options).diagnostics {
                prop_assert!(d.span.fits(&spec), "{d:?}");
            }
        }
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
