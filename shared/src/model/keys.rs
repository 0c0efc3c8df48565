//! Known keys per object, with their expected shape and one line of docs.
//!
//! One table feeds the unknown-key rules, the wrong-shape rule, editor hovers
//! and completion, so they never disagree.

/// The shape a key's value should have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Bool,
    Int,
    Number,
    Map,
    List,
    /// Several syntaxes (string or list or map): not shape-checked.
    Any,
}

#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct FieldDoc {
    pub key: &'static str,
    pub ty: FieldType,
    /// `""` without the `docs` feature: read it through [`crate::docs::key`].
    pub doc: &'static str,
    /// Replacement key when this one is deprecated.
    pub deprecated_by: Option<&'static str>,
}

/// A field of a known object (used by the tables here and in `compose_keys`).
pub const fn field(key: &'static str, ty: FieldType, doc: &'static str) -> FieldDoc {
    f(key, ty, doc)
}

const fn f(key: &'static str, ty: FieldType, doc: &'static str) -> FieldDoc {
    FieldDoc {
        key,
        ty,
        doc: crate::docs::gate(doc),
        deprecated_by: None,
    }
}

const fn deprecated(
    key: &'static str,
    ty: FieldType,
    by: &'static str,
    doc: &'static str,
) -> FieldDoc {
    FieldDoc {
        key,
        ty,
        doc: crate::docs::gate(doc),
        deprecated_by: Some(by),
    }
}

use FieldType::*;

/// An object of the spec and the keys it knows.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct ObjectSchema {
    pub name: &'static str,
    pub fields: &'static [FieldDoc],
}

impl ObjectSchema {
    pub fn field(&self, key: &str) -> Option<&'static FieldDoc> {
        self.fields.iter().find(|f| f.key == key)
    }
}

pub const ROOT: ObjectSchema = ObjectSchema {
    name: "top-level",
    fields: &[
        f("version", String, "Compose file format version; optional and informative only."),
        f("name", String, "Project name."),
        f("services", Map, "The resources of the service: one entry per container image (or passive `omnistrate/noop` resource)."),
        f("networks", Map, "Named networks services can join."),
        f("volumes", Map, "Named volumes services can mount."),
        f("secrets", Map, "Compose secrets."),
        f("configs", Map, "Compose configs."),
        f("include", List, "Other compose files to include."),
        f("models", Map, "AI models services can use (`model:`, `context_size`, `runtime_flags`)."),
        f("x-omnistrate-service-plan", Map, "The service plan: name, tenancy type, deployment model, pricing, billing."),
        f("x-omnistrate-load-balancer", Map, "HTTPS paths and TCP ports served by a managed load balancer in front of resources."),
        f("x-customer-integrations", Map, "Integrations offered to customers: `logs`, `metrics`, `licensing`."),
        f("x-internal-integrations", Map, "Integrations for the service provider: logs/metrics providers, multi-tenant GPU."),
        deprecated("x-omnistrate-integrations", List, "x-customer-integrations", "Integrations to enable (`omnistrateLogging`, `omnistrateMetrics`, `omnistrateMetering`). Deprecated: use `x-customer-integrations`."),
        f("x-omnistrate-image-registry-attributes", Map, "Credentials for private image registries, keyed by registry host."),
        deprecated("x-omnistrate-my-account", Map, "x-omnistrate-service-plan", "Deprecated BYOA account settings: use `x-omnistrate-service-plan.deployment`."),
        deprecated("x-omnistrate-byoa", Map, "x-omnistrate-service-plan", "Deprecated BYOA account settings: use `x-omnistrate-service-plan.deployment`."),
        deprecated("x-omnistrate-hosted", Map, "x-omnistrate-service-plan", "Deprecated hosted account settings: use `x-omnistrate-service-plan.deployment`."),
    ],
};

