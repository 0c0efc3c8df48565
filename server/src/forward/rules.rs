//! The iptables rules of kernel forwarding, as text: rendering the batch
//! `iptables-restore --noflush` applies, and parsing what `iptables -S -v`
//! and `/proc/net/nf_conntrack` print. Pure: no command runs here.
//!
//! One server instance owns four chains, named after a tag of its instance
//! id (`SSF-<tag>-DNAT` …), jumped to from the built-in chains by rules whose
//! comment names the tag and the server's pid. Nothing else is ever edited:
//! Docker's chains and other programs' rules are left alone.

use std::net::{Ipv4Addr, SocketAddrV4};

/// Every rule we write carries a comment starting with this.
pub const COMMENT: &str = "specstudio-fwd";

/// The chains of one instance tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chains {
    /// nat, from OUTPUT: the DNAT of new connections to an endpoint port.
    pub dnat: String,
    /// nat, from POSTROUTING: masquerade loopback-sourced forwarded flows.
    pub post: String,
    /// filter, from OUTPUT: counts new connections and client → container bytes.
    pub out: String,
    /// filter, from INPUT: counts container → client bytes; the guard.
    pub inp: String,
}

impl Chains {
    pub fn new(tag: &str) -> Chains {
        Chains {
            dnat: format!("SSF-{tag}-DNAT"),
            post: format!("SSF-{tag}-POST"),
            out: format!("SSF-{tag}-OUT"),
            inp: format!("SSF-{tag}-IN"),
        }
    }

    /// (table, built-in chain, our chain) for each jump.
    pub fn jumps(&self) -> [(&'static str, &'static str, &str); 4] {
        [
            ("nat", "OUTPUT", &self.dnat),
            ("nat", "POSTROUTING", &self.post),
            ("filter", "OUTPUT", &self.out),
            ("filter", "INPUT", &self.inp),
        ]
    }
}

/// One endpoint's share of the rules: its counting rules while it exists,
/// and a DNAT over `targets` while the kernel forwards it (empty: our
/// listener takes the new connections).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRules {
    pub deployment: String,
    pub endpoint: String,
    pub port: u16,
    pub targets: Vec<SocketAddrV4>,
}

/// A bridge we set `route_localnet` on, with the value it had before.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Guard {
    pub dev: String,
    pub was: u8,
}

/// What a counting rule counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// New forwarded connections (their first packet).
    Conn,
    /// Client → container.
    In,
    /// Container → client.
    Out,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Conn => "conn",
            Kind::In => "in",
            Kind::Out => "out",
        }
    }
}

