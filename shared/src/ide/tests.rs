//! Unit tests of the IDE core on the seed and small specs.

use super::*;
use crate::Span;

const SEED: &str = include_str!("../../../examples/serverless-mysql-master-replica.yaml");

fn at(text: &str, needle: &str, plus: usize) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"))
        + plus
}

fn labels(text: &str, offset: usize) -> Vec<String> {
    complete(text, &crate::analyze(text), offset)
        .into_iter()
        .map(|i| i.label)
        .collect()
}

#[test]
fn hover_on_a_key_shows_its_docs() {
    let a = crate::analyze(SEED);
    let h = hover(&a, at(SEED, "replicaCountAPIParam", 3)).unwrap();
    assert!(
        h.markdown.contains("replicaCountAPIParam"),
        "{}",
        h.markdown
    );
    let h = hover(&a, at(SEED, "x-omnistrate-compute", 3)).unwrap();
    assert!(h.markdown.contains("Instance types"), "{}", h.markdown);
    assert_eq!(
        &SEED[h.span.unwrap().start..h.span.unwrap().end],
        "x-omnistrate-compute"
    );
}

#[test]
fn hover_on_a_reference_resolves_it() {
    let a = crate::analyze(SEED);
    let h = hover(&a, at(SEED, "$parameterGroup.var.mysqlPassword", 5)).unwrap();
    assert!(h.markdown.contains("mysqlPassword") && h.markdown.contains("ParameterGroup"));
    let h = hover(&a, at(SEED, "$master.sys.network", 2)).unwrap();
    assert!(h.markdown.contains("Master") && h.markdown.contains("string"));
}

#[test]
fn hover_never_shows_a_secret_default() {
    let text = SEED.replace(
        "        export: false\n",
        "        export: false\n        defaultValue: hunter2\n",
    );
    let a = crate::analyze(&text);
    for (i, _) in text.match_indices("mysqlPassword") {
        if let Some(h) = hover(&a, i + 2) {
            assert!(!h.markdown.contains("hunter2"), "{}", h.markdown);
        }
    }
}

#[test]
fn completes_service_names_for_dependent_resource_key() {
    let text = SEED.replace("dependentResourceKey: Master", "dependentResourceKey: M");
    let l = labels(&text, at(&text, "dependentResourceKey: M", 23));
    assert!(l.contains(&"Master".into()), "{l:?}");
    assert!(!l.contains(&"Replica".into()), "own service offered: {l:?}");
    // Right after `: ` too (nothing typed yet).
    let text = SEED.replace("dependentResourceKey: Master", "dependentResourceKey: ");
    let l = labels(&text, at(&text, "dependentResourceKey: \n", 22));
    assert!(l.contains(&"Master".into()), "{l:?}");
}

#[test]
fn completes_depends_on_entries_with_other_services() {
    let text = SEED.replace(
        "  Replica:\n    image: 'docker.io/bitnami/mysql:8.1.0'\n",
        "  Replica:\n    image: 'docker.io/bitnami/mysql:8.1.0'\n    depends_on:\n      - Ma\n",
    );
    let l = labels(&text, at(&text, "      - Ma\n", 10));
    assert_eq!(l, ["Master", "ParameterGroup"]);
}

#[test]
fn completes_keys_by_context_without_present_or_deprecated_keys() {
    let text = SEED.replace(
        "      enableMultiZone: true\n",
        "      enableMultiZone: true\n      e\n",
    );
    let l = labels(&text, at(&text, "      e\n", 7));
    assert!(l.contains(&"enableEndpointPerReplica".into()), "{l:?}");
    assert!(
        !l.contains(&"enableMultiZone".into()),
        "present key offered"
    );
    assert!(
        !l.contains(&"endpointPerReplica".into()),
        "deprecated spelling offered: {l:?}"
    );
    let text = SEED.replace(
        "        export: true\n  Replica:",
        "        export: true\n        li\n  Replica:",
    );
    let l = labels(&text, at(&text, "        li\n", 10));
    assert!(l.contains(&"limits".into()), "{l:?}");
    assert!(!l.contains(&"key".into()), "{l:?}");
}

#[test]
fn nothing_is_offered_on_whitespace_alone() {
    let text = SEED.replace(
        "      enableMultiZone: true\n",
        "      enableMultiZone: true\n      \n",
    );
    assert!(labels(&text, at(&text, "true\n      \n", 11)).is_empty());
    assert!(labels("", 0).is_empty());
}