pub const SERVICE: ObjectSchema = ObjectSchema {
    name: "service",
    fields: &[
        f("image", String, "The container image; `omnistrate/noop` makes a passive resource that runs nothing."),
        f("build", Any, "Build context (string or mapping) when there is no `image`."),
        f("ports", List, "Container ports (`'3306'`, `'8080:80'`, or long syntax with `target`)."),
        f("expose", List, "Ports exposed to other services only."),
        f("volumes", List, "Mounts: `SOURCE:TARGET[:MODE]` or long syntax."),
        f("environment", Any, "Environment variables, as a `NAME=value` list or a mapping; values may hold templates."),
        f("env_file", Any, "Files of environment variables."),
        f("depends_on", Any, "Services to start first (orders provisioning; not a resource link)."),
        f("entrypoint", Any, "Overrides the image entrypoint."),
        f("command", Any, "Overrides the image command."),
        f("labels", Any, "Container labels."),
        f("ulimits", Map, "Resource limits of the process."),
        f("cap_add", List, "Added Linux capabilities."),
        f("cap_drop", List, "Dropped Linux capabilities."),
        f("deploy", Map, "Deployment settings; `deploy.resources` is honoured."),
        f("privileged", Bool, "Run privileged."),
        f("platform", String, "`linux/amd64` or `linux/arm64` (only without instance types)."),
        f("container_name", String, "Ignored by Omnistrate."),
        f("hostname", String, "Ignored by Omnistrate."),
        f("networks", Any, "Networks to join (ignored by Omnistrate)."),
        f("tmpfs", Any, "Ignored by Omnistrate."),
        f("logging", Map, "Ignored by Omnistrate."),
        f("healthcheck", Map, "Ignored by Omnistrate."),
        f("sysctls", Any, "Ignored by Omnistrate."),
        f("init", Bool, "Becomes a CLUSTER `INIT` action hook."),
        f("user", String, "Express with `SECURITY_CONTEXT_USER_ID`/`GROUP_ID`/`FS_GROUP` env vars instead."),
        f("restart", String, "Restart policy."),
        f("working_dir", String, "Working directory."),
        f("stop_grace_period", String, "Time to wait before killing on stop."),
        f("stop_signal", String, "Signal that stops the container."),
        f("shm_size", Any, "Size of /dev/shm."),
        f("security_opt", List, "Security options."),
        f("extra_hosts", Any, "Extra /etc/hosts entries."),
        f("dns", Any, "DNS servers."),
        f("mem_limit", Any, "Memory limit."),
        f("cpus", Any, "CPU limit."),
        f("secrets", List, "Compose secrets to mount."),
        f("configs", List, "Compose configs to mount."),
        f("tty", Bool, "Allocate a TTY."),
        f("stdin_open", Bool, "Keep stdin open."),
        f("profiles", List, "Compose profiles the service belongs to."),
        f("network_mode", String, "Network mode (`host`, `none`, `service:NAME`)."),
        f("links", List, "Legacy links to other services."),
        f("external_links", List, "Links to containers outside the project."),
        f("read_only", Bool, "Read-only root filesystem."),
        f("devices", List, "Host devices to map."),
        f("extends", Any, "Extend another service definition."),
        f("pull_policy", String, "When to pull the image."),
        f("gpus", Any, "GPU devices."),
        f("pid", Any, "PID namespace mode (a string, or null)."),
        f("ipc", String, "IPC namespace mode."),
        f("userns_mode", String, "User namespace mode."),
        f("cgroup_parent", String, "Parent cgroup."),
        f("mem_reservation", Any, "Memory soft limit."),
        f("mem_swappiness", Int, "Swappiness."),
        f("memswap_limit", Any, "Memory plus swap limit."),
        f("oom_kill_disable", Bool, "Disable the OOM killer."),
        f("oom_score_adj", Int, "OOM score adjustment."),
        f("cpu_shares", Int, "Relative CPU weight."),
        f("cpu_quota", Any, "CPU CFS quota."),
        f("cpu_period", Any, "CPU CFS period."),
        f("cpuset", String, "CPUs the service may use."),
        f("cpu_count", Int, "Number of usable CPUs."),
        f("cpu_percent", Int, "Usable percentage of CPUs."),
        f("blkio_config", Map, "Block IO limits."),
        f("storage_opt", Map, "Storage driver options."),
        f("domainname", String, "Domain name."),
        f("mac_address", String, "MAC address."),
        f("isolation", String, "Isolation technology."),
        f("group_add", List, "Additional groups."),
        f("scale", Int, "Default number of containers."),
        f("runtime", String, "OCI runtime."),
        f("annotations", Any, "Container annotations."),
        f("attach", Bool, "Attach to logs."),
        f("dns_opt", List, "DNS resolver options."),
        f("dns_search", Any, "DNS search domains."),
        f("volumes_from", List, "Mount volumes from other services."),
        f("device_cgroup_rules", List, "Device cgroup rules."),
        f("credential_spec", Map, "Credential spec (Windows)."),
        f("post_start", List, "Lifecycle hooks after start."),
        f("pre_stop", List, "Lifecycle hooks before stop."),
        f("uts", String, "UTS namespace mode."),
        f("label_file", Any, "Files of labels."),
        f("develop", Map, "Development (watch) settings."),
        f("cgroup", String, "Cgroup namespace to join: `host` or `private`."),
        f("cpu_rt_period", Any, "CPU real-time period, in microseconds or as a duration."),
        f("cpu_rt_runtime", Any, "CPU real-time runtime, in microseconds or as a duration."),
        f("pids_limit", Any, "Maximum number of PIDs in the container (`-1`: unlimited)."),
        f("use_api_socket", Bool, "Mount the Docker API socket into the container."),
        f("pull_refresh_after", String, "Time after which the image is pulled again (with `pull_policy: refresh`)."),
        f("models", Any, "AI models (top-level `models`) this service uses: a list, or a mapping with `endpoint_var`/`model_var`."),
        f("provider", Map, "Let an external provider manage this service: `type` and `options`."),
        f("x-omnistrate-api-params", List, "API parameters customers set when they create an instance of this resource."),
        f("x-omnistrate-compute", Map, "Instance types and replica count of this resource."),
        f("x-omnistrate-capabilities", Map, "Platform capabilities: autoscaling, serverless, multi-zone, endpoint per replica, backups…"),
        f("x-omnistrate-storage", Map, "Per-cloud storage type, size, IOPS and throughput."),
        f("x-omnistrate-mode-internal", Bool, "`true` hides the resource from customers (default `false`)."),
        f("x-omnistrate-actionhooks", List, "Lifecycle hooks (`INIT`, `HEALTH_CHECK`, `PRE_STOP`…) run as commands."),
        f("x-omnistrate-job-config", Map, "Run the resource as a job: `backoffLimit`, `activeDeadlineSeconds`, `scheduleConfig`."),
        f("x-omnistrate-proxy-type", String, "Proxy type in front of the resource."),
    ],
};

