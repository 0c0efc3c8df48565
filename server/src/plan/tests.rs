//! Planner unit tests.

use super::*;

#[test]
fn globs() {
    assert!(glob(
        "docker.io/bitnami/mysql:*",
        "docker.io/bitnami/mysql:8.1.0"
    ));
    assert!(!glob(
        "docker.io/bitnami/mysql:*",
        "docker.io/bitnami/redis:7"
    ));
    assert!(glob("*", "x"));
    assert!(glob("a*c*e", "abcde"));
    let m = ImageMap::parse(&["docker.io/bitnami/mysql:*=specstudio/mysql:local".into()]).unwrap();
    assert_eq!(m.map("bitnami/mysql:8.1.0"), "specstudio/mysql:local");
    assert_eq!(m.map("nginx"), "nginx");
}

#[test]
fn seed_plans() {
    let text = include_str!("../../../examples/serverless-mysql-master-replica.yaml");
    let a = shared::analyze(text);
    let mut given = BTreeMap::new();
    for (k, v) in [
        ("masterInstanceType", "t3.small"),
        ("replicaInstanceType", "t3.small"),
        ("mysqlUsername", "app"),
        ("mysqlDatabase", "appdb"),
        ("numReadReplicas", "2"),
    ] {
        given.insert(k.to_owned(), serde_json::Value::String(v.into()));
    }
    let params = shared::params::resolve(&a.spec, &given, &mut |_| "gen".into()).unwrap();
    let m = ImageMap::parse(&["docker.io/bitnami/mysql:*=specstudio/mysql:local".into()]).unwrap();
    let stack = plan(&a, &params, "abc", &m, 2.0).unwrap();
    let names: Vec<(&str, bool)> = stack
        .containers
        .iter()
        .map(|c| (c.name.as_str(), c.spare))
        .collect();
    // the seed's Replica autoscales with minimumNodesInPool: 1, so one
    // warm spare follows its replicas
    assert_eq!(
        names,
        vec![
            ("ss-abc-master-0", false),
            ("ss-abc-replica-0", false),
            ("ss-abc-replica-1", false),
            ("ss-abc-replica-2", true)
        ]
    );
    let r = &stack.containers[1];
    let env: BTreeMap<_, _> = r.env.iter().cloned().collect();
    assert_eq!(env["MYSQL_MASTER_HOST"], "master");
    assert_eq!(env["MYSQL_MASTER_PORT_NUMBER"], "3306");
    assert_eq!(r.volumes[0].target, "/bitnami/mysql/data");
    assert_ne!(
        env["MYSQL_SERVER_ID"],
        stack.containers[2]
            .env
            .iter()
            .find(|e| e.0 == "MYSQL_SERVER_ID")
            .unwrap()
            .1
    );
}

fn plan_text(text: &str, given: &[(&str, &str)]) -> Result<DesiredStack, Vec<PlanIssue>> {
    let a = shared::analyze(text);
    assert!(!a.has_errors(), "fixture lints clean: {:?}", a.diagnostics);
    let given = given
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).into())))
        .collect();
    let params = shared::params::resolve(&a.spec, &given, &mut |_| "gen".into()).unwrap();
    let m = ImageMap::parse(&["docker.io/bitnami/mysql:*=specstudio/mysql:local".into()]).unwrap();
    plan(&a, &params, "abc", &m, 2.0)
}

const ARGS: &str = r#"services:
  Db:
    image: docker.io/bitnami/mysql:8.1.0
    ports:
      - '3306'
    command: ["--max-connections=77", "--server-id={{ $sys.compute.node.index }}"]
    environment:
      - MYSQL_ROOT_PASSWORD=$var.rootPassword
    x-omnistrate-api-params:
      - key: rootPassword
        description: Root password
        name: Root password
        type: Password
        modifiable: false
        required: true
        export: false
  Echo:
    image: docker.io/bitnami/mysql:8.1.0
    ports:
      - '7000'
    depends_on:
      - Db
    environment:
      - MYSQL_ROOT_PASSWORD=$db.var.rootPassword
    entrypoint: bash -c
    command: 'echo "db at {{ $db.sys.network.internalClusterEndpoint }}:{{ $db.sys.network.externalClusterServerlessEndpoint.openPorts[0] }}" on {{ $sys.id }}'
"#;

