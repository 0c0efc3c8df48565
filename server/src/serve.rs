//! `specstudio serve`: configuration, start-up and graceful shutdown.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tracing::{info, warn};

use crate::api::{self, AppState};
use crate::controller::{Controller, RuntimeSettings};
use crate::docker::DockerEngine;
use crate::plan::ImageMap;
use crate::store::Store;

/// Which engine runs deployments.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Swarm,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address the HTTP server listens on.
    #[arg(long, env = "SPECSTUDIO_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Where state lives (SQLite database, API token). Default:
    /// `$XDG_DATA_HOME/specstudio`, else `./.specstudio`.
    #[arg(long, env = "SPECSTUDIO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Docker engine (`unix:///var/run/docker.sock`, `tcp://host:2375`).
    /// Default: `DOCKER_HOST`, else the local socket.
    #[arg(long, env = "SPECSTUDIO_DOCKER_HOST")]
    pub docker_host: Option<String>,
    /// Container engine: `docker` (one host) or `swarm` (a Docker Swarm:
    /// `--docker-host` is a manager, `--swarm-node` names the node daemons).
    #[arg(long, env = "SPECSTUDIO_ENGINE", value_enum, default_value = "docker")]
    pub engine: EngineKind,
    /// Swarm node daemons `HOSTNAME=DOCKER_HOST` (images, volumes, logs,
    /// stats live on nodes), repeatable or comma-separated; `scripts/swarm.sh
    /// status` prints them.
    #[arg(
        long = "swarm-node",
        env = "SPECSTUDIO_SWARM_NODES",
        value_delimiter = ',',
        value_name = "HOSTNAME=DOCKER_HOST"
    )]
    pub swarm_nodes: Vec<String>,
    /// Image rewrite `FROM=TO` (`FROM` may hold `*`), repeatable or comma-separated,
    /// e.g. `docker.io/bitnami/mysql:*=specstudio/mysql:local`.
    #[arg(
        long = "image-map",
        env = "SPECSTUDIO_IMAGE_MAP",
        value_name = "FROM=TO"
    )]
    pub image_map: Vec<String>,
    /// Host address that container ports are published on (ephemeral ports)
    /// and the deployments' stable endpoints listen on.
    #[arg(long, env = "SPECSTUDIO_BIND_ADDRESS", default_value = "127.0.0.1")]
    pub bind_address: String,
    /// The built web UI.
    #[arg(long, env = "SPECSTUDIO_DIST_DIR", default_value = "dist")]
    pub dist_dir: PathBuf,
    /// Seconds without a client connection after which a deployment whose
    /// services all enable `enableAutoStop` is stopped (volumes kept).
    #[arg(long, env = "SPECSTUDIO_IDLE_STOP_AFTER", default_value_t = 300, value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub idle_stop_after: u64,
    /// Seconds without a client connection after which such a deployment
    /// is paused (containers frozen, memory kept; a client thaws it in
    /// a fraction of a second). Only when shorter than --idle-stop-after; 0 turns the
    /// paused tier off.
    #[arg(long, env = "SPECSTUDIO_IDLE_PAUSE_AFTER", default_value_t = 60, value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(0..=604_800))]
    pub idle_pause_after: u64,
    /// Seconds an autoscaling "minute" lasts (lets tests run the policy's
    /// minute windows in seconds).
    #[arg(long, env = "SPECSTUDIO_AUTOSCALE_MINUTE_SECS", default_value_t = 60.0, value_name = "SECS",
        value_parser = positive_secs)]
    pub autoscale_minute_secs: f64,
    /// Zones replicas of `enableMultiZone` services are spread over
    /// (round-robin). One Docker host: zones are labels.
    #[arg(
        long,
        env = "SPECSTUDIO_ZONES",
        value_delimiter = ',',
        default_value = "zone-a,zone-b,zone-c"
    )]
    pub zones: Vec<String>,
    /// Seconds a replica being removed may keep serving its open connections.
    #[arg(long, env = "SPECSTUDIO_DRAIN_TIMEOUT", default_value_t = 30, value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub drain_timeout: u64,
    /// Seconds a client is held on an endpoint while its deployment wakes.
    #[arg(long, env = "SPECSTUDIO_WAKE_TIMEOUT", default_value_t = 120, value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub wake_timeout: u64,
    /// At start-up, remove labelled Docker objects (containers *and data
    /// volumes*) of this instance that no deployment record owns. Without
    /// it they are kept (containers stopped) and listed by `GET /api/orphans`.
    #[arg(long, env = "SPECSTUDIO_PRUNE_ORPHANS")]
    pub prune_orphans: bool,
    /// A URL the server is reached at besides the loopback names (repeatable,
    /// comma-separated): its host name is added to the accepted `Host`
    /// headers and same-origin checks.
    #[arg(
        long = "public-url",
        env = "SPECSTUDIO_PUBLIC_URL",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub public_urls: Vec<String>,
    /// Require the API token for `POST /api/specs` too (by default anyone
    /// may store a spec, for share links).
    #[arg(long, env = "SPECSTUDIO_NO_ANONYMOUS_SPECS")]
    pub no_anonymous_specs: bool,
    /// Total size of stored specs, in MiB, before the oldest ones no
    /// deployment uses are evicted.
    #[arg(long, env = "SPECSTUDIO_SPEC_STORAGE_MB", default_value_t = 256, value_name = "MIB",
        value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub spec_storage_mb: u64,
    /// Specs one client may store per minute without the token.
    #[arg(long, env = "SPECSTUDIO_SPEC_RATE", default_value_t = 20, value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub spec_rate: u32,
    /// Seconds a client has to send a request's headers (also how long an
    /// idle keep-alive connection stays open).
    #[arg(long, env = "SPECSTUDIO_HEADER_TIMEOUT", default_value_t = 10, value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_timeout: u64,
    /// Connections served at once (lowered to fit the open-files limit);
    /// past it new ones get a 503 and are closed.
    #[arg(long, env = "SPECSTUDIO_MAX_CONNECTIONS", default_value_t = 512, value_name = "N",
        value_parser = clap::value_parser!(u32).range(8..=1_000_000))]
    pub max_connections: u32,
    /// A host-escaping compose key specs may use (repeatable,
    /// comma-separated): privileged, cap_add, security_opt, sysctls, pid,
    /// ipc, uts, userns_mode, devices, cgroup_parent, runtime,
    /// oom_kill_disable, network_mode (`service:`/`container:` of the same
    /// deployment only), volumes_from (own services only), gpus. Refused by
    /// default.
    #[arg(long = "allow-host-key", env = "SPECSTUDIO_ALLOW_HOST_KEYS", value_delimiter = ',',
        value_name = "KEY", value_parser = clap::builder::PossibleValuesParser::new(crate::runtime_opts::ALLOWABLE_HOST_KEYS))]
    pub allow_host_keys: Vec<String>,
    /// Kernel forwarding of endpoint ports while a deployment is awake
    /// (iptables DNAT to the container; the listener takes over for pause,
    /// stop, wake and drain): `auto` (on when root, the endpoints bind an
    /// IPv4 loopback address and iptables works; else off with one log
    /// line), `on` (refuse to start without it), `off` (every byte through
    /// the user-space proxy).
    #[arg(
        long,
        env = "SPECSTUDIO_KERNEL_FORWARD",
        value_enum,
        default_value = "auto"
    )]
    pub kernel_forward: KernelForwardMode,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelForwardMode {
    Auto,
    On,
    Off,
}

