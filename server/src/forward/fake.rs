//! An in-memory [`System`] for unit tests: it interprets the batches it is
//! given (`-N -I -A -D -F -X`, per table, all or nothing like
//! `iptables-restore`) and lists rules as `iptables -S -v` does.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;

use super::System;

/// (table, chain) → rules (the text after `-A CHAIN `) with their counters.
pub type Tables = BTreeMap<(String, String), Vec<(String, u64, u64)>>;

#[derive(Default)]
pub struct FakeState {
    pub chains: Tables,
    pub conntrack: String,
    pub localnet: BTreeMap<String, u8>,
    pub alive: Vec<u32>,
    pub restores: usize,
}

pub struct Fake(pub std::sync::Arc<Mutex<FakeState>>);

impl Fake {
    pub fn new() -> (Fake, std::sync::Arc<Mutex<FakeState>>) {
        let state = std::sync::Arc::new(Mutex::new(FakeState::default()));
        for (t, c) in super::BUILTINS {
            state
                .lock()
                .unwrap()
                .chains
                .insert((t.into(), c.into()), Vec::new());
        }
        (Fake(state.clone()), state)
    }
}

impl FakeState {
    /// Every rule of every chain, as `-A CHAIN rule` lines.
    pub fn all_rules(&self) -> Vec<String> {
        self.chains
            .iter()
            .flat_map(|((_, c), rules)| rules.iter().map(move |(r, _, _)| format!("-A {c} {r}")))
            .collect()
    }

    /// Add to the counters of the rules whose text holds `needle`.
    pub fn count(&mut self, needle: &str, packets: u64, bytes: u64) {
        for rules in self.chains.values_mut() {
            for r in rules.iter_mut().filter(|r| r.0.contains(needle)) {
                r.1 += packets;
                r.2 += bytes;
            }
        }
    }
}

fn apply(chains: &mut Tables, table: &str, line: &str) -> Result<(), String> {
    let (op, rest) = line.split_once(' ').ok_or(format!("bad line {line}"))?;
    let (chain, rule) = rest.split_once(' ').unwrap_or((rest, ""));
    let key = (table.to_owned(), chain.to_owned());
    match op {
        "-N" => {
            if chains.contains_key(&key) {
                return Err(format!("chain {chain} exists"));
            }
            chains.insert(key, Vec::new());
        }
        "-X" => {
            let empty = chains
                .get(&key)
                .ok_or(format!("no chain {chain}"))?
                .is_empty();
            let used = chains
                .values()
                .flatten()
                .any(|(r, _, _)| r.ends_with(&format!("-j {chain}")));
            if !empty || used {
                return Err(format!("chain {chain} busy"));
            }
            chains.remove(&key);
        }
        "-F" => chains
            .get_mut(&key)
            .ok_or(format!("no chain {chain}"))?
            .clear(),
        "-A" | "-I" | "-D" => {
            let target = rule.rsplit(" -j ").next().unwrap_or("");
            if op != "-D"
                && target.starts_with("SSF-")
                && !chains.contains_key(&(table.into(), target.into()))
            {
                return Err(format!("no chain {target}"));
            }
            let rules = chains.get_mut(&key).ok_or(format!("no chain {chain}"))?;
            match op {
                "-A" => rules.push((rule.to_owned(), 0, 0)),
                "-I" => {
                    let rule = rule.split_once(' ').map_or(rule, |(_, r)| r);
                    rules.insert(0, (rule.to_owned(), 0, 0));
                }
                _ => {
                    let at = rules
                        .iter()
                        .position(|(r, _, _)| r == rule)
                        .ok_or(format!("no such rule: {rule}"))?;
                    rules.remove(at);
                }
            }
        }
        _ => return Err(format!("unknown op {op}")),
    }
    Ok(())
}

impl System for Fake {
    fn restore(&self, batch: &str) -> Result<(), String> {
        let mut s = self.0.lock().unwrap();
        s.restores += 1;
        let mut work = s.chains.clone();
        let mut table = String::new();
        for line in batch.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t.to_owned();
            } else if line != "COMMIT" && !line.is_empty() {
                apply(&mut work, &table, line)?;
            }
        }
        s.chains = work;
        Ok(())
    }

    fn list(&self, table: &str, chain: &str) -> Result<String, String> {
        let s = self.0.lock().unwrap();
        let rules = s
            .chains
            .get(&(table.to_owned(), chain.to_owned()))
            .ok_or(format!("no chain {chain}"))?;
        let mut out = format!("-N {chain}\n");
        for (r, p, b) in rules {
            // counters go before the target, as iptables prints them
            let (head, target) = r
                .rsplit_once(" -j ")
                .map_or((r.as_str(), None), |(h, t)| (h, Some(t)));
            out.push_str(&format!("-A {chain} {head} -c {p} {b}"));
            if let Some(t) = target {
                out.push_str(&format!(" -j {t}"));
            }
            out.push('\n');
        }
        Ok(out)
    }

    fn conntrack(&self) -> Result<String, String> {
        Ok(self.0.lock().unwrap().conntrack.clone())
    }

    fn route_dev(&self, ip: Ipv4Addr) -> Option<String> {
        Some(format!("br-{}", ip.octets()[2]))
    }

    fn route_localnet(&self, dev: &str) -> Option<u8> {
        Some(*self.0.lock().unwrap().localnet.get(dev).unwrap_or(&0))
    }

    fn set_route_localnet(&self, dev: &str, value: u8) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .localnet
            .insert(dev.to_owned(), value);
        Ok(())
    }

    fn server_alive(&self, pid: u32) -> bool {
        pid == std::process::id() || self.0.lock().unwrap().alive.contains(&pid)
    }
}
