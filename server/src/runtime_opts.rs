//! The compose keys the server applies to Docker (verdicts:
//! `shared::docker_verdicts`), read from a service's YAML into the settings a
//! container is created with. Refused keys and values Docker cannot take are
//! issues (`422`) before any Docker call.

use std::collections::{BTreeMap, BTreeSet};

use shared::docker_verdicts::{verdict, Verdict, RESERVED_LABEL_PREFIX};
use shared::syntax::{NodeId, Shape, Tree};

/// Memory for a container without an instance type or `mem_limit`.
pub const DEFAULT_MEMORY: i64 = 1024 * 1024 * 1024;
/// CPUs for a container without an instance type or `cpus`.
pub const DEFAULT_CPUS: f64 = 1.0;
/// Processes a container may run without `pids_limit`.
pub const DEFAULT_PIDS: i64 = 1024;

/// Host-escaping keys an operator may allow with `--allow-host-key`; the
/// others stay refused.
pub const ALLOWABLE_HOST_KEYS: &[&str] = &[
    "privileged",
    "cap_add",
    "security_opt",
    "sysctls",
    "pid",
    "ipc",
    "uts",
    "userns_mode",
    "devices",
    "cgroup_parent",
    "runtime",
    "oom_kill_disable",
    "network_mode",
    "volumes_from",
    "gpus",
];

/// Keys Docker refuses beside `network_mode: container:…` (the container
/// has no network of its own to publish on, name or resolve in).
const NETWORK_OWN_KEYS: &[&str] = &[
    "ports",
    "expose",
    "hostname",
    "domainname",
    "dns",
    "dns_search",
    "dns_opt",
    "extra_hosts",
    "networks",
];

/// A Docker device request for GPUs (`gpus`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GpuRequest {
    /// `None`: Docker picks the driver that has the capabilities.
    pub driver: Option<String>,
    /// `-1`: all GPUs.
    pub count: i64,
    pub device_ids: Vec<String>,
    /// Every one required (compose's list; `gpu` when none is given).
    pub capabilities: Vec<String>,
    pub options: BTreeMap<String, String>,
}

/// Another service of the same spec a service takes something from
/// (`network_mode: service:NAME`, `volumes_from: [NAME]`): `name` as written
/// (a service name, or a container name of this deployment with
/// `container:`); the planner resolves it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Peer {
    pub name: String,
    /// Written as `container:NAME`.
    pub container: bool,
    /// `volumes_from` with `:ro`.
    pub read_only: bool,
}