pub const API_PARAM: ObjectSchema = ObjectSchema {
    name: "API parameter",
    fields: &[
        f("key", String, "Parameter key, unique per resource, `^[a-zA-Z][a-zA-Z0-9_]*$`; referenced as `$var.<key>`."),
        f("name", String, "Label shown to customers."),
        f("description", String, "Help text shown to customers."),
        f("type", String, "Boolean, String, Password, Secret, Resource, Json, Any, Bytes, Int, Int32, Int64, Uint, Uint32, Uint64, Float32, Float64."),
        f("required", Bool, "Whether the customer must give a value; `false` requires a `defaultValue`."),
        f("modifiable", Bool, "Whether the value can change after the instance is created."),
        f("export", Bool, "Whether the value is shown when the instance is described; `false` hides it (secrets)."),
        f("defaultValue", Any, "Default value, written as a string (`\"1\"`, `\"false\"`)."),
        f("limits", Map, "`min`/`max` for numbers, `minLength`/`maxLength` for strings."),
        f("options", List, "The allowed values."),
        f("labeledOptions", Map, "Allowed values with labels (label → value); use this or `options`."),
        f("regex", String, "A pattern values must match."),
        f("dependentResourceKey", String, "For `Resource` params: the service (by name) whose instance must exist first."),
        f("parameterDependencyMap", Map, "Forward this param's value to child resources: service name → child param key."),
        f("scope", Map, "Limit the param to some clouds: `{cloudProviders: [...]}`."),
        f("tabIndex", Int, "Order in the customer form."),
        f("isList", Bool, "The value is a list."),
        f("hasOptions", Bool, "The param offers options."),
        f("sensitive", Bool, "Mask the value in the customer UI (published specs use it beside `export: false`)."),
    ],
};

