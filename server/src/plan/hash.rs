//! The config hash of a desired container (a change means recreate) and hex.

#[allow(unused_imports)]
use super::*;

pub(super) fn config_hash(c: &DesiredContainer) -> String {
    let mut h = Sha256::new();
    h.update(c.image.as_bytes());
    for (k, v) in &c.env {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([1]);
    }
    for v in &c.volumes {
        h.update(v.name.as_bytes());
        h.update(v.target.as_bytes());
    }
    for p in &c.ports {
        h.update(p.to_le_bytes());
    }
    h.update(format!("{:?}{:?}{:?}", c.nano_cpus, c.memory, c.aliases).as_bytes());
    // only when given, so containers planned before these existed keep their hash
    if let Some(e) = &c.entrypoint {
        h.update(format!("entrypoint{e:?}").as_bytes());
    }
    if let Some(cmd) = &c.command {
        h.update(format!("command{cmd:?}").as_bytes());
    }
    if !c.opts.is_empty() {
        h.update(format!("opts{:?}", c.opts).as_bytes());
    }
    if let Some(n) = &c.network_of {
        h.update(format!("network_of{n}").as_bytes());
    }
    if !c.shared_volumes.is_empty() {
        h.update(format!("shared_volumes{:?}", c.shared_volumes).as_bytes());
    }
    if let Some(zone) = &c.zone {
        h.update(format!("zone{zone}").as_bytes());
    }
    hex(&h.finalize()[..8])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
