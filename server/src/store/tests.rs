//! The store against real SQLite files.
use super::*;

fn record(id: &str) -> DeploymentRecord {
    DeploymentRecord {
        id: id.into(),
        spec_id: "s".into(),
        params: ResolvedParams { params: Vec::new() },
        desired: Desired::Running,
        status: Status::Provisioning,
        message: None,
        created_at: 0,
        updated_at: 0,
    }
}

#[test]
fn events_are_bounded_per_deployment_and_deleted_with_it() {
    let store = Store::in_memory().unwrap();
    store.insert_deployment(&record("da")).unwrap();
    store.insert_deployment(&record("db")).unwrap();
    for i in 0..25 {
        store
            .add_event_bounded("da", "log", &format!("a{i}"), 10)
            .unwrap();
        if i < 3 {
            store.add_event_bounded("db", "log", "b", 10).unwrap();
        }
    }
    // the newest 10 of `da` are kept, in order; `db` is untouched
    let kept: Vec<String> = store
        .events_after("da", 0)
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect();
    let want: Vec<String> = (15..25).map(|i| format!("a{i}")).collect();
    assert_eq!(kept, want);
    assert_eq!(store.event_count("db").unwrap(), 3);
    // the default bound is the documented constant
    for i in 0..(MAX_EVENTS_PER_DEPLOYMENT + 5) {
        store.add_event("db", "log", &i.to_string()).unwrap();
    }
    assert_eq!(store.event_count("db").unwrap(), MAX_EVENTS_PER_DEPLOYMENT);
    let last = store.events_after("db", 0).unwrap().pop().unwrap();
    assert_eq!(last.message, (MAX_EVENTS_PER_DEPLOYMENT + 4).to_string());
    // a completed deletion removes the deployment's events, not others'
    store.delete_deployment("da").unwrap();
    assert_eq!(store.event_count("da").unwrap(), 0);
    assert_eq!(store.event_count("db").unwrap(), MAX_EVENTS_PER_DEPLOYMENT);
}

#[test]
fn a_removed_or_replaced_database_file_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    store.put_spec("a", "x").unwrap();
    assert!(!store.is_lost());
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(store.put_spec("b", "y"), Err(StoreError::Lost(_))));
    assert!(store.is_lost());
    // replaced by another file (same path, another inode)
    let path2 = dir.path().join("t.db");
    let store2 = Store::open(&path2).unwrap();
    store2.insert_deployment(&record("d1")).unwrap();
    std::fs::write(dir.path().join("other.db"), b"").unwrap();
    std::fs::rename(dir.path().join("other.db"), &path2).unwrap();
    let err = store2.set_status("d1", Status::Running, None).unwrap_err();
    assert!(
        err.to_string().contains("vanished or was replaced"),
        "{err}"
    );
    // once lost, always lost (even if the file comes back)
    assert!(store2.add_event("d1", "step", "x").is_err());
    // volumes known to hold data
    let store3 = Store::open(&dir.path().join("u.db")).unwrap();
    store3.add_data_volumes("d", &["v1", "v2"]).unwrap();
    store3.forget_data_volume("d", "v1").unwrap();
    assert_eq!(store3.data_volumes("d").unwrap().len(), 1);
}

#[test]
fn events_of_deleted_deployments_are_dropped_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let store = Store::open(&path).unwrap();
        store.insert_deployment(&record("dkeep")).unwrap();
        store.add_event("dkeep", "step", "kept").unwrap();
        store.insert_deployment(&record("dgone")).unwrap();
        store.delete_deployment("dgone").unwrap();
        // a late log line after the deletion completed
        store.add_event("dgone", "log", "late").unwrap();
        assert_eq!(store.event_count("dgone").unwrap(), 1);
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.event_count("dgone").unwrap(), 0);
    assert_eq!(store.event_count("dkeep").unwrap(), 1);
}

/// Every literal kind the server's sources pass to the event hub's
/// `emit` / `record` is an [`EventKind`] name: the page listens for
/// exactly those.
#[test]
fn every_emitted_event_kind_is_an_event_kind() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut seen = std::collections::BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // (spelt so that this line is no match itself)
        for call in [concat!("emit", "("), concat!("record", "(")] {
            for (at, _) in text.match_indices(call) {
                let rest = &text[at + call.len()..];
                let Some(comma) = rest.find(',') else {
                    continue;
                };
                let arg = rest[comma + 1..].trim_start();
                let Some(lit) = arg.strip_prefix('"') else {
                    continue;
                };
                let name = &lit[..lit.find('"').unwrap()];
                assert!(
                    EventKind::from_name(name).is_some(),
                    "{}: event kind `{name}` is not an EventKind",
                    f.display()
                );
                seen.insert(name.to_owned());
            }
        }
    }
    // the scan finds the emitters (it would pass vacuously otherwise)
    assert!(seen.len() >= 3, "{seen:?}");
}

#[test]
fn retired_volume_marks_survive_a_reopen_and_go_with_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    {
        let store = Store::open(&path).unwrap();
        store.insert_deployment(&record("d1")).unwrap();
        store.retire_volumes("d1", &["v1", "v2", "v1"]).unwrap();
        store.unretire_volume("d1", "v2").unwrap();
    }
    // the intent outlives the process
    let store = Store::open(&path).unwrap();
    let marked: Vec<String> = store.retired_volumes("d1").unwrap().into_iter().collect();
    assert_eq!(marked, ["v1"]);
    assert!(store.retired_volumes("d2").unwrap().is_empty());
    store.delete_deployment("d1").unwrap();
    assert!(store.retired_volumes("d1").unwrap().is_empty());
}