pub const LIMITS: ObjectSchema = ObjectSchema {
    name: "limits",
    fields: &[
        f("min", Number, "Smallest allowed number."),
        f("max", Number, "Largest allowed number."),
        f("minLength", Int, "Shortest allowed string."),
        f("maxLength", Int, "Longest allowed string."),
    ],
};

pub const COMPUTE: ObjectSchema = ObjectSchema {
    name: "x-omnistrate-compute",
    fields: &[
        f(
            "instanceTypes",
            List,
            "Instance type per cloud: `{cloudProvider, name | apiParam}`.",
        ),
        f("replicaCount", Int, "A fixed number of replicas."),
        f(
            "replicaCountAPIParam",
            String,
            "Key of an API param on this service that sets the replica count.",
        ),
        deprecated(
            "replicaCountApiParam",
            String,
            "replicaCountAPIParam",
            "Misspelling seen in one docs example: the key is `replicaCountAPIParam`.",
        ),
        f(
            "rootVolumeSizeGi",
            Int,
            "Root volume size in GiB (10–16384).",
        ),
        f("cpuArchitecture", String, "`X86_64` or `ARM64`."),
        f("reservations", Map, "Reserved `cpu`/`memory`."),
        f("limits", Map, "Limit `cpu`/`memory`."),
        f(
            "minReplicasAPIParam",
            String,
            "API param key for the autoscaling minimum.",
        ),
        f(
            "maxReplicasAPIParam",
            String,
            "API param key for the autoscaling maximum.",
        ),
        f("cpuAPIParam", String, "API param key for the CPU."),
        f("memoryAPIParam", String, "API param key for the memory."),
    ],
};

pub const INSTANCE_TYPE: ObjectSchema = ObjectSchema {
    name: "instance type",
    fields: &[
        f(
            "cloudProvider",
            String,
            "aws, azure, gcp, oci, nebius, generic, private, byoc-onprem or all.",
        ),
        f(
            "name",
            String,
            "A fixed instance type such as `t4g.small` (use this or `apiParam`).",
        ),
        f(
            "apiParam",
            String,
            "Key of an API param on this service whose value is the instance type.",
        ),
        f("platform", String, "Platform of the instance."),
        f(
            "configurationOverrides",
            Map,
            "Per-type configuration overrides.",
        ),
    ],
};

/// Cloud providers accepted by `instanceTypes[].cloudProvider`.
pub const CLOUD_PROVIDERS: &[&str] = &[
    "aws",
    "azure",
    "gcp",
    "oci",
    "nebius",
    "generic",
    "private",
    "byoc-onprem",
    "all",
];

