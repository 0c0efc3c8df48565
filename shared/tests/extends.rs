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