/// Keep a comment field to characters that need no quoting care.
fn clean(s: &str) -> String {
    s.chars()
        .take(48)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.:-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn comment(r: &EndpointRules, kind: &str) -> String {
    format!(
        "-m comment --comment \"{COMMENT} d={} e={} p={} k={kind}\"",
        clean(&r.deployment),
        clean(&r.endpoint),
        r.port
    )
}

/// The conntrack match of flows DNATed from `bind:port`.
fn forwarded(bind: Ipv4Addr, port: u16) -> String {
    format!("-m conntrack --ctstate DNAT --ctorigdst {bind} --ctorigdstport {port}")
}

/// The whole content of our four chains, flushed and refilled in one
/// atomic `iptables-restore` batch. Existing connections keep their
/// conntrack entry (and so their backend) whatever the rules become.
pub fn render(
    chains: &Chains,
    bind: Ipv4Addr,
    endpoints: &[EndpointRules],
    guards: &[Guard],
) -> String {
    let mut nat = vec![format!("-F {}", chains.dnat), format!("-F {}", chains.post)];
    let mut filter = vec![format!("-F {}", chains.out), format!("-F {}", chains.inp)];
    for g in guards {
        // with route_localnet a bridge could reach our 127.0.0.1 services:
        // only replies to our own forwarded flows come in that way
        filter.push(format!(
            "-A {} -d 127.0.0.0/8 -i {} -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment \"{COMMENT} guard dev={} was={}\" -j DROP",
            chains.inp,
            clean(&g.dev),
            clean(&g.dev),
            g.was
        ));
    }
    for r in endpoints {
        let n = r.targets.len();
        for (i, t) in r.targets.iter().enumerate() {
            // rule i sees the connections rules 0..i passed on: 1 of every
            // n-i of them makes a round robin
            let share = if n - i > 1 {
                format!(" -m statistic --mode nth --every {} --packet 0", n - i)
            } else {
                String::new()
            };
            nat.push(format!(
                "-A {} -d {bind}/32 -p tcp -m tcp --dport {} {}{share} -j DNAT --to-destination {t}",
                chains.dnat,
                r.port,
                comment(r, "dnat")
            ));
        }
        nat.push(format!(
            "-A {} -s 127.0.0.0/8 -p tcp {} {} -j MASQUERADE",
            chains.post,
            forwarded(bind, r.port),
            comment(r, "masq")
        ));
        filter.push(format!(
            "-A {} -p tcp -m conntrack --ctstate NEW {} --ctdir ORIGINAL {}",
            chains.out,
            forwarded(bind, r.port),
            comment(r, Kind::Conn.word())
        ));
        filter.push(format!(
            "-A {} -p tcp {} --ctdir ORIGINAL {}",
            chains.out,
            forwarded(bind, r.port),
            comment(r, Kind::In.word())
        ));
        filter.push(format!(
            "-A {} -p tcp {} --ctdir REPLY {}",
            chains.inp,
            forwarded(bind, r.port),
            comment(r, Kind::Out.word())
        ));
    }
    format!(
        "*nat\n{}\nCOMMIT\n*filter\n{}\nCOMMIT\n",
        nat.join("\n"),
        filter.join("\n")
    )
}

/// Create our chains and the jumps to them (the chains must not exist).
pub fn render_setup(chains: &Chains, tag: &str, pid: u32) -> String {
    let mut nat = Vec::new();
    let mut filter = Vec::new();
    for (table, builtin, ours) in chains.jumps() {
        let lines = if table == "nat" {
            &mut nat
        } else {
            &mut filter
        };
        lines.push(format!("-N {ours}"));
        lines.push(format!(
            "-I {builtin} 1 -m comment --comment \"{COMMENT} tag={tag} pid={pid}\" -j {ours}"
        ));
    }
    format!(
        "*nat\n{}\nCOMMIT\n*filter\n{}\nCOMMIT\n",
        nat.join("\n"),
        filter.join("\n")
    )
}

/// A jump rule found in a built-in chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jump {
    pub table: String,
    pub tag: String,
    pub pid: u32,
    /// The rule as `-S` printed it, counters removed (`-A …`).
    pub rule: String,
    /// The chain it jumps to.
    pub target: String,
}

/// Remove the given jumps and the chains they lead to.
pub fn render_teardown(jumps: &[Jump]) -> String {
    let mut out = String::new();
    for table in ["nat", "filter"] {
        let mine: Vec<&Jump> = jumps.iter().filter(|j| j.table == table).collect();
        if mine.is_empty() {
            continue;
        }
        out.push_str(&format!("*{table}\n"));
        for j in &mine {
            out.push_str(&format!("-D{}\n", &j.rule[2..]));
        }
        let mut chains: Vec<&str> = mine.iter().map(|j| j.target.as_str()).collect();
        chains.sort_unstable();
        chains.dedup();
        for c in &chains {
            out.push_str(&format!("-F {c}\n"));
        }
        for c in &chains {
            out.push_str(&format!("-X {c}\n"));
        }
        out.push_str("COMMIT\n");
    }
    out
}

/// Split an `-S` line into words, keeping a quoted comment as one word.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// An `-S -v` rule line: its comment, its counters, its jump target, and
/// the line without `-c P B`.
struct Line {
    comment: Option<String>,
    counters: (u64, u64),
    target: Option<String>,
    rule: String,
}

fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim();
    if !line.starts_with("-A ") {
        return None;
    }
    let w = words(line);
    let mut comment = None;
    let mut counters = (0, 0);
    let mut target = None;
    let mut i = 0;
    while i < w.len() {
        match w[i].as_str() {
            "--comment" => comment = w.get(i + 1).cloned(),
            "-c" => {
                let p = w.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(0);
                let b = w.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(0);
                counters = (p, b);
            }
            "-j" => target = w.get(i + 1).cloned(),
            _ => {}
        }
        i += 1;
    }
    // drop " -c P B" from the text, keeping its quoting as printed
    let rule = match line.find(" -c ") {
        Some(at) => {
            let rest = &line[at + 4..];
            let mut parts = rest.splitn(3, ' ');
            let (_, _, tail) = (parts.next(), parts.next(), parts.next());
            match tail {
                Some(t) => format!("{} {t}", &line[..at]),
                None => line[..at].to_owned(),
            }
        }
        None => line.to_owned(),
    };
    Some(Line {
        comment,
        counters,
        target,
        rule,
    })
}

