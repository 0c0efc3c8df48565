//! Top-level `include`: the included services are judged as part of the
//! project (see `include.rs`), a problem inside an included file is one
//! finding on the `include` entry, and what cannot be followed is C025.

use std::collections::BTreeMap;

fn lint(text: &str, files: &[(&str, &str)]) -> Vec<(&'static str, String, String)> {
    let options = shared::Options {
        files: files
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        ..Default::default()
    };
    shared::analyze_with(text, &options)
        .diagnostics
        .into_iter()
        .map(|d| (d.code, text[d.span.start..d.span.end].to_owned(), d.message))
        .collect()
}

const SPEC: &str =
    "include:\n  - db.yaml\nservices:\n  web:\n    image: nginx\n    depends_on: [db]\n";

#[test]
fn a_problem_inside_an_included_file_is_one_finding_on_its_entry() {
    // The included `db` publishes an invalid port and depends on a service
    // nobody defines: each is reported on `- db.yaml`, naming where it is.
    let db = "services:\n  db:\n    image: postgres\n    ports: [\"99999:5432\"]\n    depends_on: [nowhere]\n";
    let found = lint(SPEC, &[("db.yaml", db)]);
    let on_entry: Vec<_> = found
        .iter()
        .filter(|(_, token, _)| token == "db.yaml")
        .collect();
    assert!(
        on_entry.iter().any(|(code, _, m)| *code == "C006"
            && m.contains("`nowhere`")
            && m.contains("from the included `db.yaml` line 5")),
        "{found:#?}"
    );
    assert!(
        on_entry
            .iter()
            .any(|(_, _, m)| m.contains("99999") && m.contains("line 4")),
        "{found:#?}"
    );
    // Nothing is located outside the text, and nothing twice.
    let mut seen = found.clone();
    seen.dedup();
    assert_eq!(seen.len(), found.len(), "{found:#?}");
}

#[test]
fn references_across_files_are_judged_both_ways() {
    // `db` comes from the included file; the included `db` depends on `web`
    // of the including file, and `web` on `db`: a cycle across files.
    let db = "services:\n  db:\n    image: postgres\n    depends_on: [web]\n";
    let found = lint(SPEC, &[("db.yaml", db)]);
    assert!(
        found.iter().all(|(code, _, _)| *code != "C006"),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|(code, _, _)| *code == "C010"),
        "{found:#?}"
    );
    // Without the file (the editor) nothing is judged from it.
    let alone = lint(SPEC, &[]);
    assert!(
        alone.iter().all(|(code, _, _)| !code.starts_with('C')),
        "{alone:#?}"
    );
}

#[test]
fn a_well_formed_include_adds_no_finding() {
    let db = "services:\n  db:\n    image: postgres:16\n";
    assert_eq!(lint(SPEC, &[("db.yaml", db)]), Vec::new());
}

#[test]
fn an_unreadable_include_is_a_located_error() {
    let mut options = shared::Options::default();
    options
        .unreadable
        .insert("db.yaml".into(), "no such file".into());
    let analysis = shared::analyze_with(SPEC, &options);
    let c025: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == "C025")
        .collect();
    assert_eq!(c025.len(), 1, "{:#?}", analysis.diagnostics);
    assert_eq!(&SPEC[c025[0].span.start..c025[0].span.end], "db.yaml");
    assert!(c025[0]
        .message
        .contains("cannot read `db.yaml`: no such file"));
}

#[test]
fn nested_includes_resolve_relative_to_the_including_file() {
    let text = "include:\n  - path: lib/db.yaml\nservices:\n  web:\n    image: nginx\n    depends_on: [db, queue]\n";
    let db = "include: [../queue/q.yaml]\nservices:\n  db:\n    image: postgres\n";
    let q = "services:\n  queue:\n    image: rabbitmq\n";
    let found = lint(text, &[("lib/db.yaml", db), ("queue/q.yaml", q)]);
    assert_eq!(found, Vec::new());
    let mut files = BTreeMap::new();
    files.insert("lib/db.yaml".to_owned(), db.to_owned());
    assert_eq!(shared::extends_file::nested_files(&files), ["queue/q.yaml"]);
}

#[test]
fn an_include_chain_deeper_than_the_bound_is_an_error() {
    let files: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("f{i}.yaml"),
                format!("include: [f{}.yaml]\n", i + 1),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let text = "include: [f0.yaml]\nservices:\n  web:\n    image: nginx\n";
    let found = lint(text, &refs);
    assert!(
        found.iter().any(|(code, token, m)| *code == "C025"
            && token == "f0.yaml"
            && m.contains("deeper than 16")),
        "{found:#?}"
    );
}

#[test]
fn an_included_file_is_interpolated_with_its_entry_s_env_file() {
    // `--env` semantics: a variable set nowhere is unset. The included
    // file's memory limit comes from its entry's env file (or its
    // directory's `.env`), as compose reads it; without it it is empty.
    let db = "services:\n  db:\n    image: postgres\n    mem_limit: \"${DB_MEM}\"\n";
    let run = |text: &str, files: &[(&str, &str)]| {
        let options = shared::Options {
            vars: shared::interpolation::Vars::known(Vec::<(String, String)>::new(), true),
            files: files
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Default::default()
        };
        shared::analyze_with(text, &options)
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| (d.code, d.message))
            .collect::<Vec<_>>()
    };
    let long = "include:\n  - path: lib/db.yaml\n    env_file: ./conf/db.env\nservices:\n  web:\n    image: nginx\n";
    assert_eq!(
        shared::external::referenced_files(long),
        ["lib/db.yaml", "conf/db.env"]
    );
    assert_eq!(
        run(
            long,
            &[("lib/db.yaml", db), ("conf/db.env", "DB_MEM=512m\n")]
        ),
        Vec::new()
    );
    let unset = run(long, &[("lib/db.yaml", db)]);
    assert!(unset.iter().any(|(code, _)| *code == "C024"), "{unset:?}");
    // The short syntax: the `.env` beside the included file.
    let short = "include:\n  - lib/db.yaml\nservices:\n  web:\n    image: nginx\n";
    assert_eq!(
        shared::external::referenced_files(short),
        ["lib/db.yaml", "lib/.env"]
    );
    assert_eq!(
        run(short, &[("lib/db.yaml", db), ("lib/.env", "DB_MEM=512m\n")]),
        Vec::new()
    );
    // The spec's own variables win over the env file's.
    let bad = shared::Options {
        vars: shared::interpolation::Vars::known([("DB_MEM", "lots")], true),
        files: [("lib/db.yaml", db), ("lib/.env", "DB_MEM=512m\n")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Default::default()
    };
    let found = shared::analyze_with(short, &bad).diagnostics;
    assert!(found.iter().any(|d| d.code == "C024"), "{found:?}");
}