/// Turn kernel forwarding on as `--kernel-forward` asks (`Err`: `on` and
/// it cannot be).
fn kernel_forward(
    args: &ServeArgs,
    instance: &str,
    endpoints: &crate::proxy::Endpoints,
) -> Result<(), String> {
    if args.kernel_forward == KernelForwardMode::Off {
        info!("kernel forwarding: off (--kernel-forward off); endpoints proxy every byte");
        // a killed earlier run's DNAT would still take our endpoints' clients
        if crate::forward::system::usable().is_ok() {
            match crate::forward::KernelForward::clean_only(
                Box::new(crate::forward::Iptables),
                instance,
            ) {
                Ok(who) if !who.is_empty() => {
                    info!(
                        "kernel forwarding: removed the rules left by {}",
                        who.join(", ")
                    )
                }
                Ok(_) => {}
                Err(e) => warn!("kernel forwarding: removing old rules failed: {e}"),
            }
        }
        return Ok(());
    }
    let usable = match args.bind_address.parse::<std::net::Ipv4Addr>() {
        Ok(ip) if ip.is_loopback() && args.engine == EngineKind::Docker => {
            crate::forward::system::usable().map(|()| ip)
        }
        Ok(_) | Err(_) => Err(format!(
            "the endpoints bind {} (kernel forwarding needs an IPv4 loopback address and one Docker host)",
            args.bind_address
        )),
    };
    let started = usable.and_then(|ip| {
        crate::forward::KernelForward::start(Box::new(crate::forward::Iptables), instance, ip)
    });
    match started {
        Ok(kf) => {
            info!(chains = %format!("SSF-{}-*", kf.tag()), "kernel forwarding: on");
            endpoints.enable_kernel_forward(kf);
            Ok(())
        }
        Err(e) if args.kernel_forward == KernelForwardMode::On => {
            Err(format!("--kernel-forward on: {e}"))
        }
        Err(e) => {
            info!("kernel forwarding: off ({e}); endpoints proxy every byte");
            Ok(())
        }
    }
}

