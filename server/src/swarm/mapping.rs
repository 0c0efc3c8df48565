//! One planned instance → one swarm service; one deployment → one overlay.
//!
//! Pure: no I/O, so every rule here is unit-tested. The shapes follow what
//! works on this kernel (see `docs/design/engines.md`): `dnsrr` endpoints
//! (no IPVS, so no VIP), host-mode published ports reached at the node that
//! runs the task (no ingress routing mesh), plain overlays (no ESP).
//!
//! ```
//! use specstudio::swarm::{spread_zones, Placement};
//! let zones = ["zone-a".to_owned(), "zone-b".to_owned()];
//! let s = spread_zones(3, &zones);
//! assert_eq!(s.zones, ["zone-a", "zone-b", "zone-a"]);
//! assert!(s.note.is_some()); // 3 instances, 2 zones: said in an event
//! let p = Placement::Zone(s.zones[1].clone());
//! assert_eq!(p.constraints(), ["node.labels.zone==zone-b"]);
//! ```

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, EndpointSpecModeEnum, Limit, Mount, MountTypeEnum, MountVolumeOptions,
    NetworkAttachmentConfig, NetworkCreateRequest, ResourceObject, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};

use super::ZONE_LABEL;

/// The environment variable that gives MySQL/MariaDB its replication
/// identity; set per service, since a task that swarm replaces gets a new
/// container (and with the image's default, a new hash-based id).
pub const SERVER_ID_ENV: &str = "MYSQL_SERVER_ID";

/// What the swarm engine needs of one planned instance (a container today).
/// The caller fills it from the planner's output; labels come ready-made
/// (the same labels as on one host).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstanceInput {
    /// Service name: also the task's hostname and overlay DNS name.
    pub name: String,
    pub image: String,
    pub env: Vec<(String, String)>,
    /// `MYSQL_SERVER_ID` (MySQL instances only): stable across task
    /// replacements, distinct within a deployment.
    pub server_id: Option<u32>,
    /// Named local volumes: each lives on the node that runs the task.
    pub volumes: Vec<VolumeInput>,
    pub ports: Vec<PortInput>,
    /// Extra overlay DNS names (the service alias, e.g. `master`).
    pub aliases: Vec<String>,
    pub nano_cpus: Option<i64>,
    pub memory: Option<i64>,
    pub pids_limit: Option<i64>,
    pub entrypoint: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
    pub placement: Placement,
    /// 1 when running; 0 while a serverless deployment sleeps (the service,
    /// its pin and its volume stay).
    pub running: bool,
    /// The spec's compose keys: those in [`super::compose_keys::SWARM_APPLIED`]
    /// are set on the container spec; the engine refuses the others
    /// before planning succeeds.
    pub opts: std::sync::Arc<crate::runtime_opts::RuntimeOptions>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeInput {
    pub name: String,
    pub target: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortInput {
    /// The container port.
    pub target: u16,
    /// The node port; `None`: the node picks a free one (read it back from
    /// the task's port status), so two instances on one node never clash.
    pub published: Option<u16>,
}

/// Where an instance's single task may run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Placement {
    /// Any node.
    #[default]
    Any,
    /// A node of this zone (`enableMultiZone`, before first placement).
    Zone(String),
    /// This node, once the task was placed there: its data lives in the
    /// node's local volume, so it never moves silently. The zone is kept as
    /// a second constraint so a relabelled node is noticed, not used.
    Pinned {
        node_id: String,
        zone: Option<String>,
    },
}

impl Placement {
    pub fn constraints(&self) -> Vec<String> {
        let zone = |z: &str| format!("node.labels.{ZONE_LABEL}=={z}");
        match self {
            Placement::Any => Vec::new(),
            Placement::Zone(z) => vec![zone(z)],
            Placement::Pinned { node_id, zone: z } => {
                let mut c = vec![format!("node.id=={node_id}")];
                c.extend(z.as_deref().map(zone));
                c
            }
        }
    }

    /// The placement a service's constraints say (the inverse of
    /// [`Placement::constraints`]; other constraints are ignored).
    pub fn from_constraints(constraints: &[String]) -> Placement {
        let value = |prefix: &str| {
            constraints
                .iter()
                .find_map(|c| c.replace(' ', "").strip_prefix(prefix).map(str::to_owned))
        };
        let zone = value(&format!("node.labels.{ZONE_LABEL}=="));
        match (value("node.id=="), zone) {
            (Some(node_id), zone) => Placement::Pinned { node_id, zone },
            (None, Some(z)) => Placement::Zone(z),
            (None, None) => Placement::Any,
        }
    }

