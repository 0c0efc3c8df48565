//! Per-deployment Prometheus series (`omnistrateMetrics`): traffic through
//! each endpoint, wakes and stops, replica counts, replication lag and
//! container CPU/memory. Only deployments whose spec declares the
//! integration are exported.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::controller::Controller;
use crate::store::DeploymentRecord;

/// A label value as the text format wants it.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    lines: Vec<String>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Family {
        Family {
            name,
            kind,
            help,
            lines: Vec::new(),
        }
    }

    fn add(&mut self, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", esc(v)))
            .collect();
        self.lines
            .push(format!("{}{{{}}} {value}", self.name, labels.join(",")));
    }
}

pub fn write_deployment_series(ctl: &Controller, records: &[DeploymentRecord], out: &mut String) {
    let mut connections = Family::new(
        "specstudio_endpoint_connections_total",
        "counter",
        "Client connections accepted by an endpoint.",
    );
    let mut active = Family::new(
        "specstudio_endpoint_active_connections",
        "gauge",
        "Client connections open (or held while waking) on an endpoint.",
    );
    let mut bytes = Family::new(
        "specstudio_endpoint_bytes_total",
        "counter",
        "Bytes spliced through an endpoint, by direction.",
    );
    let mut wakes = Family::new(
        "specstudio_deployment_wakes_total",
        "counter",
        "Wakes of a sleeping deployment by a client.",
    );
    let mut stops = Family::new(
        "specstudio_deployment_stops_total",
        "counter",
        "Idle stops of a deployment.",
    );
    let mut replicas = Family::new(
        "specstudio_service_replicas",
        "gauge",
        "Instances a service runs (autoscaled count when autoscaling).",
    );
    let mut lag = Family::new(
        "specstudio_replication_lag_seconds",
        "gauge",
        "Seconds_Behind_Master of a replica (sampled every 5 s).",
    );
    let mut cpu = Family::new(
        "specstudio_container_cpu_percent",
        "gauge",
        "Container CPU use as a percent of its CPU limit (Docker stats).",
    );
    let mut memory = Family::new(
        "specstudio_container_memory_bytes",
        "gauge",
        "Container memory use without page cache (Docker stats).",
    );
    for rec in records {
        let Some(stack) = ctl.stack(&rec.id) else {
            continue;
        };
        if !stack.metrics {
            continue;
        }
        let d = rec.id.as_str();
        if let Some(net) = ctl.endpoints.get(d) {
            for l in net.listeners() {
                let labels = [("deployment", d), ("endpoint", l.spec.name.as_str())];
                connections.add(&labels, l.connections.load(Ordering::Relaxed));
                active.add(&labels, l.active.load(Ordering::Relaxed));
                bytes.add(
                    &[labels[0], labels[1], ("direction", "client_to_server")],
                    l.bytes_in.load(Ordering::Relaxed),
                );
                bytes.add(
                    &[labels[0], labels[1], ("direction", "server_to_client")],
                    l.bytes_out.load(Ordering::Relaxed),
                );
            }
            wakes.add(&[("deployment", d)], net.wakes.load(Ordering::Relaxed));
            stops.add(&[("deployment", d)], net.stops.load(Ordering::Relaxed));
            for (container, seconds) in net.lag() {
                lag.add(&[("deployment", d), ("container", &container)], seconds);
            }
            for (container, u) in net.usage() {
                let labels = [("deployment", d), ("container", container.as_str())];
                cpu.add(&labels, format!("{:.2}", u.cpu_percent));
                memory.add(&labels, u.memory_bytes);
            }
        }
        for s in &stack.services {
            replicas.add(&[("deployment", d), ("service", &s.resource)], s.replicas);
        }
    }
    for f in [
        connections,
        active,
        bytes,
        wakes,
        stops,
        replicas,
        lag,
        cpu,
        memory,
    ] {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for l in f.lines {
            let _ = writeln!(out, "{l}");
        }
    }
}
