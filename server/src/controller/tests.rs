//! Unit tests of the controller against the in-memory [`FakeEngine`]: the
//! real reconcile, lifecycle, endpoints (real loopback listeners) and SQLite
//! store, without Docker. Readiness is a real TCP connect to the fake's
//! published ports.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::diff::{diff, Action};
use super::{Controller, RuntimeSettings, Timeouts};
use crate::docker::fake::{FakeEngine, Op};
use crate::docker::{ContainerState, Engine, Observed, ObservedContainer};
use crate::plan::{DesiredStack, ImageMap};
use crate::proxy::Power;
use crate::store::{now_ms, DeploymentRecord, Desired, Status, Store};

/// Two autoscaled, auto-stopping TCP replicas (one warm spare) and a worker
/// without ports that starts after them.
const SPEC: &str = r#"services:
  Web:
    image: docker.io/library/nginx:1.27
    ports:
      - '8080'
    volumes:
      - ./data:/data
    x-omnistrate-compute:
      replicaCountAPIParam: numReplicas
    x-omnistrate-capabilities:
      autoscaling:
        minReplicas: 1
        maxReplicas: 3
        idleMinutesBeforeScalingDown: 3
        idleThreshold: 20
        overUtilizedMinutesBeforeScalingUp: 3
        overUtilizedThreshold: 60
      serverlessConfiguration:
        targetPort: 8080
        enableAutoStop: true
        minimumNodesInPool: 1
    x-omnistrate-api-params:
      - key: numReplicas
        description: Number of replicas
        name: Number of replicas
        type: Float64
        modifiable: true
        required: false
        export: true
        defaultValue: "2"
        limits:
          min: 1
          max: 3
  Worker:
    image: docker.io/library/busybox:1.36
    depends_on:
      - Web
"#;

const ID: &str = "d1";

struct Harness {
    ctl: Arc<Controller>,
    engine: Arc<FakeEngine>,
    store: Arc<Store>,
}

fn harness() -> Harness {
    harness_with(
        SPEC,
        RuntimeSettings {
            drain_timeout: Duration::from_millis(300),
            wake_timeout: Duration::from_secs(10),
            ..RuntimeSettings::default()
        },
    )
}

fn harness_with(spec: &str, settings: RuntimeSettings) -> Harness {
    let store = Arc::new(Store::in_memory().unwrap());
    let engine = Arc::new(FakeEngine::new());
    let mut ctl = Controller::with_settings(
        store.clone(),
        Some(engine.clone() as Arc<dyn Engine>),
        ImageMap::parse(&[]).unwrap(),
        settings,
    );
    ctl.timeouts = Timeouts {
        image_pull: Duration::from_secs(1),
        ready: Duration::from_secs(2),
        replication: Duration::from_secs(2),
    };
    let analysis = shared::analyze(spec);
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    let params = shared::params::resolve(&analysis.spec, &Default::default(), &mut |_| {
        "generated".into()
    })
    .unwrap();
    store.put_spec("s1", spec).unwrap();
    store
        .insert_deployment(&DeploymentRecord {
            id: ID.into(),
            spec_id: "s1".into(),
            params,
            desired: Desired::Running,
            status: Status::Provisioning,
            message: None,
            created_at: now_ms(),
            updated_at: now_ms(),
        })
        .unwrap();
    Harness {
        ctl: Arc::new(ctl),
        engine,
        store,
    }
}

impl Harness {
    fn record(&self) -> Option<DeploymentRecord> {
        self.store.get_deployment(ID).unwrap()
    }

    fn status(&self) -> Status {
        self.record().expect("record").status
    }

    fn stack(&self) -> Arc<DesiredStack> {
        self.ctl.stack(ID).expect("planned")
    }

    /// (kind, message) of every event so far.
    fn events(&self) -> Vec<(String, String)> {
        self.store
            .events_after(ID, 0)
            .unwrap()
            .into_iter()
            .map(|e| (e.kind.as_str().to_owned(), e.message))
            .collect()
    }