impl Peer {
    /// `service:NAME`, `container:NAME` or (for `volumes_from`) a bare
    /// `NAME`, with an optional `:ro`/`:rw` when `access` is allowed.
    pub fn parse(text: &str, bare: bool, access: bool) -> Option<Peer> {
        let (kind, rest) = match text.split_once(':') {
            Some((k @ ("service" | "container"), rest)) => (k, rest),
            _ if bare => ("service", text),
            _ => return None,
        };
        let (name, read_only) = match rest.rsplit_once(':') {
            Some((n, "ro")) if access => (n, true),
            Some((n, "rw")) if access => (n, false),
            Some(_) => return None,
            None => (rest, false),
        };
        let name = name.trim();
        (!name.is_empty()).then(|| Peer {
            name: name.to_owned(),
            container: kind == "container",
            read_only,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Healthcheck {
    pub test: Vec<String>,
    /// Nanoseconds (Docker's unit); 0 = Docker's default.
    pub interval: i64,
    pub timeout: i64,
    pub start_period: i64,
    pub retries: i64,
}

/// Settings from compose keys, as Docker takes them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuntimeOptions {
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub healthcheck: Option<Healthcheck>,
    /// (policy name, maximum retries).
    pub restart: Option<(String, i64)>,
    pub memory: Option<i64>,
    pub cpus: Option<f64>,
    pub pids_limit: Option<i64>,
    /// (name, soft, hard)
    pub ulimits: Vec<(String, i64, i64)>,
    pub stop_timeout: Option<i64>,
    pub stop_signal: Option<String>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub read_only: Option<bool>,
    pub shm_size: Option<i64>,
    pub tmpfs: BTreeMap<String, String>,
    pub extra_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    pub init: Option<bool>,
    pub tty: Option<bool>,
    pub stdin_open: Option<bool>,
    pub cap_drop: Vec<String>,
    pub group_add: Vec<String>,
    pub expose: Vec<u16>,
    // allowed by the operator only
    pub privileged: Option<bool>,
    pub cap_add: Vec<String>,
    pub security_opt: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
    pub pid: Option<String>,
    pub ipc: Option<String>,
    pub uts: Option<String>,
    pub userns_mode: Option<String>,
    /// (host path, container path, permissions)
    pub devices: Vec<(String, String, String)>,
    pub cgroup_parent: Option<String>,
    pub runtime: Option<String>,
    pub oom_kill_disable: Option<bool>,
    /// `network_mode: service:NAME` / `container:NAME` (within the deployment).
    pub network_mode: Option<Peer>,
    /// `volumes_from` (services of the same spec).
    pub volumes_from: Vec<Peer>,
    pub gpus: Vec<GpuRequest>,
}

impl RuntimeOptions {
    /// Whether any key was given (containers planned before these keys
    /// existed keep their config hash).
    pub fn is_empty(&self) -> bool {
        *self == RuntimeOptions::default()
    }

    /// The compose keys that are set, as the user writes them (`mem_limit`,
    /// `stop_grace_period`), in field order. Exhaustive: a new field is a
    /// compile error here, so an engine that applies only some keys
    /// (`Engine::unsupported`) cannot drop a new one silently.
    pub fn given_keys(&self) -> Vec<&'static str> {
        let Self {
            user,
            working_dir,
            labels,
            healthcheck,
            restart,
            memory,
            cpus,
            pids_limit,
            ulimits,
            stop_timeout,
            stop_signal,
            hostname,
            domainname,
            read_only,
            shm_size,
            tmpfs,
            extra_hosts,
            dns,
            dns_search,
            dns_opt,
            init,
            tty,
            stdin_open,
            cap_drop,
            group_add,
            expose,
            privileged,
            cap_add,
            security_opt,
            sysctls,
            pid,
            ipc,
            uts,
            userns_mode,
            devices,
            cgroup_parent,
            runtime,
            oom_kill_disable,
            network_mode,
            volumes_from,
            gpus,
        } = self;
        [
            ("user", user.is_some()),
            ("working_dir", working_dir.is_some()),
            ("labels", !labels.is_empty()),
            ("healthcheck", healthcheck.is_some()),
            ("restart", restart.is_some()),
            ("mem_limit", memory.is_some()),
            ("cpus", cpus.is_some()),
            ("pids_limit", pids_limit.is_some()),
            ("ulimits", !ulimits.is_empty()),
            ("stop_grace_period", stop_timeout.is_some()),
            ("stop_signal", stop_signal.is_some()),
            ("hostname", hostname.is_some()),
            ("domainname", domainname.is_some()),
            ("read_only", read_only.is_some()),
            ("shm_size", shm_size.is_some()),
            ("tmpfs", !tmpfs.is_empty()),
            ("extra_hosts", !extra_hosts.is_empty()),
            ("dns", !dns.is_empty()),
            ("dns_search", !dns_search.is_empty()),
            ("dns_opt", !dns_opt.is_empty()),
            ("init", init.is_some()),
            ("tty", tty.is_some()),
            ("stdin_open", stdin_open.is_some()),
            ("cap_drop", !cap_drop.is_empty()),
            ("group_add", !group_add.is_empty()),
            ("expose", !expose.is_empty()),
            ("privileged", privileged.is_some()),
            ("cap_add", !cap_add.is_empty()),
            ("security_opt", !security_opt.is_empty()),
            ("sysctls", !sysctls.is_empty()),
            ("pid", pid.is_some()),
            ("ipc", ipc.is_some()),
            ("uts", uts.is_some()),
            ("userns_mode", userns_mode.is_some()),
            ("devices", !devices.is_empty()),
            ("cgroup_parent", cgroup_parent.is_some()),
            ("runtime", runtime.is_some()),
            ("oom_kill_disable", oom_kill_disable.is_some()),
            ("network_mode", network_mode.is_some()),
            ("volumes_from", !volumes_from.is_empty()),
            ("gpus", !gpus.is_empty()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect()
    }
}

/// One problem with a service's compose keys.
#[derive(Clone, Debug)]
pub struct KeyIssue {
    pub key: String,
    pub message: String,
    /// Where: the JSON pointer of the key's value (`/services/W/privileged`).
    pub path: String,
}

struct Reader<'a> {
    tree: &'a Tree,
    service: NodeId,
    issues: Vec<KeyIssue>,
}

impl Reader<'_> {
    fn bad(&mut self, key: &str, message: impl Into<String>) {
        let path = key_path(self.tree, self.service, key);
        self.issues.push(KeyIssue {
            key: key.to_owned(),
            message: message.into(),
            path,
        });
    }

    fn text(&mut self, key: &str, n: NodeId) -> Option<String> {
        match self.tree.str(n) {
            Some(s) => Some(s.to_owned()),
            None => {
                self.bad(key, "must be a string");
                None
            }
        }
    }

    fn boolean(&mut self, key: &str, n: NodeId) -> Option<bool> {
        match self.tree.value(n).and_then(|v| v.as_bool()) {
            Some(b) => Some(b),
            None => {
                self.bad(key, "must be true or false");
                None
            }
        }
    }

    /// A string or a list of strings.
    fn strings(&mut self, key: &str, n: NodeId) -> Vec<String> {
        match self.tree.shape(n) {
            Shape::Sequence => {
                let mut out = Vec::new();
                for i in self.tree.items(n).to_vec() {
                    match self.tree.str(i) {
                        Some(s) => out.push(s.to_owned()),
                        None => self.bad(key, "items must be strings"),
                    }
                }
                out
            }
            _ => self.text(key, n).into_iter().collect(),
        }
    }

    /// A mapping or a list of `k=v` (`sep`) items.
    fn pairs(&mut self, key: &str, n: NodeId, sep: char) -> Vec<(String, String)> {
        match self.tree.shape(n) {
            Shape::Mapping => self
                .tree
                .entries(n)
                .into_iter()
                .filter_map(|e| {
                    let k = self.tree.str(e.key)?.to_owned();
                    let v = self.tree.str(e.value).unwrap_or("").to_owned();
                    Some((k, v))
                })
                .collect(),
            Shape::Sequence => self
                .strings(key, n)
                .into_iter()
                .map(|s| match s.split_once(sep) {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (s, String::new()),
                })
                .collect(),
            _ => {
                self.bad(key, "must be a mapping or a list");
                Vec::new()
            }
        }
    }
}

/// The JSON pointer of a service key's value (where an issue with it is).
pub fn key_path(tree: &Tree, service: NodeId, key: &str) -> String {
    tree.get_value(service, key)
        .map(|n| tree.path(n))
        .unwrap_or_else(|| format!("{}/{key}", tree.path(service)))
}

/// A duration in nanoseconds: a bare number of seconds (`2`), else Go's
/// form (`1m30s`, `shared::units`), not negative.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return (0.0..1e9).contains(&secs).then_some((secs * 1e9) as i64);
    }
    shared::units::parse_duration(s).filter(|d| *d >= 0)
}

