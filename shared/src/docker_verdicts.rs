//! What the specstudio server does with each compose service key: apply it
//! to Docker (and how), or refuse the deployment (and why). One table, read
//! by the lint rule C101 (the editor shows refusals as errors) and by the
//! server (which applies the applied ones and answers 422 for the others,
//! unless the operator opted in to a host-escaping capability).
//!
//! `x-` extension keys are not compose keys and are not listed.

/// The server's verdict on one compose service key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Applied; how it maps to Docker.
    Applied(&'static str),
    /// Refused: it would let a spec escape to the host. An operator may
    /// allow it (`specstudio serve --allow-host-key KEY`).
    HostEscaping(&'static str),
    /// Refused: the server cannot honour it.
    Unsupported(&'static str),
}

impl Verdict {
    pub fn refused(self) -> bool {
        !matches!(self, Verdict::Applied(_))
    }

    /// The explanation shown with the verdict.
    pub fn reason(self) -> &'static str {
        match self {
            Verdict::Applied(s) | Verdict::HostEscaping(s) | Verdict::Unsupported(s) => s,
        }
    }
}

use Verdict::{Applied, HostEscaping, Unsupported};

/// Every compose service key and its verdict.
pub const SERVICE_KEYS: &[(&str, Verdict)] = &[
    ("image", Applied("the container image (after `--image-map`)")),
    ("ports", Applied("container ports, published on the bind address on ephemeral host ports (host ports in the spec are ignored)")),
    ("expose", Applied("exposed container ports (reachable by the other services on the deployment's network)")),
    ("volumes", Applied("one named volume per container and mount; absolute host paths are refused")),
    ("environment", Applied("container environment; templates resolved")),
    ("depends_on", Applied("start order (and readiness with `condition: service_healthy`)")),
    ("entrypoint", Applied("Docker `Entrypoint`")),
    ("command", Applied("Docker `Cmd`")),
    ("networks", Applied("every service joins the deployment's own network; names are aliases")),
    ("labels", Applied("container labels; the `org.specstudio.` namespace is reserved")),
    ("healthcheck", Applied("Docker `Healthcheck` (test, interval, timeout, retries, start_period, disable)")),
    ("restart", Applied("Docker restart policy (`no`, `always`, `unless-stopped`, `on-failure[:N]`); default `on-failure:3`")),
    ("mem_limit", Applied("Docker `Memory` (bytes; `512m`, `1g`); an instance type's memory wins")),
    ("cpus", Applied("Docker `NanoCpus`; an instance type's vCPUs win")),
    ("pids_limit", Applied("Docker `PidsLimit`")),
    ("ulimits", Applied("Docker `Ulimits` (`nofile: 1024` or `{soft, hard}`)")),
    ("user", Applied("Docker `User`")),
    ("working_dir", Applied("Docker `WorkingDir`")),
    ("stop_grace_period", Applied("Docker `StopTimeout` (seconds, rounded up)")),
    ("stop_signal", Applied("Docker `StopSignal`")),
    ("hostname", Applied("Docker `Hostname` (all replicas share it)")),
    ("domainname", Applied("Docker `Domainname`")),
    ("read_only", Applied("Docker `ReadonlyRootfs`")),
    ("shm_size", Applied("Docker `ShmSize` (bytes)")),
    ("tmpfs", Applied("Docker `Tmpfs` mounts")),
    ("extra_hosts", Applied("Docker `ExtraHosts`")),
    ("dns", Applied("Docker `Dns`")),
    ("dns_search", Applied("Docker `DnsSearch`")),
    ("dns_opt", Applied("Docker `DnsOptions`")),
    ("init", Applied("Docker `Init`")),
    ("tty", Applied("Docker `Tty`")),
    ("stdin_open", Applied("Docker `OpenStdin`")),
    ("cap_drop", Applied("Docker `CapDrop` (dropping capabilities is always allowed)")),
    ("group_add", Applied("Docker `GroupAdd`")),
    // host-escaping: refused unless the operator allows the key
    ("privileged", HostEscaping("a privileged container controls the host")),
    ("network_mode", HostEscaping("leaves the deployment's network (`host` shares the host's)")),
    ("pid", HostEscaping("shares a PID namespace (`host`: sees and signals host processes)")),
    ("ipc", HostEscaping("shares an IPC namespace (`host`: the host's shared memory)")),
    ("uts", HostEscaping("shares the host's UTS namespace")),
    ("userns_mode", HostEscaping("changes the user namespace (`host` disables remapping)")),
    ("cap_add", HostEscaping("adds Linux capabilities (e.g. `SYS_ADMIN` escapes the container)")),
    ("devices", HostEscaping("maps host devices into the container")),
    ("device_cgroup_rules", HostEscaping("grants access to host devices")),
    ("security_opt", HostEscaping("can disable seccomp/AppArmor confinement")),
    ("cgroup_parent", HostEscaping("places the container in a host cgroup of its choosing")),
    ("cgroup", HostEscaping("shares the host's cgroup namespace")),
    ("sysctls", HostEscaping("changes kernel parameters")),
    ("runtime", HostEscaping("selects another OCI runtime of the host")),
    ("gpus", HostEscaping("gives access to host GPUs")),
    ("volumes_from", HostEscaping("mounts the volumes of other containers on the host")),
    ("oom_kill_disable", HostEscaping("a container the OOM killer spares can starve the host")),
    ("isolation", HostEscaping("selects a host isolation technology")),
    ("storage_opt", HostEscaping("changes the host's storage driver options")),
    // not honoured by this server
    ("build", Unsupported("images are not built here: give an `image`")),
    ("env_file", Unsupported("files on the server are not read: put the values in `environment` (or api-params)")),
    ("secrets", Unsupported("compose secrets are not mounted: pass secrets as api-params with `export: false` in `environment`")),
    ("configs", Unsupported("compose configs are not mounted: use `environment` or the image")),
    ("container_name", Unsupported("container names are managed by the server (`ss-<deployment>-<resource>-<n>`)")),
    ("logging", Unsupported("logs are kept by the server (`x-omnistrate-capabilities` `omnistrateLogging`)")),
    ("links", Unsupported("legacy links: services reach each other by name on the deployment's network")),
    ("external_links", Unsupported("containers outside the deployment are not reachable")),
    ("extends", Unsupported("`extends` reads other files: inline the service")),
    ("profiles", Unsupported("every service of a spec is deployed")),
    ("platform", Unsupported("one Docker host: the image runs on its platform")),
    ("pull_policy", Unsupported("images are pulled when missing")),
    ("scale", Unsupported("use `x-omnistrate-compute.replicaCount` or `replicaCountAPIParam`")),
    ("deploy", Unsupported("use `x-omnistrate-compute` (instance types, replicas)")),
    ("blkio_config", Unsupported("block IO limits are not applied")),
    ("mem_reservation", Unsupported("use `mem_limit` or an instance type")),
    ("mem_swappiness", Unsupported("swap settings are not applied")),
    ("memswap_limit", Unsupported("swap settings are not applied")),
    ("oom_score_adj", Unsupported("OOM scores are not applied")),
    ("cpu_shares", Unsupported("use `cpus` or an instance type")),
    ("cpu_quota", Unsupported("use `cpus` or an instance type")),
    ("cpu_period", Unsupported("use `cpus` or an instance type")),
    ("cpuset", Unsupported("use `cpus` or an instance type")),
    ("cpu_count", Unsupported("use `cpus` or an instance type")),
    ("cpu_percent", Unsupported("use `cpus` or an instance type")),
    ("mac_address", Unsupported("addresses are assigned by the deployment's network")),
    ("credential_spec", Unsupported("Windows credential specs are not supported")),
    ("post_start", Unsupported("use `x-omnistrate-actionhooks`")),
    ("pre_stop", Unsupported("use `x-omnistrate-actionhooks`")),
    ("label_file", Unsupported("files on the server are not read: put the labels in `labels`")),
    ("develop", Unsupported("development watch settings do not apply to deployments")),
    ("attach", Unsupported("logs are always followed")),
    ("annotations", Unsupported("annotations are not applied")),
    ("cpu_rt_period", Unsupported("real-time CPU scheduling needs the daemon's own real-time budget: use `cpus` or an instance type")),
    ("cpu_rt_runtime", Unsupported("real-time CPU scheduling needs the daemon's own real-time budget: use `cpus` or an instance type")),
    ("use_api_socket", HostEscaping("mounts the Docker API socket: the container would control the host")),
    ("pull_refresh_after", Unsupported("images are pulled when missing")),
    ("models", Unsupported("AI models are not provided by this server")),
    ("provider", Unsupported("provider services are not run by this server")),
];

/// The verdict on a compose service key (`None`: not a compose key, e.g. an
/// `x-` extension or a misspelling).
pub fn verdict(key: &str) -> Option<Verdict> {
    SERVICE_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
}

/// Label keys a spec may not set: the server's own.
pub const RESERVED_LABEL_PREFIX: &str = "org.specstudio.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_once() {
        for (i, (k, _)) in SERVICE_KEYS.iter().enumerate() {
            assert!(
                SERVICE_KEYS[i + 1..].iter().all(|(o, _)| o != k),
                "{k} listed twice"
            );
        }
        assert_eq!(verdict("privileged").map(Verdict::refused), Some(true));
        assert_eq!(verdict("healthcheck").map(Verdict::refused), Some(false));
        assert_eq!(verdict("x-omnistrate-compute"), None);
    }

    /// The verdicts and the key table the validator reads
    /// (`model::keys::SERVICE`) name the same compose keys: a key the
    /// validator knows is never silently dropped by the server.
    #[test]
    fn every_known_service_key_has_a_verdict() {
        let known: Vec<&str> = crate::model::keys::SERVICE
            .fields
            .iter()
            .filter(|f| f.deprecated_by.is_none())
            .map(|f| f.key)
            .filter(|k| !k.starts_with("x-"))
            .collect();
        let missing: Vec<&&str> = known.iter().filter(|k| verdict(k).is_none()).collect();
        assert!(missing.is_empty(), "keys without a verdict: {missing:?}");
        let unknown: Vec<&str> = SERVICE_KEYS
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !known.contains(k))
            .collect();
        assert!(
            unknown.is_empty(),
            "verdicts for keys the validator does not know: {unknown:?}"
        );
    }
}