#[test]
fn completes_template_paths() {
    let text = SEED.replace(
        "MYSQL_REPLICATION_MODE=slave",
        "MYSQL_REPLICATION_MODE=$parameterGroup.var.",
    );
    let l = labels(&text, at(&text, "$parameterGroup.var.\n", 20));
    assert!(l.contains(&"mysqlRootPassword".into()), "{l:?}");
    let text = SEED.replace(
        "MYSQL_REPLICATION_MODE=slave",
        "MYSQL_REPLICATION_MODE=$master.sys.net",
    );
    let items = complete(
        &text,
        &crate::analyze(&text),
        at(&text, "$master.sys.net\n", 15),
    );
    let item = items
        .iter()
        .find(|i| i.label == "network.externalClusterServerlessEndpoint.endpointName")
        .expect("sys path offered");
    assert_eq!(&text[item.span.start..item.span.end], "net");
    let text = SEED.replace("MYSQL_REPLICATION_MODE=slave", "MYSQL_REPLICATION_MODE=$");
    let l = labels(&text, at(&text, "=$\n", 2));
    assert!(
        l.contains(&"master.".into()) && l.contains(&"sys.".into()),
        "{l:?}"
    );
    let text = SEED.replace(
        "MYSQL_REPLICATION_MODE=slave",
        "MYSQL_REPLICATION_MODE=$var.",
    );
    let l = labels(&text, at(&text, "=$var.\n", 6));
    assert!(l.contains(&"numReadReplicas".into()), "{l:?}");
    assert!(!l.contains(&"masterInstanceType".into()), "{l:?}");
}

#[test]
fn completes_api_param_keys_for_replica_count() {
    let text = SEED.replace(
        "replicaCountAPIParam: numReadReplicas",
        "replicaCountAPIParam: n",
    );
    let l = labels(&text, at(&text, "replicaCountAPIParam: n", 23));
    assert!(l.contains(&"numReadReplicas".into()), "{l:?}");
}

#[test]
fn completion_survives_any_offset() {
    let a = crate::analyze(SEED);
    for offset in (0..SEED.len() + 5).step_by(7) {
        let _ = complete(SEED, &a, offset);
        let _ = hover(&a, offset);
        let _ = definition(&a, offset);
        let _ = code_actions(SEED, &a, Span::empty(offset));
    }
    let text = "a: é😀x\n  - : :\n\t{[";
    let a = crate::analyze(text);
    for offset in 0..text.len() + 2 {
        let _ = complete(text, &a, offset);
        let _ = references(&a, offset, true);
    }
}