    fn zoned(&self) -> bool {
        matches!(
            self,
            Placement::Zone(_) | Placement::Pinned { zone: Some(_), .. }
        )
    }
}

/// Zones for `instances` instances of one service, spread as evenly as the
/// zones allow (round robin over the sorted, distinct zones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneSpread {
    /// One zone per instance, in instance order (empty when no zone).
    pub zones: Vec<String>,
    /// For an event when the spread is not one instance per zone.
    pub note: Option<String>,
}

pub fn spread_zones(instances: usize, zones: &[String]) -> ZoneSpread {
    let mut distinct: Vec<&String> = zones.iter().collect();
    distinct.sort();
    distinct.dedup();
    if distinct.is_empty() {
        return ZoneSpread {
            zones: Vec::new(),
            note: (instances > 0).then(|| {
                format!(
                    "no swarm node carries a `{ZONE_LABEL}` label: \
                     {instances} instance(s) placed without zones"
                )
            }),
        };
    }
    let assigned: Vec<String> = (0..instances)
        .map(|i| distinct[i % distinct.len()].clone())
        .collect();
    let note = (instances > distinct.len()).then(|| {
        let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
        for z in &assigned {
            *per_zone.entry(z).or_default() += 1;
        }
        let shares: Vec<String> = per_zone.iter().map(|(z, n)| format!("{z}: {n}")).collect();
        format!(
            "{instances} instances over {} zones: spread as evenly as possible ({})",
            distinct.len(),
            shares.join(", ")
        )
    });
    ZoneSpread {
        zones: assigned,
        note,
    }
}

/// The deployment's network: an attachable overlay (attachable so a
/// diagnostic container can join it), unencrypted (no ESP in this kernel).
pub fn overlay_network(name: &str, labels: &BTreeMap<String, String>) -> NetworkCreateRequest {
    NetworkCreateRequest {
        name: name.to_owned(),
        driver: Some("overlay".into()),
        attachable: Some(true),
        labels: Some(hash(labels)),
        ..Default::default()
    }
}