pub const CAPABILITIES: ObjectSchema = ObjectSchema {
    name: "x-omnistrate-capabilities",
    fields: &[
        f(
            "enableMultiZone",
            Bool,
            "Spread replicas over availability zones.",
        ),
        f(
            "enableEndpointPerReplica",
            Bool,
            "Give each replica its own endpoint.",
        ),
        deprecated(
            "endpointPerReplica",
            Bool,
            "enableEndpointPerReplica",
            "Seen in the docs' MySQL example; the schema only knows `enableEndpointPerReplica`.",
        ),
        f(
            "autoscaling",
            Map,
            "Replica autoscaling: min/max replicas and utilisation thresholds.",
        ),
        f(
            "serverlessConfiguration",
            Map,
            "Serverless: an always-on proxy on `targetPort`, auto-stop when idle, warm pool.",
        ),
        f(
            "httpReverseProxy",
            Map,
            "`{targetPort}` served through an HTTP reverse proxy.",
        ),
        f("customDNS", Map, "`{targetPort}` with a custom DNS name (the schema also spells it `TargetPort`)."),
        f(
            "backupConfiguration",
            Map,
            "`backupRetentionInDays`, `backupPeriodInHours`, `snapshotBeforeDeletion`.",
        ),
        f("sidecars", Map, "Sidecar containers by name: `imageNameWithTag`, `command`, `args`, `resourceLimits`, `securityContext`."),
        f(
            "serviceAccountPolicies",
            Map,
            "Cloud permissions for the workload.",
        ),
        f("enableStableEgressIP", Bool, "A stable egress IP."),
        f("enableCustomZone", Bool, "Let customers choose zones."),
        f(
            "enableClusterLoadBalancer",
            Bool,
            "A cluster load balancer.",
        ),
        f("enableNodeLoadBalancer", Bool, "A load balancer per node."),
        f("networkType", String, "Network type."),
        f(
            "nodeWarmPool",
            Map,
            "`{minFreeNodes}`: free nodes kept warm.",
        ),
        f("processCoreDump", String, "Path for process core dumps."),
    ],
};

pub const AUTOSCALING: ObjectSchema = ObjectSchema {
    name: "autoscaling",
    fields: &[
        f("minReplicas", Int, "Fewest replicas (at least 1)."),
        f(
            "maxReplicas",
            Int,
            "Most replicas (at least `minReplicas`).",
        ),
        f(
            "idleThreshold",
            Number,
            "Utilisation percent below which the resource counts as idle (default 20).",
        ),
        f(
            "idleMinutesBeforeScalingDown",
            Int,
            "Minutes idle before one replica is removed (default 5).",
        ),
        f(
            "overUtilizedThreshold",
            Number,
            "Utilisation percent above which the resource counts as busy (default 80).",
        ),
        f(
            "overUtilizedMinutesBeforeScalingUp",
            Int,
            "Minutes busy before one replica is added (default 5).",
        ),
        f(
            "scalingMetric",
            Map,
            "A custom Prometheus metric to scale on.",
        ),
        f("policyType", String, "`managed` (default) or `custom`."),
    ],
};

pub const SERVERLESS: ObjectSchema = ObjectSchema {
    name: "serverlessConfiguration",
    fields: &[
        f("targetPort", Int, "The service port the serverless proxy forwards to; must be one of the service's ports."),
        f("enableAutoStop", Bool, "Stop the containers when no client is connected for a while."),
        f("minimumNodesInPool", Int, "Instances kept warm so a wake is fast."),
        f("proxyName", String, "Name of the serverless proxy."),
        f("imageURL", String, "Image of the serverless proxy."),
        f("portsMappingProxyConfig", Map, "`maxNumberOfClustersPerProxyInstance`, `numberOfPortsPerCluster`."),
        f("proxyServiceAccountPolicy", Map, "Cloud permissions of the proxy."),
        f("proxyStorageConfig", Map, "Storage of the proxy."),
    ],
};