    fn statuses(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|(k, _)| k == "status")
            .map(|(_, m)| m)
            .collect()
    }

    fn has_event(&self, kind: &str, needle: &str) -> bool {
        self.events()
            .iter()
            .any(|(k, m)| k == kind && m.contains(needle))
    }

    /// Every planned serving container runs and every spare is created and
    /// stopped; nothing else exists.
    fn assert_converged(&self) {
        let stack = self.stack();
        let containers = self.engine.containers();
        for c in stack.active() {
            assert_eq!(
                self.engine.state_of(&c.name),
                Some(ContainerState::Running),
                "{} runs: {containers:?}",
                c.name
            );
            for v in &c.volumes {
                assert!(self.engine.volumes().contains(&v.name), "{}", v.name);
            }
        }
        for c in stack.spares() {
            assert_eq!(
                self.engine.state_of(&c.name),
                Some(ContainerState::Exited),
                "spare {} is warm: {containers:?}",
                c.name
            );
        }
        assert_eq!(containers.len(), stack.containers.len(), "{containers:?}");
        assert_eq!(self.engine.networks(), vec![stack.network.clone()]);
    }
}

fn names(stack: &DesiredStack, resource: &str) -> Vec<String> {
    stack
        .containers
        .iter()
        .filter(|c| c.resource == resource)
        .map(|c| c.name.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_converges_to_running_and_routes_its_replicas() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    // (the API announced `provisioning` when it stored the record)
    assert_eq!(h.statuses(), ["running"]);
    h.assert_converged();
    let stack = h.stack();
    // two serving replicas and one warm spare of Web, one worker
    assert_eq!(stack.active().filter(|c| c.resource == "Web").count(), 2);
    assert_eq!(stack.spares().count(), 1);
    let net = h.ctl.endpoints.net(ID);
    let routable: Vec<String> = net
        .backends()
        .into_iter()
        .filter(|(_, b)| b.routable)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        routable.len(),
        3,
        "Web replicas and the worker: {routable:?}"
    );
    assert_eq!(net.power(), Power::Awake);
    // the worker starts after Web
    let journal = h.engine.journal();
    let worker = names(&stack, "Worker")[0].clone();
    let first_web = journal
        .iter()
        .position(|j| j.starts_with("create ss-"))
        .unwrap();
    let worker_at = journal
        .iter()
        .position(|j| *j == format!("create {worker}"))
        .unwrap();
    assert!(first_web < worker_at, "{journal:?}");
    // a second reconcile changes nothing
    let before = h.engine.journal().len();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running);
    assert_eq!(h.engine.journal().len(), before, "{:?}", h.engine.journal());
}

/// Each operation of a clean reconcile, failed on each of its calls: the
/// step fails (or survives it), and the next one converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_each_engine_action_recovers_on_the_next_reconcile() {
    let clean = harness();
    clean.ctl.reconcile(ID).await;
    clean.assert_converged();
    let ops = [
        Op::Observe,
        Op::ImageExists,
        Op::EnsureNetwork,
        Op::EnsureVolume,
        Op::CreateContainer,
        Op::HostPorts,
        Op::ContainerState,
        Op::Stop,
    ];
    let mut cases = 0;
    for op in ops {
        let calls = clean.engine.calls(op);
        assert!(calls > 0, "{op:?} is called by a clean reconcile");
        for n in 1..=calls {
            let h = harness();
            h.engine.fail_nth(op, n);
            h.ctl.reconcile(ID).await;
            let first = h.status();
            h.ctl.reconcile(ID).await;
            assert_eq!(
                h.status(),
                Status::Running,
                "{op:?} failing on call {n} (first step: {first:?}): {:?}",
                h.events()
            );
            // a spare that failed is finished by the next step
            h.ctl.reconcile(ID).await;
            h.assert_converged();
            cases += 1;
        }
    }
    assert!(cases >= 10, "{cases}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_is_recorded_as_failed_with_its_error() {
    let h = harness();
    h.engine.fail_nth(Op::CreateContainer, 1);
    h.ctl.reconcile(ID).await;
    let rec = h.record().unwrap();
    assert_eq!(rec.status, Status::Failed);
    assert!(
        rec.message
            .as_deref()
            .unwrap_or("")
            .contains("injected failure"),
        "{rec:?}"
    );
    assert!(h.has_event("error", "injected failure"));
    assert_eq!(h.statuses().last().map(String::as_str), Some("failed"));
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running);
}

