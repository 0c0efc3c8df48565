//! A scale-down interrupted between removing a replica's container and its
//! volume (a crash, a failed call): the next step removes the volume, and a
//! replica re-created before that starts on a fresh one, never on the data
//! the user asked to drop.

use super::*;

/// Web at 3 replicas (no spare: 3 is its maximum), converged; then the
/// record asks for 1 (Web-1 becomes the warm spare, Web-2 goes) and the
/// step stops after removing Web-2's container, before its volume.
async fn interrupted_scale_down() -> (Harness, String) {
    let h = harness();
    h.store.set_replica_override(ID, "Web", 3).unwrap();
    h.ctl.reconcile(ID).await;
    h.assert_converged();
    let web2 = names(&h.stack(), "Web")[2].clone();
    let volume = h.stack().containers[2].volumes[0].name.clone();
    assert!(volume.contains("-2-"), "{volume}");
    h.store.set_replica_override(ID, "Web", 1).unwrap();
    h.engine.fail_nth(Op::RemoveVolume, 1);
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Failed, "{:?}", h.events());
    assert_eq!(h.engine.state_of(&web2), None, "its container went");
    assert!(h.engine.volumes().contains(&volume), "its volume stayed");
    (h, volume)
}

/// The server restarted: a new controller on the same store and engine.
fn restarted(h: &Harness) -> Arc<Controller> {
    let mut ctl = Controller::with_settings(
        h.store.clone(),
        Some(h.engine.clone() as Arc<dyn Engine>),
        ImageMap::parse(&[]).unwrap(),
        h.ctl.settings.clone(),
    );
    ctl.timeouts = h.ctl.timeouts;
    Arc::new(ctl)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_volume_a_crash_left_behind_a_scale_down_is_removed_by_the_next_step() {
    let (h, volume) = interrupted_scale_down().await;
    let ctl = restarted(&h);
    ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    assert!(
        !h.engine.volumes().contains(&volume),
        "left: {:?}",
        h.engine.volumes()
    );
    assert!(h.has_event("step", &format!("volume {volume} removed")));
    assert!(h.store.retired_volumes(ID).unwrap().is_empty());
    // every other volume is planned (the spare's and Web-0's kept)
    let stack = ctl.stack(ID).unwrap();
    let planned: Vec<String> = stack
        .containers
        .iter()
        .flat_map(|c| c.volumes.iter().map(|v| v.name.clone()))
        .collect();
    assert_eq!(h.engine.volumes(), planned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_scaled_back_up_after_such_a_crash_starts_on_a_fresh_volume() {
    let (h, volume) = interrupted_scale_down().await;
    // the user scales up again before any step ran after the restart
    h.store.set_replica_override(ID, "Web", 3).unwrap();
    let ctl = restarted(&h);
    ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    let journal = h.engine.journal();
    let removed = journal
        .iter()
        .position(|j| *j == format!("remove volume {volume}"))
        .unwrap_or_else(|| panic!("the stale volume was reused: {journal:?}"));
    let created = journal
        .iter()
        .rposition(|j| *j == format!("volume {volume}"))
        .expect("created");
    assert!(removed < created, "{journal:?}");
    assert!(h.engine.volumes().contains(&volume));
    assert!(h.store.retired_volumes(ID).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scale_down_undone_before_its_container_went_keeps_the_replica_data() {
    let h = harness();
    h.store.set_replica_override(ID, "Web", 3).unwrap();
    h.ctl.reconcile(ID).await;
    h.store.set_replica_override(ID, "Web", 1).unwrap();
    h.engine.fail_nth(Op::RemoveContainer, 1);
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Failed, "{:?}", h.events());
    let volume = h.stack().containers[0].volumes[0]
        .name
        .replace("-0-", "-2-");
    assert_eq!(
        h.store
            .retired_volumes(ID)
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        [volume],
        "the intent was recorded before anything was removed"
    );
    h.store.set_replica_override(ID, "Web", 3).unwrap();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    h.assert_converged();
    assert!(
        !h.engine
            .journal()
            .iter()
            .any(|j| j.starts_with("remove volume")),
        "{:?}",
        h.engine.journal()
    );
    assert!(h.store.retired_volumes(ID).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diff_retires_only_volumes_of_replicas_past_the_plan() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    let stack = h.stack();
    let web0 = stack.containers[0].volumes[0].name.clone();
    let named = |r: &str| web0.replace("-0-", r);
    let volumes = vec![
        web0.clone(),
        // Web plans 2 replicas and 1 spare: index 3 and up were scaled away
        named("-3-"),
        named("-12-"),
        // a planned spare's, and names the plan never makes: a mount Web
        // does not have, a service without volumes, not our pattern
        named("-2-"),
        named("-4-").replace("-4-0", "-4-7"),
        format!("ss-{ID}-worker-5-0"),
        format!("ss-{ID}-web-x-0"),
        format!("ss-{ID}-web-3"),
        format!("ss-{ID}-web-3-0-1"),
        "ss-other-web-3-0".into(),
        "someone-elses".into(),
    ];
    let observed = Observed {
        networks: vec![stack.network.clone()],
        volumes,
        ..Observed::default()
    };
    let d = diff(&stack, &observed);
    assert_eq!(d.retired_volumes, [named("-3-"), named("-12-")]);
}
