//! KernelForward over the in-memory fake: start-up clean-up, applying
//! only changes, counters folded across rebuilds, shutdown leaving nothing.

use super::fake::Fake;
use super::*;

fn ep(deployment: &str, port: u16, targets: &[&str]) -> EndpointRules {
    EndpointRules {
        deployment: deployment.into(),
        endpoint: "Master".into(),
        port,
        targets: targets.iter().map(|t| t.parse().unwrap()).collect(),
    }
}

#[test]
fn start_creates_our_chains_and_shutdown_leaves_nothing() {
    let (fake, state) = Fake::new();
    let kf = KernelForward::start(Box::new(fake), "inst-1", Ipv4Addr::LOCALHOST).unwrap();
    let before = state.lock().unwrap().all_rules();
    assert_eq!(before.len(), 4, "one jump per built-in chain: {before:?}");
    kf.set("d-1", vec![ep("d-1", 41000, &["172.20.5.2:3306"])])
        .unwrap();
    assert_eq!(state.lock().unwrap().localnet.get("br-5"), Some(&1));
    kf.shutdown();
    let s = state.lock().unwrap();
    assert!(s.all_rules().is_empty(), "{:?}", s.all_rules());
    assert_eq!(s.chains.len(), 4, "only the built-in chains remain");
    assert_eq!(s.localnet.get("br-5"), Some(&0), "route_localnet restored");
    drop(s);
    assert!(kf
        .set("d-1", vec![ep("d-1", 41000, &[])])
        .unwrap()
        .is_empty());
    assert!(
        state.lock().unwrap().all_rules().is_empty(),
        "nothing after shutdown"
    );
}

#[test]
fn a_killed_servers_rules_are_cleaned_at_the_next_start_and_live_ones_kept() {
    let (fake, state) = Fake::new();
    let shared = Fake(state.clone());
    // a server of this instance, killed: its rules stay behind
    let old = KernelForward::start(Box::new(fake), "inst-1", Ipv4Addr::LOCALHOST).unwrap();
    old.set("d-1", vec![ep("d-1", 41000, &["172.20.5.2:3306"])])
        .unwrap();
    std::mem::forget(old);
    // another instance, alive (pid 777), and a third one dead (pid 778)
    {
        let mut s = state.lock().unwrap();
        s.alive.push(777);
        for (tag, pid) in [("live0001", 777), ("dead0001", 778)] {
            let batch = rules::render_setup(&Chains::new(tag), tag, pid);
            drop(s);
            shared.restore(&batch).unwrap();
            s = state.lock().unwrap();
        }
    }
    let text = state.lock().unwrap().all_rules().join("\n");
    assert!(text.contains("DNAT --to-destination 172.20.5.2:3306"));
    // the restart: same instance id
    let kf =
        KernelForward::start(Box::new(Fake(state.clone())), "inst-1", Ipv4Addr::LOCALHOST).unwrap();
    let s = state.lock().unwrap();
    let text = s.all_rules().join("\n");
    assert!(!text.contains("DNAT --to-destination"), "{text}");
    assert!(!text.contains("dead0001"), "a dead server's rules go too");
    assert!(
        text.contains("live0001"),
        "a live server's rules are not ours to touch"
    );
    assert!(text.contains(&format!("SSF-{}-DNAT", kf.tag())));
    assert_eq!(
        s.localnet.get("br-5"),
        Some(&0),
        "its route_localnet restored"
    );
}