/// One instance as a swarm service with one task on `network`.
pub fn instance_service(i: &InstanceInput, network: &str) -> ServiceSpec {
    let labels = hash(&i.labels);
    let mut env: Vec<String> = i
        .env
        .iter()
        .filter(|(k, _)| i.server_id.is_none() || k != SERVER_ID_ENV)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if let Some(id) = i.server_id {
        env.push(format!("{SERVER_ID_ENV}={id}"));
    }
    let mounts: Vec<Mount> = i
        .volumes
        .iter()
        .map(|v| Mount {
            typ: Some(MountTypeEnum::VOLUME),
            source: Some(v.name.clone()),
            target: Some(v.target.clone()),
            volume_options: Some(MountVolumeOptions {
                labels: Some(labels.clone()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let mut container = TaskSpecContainerSpec {
        image: Some(i.image.clone()),
        labels: Some(labels.clone()),
        hostname: Some(i.name.clone()),
        env: Some(env),
        mounts: Some(mounts),
        command: i.entrypoint.clone(),
        args: i.command.clone(),
        ..Default::default()
    };
    super::compose_keys::apply(&mut container, &i.opts);
    let placement = TaskSpecPlacement {
        constraints: Some(i.placement.constraints()),
        preferences: i.placement.zoned().then(|| {
            vec![TaskSpecPlacementPreferences {
                spread: Some(TaskSpecPlacementSpread {
                    spread_descriptor: Some(format!("node.labels.{ZONE_LABEL}")),
                }),
            }]
        }),
        ..Default::default()
    };
    let ports: Vec<EndpointPortConfig> = i
        .ports
        .iter()
        .map(|p| EndpointPortConfig {
            protocol: Some(EndpointPortConfigProtocolEnum::TCP),
            target_port: Some(i64::from(p.target)),
            published_port: p.published.map(i64::from),
            publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
            ..Default::default()
        })
        .collect();
    ServiceSpec {
        name: Some(i.name.clone()),
        labels: Some(labels),
        task_template: Some(TaskSpec {
            container_spec: Some(container),
            resources: Some(resources(i)),
            restart_policy: Some(TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyConditionEnum::ANY),
                delay: Some(2_000_000_000),
                ..Default::default()
            }),
            placement: Some(placement),
            networks: Some(vec![NetworkAttachmentConfig {
                target: Some(network.to_owned()),
                aliases: Some(i.aliases.clone()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64::from(i.running)),
            }),
            ..Default::default()
        }),
        endpoint_spec: Some(EndpointSpec {
            mode: Some(EndpointSpecModeEnum::DNSRR),
            ports: Some(ports),
        }),
        ..Default::default()
    }
}

/// Instance type → limits (what one host enforces today) and reservations
/// (what the scheduler must find free on a node): all of the memory, since
/// a database that does not fit is not placed at all, and half of the CPU,
/// which is compressible, so that two instances sharing a node (fewer zones
/// than replicas) can still be scheduled on a node with just their limit.
fn resources(i: &InstanceInput) -> TaskSpecResources {
    TaskSpecResources {
        limits: Some(Limit {
            nano_cpus: i.nano_cpus,
            memory_bytes: i.memory,
            pids: i.pids_limit,
        }),
        reservations: Some(ResourceObject {
            nano_cpus: i.nano_cpus.map(|n| n / 2),
            memory_bytes: i.memory,
            ..Default::default()
        }),
    }
}

fn hash(m: &BTreeMap<String, String>) -> HashMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn zones(n: usize) -> Vec<String> {
        ["zone-c", "zone-a", "zone-b", "zone-d"][..n]
            .iter()
            .map(|z| (*z).to_owned())
            .collect()
    }

    fn replica() -> InstanceInput {
        InstanceInput {
            name: "ss-d1-replica-1".into(),
            image: "specstudio/mysql:local".into(),
            env: vec![
                ("MYSQL_REPLICATION_MODE".into(), "slave".into()),
                (SERVER_ID_ENV.into(), "999".into()),
            ],
            server_id: Some(3),
            volumes: vec![VolumeInput {
                name: "ss-d1-replica-1-data".into(),
                target: "/bitnami/mysql".into(),
            }],
            ports: vec![PortInput {
                target: 3306,
                published: None,
            }],
            aliases: vec!["replica".into()],
            nano_cpus: Some(1_000_000_000),
            memory: Some(512 << 20),
            pids_limit: Some(512),
            entrypoint: None,
            command: Some(vec!["--max-connections=50".into()]),
            labels: BTreeMap::from([
                ("org.specstudio.deployment".into(), "d1".into()),
                ("org.specstudio.replica".into(), "1".into()),
            ]),
            placement: Placement::Zone("zone-b".into()),
            running: true,
            opts: Default::default(),
        }
    }

    #[test]
    fn one_zone_per_instance_when_there_are_enough() {
        let s = spread_zones(3, &zones(3));
        assert_eq!(s.zones, ["zone-a", "zone-b", "zone-c"]);
        assert_eq!(s.note, None);
        let s = spread_zones(2, &zones(4));
        assert_eq!(s.zones, ["zone-a", "zone-b"]);
        assert_eq!(s.note, None);
    }

    #[test]
    fn fewer_zones_than_instances_spreads_evenly_and_says_so() {
        let s = spread_zones(5, &zones(2));
        assert_eq!(s.zones, ["zone-a", "zone-c", "zone-a", "zone-c", "zone-a"]);
        assert_eq!(
            s.note.as_deref(),
            Some("5 instances over 2 zones: spread as evenly as possible (zone-a: 3, zone-c: 2)")
        );
        // duplicates in the node list are one zone
        let dup = vec!["zone-a".to_owned(), "zone-a".to_owned()];
        let s = spread_zones(2, &dup);
        assert_eq!(s.zones, ["zone-a", "zone-a"]);
        assert!(s.note.unwrap().contains("over 1 zones"));
    }

    #[test]
    fn no_zones_places_anywhere_and_says_so() {
        let s = spread_zones(2, &[]);
        assert!(s.zones.is_empty());
        assert!(s
            .note
            .unwrap()
            .contains("no swarm node carries a `zone` label"));
        assert_eq!(spread_zones(0, &[]).note, None);
    }

    #[test]
    fn placement_constraints() {
        assert!(Placement::Any.constraints().is_empty());
        let pinned = Placement::Pinned {
            node_id: "n2".into(),
            zone: Some("zone-b".into()),
        };
        assert_eq!(
            pinned.constraints(),
            ["node.id==n2", "node.labels.zone==zone-b"]
        );
        let pinned = Placement::Pinned {
            node_id: "n2".into(),
            zone: None,
        };
        assert_eq!(pinned.constraints(), ["node.id==n2"]);
        for p in [
            Placement::Any,
            Placement::Zone("zone-c".into()),
            pinned.clone(),
            Placement::Pinned {
                node_id: "n1".into(),
                zone: Some("zone-a".into()),
            },
        ] {
            assert_eq!(Placement::from_constraints(&p.constraints()), p);
        }
        // as the engine API may echo them, with spaces
        assert_eq!(
            Placement::from_constraints(&["node.id == n7".into(), "node.role==worker".into()]),
            Placement::Pinned {
                node_id: "n7".into(),
                zone: None
            }
        );
    }

    /// The JSON the Engine API receives: the shape proven by hand on the
    /// 3-node swarm (dnsrr, host-mode ports, one replica, zone constraint).
    #[test]
    fn replica_service_as_the_engine_api_sees_it() {
        let spec = serde_json::to_value(instance_service(&replica(), "ss-d1")).unwrap();
        assert_eq!(spec["Name"], "ss-d1-replica-1");
        assert_eq!(spec["Mode"], json!({"Replicated": {"Replicas": 1}}));
        assert_eq!(
            spec["EndpointSpec"],
            json!({"Mode": "dnsrr", "Ports": [
                {"Protocol": "tcp", "TargetPort": 3306, "PublishMode": "host"}]})
        );
        let task = &spec["TaskTemplate"];
        let c = &task["ContainerSpec"];
        assert_eq!(c["Image"], "specstudio/mysql:local");
        assert_eq!(c["Hostname"], "ss-d1-replica-1");
        // the planner's server id is replaced by the stable one, once
        assert_eq!(
            c["Env"],
            json!(["MYSQL_REPLICATION_MODE=slave", "MYSQL_SERVER_ID=3"])
        );
        assert_eq!(c["Args"], json!(["--max-connections=50"]));
        assert!(c.get("Command").is_none(), "the image's entrypoint stays");
        assert_eq!(c["Mounts"][0]["Type"], "volume");
        assert_eq!(c["Mounts"][0]["Source"], "ss-d1-replica-1-data");
        assert_eq!(c["Mounts"][0]["Target"], "/bitnami/mysql");
        assert_eq!(
            c["Mounts"][0]["VolumeOptions"]["Labels"]["org.specstudio.deployment"],
            "d1"
        );
        for labels in [&spec["Labels"], &c["Labels"]] {
            assert_eq!(labels["org.specstudio.replica"], "1");
        }
        assert_eq!(
            task["Placement"],
            json!({"Constraints": ["node.labels.zone==zone-b"],
                   "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]})
        );
        assert_eq!(
            task["Networks"],
            json!([{"Target": "ss-d1", "Aliases": ["replica"]}])
        );
        assert_eq!(
            task["Resources"],
            json!({"Limits": {"NanoCPUs": 1_000_000_000i64, "MemoryBytes": 512i64 << 20, "Pids": 512},
                   "Reservations": {"NanoCPUs": 500_000_000i64, "MemoryBytes": 512i64 << 20}})
        );
        assert_eq!(task["RestartPolicy"]["Condition"], "any");
    }

    #[test]
    fn asleep_pinned_unlimited_instance() {
        let mut i = replica();
        i.running = false;
        i.server_id = None;
        i.nano_cpus = None;
        i.memory = None;
        i.pids_limit = None;
        i.ports = vec![PortInput {
            target: 3306,
            published: Some(33061),
        }];
        i.placement = Placement::Pinned {
            node_id: "abc".into(),
            zone: None,
        };
        let spec = serde_json::to_value(instance_service(&i, "net")).unwrap();
        assert_eq!(spec["Mode"]["Replicated"]["Replicas"], 0);
        let env = &spec["TaskTemplate"]["ContainerSpec"]["Env"];
        // not a MySQL instance of ours: its env is left alone
        assert_eq!(
            env,
            &json!(["MYSQL_REPLICATION_MODE=slave", "MYSQL_SERVER_ID=999"])
        );
        assert_eq!(
            spec["EndpointSpec"]["Ports"][0]["PublishedPort"],
            Value::from(33061)
        );
        let placement = &spec["TaskTemplate"]["Placement"];
        assert_eq!(placement, &json!({"Constraints": ["node.id==abc"]}));
        assert_eq!(
            spec["TaskTemplate"]["Resources"],
            json!({"Limits": {}, "Reservations": {}})
        );
    }

    #[test]
    fn overlay_is_attachable_and_labelled() {
        let labels = BTreeMap::from([("org.specstudio.deployment".to_owned(), "d1".to_owned())]);
        let n = serde_json::to_value(overlay_network("ss-d1", &labels)).unwrap();
        assert_eq!(n["Name"], "ss-d1");
        assert_eq!(n["Driver"], "overlay");
        assert_eq!(n["Attachable"], true);
        assert_eq!(n["Labels"]["org.specstudio.deployment"], "d1");
        assert!(n.get("Options").is_none(), "no encrypted overlay here");
    }
}