/// A compose key the engine does not apply is a located plan issue, once
/// per service (not per replica), for the API's plan and the reconcile's
/// alike: refused before anything is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_engine_does_not_apply_refuses_the_plan_by_name() {
    let spec = SPEC.replace(
        "    ports:\n      - '8080'\n",
        "    ports:\n      - '8080'\n    tmpfs: /run\n    user: '101'\n",
    );
    let h = harness_with(&spec, RuntimeSettings::default());
    h.engine.refuse_keys(&["tmpfs", "cap_add"]);
    let analysis = shared::analyze(&spec);
    let rec = h.record().unwrap();
    let issues = h.ctl.plan_request(&analysis, &rec.params, ID).unwrap_err();
    let found: Vec<(String, String)> = issues
        .iter()
        .map(|i| match i {
            crate::plan::PlanIssue::ComposeKey {
                service, key, path, ..
            } => (format!("{service}.{key}"), path.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(found, [("Web.tmpfs".into(), "/services/Web/tmpfs".into())]);
    assert_eq!(
        issues[0].message(),
        "Web: `tmpfs` is not applied by the fake engine; deploy this spec on the docker engine \
         or remove the key (at `/services/Web/tmpfs`)"
    );
    h.ctl.reconcile(ID).await;
    let rec = h.record().unwrap();
    assert_eq!(rec.status, Status::Failed);
    assert!(
        rec.message
            .as_deref()
            .unwrap_or("")
            .contains("`tmpfs` is not applied"),
        "{rec:?}"
    );
    assert_eq!(h.engine.calls(Op::CreateContainer), 0);
    assert!(h.engine.networks().is_empty() && h.engine.volumes().is_empty());
    // without the refusal, the same spec deploys
    h.engine.refuse_keys(&[]);
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashed_or_vanished_containers_are_repaired() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    let stack = h.stack();
    let web = names(&stack, "Web");
    h.engine.crash(&web[0]);
    h.engine.vanish(&web[1]);
    let observed = h.engine.observe(ID).await.unwrap();
    let d = diff(&stack, &observed);
    let broken: Vec<&str> = d.broken.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(broken, [web[0].as_str(), web[1].as_str()]);
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running);
    h.assert_converged();
    assert!(h.has_event("step", &format!("container {} started", web[0])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_up_uses_more_replicas_and_down_drains_the_last_one() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    h.store.set_replica_override(ID, "Web", 3).unwrap();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    let stack = h.stack();
    assert_eq!(stack.active().filter(|c| c.resource == "Web").count(), 3);
    h.assert_converged();
    let last = stack
        .active()
        .filter(|c| c.resource == "Web")
        .max_by_key(|c| c.replica)
        .unwrap()
        .name
        .clone();
    let net = h.ctl.endpoints.net(ID);
    assert!(net.backend(&last).is_some_and(|b| b.routable));
    // hold client connections on Web's endpoint (balanced over the replicas)
    let listener = net
        .listeners()
        .into_iter()
        .find(|l| l.spec.resource == "Web" && l.spec.replica.is_none())
        .expect("Web's endpoint");
    let mut clients = Vec::new();
    for _ in 0..6 {
        clients.push(
            tokio::net::TcpStream::connect(("127.0.0.1", listener.port))
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let held = net.backend_active(&last);
    h.store.set_replica_override(ID, "Web", 1).unwrap();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running);
    let stack = h.stack();
    assert_eq!(stack.active().filter(|c| c.resource == "Web").count(), 1);
    h.assert_converged();
    // the removed replica was drained (bounded) before it was removed
    if held > 0 {
        assert!(
            h.has_event("step", &format!("draining {last}")),
            "{:?}",
            h.events()
        );
    }
    let events = h.events();
    let removed = events
        .iter()
        .position(|(_, m)| *m == format!("container {last} removed"))
        .expect("removed");
    if let Some(drained) = events
        .iter()
        .position(|(_, m)| m.starts_with(&format!("draining {last}")))
    {
        assert!(drained < removed);
    }
    assert!(net.backend(&last).is_none());
    drop(clients);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_removal_during_a_scale_down_is_finished_by_the_next_step() {
    let h = harness();
    h.store.set_replica_override(ID, "Web", 3).unwrap();
    h.ctl.reconcile(ID).await;
    h.assert_converged();
    h.store.set_replica_override(ID, "Web", 1).unwrap();
    h.engine.fail_nth(Op::RemoveContainer, 1);
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Failed, "{:?}", h.events());
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    h.assert_converged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleep_keeps_the_warm_pool_and_volumes_and_a_client_wakes_it() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    let stack = h.stack();
    let volumes = h.engine.volumes();
    h.ctl.lifecycle(ID).go_to_sleep().unwrap();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Stopped, "{:?}", h.events());
    let net = h.ctl.endpoints.net(ID);
    assert_eq!(net.power(), Power::Asleep);
    // minimumNodesInPool (1) of Web and its spare stay created, stopped
    let web = names(&stack, "Web");
    assert_eq!(h.engine.state_of(&web[0]), Some(ContainerState::Exited));
    assert_eq!(h.engine.state_of(&web[1]), None, "removed");
    assert_eq!(h.engine.volumes(), volumes, "volumes are kept");
    assert!(h.has_event("step", "asleep:"));
    assert_eq!(h.statuses().last().map(String::as_str), Some("stopped"));
    // a client on the endpoint wakes it (held, then forwarded)
    let listener = net
        .listeners()
        .into_iter()
        .find(|l| l.spec.resource == "Web" && l.spec.replica.is_none())
        .expect("Web's endpoint");
    let _client = tokio::net::TcpStream::connect(("127.0.0.1", listener.port))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.status() != Status::Running || h.ctl.busy(ID) {
        assert!(std::time::Instant::now() < deadline, "{:?}", h.events());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(h.has_event("step", "waking: connection on endpoint"));
    assert!(h.has_event("step", "woke in"));
    assert_eq!(net.power(), Power::Awake);
    h.assert_converged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spare_that_fails_to_warm_up_is_reported_and_retried() {
    let h = harness();
    // the spare is the last container created
    let containers = 4;
    h.engine.fail_nth(Op::CreateContainer, containers);
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "the replicas serve on");
    assert!(h.has_event("error", "keeping a warm spare failed"));
    let spare = h.stack().spares().next().unwrap().name.clone();
    assert_eq!(h.engine.state_of(&spare), None);
    h.ctl.reconcile(ID).await;
    h.assert_converged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_removes_every_object_then_the_record() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    // the record's events go with it: listen to the stream
    let mut rx = h.ctl.hub.subscribe();
    h.ctl.lifecycle(ID).request_delete().unwrap();
    h.ctl.reconcile(ID).await;
    assert!(h.record().is_none());
    let mut statuses = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if e.kind == shared::wire::EventKind::Status {
            statuses.push(e.message);
        }
    }
    assert_eq!(statuses, ["deleting", "deleted"]);
    assert!(h.engine.containers().is_empty());
    assert!(h.engine.volumes().is_empty());
    assert!(h.engine.networks().is_empty());
    assert!(h.ctl.stack(ID).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_fails_with_the_build_hint() {
    let h = harness();
    h.engine.remove_image("docker.io/library/busybox:1.36");
    h.ctl.reconcile(ID).await;
    let rec = h.record().unwrap();
    assert_eq!(rec.status, Status::Failed);
    assert!(rec.message.unwrap().contains("images/mysql/build.sh"));
}

/// Every transition writes the store and announces itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lifecycle_transition_writes_the_store_and_emits_its_event() {
    let h = harness();
    let lc = h.ctl.lifecycle(ID);
    let net = h.ctl.endpoints.net(ID);
    let last = |h: &Harness| h.statuses().last().cloned();

    lc.provisioning().unwrap();
    assert_eq!(h.status(), Status::Provisioning);
    assert_eq!(last(&h).as_deref(), Some("provisioning"));

    lc.running(Some(Duration::from_millis(5))).unwrap();
    assert_eq!(h.status(), Status::Running);
    assert_eq!(net.power(), Power::Awake);
    assert!(h.has_event("step", "woke in 5 ms"));
    assert_eq!(last(&h).as_deref(), Some("running"));

    assert_eq!(lc.failed(Desired::Running, "boom").unwrap(), Status::Failed);
    let rec = h.record().unwrap();
    assert_eq!(
        (rec.status, rec.message.as_deref()),
        (Status::Failed, Some("boom"))
    );
    assert!(h.has_event("error", "boom"));
    assert_eq!(last(&h).as_deref(), Some("failed"));

    let n = h.events().len();
    lc.degraded("lost", true).unwrap();
    assert_eq!(h.status(), Status::Degraded);
    assert_eq!(last(&h).as_deref(), Some("degraded"));
    lc.degraded("lost", false).unwrap();
    assert_eq!(
        h.events().len(),
        n + 2,
        "a repeated reason is not announced"
    );

    lc.go_to_sleep().unwrap();
    assert_eq!(h.record().unwrap().desired, Desired::Stopped);
    assert_eq!(net.power(), Power::Stopping);

    lc.stop_routing();
    lc.stopping(Status::Running, true).unwrap();
    assert_eq!(h.status(), Status::Stopping);
    assert_eq!(last(&h).as_deref(), Some("stopping"));

    assert!(lc.stopped(Status::Stopping).unwrap());
    assert_eq!(h.status(), Status::Stopped);
    assert_eq!(net.power(), Power::Asleep);
    lc.announce_stopped();
    assert_eq!(last(&h).as_deref(), Some("stopped"));
    assert!(!lc.stopped(Status::Stopped).unwrap(), "no news");

    lc.begin_wake();
    assert_eq!(net.power(), Power::Waking);
    net.set_power(Power::Asleep);
    lc.waking("a client").unwrap();
    let rec = h.record().unwrap();
    assert_eq!(
        (rec.desired, rec.status),
        (Desired::Running, Status::Waking)
    );
    assert_eq!(net.power(), Power::Waking);
    assert_eq!(last(&h).as_deref(), Some("waking"));

    lc.request_delete().unwrap();
    let rec = h.record().unwrap();
    assert_eq!(
        (rec.desired, rec.status),
        (Desired::Deleted, Status::Deleting)
    );
    assert_eq!(
        lc.failed(Desired::Deleted, "docker down").unwrap(),
        Status::Deleting,
        "a failed deletion stays deleting"
    );
    lc.deleting(Status::Deleting).unwrap();
    assert_eq!(last(&h).as_deref(), Some("deleting"));
    lc.deleted().unwrap();
    assert!(h.record().is_none());
    assert!(h.ctl.endpoints.get(ID).is_none());
}

fn web_endpoint(h: &Harness) -> u16 {
    h.ctl
        .endpoints
        .net(ID)
        .listeners()
        .into_iter()
        .find(|l| l.spec.resource == "Web" && l.spec.replica.is_none())
        .expect("Web's endpoint")
        .port
}

async fn wait_for(h: &Harness, status: Status) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.status() != status || h.ctl.busy(ID) {
        assert!(
            std::time::Instant::now() < deadline,
            "never {status:?}: {:?}",
            h.events()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_deployment_is_frozen_and_a_client_thaws_it() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    let stack = h.stack();
    h.ctl.lifecycle(ID).go_to_pause().unwrap();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Paused, "{:?}", h.events());
    let net = h.ctl.endpoints.net(ID);
    assert_eq!(net.power(), Power::Paused);
    for c in stack.active() {
        assert_eq!(h.engine.state_of(&c.name), Some(ContainerState::Paused));
    }
    assert!(net.backends().values().all(|b| !b.routable));
    assert!(h.has_event("step", "paused: 3 container(s) frozen"));
    assert_eq!(h.statuses().last().map(String::as_str), Some("paused"));
    // a client is held, the deployment thawed (not re-created)
    let created = h.engine.calls(Op::CreateContainer);
    let _client = tokio::net::TcpStream::connect(("127.0.0.1", web_endpoint(&h)))
        .await
        .unwrap();
    wait_for(&h, Status::Running).await;
    assert_eq!(h.engine.calls(Op::CreateContainer), created);
    assert_eq!(h.engine.calls(Op::Unpause), 3);
    assert!(h.has_event("step", "woke in"));
    h.assert_converged();
}

/// A client arriving after the pause was decided, around the time the
/// containers freeze, is held, not refused: it wakes the deployment and is
/// then forwarded (its connection stays open). The pause runs through the
/// reconcile queue as the idle loop's does (one step at a time); the
/// interleavings that matter are pinned by the two tests after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_connecting_while_pausing_is_held_then_served() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    h.ctl.lifecycle(ID).go_to_pause().unwrap();
    h.ctl.kick(ID);
    let _client = client_with_a_byte(&h).await;
    wait_spliced(&h).await;
    wait_for(&h, Status::Running).await;
    assert_eq!(h.ctl.endpoints.net(ID).power(), Power::Awake);
    h.assert_converged();
}

/// Pause through the queue with the `n`th `docker pause` held; a client
/// arrives while it is held and its wake is queued; then the pause goes on.
async fn a_client_during_the_nth_freeze(h: &Harness, n: u32) -> tokio::net::TcpStream {
    h.ctl.reconcile(ID).await;
    let hold = h.engine.hold_nth(Op::Pause, n);
    h.ctl.lifecycle(ID).go_to_pause().unwrap();
    h.ctl.kick(ID);
    hold.entered().await;
    let client = client_with_a_byte(h).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !h.ctl.with_runtime(ID, |rt| rt.again) {
        assert!(
            std::time::Instant::now() < deadline,
            "no wake queued: {:?}",
            h.events()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.status(), Status::Waking, "{:?}", h.events());
    hold.release();
    client
}

/// A client on the endpoint while the first service (the worker, replicas
/// before masters) freezes: the pause freezes nothing more, the wake thaws
/// the one frozen container and the client is served; the status goes
/// `waking` → `running`, never back to `paused`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_during_the_first_freeze_stops_the_pause() {
    let h = harness();
    let _client = a_client_during_the_nth_freeze(&h, 1).await;
    wait_spliced(&h).await;
    wait_for(&h, Status::Running).await;
    assert_eq!(h.engine.calls(Op::Pause), 1, "{:?}", h.engine.containers());
    assert_eq!(h.engine.calls(Op::Unpause), 1);
    assert_eq!(h.statuses(), ["running", "waking", "running"]);
    assert!(h.has_event("step", "woke in"), "{:?}", h.events());
    assert_eq!(h.ctl.endpoints.net(ID).power(), Power::Awake);
    h.assert_converged();
}

/// A client on the endpoint while the last service (Web) freezes: every
/// container froze, but the deployment is never called `paused` after the
/// client's `waking` (the pause step's status write loses to the wake's),
/// and the wake thaws them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_during_the_last_freeze_is_not_overwritten_by_paused() {
    let h = harness();
    let _client = a_client_during_the_nth_freeze(&h, 2).await;
    wait_spliced(&h).await;
    wait_for(&h, Status::Running).await;
    assert_eq!(h.engine.calls(Op::Pause), 3);
    assert_eq!(h.engine.calls(Op::Unpause), 3);
    assert_eq!(h.statuses(), ["running", "waking", "running"]);
    assert!(h.has_event("step", "woke in"), "{:?}", h.events());
    assert_eq!(h.ctl.endpoints.net(ID).power(), Power::Awake);
    h.assert_converged();
}

/// A client on the Web endpoint that sends one byte: its byte reaches a
/// backend only once the client is routed (spliced).
async fn client_with_a_byte(h: &Harness) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut client = tokio::net::TcpStream::connect(("127.0.0.1", web_endpoint(h)))
        .await
        .unwrap();
    client.write_all(b"x").await.unwrap();
    client
}

/// The byte the client sent reached a backend (bounded wait).
async fn wait_spliced(h: &Harness) {
    let net = h.ctl.endpoints.net(ID);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !net
        .listeners()
        .iter()
        .any(|l| l.spec.resource == "Web" && l.bytes_in.load(Ordering::Relaxed) == 1)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the held client was never routed: {:?}",
            h.events()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The fast wake from the paused tier: the containers are unpaused and the
/// held client routed as soon as their sockets answer, `running` through
/// the lifecycle (with `woke in`), before any reconcile looks at the engine:
/// here the reconcile that follows fails its first look, and the client
/// was served all the same. The next reconcile converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_deployment_thaws_on_the_fast_path() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    h.ctl.lifecycle(ID).go_to_pause().unwrap();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Paused, "{:?}", h.events());
    let observes = h.engine.calls(Op::Observe);
    let probes = h.engine.calls(Op::ContainerState);
    h.engine.fail_nth(Op::Observe, 1);
    let _client = client_with_a_byte(&h).await;
    wait_spliced(&h).await;
    wait_for(&h, Status::Failed).await;
    // thawed and routed without a readiness gate; the only look at the
    // engine since was the follow-up's (failed) one
    assert_eq!(h.engine.calls(Op::Unpause), 3);
    assert_eq!(h.engine.calls(Op::ContainerState), probes);
    assert_eq!(h.engine.calls(Op::Observe), observes + 1);
    assert!(h.has_event("step", "woke in"), "{:?}", h.events());
    let statuses = h.statuses();
    let paused = statuses.iter().rposition(|s| s == "paused").unwrap();
    assert_eq!(
        &statuses[paused..],
        ["paused", "waking", "running", "failed"],
        "{statuses:?}"
    );
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    assert_eq!(h.ctl.endpoints.net(ID).power(), Power::Awake);
    h.assert_converged();
}

/// A container that is not as the pause left it (it died while frozen):
/// the fast path gives way and the normal reconcile wakes the deployment
/// (the dead one started again), then serves the held client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thaw_that_finds_a_dead_container_falls_back_to_the_reconcile() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    h.ctl.lifecycle(ID).go_to_pause().unwrap();
    h.ctl.reconcile(ID).await;
    let web = names(&h.stack(), "Web");
    h.engine.crash(&web[0]);
    let starts = h.engine.calls(Op::Start);
    let _client = client_with_a_byte(&h).await;
    wait_spliced(&h).await;
    wait_for(&h, Status::Running).await;
    assert_eq!(h.engine.calls(Op::Start), starts + 1);
    assert!(h.has_event("step", "woke in"), "{:?}", h.events());
    let statuses = h.statuses();
    let paused = statuses.iter().rposition(|s| s == "paused").unwrap();
    assert_eq!(
        &statuses[paused..],
        ["paused", "waking", "running"],
        "{statuses:?}"
    );
    h.assert_converged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_deployment_still_idle_goes_to_sleep() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    h.ctl.lifecycle(ID).go_to_pause().unwrap();
    h.ctl.reconcile(ID).await;
    h.ctl.lifecycle(ID).go_to_sleep().unwrap();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Stopped, "{:?}", h.events());
    let web = names(&h.stack(), "Web");
    assert_eq!(h.engine.state_of(&web[0]), Some(ContainerState::Exited));
    assert_eq!(h.engine.state_of(&web[1]), None);
    assert!(h.has_event("step", "asleep: 3 container(s) stopped"));
}