#[test]
fn command_and_entrypoint_are_planned_with_templates_resolved() {
    let stack = plan_text(ARGS, &[]).unwrap();
    let db = &stack.containers[0];
    assert_eq!(db.entrypoint, None, "the image's entrypoint is kept");
    assert_eq!(
        db.command,
        Some(vec![
            "--max-connections=77".to_owned(),
            "--server-id=0".to_owned()
        ])
    );
    // the image's entrypoint still speaks MySQL: probed by SQL
    assert!(matches!(db.probe, Probe::Mysql { .. }));
    let echo = &stack.containers[1];
    assert_eq!(
        echo.entrypoint,
        Some(vec!["bash".to_owned(), "-c".to_owned()])
    );
    // a string is split like a shell (quotes group), then resolved
    assert_eq!(
        echo.command,
        Some(vec![
            "echo".to_owned(),
            "db at db:3306".to_owned(),
            "on".to_owned(),
            "abc".to_owned()
        ])
    );
    // an overridden entrypoint may run anything: TCP probe only
    assert_eq!(echo.probe, Probe::Tcp);
    // they are part of the config: a change recreates the container
    let mut changed = echo.clone();
    changed.command = Some(vec!["true".into()]);
    assert_ne!(config_hash(&changed), echo.config_hash);
}

#[test]
fn unresolvable_or_malformed_commands_are_plan_issues() {
    let unresolved = ARGS.replace("{{ $sys.id }}", "{{ $sys.tenant.email }}");
    let issues = plan_text(&unresolved, &[]).unwrap_err();
    assert!(
        matches!(&issues[..], [PlanIssue::Unresolved(u)] if u.via == "command" && u.reference.contains("tenant.email")),
        "{issues:?}"
    );
    let mapping = ARGS.replace("entrypoint: bash -c", "entrypoint: {a: b}");
    let a = shared::analyze(&mapping);
    if !a.has_errors() {
        let issues = plan_text(&mapping, &[]).unwrap_err();
        assert!(
            issues
                .iter()
                .any(|i| matches!(i, PlanIssue::Command { field, .. } if field == "entrypoint")),
            "{issues:?}"
        );
    }
    let unclosed = ARGS.replace("entrypoint: bash -c", "entrypoint: bash -c 'oops");
    let issues = plan_text(&unclosed, &[]).unwrap_err();
    assert!(
        issues.iter().any(|i| i.message().contains("unclosed")),
        "{issues:?}"
    );
}