/// `512m`, `1g`, `1gb`, `100k`, `1024` → bytes (`shared::units`), not
/// negative and below a terabyte (no limit here means that much).
pub fn parse_bytes(s: &str) -> Option<i64> {
    shared::units::parse_bytes(s.trim()).filter(|b| (0..1 << 40).contains(b))
}

/// Read a service's compose keys. `allowed` are the host-escaping keys the
/// operator allowed.
pub fn read(
    tree: &Tree,
    service: NodeId,
    allowed: &BTreeSet<String>,
) -> Result<RuntimeOptions, Vec<KeyIssue>> {
    let mut r = Reader {
        tree,
        service,
        issues: Vec::new(),
    };
    let mut o = RuntimeOptions::default();
    if tree.shape(service) != Shape::Mapping {
        return Ok(o);
    }
    for e in tree.entries(service) {
        let Some(key) = tree.str(e.key) else { continue };
        let n = e.value;
        if tree.shape(n) == Shape::Null {
            continue;
        }
        let Some(v) = verdict(key) else { continue };
        match v {
            Verdict::HostEscaping(why) if !allowed.contains(key) => {
                let how = if ALLOWABLE_HOST_KEYS.contains(&key) {
                    format!("; an operator may allow it with `--allow-host-key {key}`")
                } else {
                    String::new()
                };
                r.bad(key, format!("refused (host-escaping): {why}{how}"));
                continue;
            }
            Verdict::Unsupported(why) => {
                r.bad(key, format!("not supported by this server: {why}"));
                continue;
            }
            _ => {}
        }
        let bytes = |r: &mut Reader, n: NodeId| -> Option<i64> {
            let s = r.tree.str(n).map(str::to_owned)?;
            let b = parse_bytes(&s);
            if b.is_none() {
                r.bad(key, format!("`{s}` is not a size (e.g. `512m`, `1g`)"));
            }
            b
        };
        let duration = |r: &mut Reader, n: NodeId| -> Option<i64> {
            let s = r.tree.str(n).map(str::to_owned)?;
            let d = parse_duration(&s);
            if d.is_none() {
                r.bad(
                    key,
                    format!("`{s}` is not a duration (e.g. `10s`, `1m30s`)"),
                );
            }
            d
        };
        match key {
            "user" => o.user = r.text(key, n),
            "working_dir" => o.working_dir = r.text(key, n),
            "hostname" => o.hostname = r.text(key, n),
            "domainname" => o.domainname = r.text(key, n),
            "stop_signal" => o.stop_signal = r.text(key, n),
            "read_only" => o.read_only = r.boolean(key, n),
            "init" => o.init = r.boolean(key, n),
            "tty" => o.tty = r.boolean(key, n),
            "stdin_open" => o.stdin_open = r.boolean(key, n),
            "labels" => {
                for (k, v) in r.pairs(key, n, '=') {
                    if k.to_ascii_lowercase().starts_with(RESERVED_LABEL_PREFIX) {
                        r.bad(
                            key,
                            format!("label `{k}` is in the server's reserved namespace"),
                        );
                    } else {
                        o.labels.insert(k, v);
                    }
                }
            }
            "mem_limit" => o.memory = bytes(&mut r, n),
            "shm_size" => o.shm_size = bytes(&mut r, n),
            "cpus" => match tree.str(n).and_then(|s| s.trim().parse::<f64>().ok()) {
                Some(c) if c > 0.0 && c <= 1024.0 => o.cpus = Some(c),
                _ => r.bad(key, "must be a positive number of CPUs"),
            },
            "pids_limit" => match tree.str(n).and_then(|s| s.trim().parse::<i64>().ok()) {
                Some(p) if p > 0 || p == -1 => o.pids_limit = Some(p),
                _ => r.bad(key, "must be a positive number (or -1)"),
            },
            "stop_grace_period" => {
                o.stop_timeout = duration(&mut r, n).map(|ns| (ns + 999_999_999) / 1_000_000_000)
            }
            "restart" => {
                let s = r.text(key, n).unwrap_or_default();
                o.restart = match s.split_once(':') {
                    _ if s == "no" => Some(("no".into(), 0)),
                    _ if s == "always" || s == "unless-stopped" => Some((s.clone(), 0)),
                    _ if s == "on-failure" => Some(("on-failure".into(), 0)),
                    Some(("on-failure", n)) if n.parse::<u32>().is_ok() => {
                        Some(("on-failure".into(), n.parse().unwrap_or(0)))
                    }
                    _ => {
                        r.bad(
                            key,
                            format!(
                                "`{s}` is not `no`, `always`, `unless-stopped` or `on-failure[:N]`"
                            ),
                        );
                        None
                    }
                }
            }
            "ulimits" if tree.shape(n) == Shape::Mapping => {
                for u in tree.entries(n) {
                    let Some(name) = tree.str(u.key) else {
                        continue;
                    };
                    let num = |id: Option<NodeId>| {
                        id.and_then(|i| tree.str(i)?.trim().parse::<i64>().ok())
                    };
                    let (soft, hard) = if tree.shape(u.value) == Shape::Mapping {
                        (
                            num(tree.get_value(u.value, "soft")),
                            num(tree.get_value(u.value, "hard")),
                        )
                    } else {
                        let v = num(Some(u.value));
                        (v, v)
                    };
                    match (soft, hard) {
                        (Some(s), Some(h)) if s <= h => o.ulimits.push((name.to_owned(), s, h)),
                        _ => r.bad(
                            key,
                            format!("`{name}` needs a number or `{{soft, hard}}` with soft ≤ hard"),
                        ),
                    }
                }
            }
            "ulimits" => r.bad(key, "must be a mapping"),
            "healthcheck" if tree.shape(n) == Shape::Mapping => {
                let mut h = Healthcheck::default();
                let disabled = tree
                    .get_value(n, "disable")
                    .and_then(|d| tree.value(d)?.as_bool())
                    .unwrap_or(false);
                match tree.get_value(n, "test") {
                    _ if disabled => h.test = vec!["NONE".into()],
                    Some(t) if tree.shape(t) == Shape::Sequence => h.test = r.strings(key, t),
                    Some(t) => {
                        if let Some(s) = r.text(key, t) {
                            h.test = vec!["CMD-SHELL".into(), s];
                        }
                    }
                    None => r.bad(key, "needs a `test` (or `disable: true`)"),
                }
                if let Some(first) = h.test.first() {
                    if !matches!(first.as_str(), "CMD" | "CMD-SHELL" | "NONE") {
                        r.bad(
                            key,
                            "`test` as a list starts with `CMD`, `CMD-SHELL` or `NONE`",
                        );
                    }
                }
                for (field, slot) in [
                    ("interval", &mut h.interval),
                    ("timeout", &mut h.timeout),
                    ("start_period", &mut h.start_period),
                ] {
                    if let Some(v) = tree.get_value(n, field) {
                        *slot = duration(&mut r, v).unwrap_or(0);
                    }
                }
                if let Some(v) = tree.get_value(n, "retries") {
                    match tree.str(v).and_then(|s| s.trim().parse::<i64>().ok()) {
                        Some(x) if x >= 0 => h.retries = x,
                        _ => r.bad(key, "`retries` must be a number"),
                    }
                }
                o.healthcheck = Some(h);
            }
            "healthcheck" => r.bad(key, "must be a mapping"),
            "tmpfs" => {
                for t in r.strings(key, n) {
                    let (path, opts) = t.split_once(':').unwrap_or((&t, ""));
                    if !path.starts_with('/') {
                        r.bad(key, format!("`{path}` is not an absolute path"));
                    }
                    o.tmpfs.insert(path.to_owned(), opts.to_owned());
                }
            }
            "extra_hosts" => {
                for (h, ip) in r.pairs(key, n, '=') {
                    // list items are `host:ip` (or `host=ip`)
                    let (h, ip) = if ip.is_empty() {
                        match h.split_once(':') {
                            Some((a, b)) => (a.to_owned(), b.to_owned()),
                            None => (h, ip),
                        }
                    } else {
                        (h, ip)
                    };
                    if h.is_empty() || ip.is_empty() {
                        r.bad(key, "entries are `host:ip`");
                    } else {
                        o.extra_hosts.push(format!("{h}:{ip}"));
                    }
                }
            }
            "dns" => o.dns = r.strings(key, n),
            "dns_search" => o.dns_search = r.strings(key, n),
            "dns_opt" => o.dns_opt = r.strings(key, n),
            "cap_drop" => o.cap_drop = r.strings(key, n),
            "group_add" => o.group_add = r.strings(key, n),
            "expose" => {
                for p in r.strings(key, n) {
                    match p
                        .split('/')
                        .next()
                        .and_then(|x| x.trim().parse::<u16>().ok())
                    {
                        Some(port) if port > 0 => o.expose.push(port),
                        _ => r.bad(key, format!("`{p}` is not a port")),
                    }
                }
            }
            // operator-allowed host-escaping keys
            "privileged" => o.privileged = r.boolean(key, n),
            "oom_kill_disable" => o.oom_kill_disable = r.boolean(key, n),
            "cap_add" => o.cap_add = r.strings(key, n),
            "security_opt" => o.security_opt = r.strings(key, n),
            "sysctls" => o.sysctls = r.pairs(key, n, '=').into_iter().collect(),
            "pid" => o.pid = r.text(key, n),
            "ipc" => o.ipc = r.text(key, n),
            "uts" => o.uts = r.text(key, n),
            "userns_mode" => o.userns_mode = r.text(key, n),
            "cgroup_parent" => o.cgroup_parent = r.text(key, n),
            "runtime" => o.runtime = r.text(key, n),
            "devices" => {
                for d in r.strings(key, n) {
                    let mut parts = d.splitn(3, ':');
                    let host = parts.next().unwrap_or("").to_owned();
                    let inside = parts.next().unwrap_or(&host).to_owned();
                    let perms = parts.next().unwrap_or("rwm").to_owned();
                    o.devices.push((host, inside, perms));
                }
            }
            "network_mode" => {
                let text = r.text(key, n).unwrap_or_default();
                match Peer::parse(&text, false, false) {
                    Some(p) => o.network_mode = Some(p),
                    None => r.bad(
                        key,
                        format!(
                            "`{text}`: only `service:NAME` or `container:NAME` of this deployment is applied (the host's and other networks are refused)"
                        ),
                    ),
                }
            }
            "volumes_from" => {
                for text in r.strings(key, n) {
                    match Peer::parse(&text, true, true) {
                        Some(p) => o.volumes_from.push(p),
                        None => r.bad(
                            key,
                            format!("`{text}` is not `NAME`, `service:NAME` or `container:NAME` (with `:ro` or `:rw`)"),
                        ),
                    }
                }
            }
            "gpus" => o.gpus = read_gpus(&mut r, n),
            other => {
                // allowed by the operator but not mapped here
                if matches!(v, Verdict::HostEscaping(_)) {
                    r.bad(other, "is not supported by this server even when allowed");
                }
            }
        }
    }
    if o.network_mode.is_some() {
        for k in NETWORK_OWN_KEYS {
            if tree
                .get_value(service, k)
                .is_some_and(|v| tree.shape(v) != Shape::Null)
            {
                r.bad(
                    k,
                    "cannot be set beside `network_mode` (the service uses the other service's network: set it there)",
                );
            }
        }
    }
    if r.issues.is_empty() {
        Ok(o)
    } else {
        Err(r.issues)
    }
}

