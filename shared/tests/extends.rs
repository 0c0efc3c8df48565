//! `extends` merged for validation: a service is judged with what its
//! same-file bases give it, and a finding on a base's token is reported once.

use proptest::prelude::*;

fn codes(text: &str) -> Vec<(&'static str, String, String)> {
    shared::check(text)
        .into_iter()
        .map(|d| {
            let token = text[d.span.start..d.span.end].to_owned();
            (d.code, token, d.message)
        })
        .collect()
}

#[test]
fn a_replica_that_inherits_its_mysql_image_is_judged_as_one() {
    // The child writes no image: only the merged service runs MySQL, and a
    // slave without `MYSQL_MASTER_HOST` cannot replicate (M002).
    let text = "services:\n  db-base:\n    image: bitnami/mysql:8.0\n    environment:\n      MYSQL_ROOT_PASSWORD: $var.rootPassword\n  replica:\n    extends: db-base\n    environment:\n      MYSQL_REPLICATION_MODE: slave\n";
    let found = codes(text);
    assert!(
        found
            .iter()
            .any(|(code, _, message)| *code == "M002" && message.contains("`replica`")),
        "{found:#?}"
    );
}

#[test]
fn what_a_child_overrides_is_not_judged_from_the_base() {
    // The base's env var is overridden: the merged child holds the child's
    // value only, so M001 (invalid mode) is reported once, on the base's token.
    let text = "services:\n  db-base:\n    image: mysql:8.0\n    environment:\n      MYSQL_ROOT_PASSWORD: $var.rootPassword\n      MYSQL_REPLICATION_MODE: leader\n  db:\n    extends: db-base\n    environment:\n      MYSQL_REPLICATION_MODE: master\n";
    let m001: Vec<_> = codes(text)
        .into_iter()
        .filter(|(code, _, _)| *code == "M001")
        .collect();
    assert_eq!(m001.len(), 1, "{m001:#?}");
    assert_eq!(m001[0].1, "leader");
}

#[test]
fn a_finding_on_a_base_token_is_reported_once_naming_the_base() {
    // Two children inherit a URL with a password from the base (S004, whose
    // message names the service): one warning, on the base's token, naming
    // the service where it is written.
    let text = "services:\n  a:\n    extends: base\n  base:\n    image: nginx\n    environment:\n      DB_URL: postgres://app:hunter22@db/app\n  b:\n    extends:\n      service: base\n";
    let s004: Vec<_> = codes(text)
        .into_iter()
        .filter(|(code, _, _)| *code == "S004")
        .collect();
    assert_eq!(s004.len(), 1, "{s004:#?}");
    assert_eq!(s004[0].1, "hunter22");
    assert!(s004[0].2.contains("`base`"), "{s004:#?}");
}

#[test]
fn the_model_kept_for_the_editor_is_as_written() {
    let text =
        "services:\n  base:\n    image: nginx\n    ports: ['80']\n  web:\n    extends: base\n";
    let analysis = shared::analyze(text);
    let web = analysis.spec.service("web").unwrap();
    assert!(web.image.is_none() && web.ports.is_empty());
    let merged = analysis.spec.with_extends_merged().unwrap();
    let web = merged.service("web").unwrap();
    assert_eq!(web.image.as_ref().unwrap().value, "nginx");
    assert_eq!(web.ports.len(), 1);
    assert_eq!(web.merged_bases.len(), 1);
}