/// Every object schema, for the editor.
pub const ACTION_HOOK: ObjectSchema = ObjectSchema {
    name: "action hook",
    fields: &[
        f("scope", String, "`CLUSTER` or `NODE`: run once or on every node."),
        f("type", String, "When it runs: `INIT`, `POST_START`, `PRE_STOP`, `HEALTH_CHECK`, `READINESS_CHECK`, `POST_UPGRADE`…"),
        f("commandTemplate", String, "The script; templates (`$var.…`, `$sys.…`) are resolved first."),
    ],
};

pub const LOAD_BALANCER: ObjectSchema = ObjectSchema {
    name: "x-omnistrate-load-balancer",
    fields: &[
        f(
            "https",
            List,
            "L7 load balancers: `name`, `description`, `paths`.",
        ),
        f(
            "tcp",
            List,
            "L4 load balancers: `name`, `description`, `ports`.",
        ),
    ],
};

pub const HTTPS_LOAD_BALANCER: ObjectSchema = ObjectSchema {
    name: "HTTPS load balancer",
    fields: &[
        f("name", String, "Name of the load balancer."),
        f("description", String, "What it serves."),
        f(
            "paths",
            List,
            "Routes: `associatedResourceKey`, `path`, `backendPort`.",
        ),
    ],
};

pub const HTTPS_ROUTE: ObjectSchema = ObjectSchema {
    name: "HTTPS route",
    fields: &[
        f(
            "associatedResourceKey",
            String,
            "Resource key of the service that serves the path.",
        ),
        f("path", String, "URL path prefix (`/`)."),
        f("backendPort", Int, "Container port traffic goes to."),
    ],
};

pub const TCP_LOAD_BALANCER: ObjectSchema = ObjectSchema {
    name: "TCP load balancer",
    fields: &[
        f("name", String, "Name of the load balancer."),
        f("description", String, "What it serves."),
        f(
            "ports",
            List,
            "Routes: `associatedResourceKeys`, `ingressPort`, `backendPort`.",
        ),
    ],
};

pub const TCP_ROUTE: ObjectSchema = ObjectSchema {
    name: "TCP route",
    fields: &[
        f(
            "associatedResourceKeys",
            List,
            "Resource keys of the services behind the port.",
        ),
        f("ingressPort", Int, "Port the load balancer listens on."),
        f("backendPort", Int, "Container port traffic goes to."),
    ],
};

pub const STORAGE: ObjectSchema = ObjectSchema {
    name: "x-omnistrate-storage",
    fields: &[
        f(
            "aws",
            Any,
            "AWS storage: `instanceStorageType` (`AWS::EBS_GP3`…), size, IOPS, throughput.",
        ),
        f(
            "gcp",
            Any,
            "GCP storage: `instanceStorageType` (`GCP::PD_BALANCED`…) and size.",
        ),
        f(
            "azure",
            Any,
            "Azure storage: `instanceStorageType` (`AZURE::PREMIUM_SSD`…) and size.",
        ),
    ],
};

pub const CLOUD_STORAGE: ObjectSchema = ObjectSchema {
    name: "cloud storage entry",
    fields: &[
        f("instanceStorageType", String, "Disk type: `AWS::EBS_GP3|EBS_GP2|EBS_IO1`, `GCP::PD_BALANCED|PD_SSD|PD_STANDARD`, `AZURE::STANDARD_SSD|PREMIUM_SSD`."),
        f("instanceStorageTypeAPIParam", String, "API param key whose value is the disk type."),
        f("instanceStorageSizeGi", Int, "Disk size in GiB."),
        f("instanceStorageSizeGiAPIParam", String, "API param key whose value is the disk size in GiB."),
        f("instanceStorageIOPS", Int, "Provisioned IOPS of the disk."),
        f("instanceStorageIOPSAPIParam", String, "API param key whose value is the IOPS."),
        f("instanceStorageThroughputMiBps", Int, "Provisioned throughput in MiB/s."),
        f("instanceStorageThroughputAPIParam", String, "API param key whose value is the throughput (the spelling published specs use)."),
        f("instanceStorageThroughputMiBpsAPIParam", String, "API param key whose value is the throughput (the reference's spelling)."),
        f("clusterStorageType", String, "Shared storage type: `AWS::EFS`, `AWS::S3`, `GCP::GCS`."),
        f("clusterStorageTypeAPIParam", String, "API param key whose value is the shared storage type."),
        f("storageResourceName", String, "Name of an existing storage resource to use."),
        f("disableBackup", Bool, "Leave this volume out of backups."),
    ],
};

