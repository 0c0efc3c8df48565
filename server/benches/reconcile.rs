//! What one reconcile step and one plan of a stored record cost, against the
//! in-memory fake engine (real store, real loopback readiness probes): the
//! step every repair, wake and `PATCH` runs, and the plan every
//! `GET /api/deployments/{id}` makes.
//!
//! `cargo bench -p specstudio --bench reconcile` (figures in BENCHMARKS.md).

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use specstudio::controller::Controller;
use specstudio::docker::fake::FakeEngine;
use specstudio::docker::Engine;
use specstudio::plan::ImageMap;
use specstudio::store::{now_ms, DeploymentRecord, Desired, Status, Store};

/// A spec of the seed's shape: a primary and an autoscaled replica service
/// with API params, instance types, templates, volumes and a passive
/// parameter group — without ports: the fake's listeners never accept, so
/// thousands of readiness connects would fill their backlogs (a running
/// container without a port is ready as it runs); then `groups` more passive parameter groups (a large spec whose
/// analysis costs more, the containers the same).
fn spec(groups: usize) -> String {
    let mut s = String::from("x-omnistrate-integrations:\n  - omnistrateLogging\nservices:\n");
    for (name, replicas) in [("Primary", false), ("Reader", true)] {
        s.push_str(&format!(
            "  {name}:\n    image: docker.io/library/nginx:1.27\n    volumes:\n      - ./data:/data\n    environment:\n      - MODE={name}\n      - USER=$parameterGroup.var.user\n    x-omnistrate-compute:\n"
        ));
        if replicas {
            s.push_str("      replicaCountAPIParam: numReplicas\n");
        }
        s.push_str(&format!(
            "      instanceTypes:\n        - cloudProvider: aws\n          apiParam: {name}Type\n    x-omnistrate-capabilities:\n"
        ));
        if replicas {
            s.push_str("      enableMultiZone: true\n      autoscaling:\n        minReplicas: 1\n        maxReplicas: 4\n        idleMinutesBeforeScalingDown: 2\n        idleThreshold: 20\n        overUtilizedMinutesBeforeScalingUp: 3\n        overUtilizedThreshold: 80\n");
        }
        s.push_str(&format!(
            "    x-omnistrate-api-params:\n      - key: {name}Type\n        description: Instance type\n        name: Instance type\n        type: String\n        modifiable: true\n        required: false\n        export: true\n        defaultValue: t3.small\n      - key: parameterGroupId\n        description: Configuration\n        name: Parameter Group Id\n        dependentResourceKey: ParameterGroup\n        type: Resource\n        modifiable: true\n        required: true\n        export: true\n"
        ));
        if replicas {
            s.push_str("      - key: numReplicas\n        description: Replicas\n        name: Replicas\n        type: Float64\n        modifiable: true\n        required: false\n        export: true\n        defaultValue: \"2\"\n        limits:\n          min: 1\n          max: 4\n");
        }
    }
    s.push_str("  ParameterGroup:\n    image: omnistrate/noop\n    x-omnistrate-api-params:\n      - key: user\n        description: User\n        name: User\n        type: String\n        modifiable: false\n        required: false\n        export: true\n        defaultValue: app\n");
    for g in 0..groups {
        s.push_str(&format!(
            "  Group{g}:\n    image: omnistrate/noop\n    x-omnistrate-api-params:\n"
        ));
        for k in 0..4 {
            s.push_str(&format!(
                "      - key: g{g}k{k}\n        description: Setting {k}\n        name: Setting {k}\n        type: String\n        modifiable: true\n        required: false\n        export: true\n        defaultValue: v{k}\n"
            ));
        }
    }
    s
}

fn converged(rt: &tokio::runtime::Runtime, groups: usize) -> (Arc<Controller>, DeploymentRecord) {
    let text = spec(groups);
    let analysis = shared::analyze(&text);
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    let params = shared::params::resolve(&analysis.spec, &Default::default(), &mut |_| {
        "generated".into()
    })
    .unwrap();
    let store = Arc::new(Store::in_memory().unwrap());
    store.put_spec("s1", &text).unwrap();
    let rec = DeploymentRecord {
        id: "d1".into(),
        spec_id: "s1".into(),
        params,
        desired: Desired::Running,
        status: Status::Provisioning,
        message: None,
        created_at: now_ms(),
        updated_at: now_ms(),
    };
    store.insert_deployment(&rec).unwrap();
    let engine: Arc<dyn Engine> = Arc::new(FakeEngine::new());
    let ctl = Arc::new(Controller::new(
        store.clone(),
        Some(engine),
        ImageMap::parse(&[]).unwrap(),
    ));
    rt.block_on(ctl.reconcile("d1"));
    let rec = store.get_deployment("d1").unwrap().unwrap();
    assert_eq!(rec.status, Status::Running, "converged");
    (ctl, rec)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("reconcile");
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, groups) in [("seed_like", 0), ("seed_like_200_groups", 200)] {
        let (ctl, rec) = converged(&rt, groups);
        g.bench_function(format!("{name}/converged_step"), |b| {
            b.iter(|| rt.block_on(ctl.reconcile("d1")))
        });
        g.bench_function(format!("{name}/plan_record"), |b| {
            b.iter(|| ctl.plan_record(&rec).unwrap())
        });
        // what each of them paid before the analyses were kept
        let text = spec(groups);
        g.bench_function(format!("{name}/analyze"), |b| {
            b.iter(|| shared::analyze(&text))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