fn positive_secs(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.05..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0.05 and 3600"
        )),
    }
}

impl ServeArgs {
    /// The controller's runtime settings from these flags.
    pub fn runtime_settings(&self, data_dir: &Path) -> RuntimeSettings {
        let zones: Vec<String> = self
            .zones
            .iter()
            .map(|z| z.trim().to_owned())
            .filter(|z| !z.is_empty())
            .collect();
        RuntimeSettings {
            idle_stop_after: Duration::from_secs(self.idle_stop_after),
            // a swarm service cannot be frozen: the paused tier is a one-host tier
            idle_pause_after: (self.idle_pause_after > 0 && self.engine != EngineKind::Swarm)
                .then(|| Duration::from_secs(self.idle_pause_after)),
            autoscale_minute: Duration::from_secs_f64(self.autoscale_minute_secs),
            zones: if zones.is_empty() {
                RuntimeSettings::default().zones
            } else {
                zones
            },
            drain_timeout: Duration::from_secs(self.drain_timeout),
            wake_timeout: Duration::from_secs(self.wake_timeout),
            bind_address: self.bind_address.clone(),
            logs_dir: Some(data_dir.join("logs")),
            prune_orphans: self.prune_orphans,
            allowed_host_keys: self.allow_host_keys.iter().cloned().collect(),
        }
    }
}

/// Whether `addr` only listens on the loopback interface.
fn is_loopback(addr: &str) -> bool {
    let host = addr.trim().trim_start_matches('[');
    let host = host.split(']').next().unwrap_or(host);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Loud warnings for a server reachable beyond this machine without a
/// chosen token.
fn exposure_warnings(args: &ServeArgs, token_from_env: bool) -> Vec<String> {
    let mut out = Vec::new();
    if token_from_env {
        return out;
    }
    if !args.addr.ip().is_loopback() {
        out.push(format!(
            "WARNING: --addr {} listens beyond loopback and SPECSTUDIO_TOKEN is not set: \
             anyone who reads <data-dir>/token can deploy; set SPECSTUDIO_TOKEN and --public-url",
            args.addr
        ));
    }
    if !is_loopback(&args.bind_address) {
        out.push(format!(
            "WARNING: --bind-address {} publishes database ports beyond loopback and \
             SPECSTUDIO_TOKEN is not set",
            args.bind_address
        ));
    }
    out
}

fn default_data_dir() -> PathBuf {
    match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x).join("specstudio"),
        None => PathBuf::from(".specstudio"),
    }
}

/// The API token: `SPECSTUDIO_TOKEN`, else `<data-dir>/token` (generated on
/// first start, mode 0600); the flag is `true` when it was just generated.
pub fn load_token(data_dir: &Path) -> std::io::Result<(String, bool)> {
    if let Some(t) = std::env::var("SPECSTUDIO_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok((t.trim().to_owned(), false));
    }
    let path = data_dir.join("token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        if !t.trim().is_empty() {
            return Ok((t.trim().to_owned(), false));
        }
    }
    let mut buf = [0u8; 24];
    getrandom::fill(&mut buf).map_err(|e| std::io::Error::other(e.to_string()))?;
    let token = crate::plan::hex(&buf);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path)?;
    f.write_all(token.as_bytes())?;
    Ok((token, true))
}