fn text_of(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

#[test]
fn definition_of_master_reference_is_the_service_key() {
    let a = crate::analyze(SEED);
    let def = definition(&a, at(SEED, "$master.sys", 3)).unwrap();
    assert_eq!(text_of(SEED, def), "Master");
    assert_eq!(def.start, at(SEED, "  Master:", 2));
    let def = definition(&a, at(SEED, "dependentResourceKey: Master", 24)).unwrap();
    assert_eq!(def.start, at(SEED, "  Master:", 2));
    // An api-param by `$<resource>.var.X`, by `$var.X` and by `apiParam`.
    let def = definition(&a, at(SEED, "parameterGroup.var.mysqlPassword", 22)).unwrap();
    assert_eq!(def.start, at(SEED, "key: mysqlPassword", 5));
    let def = definition(&a, at(SEED, "replicaCountAPIParam: numRead", 24)).unwrap();
    assert_eq!(def.start, at(SEED, "key: numReadReplicas", 5));
    let def = definition(&a, at(SEED, "apiParam: masterInstanceType", 12)).unwrap();
    assert_eq!(def.start, at(SEED, "key: masterInstanceType", 5));
}

#[test]
fn references_include_every_spelling() {
    let a = crate::analyze(SEED);
    let refs = references(&a, at(SEED, "  Master:", 3), true);
    let texts: Vec<&str> = refs.iter().map(|s| text_of(SEED, *s)).collect();
    assert_eq!(
        texts.iter().filter(|t| **t == "master").count(),
        2,
        "{texts:?}"
    );
    assert_eq!(
        texts.iter().filter(|t| **t == "Master").count(),
        2,
        "{texts:?}"
    );
    let without = references(&a, at(SEED, "  Master:", 3), false);
    assert_eq!(without.len(), refs.len() - 1);
}

#[test]
fn rename_service_updates_keys_links_and_resource_keys() {
    let text = SEED.replace("    image: 'docker.io/bitnami/mysql:8.1.0'\n    ports:\n      - '3306'\n    volumes:\n      - ./data:/var/lib/mysql\n    x-omnistrate-compute:\n      replicaCountAPIParam",
        "    image: 'docker.io/bitnami/mysql:8.1.0'\n    depends_on:\n      - Master\n    ports:\n      - '3306'\n    volumes:\n      - ./data:/var/lib/mysql\n    x-omnistrate-compute:\n      replicaCountAPIParam");
    let a = crate::analyze(&text);
    let edits = rename(&a, at(&text, "  Master:", 3), "Primary").unwrap();
    let fix = crate::Fix {
        title: String::new(),
        edits,
    };
    let out = fix.apply(&text);
    assert!(
        !out.contains("Master:") && !out.contains("$master."),
        "{out}"
    );
    assert!(out.contains("  Primary:\n") && out.contains("- Primary\n"));
    assert!(out.contains("dependentResourceKey: Primary"));
    assert!(out.contains("$primary.sys.network"));
    let after = crate::analyze(&out);
    assert_eq!(
        after.summary().errors,
        crate::analyze(&text).summary().errors
    );
    // Clashes and bad names are refused.
    assert!(rename(&a, at(&text, "  Master:", 3), "Replica").is_err());
    assert!(rename(&a, at(&text, "  Master:", 3), "a b").is_err());
    assert!(rename(&a, 0, "X").is_err());
}

#[test]
fn rename_param_updates_references() {
    let a = crate::analyze(SEED);
    let edits = rename(&a, at(SEED, "key: mysqlPassword", 7), "dbPassword").unwrap();
    let out = crate::Fix {
        title: String::new(),
        edits,
    }
    .apply(SEED);
    assert!(!out.contains("mysqlPassword"), "{out}");
    assert_eq!(out.matches("$parameterGroup.var.dbPassword").count(), 2);
    assert_eq!(
        crate::analyze(&out).summary(),
        crate::analyze(SEED).summary()
    );
    let edits = rename(&a, at(SEED, "replicaCountAPIParam: numRead", 24), "readers").unwrap();
    assert_eq!(edits.len(), 2);
}

#[test]
fn fixes_and_ignore_comments() {
    let text = SEED.to_owned();
    let a = crate::analyze(&text);
    let offset = at(&text, "      endpointPerReplica", 8);
    let actions = code_actions(&text, &a, Span::empty(offset));
    let fix = actions.iter().find(|x| x.preferred).expect("a rule fix");
    let fixed = crate::Fix {
        title: String::new(),
        edits: fix.edits.clone(),
    }
    .apply(&text);
    let code = a.diagnostics[fix.diagnostic].code;
    let count = |t: &str| {
        crate::analyze(t)
            .diagnostics
            .iter()
            .filter(|d| d.code == code)
            .count()
    };
    assert_eq!(count(&fixed), count(&text) - 1);
    let ignore = actions.iter().find(|x| !x.preferred).unwrap();
    let ignored = crate::Fix {
        title: String::new(),
        edits: ignore.edits.clone(),
    }
    .apply(&text);
    assert!(
        ignored.contains(&format!(
            "      # specstudio-ignore: {code}\n      endpointPerReplica"
        )),
        "{ignored}"
    );
}

#[test]
fn outline_lists_services_params_and_extensions() {
    let a = crate::analyze(SEED);
    let symbols = document_symbols(&a);
    let services = symbols.iter().find(|s| s.name == "services").unwrap();
    let names: Vec<&str> = services.children.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Master", "Replica", "ParameterGroup"]);
    let replica = &services.children[1];
    assert!(replica
        .children
        .iter()
        .any(|c| c.name == "numReadReplicas" && c.kind == SymbolKind::ApiParam));
    assert!(replica
        .children
        .iter()
        .any(|c| c.name == "x-omnistrate-compute"));
    assert!(symbols
        .iter()
        .any(|s| s.name == "x-omnistrate-integrations"));
    let folds = folding_ranges(SEED);
    assert!(folds.iter().any(|f| f.start_line == 5), "Master folds");
    assert!(folds.iter().all(|f| f.end_line > f.start_line));
}

#[test]
fn formatter_is_idempotent_and_keeps_meaning_and_comments() {
    assert_eq!(
        format(SEED).as_deref(),
        Some(SEED),
        "the seed is already formatted"
    );
    let messy = "# top\nversion:   \"3\"\n\n\n\nservices:\n    Web:      # the web\n        image:    nginx   \n        command: |\n            echo  a\n              indented\n\n        ports:\n        -   \"80\"\n        -  '81'\n        environment:\n            -   A=1\n            # note\n            - B=2\n";
    let out = format(messy).unwrap();
    assert_eq!(
        out,
        "# top\nversion: \"3\"\n\nservices:\n  Web: # the web\n    image: nginx\n    command: |\n      echo  a\n        indented\n\n    ports:\n    - \"80\"\n    - '81'\n    environment:\n      - A=1\n      # note\n      - B=2\n"
    );
    assert_eq!(format(&out).as_deref(), Some(out.as_str()));
    assert_eq!(format("a: [b\n"), None, "broken YAML is left alone");
}

#[test]
fn formatter_is_idempotent_on_every_fixture_and_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [root.join("tests/fixtures"), root.join("../examples")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(
                    std::fs::read_dir(&path)
                        .unwrap()
                        .flatten()
                        .map(|e| e.path()),
                );
            } else {
                files.push(path);
            }
        }
    }
    let mut formatted = 0;
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        if let Some(once) = format(&text) {
            formatted += 1;
            assert_eq!(
                format(&once).as_deref(),
                Some(once.as_str()),
                "{}",
                path.display()
            );
            // Formatting never changes what the rules find.
            let codes = |t: &str| {
                let mut c: Vec<&str> = crate::analyze(t)
                    .diagnostics
                    .iter()
                    .map(|d| d.code)
                    .collect();
                c.sort();
                c
            };
            assert_eq!(codes(&text), codes(&once), "{}", path.display());
        }
    }
    assert!(formatted > 50, "only {formatted} files formatted");
}