#[test]
fn the_same_desired_rules_are_applied_once_and_counters_survive_rebuilds() {
    let (fake, state) = Fake::new();
    let kf = KernelForward::start(Box::new(fake), "inst-2", Ipv4Addr::LOCALHOST).unwrap();
    let rules = vec![ep("d-1", 41000, &["172.20.5.2:3306"])];
    kf.set("d-1", rules.clone()).unwrap();
    let n = state.lock().unwrap().restores;
    kf.set("d-1", rules.clone()).unwrap();
    assert_eq!(state.lock().unwrap().restores, n, "no change, no batch");
    // a connection: SYN + 2 packets of 100 bytes in, SYN-ACK + 1 of 500 out
    {
        let mut s = state.lock().unwrap();
        s.count("k=conn", 1, 60);
        s.count("k=in", 3, 60 + 2 * 152);
        s.count("k=out", 2, 60 + 552);
    }
    // the hand-over (a drain): the DNAT goes, the counted traffic is returned
    let deltas = kf.set("d-1", vec![ep("d-1", 41000, &[])]).unwrap();
    assert_eq!(
        deltas,
        vec![Delta {
            port: 41000,
            connections: 1,
            bytes_in: 200,
            bytes_out: 500
        }]
    );
    assert!(!state
        .lock()
        .unwrap()
        .all_rules()
        .join("\n")
        .contains("--to-destination"));
    state.lock().unwrap().count("k=in", 1, 152);
    let (deltas, _) = kf.poll().unwrap();
    assert_eq!(
        deltas,
        vec![Delta {
            port: 41000,
            connections: 0,
            bytes_in: 100,
            bytes_out: 0
        }]
    );
    let (deltas, _) = kf.poll().unwrap();
    assert!(deltas.is_empty(), "read once");
}

#[test]
fn poll_returns_the_flows_to_our_bind_address() {
    let (fake, state) = Fake::new();
    let kf = KernelForward::start(Box::new(fake), "inst-3", Ipv4Addr::LOCALHOST).unwrap();
    state.lock().unwrap().conntrack = "garbage".into();
    assert_eq!(
        kf.poll().unwrap(),
        (vec![], vec![]),
        "no endpoint: nothing read"
    );
    kf.set("d-1", vec![ep("d-1", 41000, &[])]).unwrap();
    state.lock().unwrap().conntrack = "\
ipv4     2 tcp      6 431999 ESTABLISHED src=127.0.0.1 dst=127.0.0.1 sport=50000 dport=41000 src=172.20.0.3 dst=172.20.0.1 sport=3306 dport=50000 [ASSURED] mark=0 zone=0 use=2
ipv4     2 tcp      6 431999 ESTABLISHED src=10.1.1.1 dst=10.1.1.2 sport=50000 dport=41000 src=172.20.0.3 dst=172.20.0.1 sport=3306 dport=50000 [ASSURED] mark=0 zone=0 use=2
".into();
    let (_, flows) = kf.poll().unwrap();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].backend, "172.20.0.3:3306".parse().unwrap());
}

#[test]
fn a_server_without_forwarding_still_removes_a_killed_runs_rules() {
    let (fake, state) = Fake::new();
    let old = KernelForward::start(Box::new(fake), "inst-4", Ipv4Addr::LOCALHOST).unwrap();
    old.set("d-1", vec![ep("d-1", 41000, &["172.20.5.2:3306"])])
        .unwrap();
    std::mem::forget(old);
    let who = KernelForward::clean_only(Box::new(Fake(state.clone())), "inst-4").unwrap();
    assert_eq!(who.len(), 1, "{who:?}");
    let s = state.lock().unwrap();
    assert!(s.all_rules().is_empty(), "{:?}", s.all_rules());
    assert_eq!(s.chains.len(), 4);
}

#[test]
fn a_teardown_raced_by_another_server_still_completes() {
    let (fake, state) = Fake::new();
    let old = KernelForward::start(Box::new(fake), "inst-5", Ipv4Addr::LOCALHOST).unwrap();
    std::mem::forget(old);
    // another server already removed the nat side: the one batch fails
    let nat_jumps: Vec<String> = state.lock().unwrap().all_rules();
    let shared = Fake(state.clone());
    for table in ["nat"] {
        for (builtin, ours) in [("OUTPUT", "DNAT"), ("POSTROUTING", "POST")] {
            let line = nat_jumps
                .iter()
                .find(|l| {
                    l.starts_with(&format!("-A {builtin} ")) && l.ends_with(&format!("-{ours}"))
                })
                .unwrap()
                .clone();
            let chain = line.rsplit(' ').next().unwrap().to_owned();
            shared
                .restore(&format!("*{table}\n-D{}\n-X {chain}\nCOMMIT\n", &line[2..]))
                .unwrap();
        }
    }
    KernelForward::clean_only(Box::new(Fake(state.clone())), "inst-5").unwrap();
    assert!(state.lock().unwrap().all_rules().is_empty());
}
