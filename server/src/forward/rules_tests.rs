use super::*;

fn ep(port: u16, targets: &[&str]) -> EndpointRules {
    EndpointRules {
        deployment: "d-1".into(),
        endpoint: "Replica".into(),
        port,
        targets: targets.iter().map(|t| t.parse().unwrap()).collect(),
    }
}

#[test]
fn a_balanced_endpoint_gets_a_round_robin_of_dnat_rules_and_its_counting_rules() {
    let chains = Chains::new("abcd1234");
    let text = render(
        &chains,
        Ipv4Addr::LOCALHOST,
        &[ep(41000, &["172.20.0.3:3306", "172.20.0.4:3306"])],
        &[Guard {
            dev: "br-x".into(),
            was: 0,
        }],
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "*nat");
    assert_eq!(lines[1], "-F SSF-abcd1234-DNAT");
    assert!(lines[3].contains("--dport 41000") && lines[3].contains("--every 2 --packet 0"));
    assert!(
        lines[3].ends_with("-j DNAT --to-destination 172.20.0.3:3306"),
        "{}",
        lines[3]
    );
    // the last target takes whatever the others passed on
    assert!(!lines[4].contains("statistic") && lines[4].ends_with("172.20.0.4:3306"));
    assert!(
        lines[5].starts_with("-A SSF-abcd1234-POST -s 127.0.0.0/8")
            && lines[5].ends_with("MASQUERADE")
    );
    assert!(text.contains("-i br-x -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT"));
    assert!(text.contains("k=conn\""));
    assert!(text.contains(
        "--ctdir REPLY -m comment --comment \"specstudio-fwd d=d-1 e=Replica p=41000 k=out\""
    ));
    assert_eq!(text.matches("COMMIT").count(), 2);
}

#[test]
fn an_endpoint_the_listener_holds_keeps_only_its_counting_rules() {
    let text = render(
        &Chains::new("t"),
        Ipv4Addr::LOCALHOST,
        &[ep(41000, &[])],
        &[],
    );
    assert!(!text.contains("DNAT --to-destination"));
    assert_eq!(text.matches("k=").count(), 4, "{text}");
}

#[test]
fn names_in_comments_cannot_break_the_quoting() {
    let mut e = ep(1, &[]);
    e.endpoint = "a\" -j ACCEPT \"b".into();
    let text = render(&Chains::new("t"), Ipv4Addr::LOCALHOST, &[e], &[]);
    assert!(text.contains("e=a__-j_ACCEPT__b "), "{text}");
    assert!(!text.contains("-j ACCEPT"));
}

const LISTING: &str = r#"-P OUTPUT ACCEPT
-A OUTPUT -m comment --comment "specstudio-fwd tag=abcd1234 pid=4242" -c 10 600 -j SSF-abcd1234-OUT
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -c 0 0 -j DOCKER
-A OUTPUT -m comment --comment "someone else" -c 1 2 -j ACCEPT
"#;

#[test]
fn jumps_are_found_by_their_comment_and_listed_without_counters() {
    let jumps = parse_jumps("filter", LISTING);
    assert_eq!(jumps.len(), 1, "Docker's and others' rules are not ours");
    assert_eq!(jumps[0].tag, "abcd1234");
    assert_eq!(jumps[0].pid, 4242);
    assert_eq!(jumps[0].target, "SSF-abcd1234-OUT");
    assert_eq!(
        jumps[0].rule,
        r#"-A OUTPUT -m comment --comment "specstudio-fwd tag=abcd1234 pid=4242" -j SSF-abcd1234-OUT"#
    );
    let down = render_teardown(&jumps);
    assert_eq!(
        down,
        "*filter\n-D OUTPUT -m comment --comment \"specstudio-fwd tag=abcd1234 pid=4242\" -j SSF-abcd1234-OUT\n-F SSF-abcd1234-OUT\n-X SSF-abcd1234-OUT\nCOMMIT\n"
    );
}

#[test]
fn counters_and_guards_are_read_from_a_listing() {
    let listing = r#"-N SSF-t-IN
-A SSF-t-IN -d 127.0.0.0/8 -i br-9 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment "specstudio-fwd guard dev=br-9 was=0" -c 3 180 -j DROP
-A SSF-t-IN -p tcp -m conntrack --ctstate DNAT --ctorigdst 127.0.0.1 --ctorigdstport 41000 --ctdir REPLY -m comment --comment "specstudio-fwd d=d-1 e=Master p=41000 k=out" -c 12 9000
"#;
    assert_eq!(
        parse_counters(listing),
        vec![Counted {
            port: 41000,
            kind: Kind::Out,
            packets: 12,
            bytes: 9000
        }]
    );
    assert_eq!(
        parse_guards(listing),
        vec![Guard {
            dev: "br-9".into(),
            was: 0
        }]
    );
}

#[test]
fn conntrack_lines_give_the_forwarded_flows_and_their_backend() {
    let text = "\
ipv4     2 tcp      6 431999 ESTABLISHED src=127.0.0.1 dst=127.0.0.1 sport=50000 dport=41000 src=172.20.0.3 dst=172.20.0.1 sport=3306 dport=50000 [ASSURED] mark=0 zone=0 use=2
ipv4     2 tcp      6 100 TIME_WAIT src=127.0.0.1 dst=127.0.0.1 sport=50001 dport=41000 src=172.20.0.4 dst=172.20.0.1 sport=3306 dport=50001 [ASSURED] mark=0 zone=0 use=2
ipv4     2 tcp      6 431999 ESTABLISHED src=127.0.0.1 dst=127.0.0.1 sport=50002 dport=41001 src=127.0.0.1 dst=127.0.0.1 sport=41001 dport=50002 [ASSURED] mark=0 zone=0 use=2
ipv4     2 udp      17 20 src=10.0.0.1 dst=10.0.0.2 sport=53 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=53 mark=0 use=2
garbage line
";
    let flows = parse_conntrack(text);
    assert_eq!(
        flows.len(),
        2,
        "the proxied (not DNATed) flow and UDP are skipped"
    );
    assert_eq!(flows[0].backend, "172.20.0.3:3306".parse().unwrap());
    assert_eq!(flows[0].orig_dport, 41000);
    assert!(flows[0].open);
    assert_eq!(flows[0].client_port, 50000);
    assert!(!flows[0].unanswered);
    assert!(!flows[1].open);
    let syn = "ipv4     2 tcp      6 118 SYN_SENT src=127.0.0.1 dst=127.0.0.1 sport=50009 dport=41000 [UNREPLIED] src=172.20.0.3 dst=172.20.0.1 sport=3306 dport=50009 mark=0 zone=0 use=2";
    let flows = parse_conntrack(syn);
    assert!(flows[0].unanswered && flows[0].open, "{flows:?}");
}

#[test]
fn payload_is_ip_bytes_less_headers() {
    // 1 connection: SYN (60), 3 data packets of 100 payload (152), 2 ACKs (52)
    let bytes = 60 + 3 * 152 + 2 * 52;
    assert_eq!(payload(bytes, 6, 1), 300);
    assert_eq!(payload(10, 6, 1), 0, "never negative");
}