#[test]
fn words_split_like_compose() {
    assert_eq!(
        split_words(r#"a  'b c' "d \"e\"" f\ g {{ $sys.id }}x"#).unwrap(),
        vec!["a", "b c", r#"d "e""#, "f g", "{{ $sys.id }}x"]
    );
    assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
    assert_eq!(split_words("''").unwrap(), vec![""]);
    assert!(split_words("\"x").is_err());
}

#[test]
fn start_order_follows_the_graph() {
    // spec order is the reverse of the start order on purpose
    let text = r#"services:
  Web:
    image: nginx
    ports:
      - '80'
    depends_on:
      Worker:
        condition: service_healthy
    environment:
      - DB_HOST=$db.sys.network.internalClusterEndpoint
  Worker:
    image: nginx
    x-omnistrate-api-params:
      - key: settingsId
        description: Settings
        name: Settings
        type: Resource
        dependentResourceKey: Settings
        modifiable: false
        required: true
        export: true
  Settings:
    image: omnistrate/noop
    x-omnistrate-api-params:
      - key: dbId
        description: Database
        name: Database
        type: Resource
        dependentResourceKey: Db
        modifiable: false
        required: true
        export: true
  Db:
    image: nginx
    ports:
      - '5432'
"#;
    let stack = plan_text(text, &[]).unwrap();
    let order: Vec<(&str, Vec<&str>)> = stack
        .start_order
        .iter()
        .map(|s| {
            (
                s.resource.as_str(),
                s.after.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("Db", vec![]),
            // through the passive Settings (resource links)
            ("Worker", vec!["Db"]),
            // depends_on + a template reference
            ("Web", vec!["Worker", "Db"]),
        ]
    );
    let names: Vec<&str> = stack.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["ss-abc-db-0", "ss-abc-worker-0", "ss-abc-web-0"]
    );
    // only `condition: service_healthy` waits for readiness
    let web = stack.step("Web").unwrap();
    assert_eq!(web.after_ready, vec!["Worker".to_owned()]);
    assert!(stack.step("Worker").unwrap().after_ready.is_empty());
}

#[test]
fn seed_start_order_and_endpoints() {
    let text = include_str!("../../../examples/serverless-mysql-master-replica.yaml");
    let given = [
        ("masterInstanceType", "t3.small"),
        ("replicaInstanceType", "t3.small"),
        ("mysqlUsername", "app"),
        ("mysqlDatabase", "appdb"),
        ("numReadReplicas", "3"),
    ];
    let stack = plan_text(text, &given).unwrap();
    assert_eq!(
        stack.start_order,
        vec![
            StartStep {
                resource: "Master".into(),
                after: vec![],
                after_ready: vec![],
            },
            StartStep {
                resource: "Replica".into(),
                after: vec!["Master".into()],
                after_ready: vec![],
            },
        ]
    );
    // endpointPerReplica (Replica): the reader plus one per replica; the
    // master (no endpointPerReplica) has its service endpoint
    let names = |stack: &DesiredStack| -> Vec<String> {
        stack.endpoint_specs().into_iter().map(|e| e.name).collect()
    };
    assert_eq!(
        names(&stack),
        ["Master", "Replica", "Replica-0", "Replica-1", "Replica-2"]
    );
    // without endpointPerReplica a scaled service has its reader only
    let single = text.replace("      endpointPerReplica: true\n", "");
    let stack = plan_text(&single, &given).unwrap();
    assert_eq!(names(&stack), ["Master", "Replica"]);
}

#[test]
fn seed_policies_zones_and_autoscaled_counts() {
    let text = include_str!("../../../examples/serverless-mysql-master-replica.yaml");
    let a = shared::analyze(text);
    let given = [
        ("masterInstanceType", "t3.small"),
        ("replicaInstanceType", "t3.small"),
        ("mysqlUsername", "app"),
        ("mysqlDatabase", "appdb"),
        ("numReadReplicas", "2"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).into())))
    .collect();
    let params = shared::params::resolve(&a.spec, &given, &mut |_| "gen".into()).unwrap();
    let zones = vec!["za".to_owned(), "zb".to_owned()];
    let plan_n = |overrides: &BTreeMap<String, u32>| {
        plan_with(
            &a,
            &params,
            "abc",
            &PlanContext {
                images: None,
                host_cpus: 2.0,
                zones: &zones,
                replica_overrides: Some(overrides),
                allowed_host_keys: None,
            },
        )
        .unwrap()
    };
    let stack = plan_n(&BTreeMap::new());
    let master = stack.service("Master").unwrap();
    assert_eq!(
        master.serverless,
        Some(ServerlessPolicy {
            auto_stop: true,
            warm_pool: 1
        })
    );
    assert_eq!(master.port, Some(3306));
    assert!(master.autoscaling.is_none() && !master.multi_zone);
    let replica = stack.service("Replica").unwrap();
    assert_eq!(replica.replicas, 2);
    assert_eq!(
        replica.autoscaling,
        Some(AutoscalePolicy {
            min_replicas: 1,
            max_replicas: 5,
            idle_threshold: 20.0,
            idle_minutes: 2.0,
            over_threshold: 80.0,
            over_minutes: 3.0,
        })
    );
    assert!(stack.auto_stop(), "both services enable auto-stop");
    assert!(stack.logging && stack.metrics, "the seed's integrations");
    // zones round-robin over the replicas of the multi-zone service only
    let zone_of: Vec<(String, Option<String>)> = stack
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.zone.clone()))
        .collect();
    assert_eq!(
        zone_of,
        vec![
            ("ss-abc-master-0".to_owned(), None),
            ("ss-abc-replica-0".to_owned(), Some("za".to_owned())),
            ("ss-abc-replica-1".to_owned(), Some("zb".to_owned())),
            ("ss-abc-replica-2".to_owned(), Some("za".to_owned())),
        ]
    );
    assert_eq!(stack.service("Replica").unwrap().spares, 1);
    assert_eq!(stack.service("Master").unwrap().spares, 0, "not autoscaled");
    assert_eq!(
        stack.containers[1]
            .labels("abc")
            .get(LABEL_ZONE)
            .map(String::as_str),
        Some("za")
    );
    // the autoscaler's count wins, within minReplicas..maxReplicas
    // (spares stay within maxReplicas: none at 5)
    for (set, expect, spares) in [(4, 4, 1), (9, 5, 0), (0, 1, 1)] {
        let o = BTreeMap::from([("Replica".to_owned(), set)]);
        let stack = plan_n(&o);
        assert_eq!(stack.service("Replica").unwrap().replicas, expect);
        assert_eq!(stack.service("Replica").unwrap().spares, spares);
        assert_eq!(
            stack.containers.iter().filter(|c| c.spare).count(),
            spares as usize
        );
    }
    // without a port nothing could wake it: it never sleeps
    let portless = "services:\n  Job:\n    image: busybox\n    x-omnistrate-capabilities:\n      serverlessConfiguration:\n        enableAutoStop: true\n";
    let a3 = shared::analyze(portless);
    let none = shared::params::ResolvedParams { params: Vec::new() };
    let stack = plan_with(&a3, &none, "abc", &PlanContext::default()).unwrap();
    assert!(!stack.auto_stop());
    // one service without auto-stop keeps the whole deployment awake
    let partial = text.replacen("enableAutoStop: true", "enableAutoStop: false", 1);
    let a2 = shared::analyze(&partial);
    let stack = plan_with(&a2, &params, "abc", &PlanContext::default()).unwrap();
    assert!(!stack.auto_stop());
}