/// A planted URL password in a base, inherited by a chain of `children`
/// services (each extending the previous one, in either form).
fn chain_with_bad_base() -> impl Strategy<Value = (String, usize)> {
    (1usize..6, prop::collection::vec(any::<bool>(), 6)).prop_map(|(children, forms)| {
        let mut text =
            String::from("services:\n  s0:\n    image: nginx\n    environment:\n      - DB_URL=mysql://app:hunter22@db/app\n");
        for i in 1..=children {
            if forms[i - 1] {
                text.push_str(&format!("  s{i}:\n    extends: s{}\n", i - 1));
            } else {
                text.push_str(&format!(
                    "  s{i}:\n    extends:\n      service: s{}\n",
                    i - 1
                ));
            }
        }
        (text, children)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn a_base_token_is_reported_once_whatever_inherits_it((text, _children) in chain_with_bad_base()) {
        let s004: Vec<_> = codes(&text).into_iter().filter(|(code, _, _)| *code == "S004").collect();
        prop_assert_eq!(s004.len(), 1, "{}\n{:#?}", text, s004);
        prop_assert_eq!(s004[0].1.as_str(), "hunter22");
        prop_assert!(s004[0].2.contains("`s0`"), "{:#?}", s004);
    }
}

/// Options with the given other files.
fn with_files(files: &[(&str, &str)]) -> shared::Options {
    let mut options = shared::Options::default();
    for (path, text) in files {
        options.files.insert((*path).into(), (*text).into());
    }
    options
}

fn found(text: &str, options: &shared::Options) -> Vec<(&'static str, String, String)> {
    shared::analyze_with(text, options)
        .diagnostics
        .into_iter()
        .map(|d| {
            assert!(d.span.fits(text), "{d:?}");
            (d.code, text[d.span.start..d.span.end].to_owned(), d.message)
        })
        .collect()
}

const REPLICA: &str = "services:\n  replica:\n    extends:\n      file: common/db.yml\n      service: db\n    environment:\n      MYSQL_REPLICATION_MODE: slave\n";

#[test]
fn a_base_from_another_file_is_merged() {
    // Only the merged service runs MySQL (its image is in the other file):
    // a slave without a master host is found, on this file's token.
    let options = with_files(&[(
        "common/db.yml",
        "x-common: &common\n  restart: always\nservices:\n  db:\n    <<: *common\n    image: mysql:8.0\n    environment:\n      MYSQL_ROOT_PASSWORD_FILE: /run/secrets/root\n",
    )]);
    let all = found(REPLICA, &options);
    assert!(
        all.iter()
            .any(|(code, token, _)| *code == "M002" && token == "slave"),
        "{all:#?}"
    );
    // Without the file (the editor), the base is unknown: not judged.
    let alone = found(REPLICA, &shared::Options::default());
    assert!(
        !alone.iter().any(|(code, _, _)| *code == "M002"),
        "{alone:#?}"
    );
    // The model kept for the editor is the text as written.
    let analysis = shared::analyze_with(REPLICA, &options);
    assert!(analysis.spec.service("replica").unwrap().image.is_none());
}

#[test]
fn a_problem_in_the_base_is_one_finding_on_extends_naming_the_base() {
    let base = "services:\n  db:\n    image: nginx\n    ports:\n      - \"99999:80\"\n";
    let text = "services:\n  a:\n    extends:\n      file: common/db.yml\n      service: db\n  b:\n    extends:\n      file: common/db.yml\n      service: db\n";
    let all = found(text, &with_files(&[("common/db.yml", base)]));
    let c005: Vec<_> = all.iter().filter(|(code, _, _)| *code == "C005").collect();
    // One per extending service, each on its own `extends` key.
    assert_eq!(c005.len(), 2, "{all:#?}");
    for (_, token, message) in &c005 {
        assert_eq!(token, "extends");
        assert!(
            message.contains("from the base `db` in `common/db.yml` line 5"),
            "{message}"
        );
    }
}

#[test]
fn what_the_child_sets_wins_and_lists_merge_as_compose_does() {
    let base = "services:\n  db:\n    image: nginx\n    ports:\n      - \"99999:80\"\n    environment:\n      MODE: dev\n";
    // `!reset` drops the base's bad ports; the child's own port is judged
    // on its own token.
    let text = "services:\n  web:\n    extends:\n      file: db.yml\n      service: db\n    ports: !reset []\n";
    let all = found(text, &with_files(&[("db.yml", base)]));
    assert!(!all.iter().any(|(code, _, _)| *code == "C005"), "{all:#?}");
    let text = "services:\n  web:\n    extends:\n      file: db.yml\n      service: db\n    ports:\n      - \"70000:80\"\n";
    let all = found(text, &with_files(&[("db.yml", base)]));
    let c005: Vec<_> = all.iter().filter(|(code, _, _)| *code == "C005").collect();
    assert_eq!(c005.len(), 2, "{all:#?}");
    assert!(c005.iter().any(|(_, token, _)| token.contains("70000")));
    assert!(c005.iter().any(|(_, token, _)| token == "extends"));
}

#[test]
fn bases_that_cannot_be_followed_are_located_errors() {
    let c016 = |text: &str, options: &shared::Options| -> Vec<(String, String)> {
        found(text, options)
            .into_iter()
            .filter(|(code, _, _)| *code == "C016")
            .map(|(_, token, message)| (token, message))
            .collect()
    };
    // Unreadable (the caller says why).
    let mut options = shared::Options::default();
    options
        .unreadable
        .insert("common/db.yml".into(), "no such file".into());
    let found = c016(REPLICA, &options);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "common/db.yml");
    assert!(found[0]
        .1
        .contains("cannot read `common/db.yml`: no such file"));
    // A cycle across files (the nested path is relative to the base file).
    let options = with_files(&[
        (
            "common/db.yml",
            "services:\n  db:\n    extends:\n      file: more.yml\n      service: more\n",
        ),
        (
            "common/more.yml",
            "services:\n  more:\n    extends:\n      file: db.yml\n      service: db\n",
        ),
    ]);
    let found = c016(REPLICA, &options);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .1
            .contains("cycle: common/db.yml:db → common/more.yml:more → common/db.yml:db"),
        "{found:#?}"
    );
    // A deeper base the next file does not define.
    let options = with_files(&[("common/db.yml", "services:\n  db:\n    extends: nothere\n")]);
    let found = c016(REPLICA, &options);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].1.contains("does not define service `nothere`"));
    // A chain longer than the bound.
    let mut chain = String::from("services:\n");
    for i in 0..40 {
        chain.push_str(&format!("  s{i}:\n    extends: s{}\n", i + 1));
    }
    chain.push_str("  s40:\n    image: nginx\n");
    let text = "services:\n  web:\n    extends:\n      file: chain.yml\n      service: s0\n";
    let found = c016(text, &with_files(&[("chain.yml", &chain)]));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].1.contains("deeper than 16"), "{found:#?}");
}

#[test]
fn a_base_that_expands_past_the_bound_is_an_error_not_merged() {
    // Aliases nest to 100,000 strings (within the parser's expansion bound,
    // past the megabyte a merged base may take).
    let mut base = String::from("x-a: &a [");
    base.push_str(&["\"xxxxxxxxxxxxxxxxxxxx\""; 10].join(", "));
    base.push_str("]\n");
    for (name, prev) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d")] {
        base.push_str(&format!("x-{name}: &{name} ["));
        base.push_str(&vec![format!("*{prev}"); 10].join(", "));
        base.push_str("]\n");
    }
    base.push_str("services:\n  big:\n    image: nginx\n    command: *e\n");
    let text = "services:\n  web:\n    extends:\n      file: big.yml\n      service: big\n";
    let found = found(text, &with_files(&[("big.yml", &base)]));
    let c016: Vec<_> = found
        .iter()
        .filter(|(code, _, _)| *code == "C016")
        .collect();
    assert_eq!(c016.len(), 1, "{found:#?}");
    assert!(c016[0].2.contains("too large to merge"), "{found:#?}");
}