/// `key=value` from one of our comments.
fn field<'a>(comment: &'a str, key: &str) -> Option<&'a str> {
    comment
        .split(' ')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// Our jump rules in a built-in chain's `-S -v` listing.
pub fn parse_jumps(table: &str, listing: &str) -> Vec<Jump> {
    listing
        .lines()
        .filter_map(parse_line)
        .filter_map(|l| {
            let c = l.comment?;
            if !c.starts_with(COMMENT) {
                return None;
            }
            let target = l.target?;
            Some(Jump {
                table: table.to_owned(),
                tag: field(&c, "tag")?.to_owned(),
                pid: field(&c, "pid")?.parse().ok()?,
                rule: l.rule,
                target,
            })
        })
        .filter(|j| j.target.starts_with("SSF-"))
        .collect()
}

/// One counting rule's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    pub port: u16,
    pub kind: Kind,
    pub packets: u64,
    pub bytes: u64,
}

/// The counting rules in our filter chains' `-S -v` listing.
pub fn parse_counters(listing: &str) -> Vec<Counted> {
    listing
        .lines()
        .filter_map(parse_line)
        .filter_map(|l| {
            let c = l.comment?;
            let kind = match field(&c, "k")? {
                "conn" => Kind::Conn,
                "in" => Kind::In,
                "out" => Kind::Out,
                _ => return None,
            };
            Some(Counted {
                port: field(&c, "p")?.parse().ok()?,
                kind,
                packets: l.counters.0,
                bytes: l.counters.1,
            })
        })
        .collect()
}

/// The guards in our filter INPUT chain's listing.
pub fn parse_guards(listing: &str) -> Vec<Guard> {
    listing
        .lines()
        .filter_map(parse_line)
        .filter_map(|l| {
            let c = l.comment?;
            Some(Guard {
                dev: field(&c, "dev")?.to_owned(),
                was: field(&c, "was")?.parse().ok()?,
            })
        })
        .collect()
}

/// A TCP flow the kernel DNATed (`/proc/net/nf_conntrack`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub orig_dst: Ipv4Addr,
    pub orig_dport: u16,
    /// The client's port (with `backend`, it names the flow).
    pub client_port: u16,
    /// The backend that answers it.
    pub backend: SocketAddrV4,
    /// Not yet closed (anything but TIME_WAIT and CLOSE).
    pub open: bool,
    /// Its SYN not answered yet (`SYN_SENT`): a backend that does not
    /// answer for long is gone.
    pub unanswered: bool,
}

/// The DNATed TCP flows in a conntrack listing (others are skipped).
pub fn parse_conntrack(text: &str) -> Vec<Flow> {
    text.lines()
        .filter_map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.first() != Some(&"ipv4") || w.get(2) != Some(&"tcp") {
                return None;
            }
            let state = *w.get(5)?;
            let get = |key: &str, nth: usize| {
                w.iter()
                    .filter_map(|t| t.strip_prefix(key)?.strip_prefix('='))
                    .nth(nth)
            };
            let orig_dst: Ipv4Addr = get("dst", 0)?.parse().ok()?;
            let orig_dport: u16 = get("dport", 0)?.parse().ok()?;
            let client_port: u16 = get("sport", 0)?.parse().ok()?;
            let reply_src: Ipv4Addr = get("src", 1)?.parse().ok()?;
            let reply_sport: u16 = get("sport", 1)?.parse().ok()?;
            if reply_src == orig_dst && reply_sport == orig_dport {
                return None;
            }
            Some(Flow {
                orig_dst,
                orig_dport,
                client_port,
                backend: SocketAddrV4::new(reply_src, reply_sport),
                open: !matches!(state, "TIME_WAIT" | "CLOSE"),
                unanswered: state == "SYN_SENT",
            })
        })
        .collect()
}

/// Payload bytes from a counting rule's IP bytes: 52 bytes of IPv4 + TCP
/// headers (with timestamps, as Linux sends them) per packet, and 8 more
/// for each connection's SYN options. An estimate, exact for Linux peers.
pub fn payload(bytes: u64, packets: u64, connections: u64) -> u64 {
    bytes.saturating_sub(52 * packets + 8 * connections)
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
