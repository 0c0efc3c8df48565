//! What kernel forwarding asks of the machine, behind a trait: the real
//! one runs `iptables`/`iptables-restore` and reads `/proc`; tests use a
//! fake that keeps the rules in memory.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

pub trait System: Send + Sync {
    /// Apply a batch with `iptables-restore --noflush` (atomic per table).
    fn restore(&self, batch: &str) -> Result<(), String>;
    /// `iptables -t TABLE -S [CHAIN] -v` (rules with their counters).
    fn list(&self, table: &str, chain: &str) -> Result<String, String>;
    /// The kernel's connection tracking table (`/proc/net/nf_conntrack`).
    fn conntrack(&self) -> Result<String, String>;
    /// The interface packets to `ip` leave by.
    fn route_dev(&self, ip: Ipv4Addr) -> Option<String>;
    /// `net.ipv4.conf.DEV.route_localnet`.
    fn route_localnet(&self, dev: &str) -> Option<u8>;
    fn set_route_localnet(&self, dev: &str, value: u8) -> Result<(), String>;
    /// Whether `pid` is a running specstudio server.
    fn server_alive(&self, pid: u32) -> bool;
}

/// The machine's own iptables (nf_tables or legacy, whichever `iptables` is).
pub struct Iptables;

fn run(cmd: &mut Command, input: Option<&str>) -> Result<String, String> {
    let name = format!("{cmd:?}");
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name}: {e}"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| format!("{name}: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{name}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn sysctl_path(dev: &str) -> Option<String> {
    // an interface name never holds a path separator or dots to climb out
    let ok = !dev.is_empty()
        && dev.len() < 16
        && dev
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then(|| format!("/proc/sys/net/ipv4/conf/{dev}/route_localnet"))
}

impl System for Iptables {
    fn restore(&self, batch: &str) -> Result<(), String> {
        run(
            Command::new("iptables-restore").args(["-w", "5", "--noflush"]),
            Some(batch),
        )
        .map(|_| ())
    }

    fn list(&self, table: &str, chain: &str) -> Result<String, String> {
        run(
            Command::new("iptables").args(["-w", "5", "-t", table, "-S", chain, "-v"]),
            None,
        )
    }

    fn conntrack(&self) -> Result<String, String> {
        std::fs::read_to_string("/proc/net/nf_conntrack").map_err(|e| e.to_string())
    }

    fn route_dev(&self, ip: Ipv4Addr) -> Option<String> {
        let out = run(
            Command::new("ip").args(["-o", "-4", "route", "get", &ip.to_string()]),
            None,
        )
        .ok()?;
        let w: Vec<&str> = out.split_whitespace().collect();
        w.iter()
            .position(|t| *t == "dev")
            .and_then(|i| w.get(i + 1))
            .map(|s| (*s).to_owned())
    }

    fn route_localnet(&self, dev: &str) -> Option<u8> {
        std::fs::read_to_string(sysctl_path(dev)?)
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn set_route_localnet(&self, dev: &str, value: u8) -> Result<(), String> {
        let path = sysctl_path(dev).ok_or_else(|| format!("bad interface name {dev:?}"))?;
        std::fs::write(&path, format!("{value}\n")).map_err(|e| format!("{path}: {e}"))
    }

    fn server_alive(&self, pid: u32) -> bool {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("specstudio"))
    }
}

/// Whether the real iptables can be used here: root, and listing the nat
/// table works (`Err`: why not, for the one log line).
pub fn usable() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions
    if unsafe { libc::geteuid() } != 0 {
        return Err("the server is not root".into());
    }
    Iptables.list("nat", "OUTPUT").map(|_| ())?;
    if !std::path::Path::new("/proc/net/nf_conntrack").exists() {
        return Err("/proc/net/nf_conntrack is missing".into());
    }
    Ok(())
}