/// This server's instance id (`<data-dir>/instance-id`, made on first start):
/// labelled on every Docker object so that start-up clean-up only removes
/// objects this data dir owned, never another server's.
pub fn load_instance_id(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("instance-id");
    if let Ok(t) = std::fs::read_to_string(&path) {
        if !t.trim().is_empty() {
            return Ok(t.trim().to_owned());
        }
    }
    let mut buf = [0u8; 6];
    getrandom::fill(&mut buf).map_err(|e| std::io::Error::other(e.to_string()))?;
    let id = crate::plan::hex(&buf);
    std::fs::write(&path, &id)?;
    Ok(id)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let user = std::env::var("SPECSTUDIO_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| "info".into());
    // bollard traces request bodies (container env = secrets) at `trace`:
    // its level is capped whatever the user asks for
    let filter = EnvFilter::try_new(format!("{user},bollard=info,hyper=info,hyper_util=info"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Notice the database file vanishing or being replaced even when nothing
/// writes (the store logs it once and refuses writes from then on).
fn spawn_store_watch(store: Arc<Store>, every: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if store.check_file().is_err() {
                return;
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    info!("shutting down");
}

/// Run the server until ctrl-c / SIGTERM.
pub fn serve(args: ServeArgs) -> std::process::ExitCode {
    init_tracing();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `HOSTNAME=DOCKER_HOST` pairs of `--swarm-node`.
fn swarm_nodes(args: &ServeArgs) -> Result<Vec<crate::swarm::NodeEndpoint>, String> {
    args.swarm_nodes
        .iter()
        .map(|n| match n.split_once('=') {
            Some((h, d)) if !h.is_empty() && !d.is_empty() => Ok(crate::swarm::NodeEndpoint {
                hostname: h.to_owned(),
                docker_host: d.to_owned(),
            }),
            _ => Err(format!(
                "--swarm-node `{n}`: expected HOSTNAME=DOCKER_HOST, e.g. node1=unix:///run/swarm-node1.sock"
            )),
        })
        .collect()
}

/// Reach the swarm: the manager and every node must answer now (no retry
/// loop as for one host); the paused tier is refused.
async fn connect_swarm(
    args: &ServeArgs,
    instance: &str,
) -> Result<Arc<dyn crate::docker::Engine>, String> {
    let manager = args
        .docker_host
        .clone()
        .ok_or("--engine swarm needs --docker-host pointing at a swarm manager")?;
    if args.idle_pause_after > 0 {
        info!("--engine swarm: the paused tier is off (a swarm service cannot be frozen); idle deployments stop after --idle-stop-after");
    }
    let nodes = swarm_nodes(args)?;
    if nodes.is_empty() {
        return Err(
            "--engine swarm needs the node daemons (--swarm-node HOSTNAME=DOCKER_HOST)".into(),
        );
    }
    let engine = crate::swarm::SwarmEngine::connect(&manager, &nodes, instance)
        .await
        .map_err(|e| format!("the swarm is not reachable: {e}"))?;
    info!(%manager, nodes = nodes.len(), "connected to the swarm");
    Ok(Arc::new(engine))
}

async fn run(args: ServeArgs) -> Result<(), String> {
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("cannot create the data dir {}: {e}", data_dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700));
    }
    let images = ImageMap::parse(&args.image_map)?;
    let (token, generated) =
        load_token(&data_dir).map_err(|e| format!("cannot read or write the token: {e}"))?;
    let store = Arc::new(
        Store::open(&data_dir.join("specstudio.db"))
            .map_err(|e| format!("cannot open the database: {e}"))?,
    );
    let instance = load_instance_id(&data_dir)
        .map_err(|e| format!("cannot read or write the instance id: {e}"))?;
    let engine = if args.engine == EngineKind::Swarm {
        Some(connect_swarm(&args, &instance).await?)
    } else {
        match DockerEngine::connect(args.docker_host.as_deref(), &args.bind_address, &instance)
            .await
        {
            Ok(e) => {
                info!(api = %e.docker().client_version(), "connected to docker");
                Some(Arc::new(e) as Arc<dyn crate::docker::Engine>)
            }
            Err(e) => {
                warn!("docker is not reachable ({e}); deployments are refused until it is (retrying every 5 s)");
                None
            }
        }
    };
    let reachable = engine.is_some();
    let ctl = Arc::new(Controller::with_settings(
        store,
        engine,
        images,
        args.runtime_settings(&data_dir),
    ));
    kernel_forward(&args, &instance, &ctl.endpoints)?;
    if reachable {
        ctl.startup().await;
    } else {
        ctl.connect_later(
            args.docker_host.clone(),
            args.bind_address.clone(),
            instance.clone(),
            std::time::Duration::from_secs(5),
        );
    }
    ctl.spawn_watch(std::time::Duration::from_secs(10));
    spawn_store_watch(ctl.store.clone(), Duration::from_secs(2));
    ctl.spawn_idle_stopper();
    ctl.spawn_autoscaler();
    let mut urls = args.public_urls.clone();
    if !args.addr.ip().is_unspecified() && !args.addr.ip().is_loopback() {
        // the address it listens on is a name it is reached by
        urls.push(format!("http://{}", args.addr));
    }
    let hosts = api::guard::HostPolicy::with_public_urls(&urls)?;
    let token_from_env = std::env::var("SPECSTUDIO_TOKEN").is_ok_and(|t| !t.trim().is_empty());
    for w in exposure_warnings(&args, token_from_env) {
        warn!("{w}");
        eprintln!("{w}");
    }
    let ctl_endpoints = ctl.endpoints.clone();
    let mut state = AppState::new(ctl, token.clone(), Some(args.dist_dir.clone()));
    state.hosts = Arc::new(hosts);
    state.specs = Arc::new(api::quota::SpecQuota::new(
        !args.no_anonymous_specs,
        args.spec_storage_mb * 1024 * 1024,
        args.spec_rate,
    ));
    let shutdown = state.shutdown.clone();
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("specstudio listening on http://{local}");
    println!("data dir: {}", data_dir.display());
    if generated {
        println!(
            "API token (generated, saved to {} with mode 0600; shown once): {token}",
            data_dir.join("token").display()
        );
    } else {
        println!(
            "API token: from SPECSTUDIO_TOKEN or {}",
            data_dir.join("token").display()
        );
    }
    if !args.dist_dir.join("index.html").is_file() {
        println!(
            "web UI: {} has no index.html; serving a page that says how to build it",
            args.dist_dir.display()
        );
    }
    let _ = std::io::stdout().flush();
    let limits = crate::http::HttpLimits {
        header_timeout: Duration::from_secs(args.header_timeout),
        max_connections: crate::http::connection_limit(
            args.max_connections as usize,
            crate::http::open_files_limit(),
        ),
    };
    let endpoints = ctl_endpoints;
    let served = crate::http::serve(listener, api::app(state), limits, async move {
        shutdown_signal().await;
        let _ = shutdown.send(true);
    })
    .await
    .map_err(|e| e.to_string());
    // no rule of ours outlives the server (a SIGKILL's are removed at the
    // next start)
    endpoints.shutdown_kernel_forward();
    served
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn args(a: &[&str]) -> ServeArgs {
        let mut v = vec!["serve"];
        v.extend_from_slice(a);
        Cli::parse_from(v).serve
    }

    #[test]
    fn listening_beyond_loopback_without_a_token_warns() {
        assert!(exposure_warnings(&args(&[]), false).is_empty());
        let w = exposure_warnings(&args(&["--addr", "0.0.0.0:8080"]), false);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("SPECSTUDIO_TOKEN"), "{w:?}");
        let w = exposure_warnings(&args(&["--bind-address", "0.0.0.0"]), false);
        assert_eq!(w.len(), 1);
        assert!(exposure_warnings(&args(&["--addr", "0.0.0.0:1"]), true).is_empty());
        assert!(exposure_warnings(&args(&["--bind-address", "::1"]), false).is_empty());
    }

    #[test]
    fn engine_flags_default_to_docker_and_swarm_needs_a_manager_and_nodes() {
        assert_eq!(args(&[]).engine, EngineKind::Docker);
        let a = args(&[
            "--engine",
            "swarm",
            "--swarm-node",
            "n1=unix:///run/swarm-node1.sock,n2=tcp://10.0.0.2:2375",
        ]);
        assert_eq!(a.engine, EngineKind::Swarm);
        let nodes = swarm_nodes(&a).unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[1].hostname, "n2");
        assert_eq!(nodes[1].docker_host, "tcp://10.0.0.2:2375");
        let bad = args(&["--swarm-node", "no-equals-sign"]);
        assert!(swarm_nodes(&bad)
            .unwrap_err()
            .contains("HOSTNAME=DOCKER_HOST"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(connect_swarm(&a, "test"))
            .err()
            .expect("no manager given");
        assert!(err.contains("--docker-host"), "{err}");
        let mut paused = a.clone();
        paused.idle_pause_after = 5;
        assert_eq!(
            paused
                .runtime_settings(std::path::Path::new("/tmp"))
                .idle_pause_after,
            None,
            "a swarm has no paused tier"
        );
    }
}
