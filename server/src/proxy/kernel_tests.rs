//! The endpoints' side of kernel forwarding over the in-memory iptables:
//! when an endpoint is forwarded and to what, the hand-over to the listener
//! (drain, pause, a backend not yet resolved), the kernel's flows in the
//! `active` counters, a silent backend rechecked, a deleted deployment's
//! rules gone.

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::super::{EndpointSettings, EndpointSpec, Endpoints, Hooks, MemoryPorts, Power};
use crate::forward::fake::{Fake, FakeState};
use crate::forward::KernelForward;

#[derive(Default)]
struct Calls(Mutex<Vec<String>>);
impl Hooks for Calls {
    fn wake(&self, d: &str, e: &str) {
        self.0.lock().unwrap().push(format!("wake {d} {e}"));
    }
    fn recheck(&self, d: &str, c: &str) {
        self.0.lock().unwrap().push(format!("recheck {d} {c}"));
    }
    fn event(&self, _: &str, _: &str) {}
}

fn dnat(state: &Mutex<FakeState>) -> Vec<String> {
    let mut out: Vec<String> = state
        .lock()
        .unwrap()
        .all_rules()
        .into_iter()
        .filter_map(|r| Some(r.split("--to-destination ").nth(1)?.to_owned()))
        .collect();
    out.sort();
    out
}

fn flow(port: u16, client: u16, backend: &str, state: &str) -> String {
    let (ip, bport) = backend.split_once(':').unwrap();
    format!("ipv4     2 tcp      6 100 {state} src=127.0.0.1 dst=127.0.0.1 sport={client} dport={port} src={ip} dst=172.20.0.1 sport={bport} dport={client} mark=0 zone=0 use=2\n")
}

#[tokio::test]
async fn the_kernel_forwards_while_awake_and_hands_over_to_the_listener() {
    let (fake, state) = Fake::new();
    let eps = Endpoints::new("127.0.0.1", "127.0.0.1", EndpointSettings::default());
    eps.enable_kernel_forward(
        KernelForward::start(Box::new(fake), "k1", Ipv4Addr::LOCALHOST).unwrap(),
    );
    let calls = Arc::new(Calls::default());
    // the controller's resolver: every container is 172.20.0.<replica + 2>
    eps.kernel().unwrap().connect(
        calls.clone(),
        Arc::new(|_: &str, name: &str| {
            let n: u8 = name.trim_start_matches('r').parse().unwrap_or(0);
            Box::pin(async move {
                Some(std::net::SocketAddrV4::new(
                    Ipv4Addr::new(172, 20, 0, n + 2),
                    3306,
                ))
            })
        }),
    );
    let net = eps.net("d1");
    let reader = EndpointSpec {
        name: "Replica".into(),
        resource: "Replica".into(),
        replica: None,
    };
    eps.sync("d1", &[reader], &MemoryPorts::default(), calls.clone())
        .await
        .unwrap();
    let port = net.listeners()[0].port;
    assert!(dnat(&state).is_empty(), "no backend: the listener holds");

    net.set_backend("r0", "Replica", 0, Some(1000), true);
    net.set_backend("r1", "Replica", 1, Some(1001), false);
    for _ in 0..100 {
        if !dnat(&state).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        dnat(&state),
        ["172.20.0.2:3306"],
        "only the routable replica"
    );
    net.set_routable("r1", true);
    for _ in 0..100 {
        if dnat(&state).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        dnat(&state),
        ["172.20.0.2:3306", "172.20.0.3:3306"],
        "balanced over both"
    );
    assert!(net.kernel_forwarding());

    // two forwarded clients, one on each replica: counted open
    state.lock().unwrap().conntrack = flow(port, 50000, "172.20.0.2:3306", "ESTABLISHED")
        + &flow(port, 50001, "172.20.0.3:3306", "ESTABLISHED")
        + &flow(port, 50002, "172.20.0.3:3306", "TIME_WAIT");
    eps.kernel().unwrap().refresh();
    assert_eq!(net.active.load(Ordering::Relaxed), 2);
    assert_eq!(net.listeners()[0].active.load(Ordering::Relaxed), 2);
    assert_eq!(net.backend_active("r1"), 1);

    // a drain: the endpoint goes back to the listener; the open forwarded
    // client is what the drain waits for
    assert_eq!(net.drain("r1"), 1);
    assert!(dnat(&state).is_empty(), "the listener drains");
    state.lock().unwrap().conntrack = flow(port, 50000, "172.20.0.2:3306", "ESTABLISHED");
    eps.kernel().unwrap().refresh();
    assert_eq!(net.backend_active("r1"), 0, "its client left");
    assert_eq!(net.active.load(Ordering::Relaxed), 1);
    net.remove_backend("r1");
    assert_eq!(
        dnat(&state),
        ["172.20.0.2:3306"],
        "forwarded again to the one left"
    );

    // pause: the rules go before the freeze; awake again, they return
    net.unroute_all();
    net.set_power(Power::Paused);
    assert!(dnat(&state).is_empty());
    net.set_power(Power::Awake);
    net.set_backend("r0", "Replica", 0, Some(1000), true);
    for _ in 0..100 {
        if !dnat(&state).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        dnat(&state),
        ["172.20.0.2:3306"],
        "re-resolved after the thaw"
    );

    // a SYN unanswered across two reads (this test's and the poller's
    // alike): the backend is rechecked
    state.lock().unwrap().conntrack = flow(port, 50010, "172.20.0.2:3306", "SYN_SENT");
    eps.kernel().unwrap().refresh();
    eps.kernel().unwrap().refresh();
    assert!(
        calls
            .0
            .lock()
            .unwrap()
            .contains(&"recheck d1 r0".to_owned()),
        "{:?}",
        calls.0.lock().unwrap()
    );

    // delete: every rule of the deployment goes
    eps.remove("d1");
    let left = state.lock().unwrap().all_rules();
    assert!(
        left.iter().all(|r| !r.contains(&format!("p={port}"))),
        "{left:?}"
    );
    assert_eq!(left.len(), 4, "only our jumps: {left:?}");
}