pub const JOB_CONFIG: ObjectSchema = ObjectSchema {
    name: "x-omnistrate-job-config",
    fields: &[
        f(
            "backoffLimit",
            Int,
            "Retries before the job counts as failed (`0`: no retry).",
        ),
        f(
            "activeDeadlineSeconds",
            Int,
            "Seconds the job may run before it is stopped.",
        ),
        f(
            "scheduleConfig",
            Map,
            "When the job runs on a schedule: `cronExpression`, `timezone` (or `simpleInterval`).",
        ),
    ],
};

pub const SERVICE_PLAN: ObjectSchema = ObjectSchema {
    name: "x-omnistrate-service-plan",
    fields: &[
        f("name", String, "Name of the plan shown to customers."),
        f("tenancyType", String, "`OMNISTRATE_DEDICATED_TENANCY`, `OMNISTRATE_MULTI_TENANCY` (or `CUSTOM_TENANCY`)."),
        f("deployment", Map, "Where it runs: `hostedDeployment`, `byoaDeployment`, `onPremDeployment` or `onPremCopilotDeployment` (omitted: Omnistrate hosts)."),
        f("features", Any, "Plan features such as `CUSTOM_NETWORKS` or `CUSTOM_DEPLOYMENT_CELL_PLACEMENT`."),
        f("pricing", List, "Prices: `{dimension, unit, timeUnit, price}`."),
        f("metering", Map, "Usage export: `s3BucketARN`, `s3BucketRegion`, `gcsBucketName`."),
        f("billingProviders", List, "Billing providers: `{name, isDefault, externalProductID, …}`."),
        f("maxNumberOfInstancesAllowed", Int, "Most instances a customer may create (`-1`: unlimited)."),
        f("validPaymentMethodRequired", Bool, "Customers need a valid payment method."),
        f("enableDeletionProtection", Bool, "Protect instances from deletion."),
        f("billingProductID", String, "Product id in the billing provider."),
    ],
};

pub const DEPLOYMENT: ObjectSchema = ObjectSchema {
    name: "deployment",
    fields: &[
        f(
            "hostedDeployment",
            Map,
            "Hosted in the provider's accounts (account ids per cloud).",
        ),
        f(
            "byoaDeployment",
            Map,
            "Bring your own account: runs in the customer's accounts.",
        ),
        f("onPremDeployment", Map, "On-premises deployment."),
        f(
            "onPremCopilotDeployment",
            Map,
            "On-premises deployment with copilot.",
        ),
    ],
};