/// The idle loop: paused after `idle_pause_after`, stopped after
/// `idle_stop_after`, no client in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_loop_pauses_then_stops() {
    let spec = SPEC.split("  Worker:").next().unwrap();
    let h = harness_with(
        spec,
        RuntimeSettings {
            idle_pause_after: Some(Duration::from_millis(300)),
            idle_stop_after: Duration::from_millis(1500),
            ..RuntimeSettings::default()
        },
    );
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running);
    h.ctl.spawn_idle_stopper();
    wait_for(&h, Status::Paused).await;
    assert!(h.has_event("step", "auto-pause: no client connection"));
    assert_eq!(h.ctl.counters.pauses.load(Ordering::Relaxed), 1);
    wait_for(&h, Status::Stopped).await;
    assert!(h.has_event("step", "auto-stop: no client connection"));
    let statuses = h.statuses();
    let paused = statuses.iter().position(|s| s == "paused").unwrap();
    let stopped = statuses.iter().position(|s| s == "stopped").unwrap();
    assert!(paused < stopped, "{statuses:?}");
}

fn observed(name: &str, hash: &str, state: &str) -> ObservedContainer {
    ObservedContainer {
        id: format!("id-{name}"),
        name: name.into(),
        resource: "Web".into(),
        replica: 0,
        state: state.into(),
        config_hash: hash.into(),
        ports: [(8080, 40000)].into_iter().collect(),
        node: None,
        zone: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diff_creates_replaces_starts_and_removes() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    let stack = h.stack();
    let web = names(&stack, "Web");
    let worker = names(&stack, "Worker")[0].clone();
    let hash = |n: &str| {
        stack
            .containers
            .iter()
            .find(|c| c.name == n)
            .unwrap()
            .config_hash
            .clone()
    };
    // nothing exists: create every serving container (not the spare)
    let empty = Observed::default();
    let d = diff(&stack, &empty);
    assert!(d.network_missing);
    assert_eq!(d.todo.len(), 3);
    assert!(d.todo.iter().all(|(_, a)| *a == Action::Create));
    assert!(d.extra.is_empty() && d.retired_volumes.is_empty());
    // one stale, one stopped, one as planned, one left over with a volume
    let o = Observed {
        containers: vec![
            observed(&web[0], "old", "running"),
            observed(&web[1], &hash(&web[1]), "exited"),
            observed(&worker, &hash(&worker), "running"),
            observed("ss-d1-web-9", "x", "running"),
        ],
        networks: vec![stack.network.clone()],
        volumes: vec!["ss-d1-web-9-0".into(), "orphan-volume".into()],
    };
    let d = diff(&stack, &o);
    assert!(!d.network_missing && !d.is_empty());
    let todo: Vec<(&str, &Action)> = d.todo.iter().map(|(c, a)| (c.name.as_str(), a)).collect();
    assert_eq!(
        todo,
        [
            (
                web[0].as_str(),
                &Action::Recreate([(8080, 40000)].into_iter().collect())
            ),
            (web[1].as_str(), &Action::Start),
        ]
    );
    assert_eq!(d.extra.len(), 1);
    // the left-over replica's volume goes; a name the plan never makes stays
    assert_eq!(d.retired_volumes, ["ss-d1-web-9-0"]);
    let broken: Vec<&str> = d.broken.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(broken, [web[1].as_str()], "stale but running is not broken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_replica_on_a_down_node_degrades_without_a_re_create_until_the_node_is_back() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    let name = h.stack().active().next().expect("a container").name.clone();
    h.engine.lose_node("node-2", &name);
    let creates = h.engine.calls(Op::CreateContainer);
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Degraded, "{:?}", h.events());
    let rec = h.record().unwrap();
    let (message, lost) = (
        rec.message.unwrap_or_default(),
        format!("{name} on node node-2"),
    );
    assert!(
        message.contains(&lost) && message.contains("no automatic promotion"),
        "{message}"
    );
    assert!(h.has_event("error", "node-2"), "{:?}", h.events());
    assert_eq!(
        h.engine.calls(Op::CreateContainer),
        creates,
        "not re-created elsewhere (its data is on the down node)"
    );
    assert_eq!(h.engine.state_of(&name), Some(ContainerState::Exited));
    // the same loss seen again: no second event
    let seen = h.events().len();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Degraded);
    assert_eq!(h.events().len(), seen, "{:?}", h.events());
    // the node is back: the same container starts again (its data with it)
    h.engine.node_back();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    assert_eq!(h.engine.calls(Op::CreateContainer), creates);
    h.assert_converged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoscaling_is_disabled_with_an_event_while_cpu_cannot_be_read() {
    let h = harness_with(
        SPEC,
        RuntimeSettings {
            autoscale_minute: Duration::from_secs(2),
            ..RuntimeSettings::default()
        },
    );
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    h.ctl.spawn_autoscaler();
    h.engine.break_usage(Some(
        "swarm node `swarm-node2` gave no CPU sample: connection refused",
    ));
    let within = |needle: &'static str| {
        let h = &h;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !h.has_event("step", needle) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no `{needle}` event: {:?}",
                    h.events()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    within("autoscaling disabled: CPU cannot be read").await;
    assert!(h.has_event("step", "swarm-node2"), "{:?}", h.events());
    // said once, not at every tick
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let disabled = h
        .events()
        .iter()
        .filter(|(_, m)| m.starts_with("autoscaling disabled"))
        .count();
    assert_eq!(disabled, 1, "{:?}", h.events());
    h.engine.break_usage(None);
    within("autoscaling enabled again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_repairs_a_step_that_failed_on_a_lost_node() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    assert_eq!(h.status(), Status::Running, "{:?}", h.events());
    let name = h.stack().active().next().expect("a container").name.clone();
    // the node went down under a step, which then failed (its readiness
    // wait ran out): the watch does not leave it `failed`
    h.engine.lose_node("node-3", &name);
    h.store
        .set_status(ID, Status::Failed, Some("not ready in time"))
        .unwrap();
    h.ctl.spawn_watch(Duration::from_millis(100));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.status() != Status::Degraded {
        assert!(
            std::time::Instant::now() < deadline,
            "still {:?}: {:?}",
            h.status(),
            h.events()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(h.has_event("error", "node-3"), "{:?}", h.events());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharer_of_a_renewed_network_namespace_is_replaced_after_it() {
    let h = harness();
    h.ctl.reconcile(ID).await;
    let mut stack = (*h.stack()).clone();
    let web = names(&stack, "Web");
    let worker = names(&stack, "Worker")[0].clone();
    // the worker shares Web #0's namespace (`network_mode: service:Web`)
    for c in &mut stack.containers {
        if c.name == worker {
            c.network_of = Some(web[0].clone());
        }
    }
    let hash = |n: &str| {
        let c = stack.containers.iter().find(|c| c.name == n).unwrap();
        c.config_hash.clone()
    };
    let with_web0 = |state: &str| Observed {
        containers: vec![
            observed(&web[0], &hash(&web[0]), state),
            observed(&web[1], &hash(&web[1]), "running"),
            observed(&worker, &hash(&worker), "running"),
        ],
        networks: vec![stack.network.clone()],
        volumes: vec![],
    };
    // Web #0 as planned: the worker keeps its namespace
    assert!(diff(&stack, &with_web0("running")).todo.is_empty());
    // Web #0 restarts (crashed): a new namespace, so the worker is replaced after it
    let o = with_web0("exited");
    let d = diff(&stack, &o);
    let todo: Vec<(&str, &Action)> = d.todo.iter().map(|(c, a)| (c.name.as_str(), a)).collect();
    assert_eq!(
        todo,
        [
            (web[0].as_str(), &Action::Start),
            (
                worker.as_str(),
                &Action::Recreate([(8080, 40000)].into_iter().collect())
            ),
        ]
    );
    // a sharer of an unchanged container is left alone
    for c in &mut stack.containers {
        if c.name == worker {
            c.network_of = Some(web[1].clone());
        }
    }
    assert_eq!(diff(&stack, &o).todo.len(), 1);
}

mod scale_down;