#[test]
fn completes_and_hovers_storage_job_plan_and_registry_fields() {
    let spec = "x-omnistrate-service-plan:\n  name: Pro\n  te\n  deployment:\n    byoaDeployment:\n      awsAccountId: \"1\"\n      gcpP\nx-omnistrate-image-registry-attributes:\n  ghcr.io:\n    auth:\n      username: u\n      pa\nservices:\n  db:\n    image: postgres\n    volumes:\n      - source: ./data\n        target: /data\n        type: bind\n        x-omnistrate-storage:\n          aws:\n            instanceStorageType: AWS::EBS_GP3\n            instanceStorageS\n  job:\n    image: flyway/flyway\n    x-omnistrate-storage:\n      gc\n    x-omnistrate-job-config:\n      backoffLimit: 0\n      act\n";
    let cases = [
        ("  te\n", 4, "tenancyType"),
        ("      gcpP\n", 10, "gcpProjectNumber"),
        ("      pa\n", 8, "password"),
        (
            "            instanceStorageS\n",
            28,
            "instanceStorageSizeGi",
        ),
        ("      gc\n", 8, "gcp"),
        ("      act\n", 9, "activeDeadlineSeconds"),
    ];
    for (needle, plus, want) in cases {
        let l = labels(spec, at(spec, needle, plus));
        assert!(l.contains(&want.into()), "{want} not offered: {l:?}");
    }
    // Present keys are not offered again.
    let l = labels(spec, at(spec, "      act\n", 9));
    assert!(!l.contains(&"backoffLimit".into()), "{l:?}");
    let valid = include_str!("../../tests/fixtures/O003/valid-storage-plan-job-registry.yaml");
    let a = crate::analyze(valid);
    let h = hover(&a, at(valid, "instanceStorageType", 3)).unwrap();
    assert!(h.markdown.contains("Disk type"), "{}", h.markdown);
    let h = hover(&a, at(valid, "byoaDeployment", 3)).unwrap();
    assert!(h.markdown.contains("customer's accounts"), "{}", h.markdown);
}

#[test]
fn completes_and_hovers_capability_job_plan_and_integration_inner_fields() {
    let spec = "x-omnistrate-service-plan:\n  name: Pro\n  pricing:\n    - dimension: cpu\n      timeU\nx-customer-integrations:\n  licensing:\n    licenseE\nservices:\n  app:\n    image: app\n    x-omnistrate-capabilities:\n      backupConfiguration:\n        backupP\n      sidecars:\n        otel:\n          imageNameWithTag: otel/col:1\n          securityContext:\n            runAsN\n  job:\n    image: job\n    x-omnistrate-job-config:\n      scheduleConfig:\n        cronE\n";
    let cases = [
        ("      timeU\n", 11, "timeUnit"),
        ("    licenseE\n", 12, "licenseExpirationInDays"),
        ("        backupP\n", 15, "backupPeriodInHours"),
        ("            runAsN\n", 18, "runAsNonRoot"),
        ("        cronE\n", 13, "cronExpression"),
    ];
    for (needle, plus, want) in cases {
        let l = labels(spec, at(spec, needle, plus));
        assert!(l.contains(&want.into()), "{want} not offered: {l:?}");
    }
    let valid = include_str!("../../tests/fixtures/O003/valid-capabilities-plan-integrations.yaml");
    let a = crate::analyze(valid);
    let h = hover(&a, at(valid, "imageNameWithTag", 3)).unwrap();
    assert!(h.markdown.contains("sidecar container"), "{}", h.markdown);
    let h = hover(&a, at(valid, "snapshotBeforeDeletion", 3)).unwrap();
    assert!(h.markdown.contains("last snapshot"), "{}", h.markdown);
}