/// Account fields of a deployment kind; the docs write lowerCamel, the CLI's
/// tests UpperCamel, and the parser accepts both, so both are listed.
pub const DEPLOYMENT_ACCOUNT: ObjectSchema = ObjectSchema {
    name: "deployment account",
    fields: &[
        f("awsAccountId", String, "AWS account id."),
        f(
            "awsBootstrapRoleAccountArn",
            String,
            "ARN of the AWS bootstrap role.",
        ),
        f("gcpProjectId", String, "GCP project id."),
        f("gcpProjectNumber", String, "GCP project number."),
        f(
            "gcpServiceAccountEmail",
            String,
            "GCP bootstrap service account.",
        ),
        f("azureSubscriptionId", String, "Azure subscription id."),
        f("azureTenantId", String, "Azure tenant id."),
        f("nebiusTenantId", String, "Nebius tenant id."),
        f("ociTenancyId", String, "OCI tenancy id."),
        f("ociDomainId", String, "OCI domain id."),
        f(
            "AwsAccountId",
            String,
            "AWS account id (UpperCamel spelling).",
        ),
        f(
            "AwsBootstrapRoleAccountArn",
            String,
            "ARN of the AWS bootstrap role (UpperCamel spelling).",
        ),
        f(
            "GcpProjectId",
            String,
            "GCP project id (UpperCamel spelling).",
        ),
        f(
            "GcpProjectNumber",
            String,
            "GCP project number (UpperCamel spelling).",
        ),
        f(
            "GcpServiceAccountEmail",
            String,
            "GCP bootstrap service account (UpperCamel spelling).",
        ),
        f(
            "AzureSubscriptionId",
            String,
            "Azure subscription id (UpperCamel spelling).",
        ),
        f(
            "AzureTenantId",
            String,
            "Azure tenant id (UpperCamel spelling).",
        ),
        f(
            "NebiusTenantId",
            String,
            "Nebius tenant id (UpperCamel spelling).",
        ),
        f(
            "OciTenancyId",
            String,
            "OCI tenancy id (UpperCamel spelling).",
        ),
        f(
            "OciDomainId",
            String,
            "OCI domain id (UpperCamel spelling).",
        ),
    ],
};

/// One entry of `x-omnistrate-image-registry-attributes`, keyed by host.
pub const IMAGE_REGISTRY: ObjectSchema = ObjectSchema {
    name: "image registry",
    fields: &[f("auth", Map, "Credentials: `username` and `password`.")],
};

pub const REGISTRY_AUTH: ObjectSchema = ObjectSchema {
    name: "registry auth object",
    fields: &[
        f("username", String, "User name at the registry."),
        f(
            "password",
            String,
            "Password or token (keep it out of the file: a placeholder your CI fills).",
        ),
    ],
};

pub const ALL: &[&ObjectSchema] = &[
    &ROOT,
    &SERVICE,
    &API_PARAM,
    &LIMITS,
    &COMPUTE,
    &INSTANCE_TYPE,
    &CAPABILITIES,
    &AUTOSCALING,
    &SERVERLESS,
    &ACTION_HOOK,
    &LOAD_BALANCER,
    &HTTPS_LOAD_BALANCER,
    &HTTPS_ROUTE,
    &TCP_LOAD_BALANCER,
    &TCP_ROUTE,
    &STORAGE,
    &CLOUD_STORAGE,
    &JOB_CONFIG,
    &SERVICE_PLAN,
    &DEPLOYMENT,
    &DEPLOYMENT_ACCOUNT,
    &IMAGE_REGISTRY,
    &REGISTRY_AUTH,
];

/// Known `x-omnistrate-*` keys at any level (for the unknown-extension rule).
pub fn omnistrate_keys() -> impl Iterator<Item = &'static str> {
    ROOT.fields
        .iter()
        .chain(SERVICE.fields.iter())
        .map(|f| f.key)
        .filter(|k| k.starts_with("x-omnistrate-"))
        .chain(["x-omnistrate-storage", "x-omnistrate-action-hooks"])
}

/// The closest known word within a small edit distance, for "did you mean".
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    closest(word, candidates, (word.chars().count() / 3).clamp(1, 4))
}

/// The candidate nearest to `word` (case-insensitive) within `budget` edits.
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    budget: usize,
) -> Option<&'a str> {
    let lowered = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lowered, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= budget)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance over chars where inserting, deleting, substituting or
/// swapping two adjacent characters each cost one (optimal string alignment),
/// so `imgae` is one edit from `image`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = best;
        }
    }
    rows[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_cost_one_edit() {
        assert_eq!(edit_distance("imgae", "image"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            did_you_mean("imgae", SERVICE.fields.iter().map(|f| f.key)),
            Some("image")
        );
    }
}