/// `gpus: all`, or a list of `{driver, count, device_ids, capabilities,
/// options}` (compose's device requests).
fn read_gpus(r: &mut Reader, n: NodeId) -> Vec<GpuRequest> {
    let tree = r.tree;
    let all = |driver| GpuRequest {
        driver,
        count: -1,
        capabilities: vec!["gpu".into()],
        ..Default::default()
    };
    match tree.shape(n) {
        Shape::Scalar if tree.str(n) == Some("all") => vec![all(None)],
        Shape::Sequence => {
            let mut out = Vec::new();
            for item in tree.items(n).to_vec() {
                if tree.shape(item) != Shape::Mapping {
                    r.bad("gpus", "items are mappings (`driver`, `count`, `device_ids`, `capabilities`, `options`)");
                    continue;
                }
                let mut g = all(None);
                g.count = 0;
                if let Some(d) = tree.get_value(item, "driver") {
                    g.driver = r.text("gpus", d);
                }
                if let Some(c) = tree.get_value(item, "count") {
                    match tree.str(c).map(str::trim) {
                        Some("all") => g.count = -1,
                        Some(s) => match s.parse::<i64>() {
                            Ok(k) if (1..=64).contains(&k) => g.count = k,
                            _ => r.bad(
                                "gpus",
                                format!("`count: {s}` is not `all` or a number from 1 to 64"),
                            ),
                        },
                        None => r.bad("gpus", "`count` is `all` or a number"),
                    }
                }
                if let Some(ids) = tree.get_value(item, "device_ids") {
                    g.device_ids = r.strings("gpus", ids);
                }
                if g.count != 0 && !g.device_ids.is_empty() {
                    r.bad("gpus", "`count` and `device_ids` cannot both be given");
                }
                if g.count == 0 && g.device_ids.is_empty() {
                    g.count = -1;
                }
                if let Some(caps) = tree.get_value(item, "capabilities") {
                    g.capabilities = r.strings("gpus", caps);
                }
                if let Some(opts) = tree.get_value(item, "options") {
                    g.options = r.pairs("gpus", opts, '=').into_iter().collect();
                }
                out.push(g);
            }
            out
        }
        _ => {
            r.bad("gpus", "is `all` or a list of device requests");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(yaml: &str, allowed: &[&str]) -> Result<RuntimeOptions, Vec<KeyIssue>> {
        let a = shared::analyze(yaml);
        let s = &a.spec.services[0];
        let allowed = allowed.iter().map(|s| (*s).to_owned()).collect();
        read(&a.tree, s.node, &allowed)
    }

    #[test]
    fn ordinary_keys_map_to_docker_units() {
        let o = opts(
            "services:\n  W:\n    image: x\n    mem_limit: 256m\n    cpus: '0.5'\n    pids_limit: 100\n    user: '101:101'\n    working_dir: /app\n    restart: on-failure:5\n    stop_grace_period: 1m30s\n    shm_size: 1g\n    read_only: true\n    labels: [a=b]\n    healthcheck:\n      test: curl -f localhost\n      interval: 5s\n      retries: 3\n    ulimits:\n      nofile: {soft: 1024, hard: 2048}\n      nproc: 64\n    extra_hosts: ['db:10.0.0.2']\n    tmpfs: /run\n    expose: ['8080']\n",
            &[],
        )
        .unwrap();
        assert_eq!(o.memory, Some(256 * 1024 * 1024));
        assert_eq!(o.cpus, Some(0.5));
        assert_eq!(o.pids_limit, Some(100));
        assert_eq!(o.restart, Some(("on-failure".into(), 5)));
        assert_eq!(o.stop_timeout, Some(90));
        assert_eq!(o.shm_size, Some(1 << 30));
        assert_eq!(o.labels.get("a").map(String::as_str), Some("b"));
        let h = o.healthcheck.unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "curl -f localhost"]);
        assert_eq!((h.interval, h.retries), (5_000_000_000, 3));
        assert_eq!(
            o.ulimits,
            [("nofile".into(), 1024, 2048), ("nproc".into(), 64, 64)]
        );
        assert_eq!(o.extra_hosts, ["db:10.0.0.2"]);
        assert!(o.tmpfs.contains_key("/run"));
        assert_eq!(o.expose, [8080]);
    }

    #[test]
    fn refused_keys_and_bad_values_are_issues() {
        let issues = opts(
            "services:\n  W:\n    image: x\n    privileged: true\n    secrets: [s]\n    mem_limit: lots\n    labels:\n      org.specstudio.deployment: d1\n",
            &[],
        )
        .unwrap_err();
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["privileged", "secrets", "mem_limit", "labels"],
            "{issues:?}"
        );
        assert!(issues[0].message.contains("host-escaping"));
        // the operator may allow a host-escaping key
        let o = opts(
            "services:\n  W:\n    image: x\n    privileged: true\n",
            &["privileged"],
        )
        .unwrap();
        assert_eq!(o.privileged, Some(true));
    }

    #[test]
    fn given_keys_name_what_is_set_as_compose_writes_it() {
        assert!(RuntimeOptions::default().given_keys().is_empty());
        let o = opts(
            "services:\n  W:\n    image: x\n    mem_limit: 256m\n    stop_grace_period: 5s\n    cap_add: [NET_ADMIN]\n    user: '1'\n    labels: {a: b}\n    network_mode: service:M\n  M:\n    image: x\n",
            &["cap_add", "network_mode"],
        )
        .unwrap();
        assert_eq!(
            o.given_keys(),
            [
                "user",
                "labels",
                "mem_limit",
                "stop_grace_period",
                "cap_add",
                "network_mode"
            ]
        );
        // every name is a key the reader takes (a typo would never be set)
        let every = "services:\n  W:\n    image: x\n    user: u\n    working_dir: /w\n    labels: [a=b]\n    healthcheck: {test: 'true'}\n    restart: always\n    mem_limit: 1g\n    cpus: '1'\n    pids_limit: 10\n    ulimits: {nofile: 10}\n    stop_grace_period: 1s\n    stop_signal: SIGINT\n    hostname: h\n    domainname: d\n    read_only: true\n    shm_size: 1m\n    tmpfs: /t\n    extra_hosts: ['a:1.2.3.4']\n    dns: 1.1.1.1\n    dns_search: s\n    dns_opt: o\n    init: true\n    tty: true\n    stdin_open: true\n    cap_drop: [ALL]\n    group_add: [g]\n    expose: ['80']\n    privileged: true\n    cap_add: [A]\n    security_opt: [s]\n    sysctls: {a: '1'}\n    pid: host\n    ipc: host\n    uts: host\n    userns_mode: host\n    devices: [/dev/null]\n    cgroup_parent: c\n    runtime: r\n    oom_kill_disable: true\n    volumes_from: [M]\n    gpus: all\n  M:\n    image: x\n";
        let o = opts(every, ALLOWABLE_HOST_KEYS).unwrap();
        let given = o.given_keys();
        // all but `network_mode` (it refuses `hostname`, `dns`… beside it)
        assert_eq!(given.len(), 40, "{given:?}");
        for key in given {
            assert!(every.contains(&format!("\n    {key}: ")), "{key}");
        }
        let o = opts(
            "services:\n  W:\n    image: x\n    network_mode: service:M\n  M:\n    image: x\n",
            &["network_mode"],
        )
        .unwrap();
        assert_eq!(o.given_keys(), ["network_mode"]);
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("10s"), Some(10_000_000_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("2"), Some(2_000_000_000));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_bytes("512m"), Some(512 << 20));
        assert_eq!(parse_bytes("1GB"), Some(1 << 30));
        assert_eq!(parse_bytes("100"), Some(100));
        assert_eq!(parse_bytes("1t"), None);
    }
}
