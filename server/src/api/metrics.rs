//! `GET /metrics`: the Prometheus text exposition (format 0.0.4), encoded by
//! the `prometheus-client` crate.
//!
//! The numbers live where they are counted (atomics in the controller, the
//! endpoints and the HTTP layer; deployment rows in the store), so each scrape
//! takes a [`Snapshot`] of them and hands it to the crate as a `Collector`:
//! names, label escaping, `# HELP`/`# TYPE` lines and number formatting are
//! the crate's. Per-deployment series (`omnistrateMetrics`: traffic through
//! each endpoint, wakes and stops, replica counts, replication lag, container
//! CPU/memory) are exported only for deployments whose spec declares the
//! integration.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::AppState;
use crate::controller::Controller;
use crate::store::{DeploymentRecord, Status};

/// Label pairs of one series, in the order they are printed.
type Labels = Vec<(&'static str, String)>;

/// A sample's value: counts are integers, rates and percents floats.
#[derive(Clone, Copy, Debug)]
enum Value {
    Int(u64),
    Float(f64),
}

#[derive(Debug)]
enum Kind {
    Counter,
    Gauge,
    /// A duration total and count without buckets (Prometheus would call it
    /// a summary without quantiles; the crate writes it as a histogram with
    /// the single `+Inf` bucket: the same `_sum` and `_count` series).
    Timing {
        sum: f64,
        count: u64,
    },
}

/// One metric family with its samples, read at scrape time.
#[derive(Debug)]
struct Family {
    /// Without the `_total` of counters: the encoder appends it.
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<(Labels, Value)>,
}

impl Family {
    fn new(name: &'static str, kind: Kind, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: &[(&'static str, &str)], value: Value) {
        let labels = labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self.samples.push((labels, value));
    }
}

/// Every family of one scrape, in exposition order.
#[derive(Debug)]
struct Snapshot(Vec<Family>);

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for f in &self.0 {
            let metric_type = match f.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
                Kind::Timing { .. } => MetricType::Histogram,
            };
            let mut metric = encoder.encode_descriptor(f.name, f.help, None, metric_type)?;
            if let Kind::Timing { sum, count } = f.kind {
                metric.encode_histogram::<Labels>(sum, count, &[(f64::INFINITY, count)], None)?;
                continue;
            }
            for (labels, value) in &f.samples {
                let mut sample = metric.encode_family(labels)?;
                match (&f.kind, *value) {
                    (Kind::Counter, Value::Int(v)) => {
                        sample.encode_counter::<Labels, _, u64>(&v, None)?
                    }
                    (Kind::Counter, Value::Float(v)) => {
                        sample.encode_counter::<Labels, _, u64>(&v, None)?
                    }
                    (_, Value::Int(v)) => sample.encode_gauge(&v)?,
                    (_, Value::Float(v)) => sample.encode_gauge(&v)?,
                }
            }
        }
        Ok(())
    }
}

/// The `/metrics` response.
pub fn response(state: &AppState) -> Response {
    // read once: the status counts and the per-deployment series
    let records = state.store().list_deployments().unwrap_or_default();
    let mut families = vec![http_requests(state), deployments_by_status(&records)];
    families.extend(controller_counters(&state.ctl));
    families.extend(deployment_series(&state.ctl, &records));
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot(families)));
    let mut out = String::new();
    // Writing into a String cannot fail; an encoder error would be a bug here.
    prometheus_text::encode(&mut out, &registry).expect("metrics encode into a String");
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus_text::CONTENT_TYPE),
        )],
        out,
    )
        .into_response()
}

fn http_requests(state: &AppState) -> Family {
    let mut f = Family::new(
        "specstudio_http_requests",
        Kind::Counter,
        "HTTP requests by method, route and status.",
    );
    if let Ok(m) = state.http.requests.lock() {
        for ((method, route, status), n) in m.iter() {
            let status = status.to_string();
            f.add(
                &[("method", method), ("route", route), ("status", &status)],
                Value::Int(*n),
            );
        }
    }
    f
}

fn deployments_by_status(records: &[DeploymentRecord]) -> Family {
    let mut by_status: BTreeMap<&str, u64> = Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for r in records {
        *by_status.entry(r.status.as_str()).or_default() += 1;
    }
    let mut f = Family::new(
        "specstudio_deployments",
        Kind::Gauge,
        "Deployments by last reconciled status.",
    );
    for (status, n) in by_status {
        f.add(&[("status", status)], Value::Int(n));
    }
    f
}

fn controller_counters(ctl: &Controller) -> Vec<Family> {
    let c = &ctl.counters;
    let mut out: Vec<Family> = [
        (
            "specstudio_reconciles",
            "Reconcile steps run.",
            &c.reconciles,
        ),
        (
            "specstudio_reconcile_failures",
            "Reconcile steps that ended failed.",
            &c.reconcile_failures,
        ),
        (
            "specstudio_deployments_created",
            "Deployments accepted.",
            &c.deployments_created,
        ),
        (
            "specstudio_containers_created",
            "Containers created.",
            &c.containers_created,
        ),
        (
            "specstudio_autoscale_ups",
            "Replicas added by the autoscaler.",
            &c.scale_ups,
        ),
        (
            "specstudio_autoscale_downs",
            "Replicas removed by the autoscaler.",
            &c.scale_downs,
        ),
        (
            "specstudio_pauses",
            "Idle deployments frozen by the paused tier (--idle-pause-after).",
            &c.pauses,
        ),
    ]
    .into_iter()
    .map(|(name, help, v)| {
        let mut f = Family::new(name, Kind::Counter, help);
        f.add(&[], Value::Int(v.load(Ordering::Relaxed)));
        f
    })
    .collect();
    out.push(Family::new(
        "specstudio_reconcile_ready_seconds",
        Kind::Timing {
            sum: c.ready_ms_sum.load(Ordering::Relaxed) as f64 / 1000.0,
            count: c.ready_count.load(Ordering::Relaxed),
        },
        "Duration of reconcile steps that ended running.",
    ));
    out
}

fn deployment_series(ctl: &Controller, records: &[DeploymentRecord]) -> Vec<Family> {
    let mut connections = Family::new(
        "specstudio_endpoint_connections",
        Kind::Counter,
        "Client connections accepted by an endpoint.",
    );
    let mut active = Family::new(
        "specstudio_endpoint_active_connections",
        Kind::Gauge,
        "Client connections open (or held while waking) on an endpoint.",
    );
    let mut bytes = Family::new(
        "specstudio_endpoint_bytes",
        Kind::Counter,
        "Bytes spliced through an endpoint, by direction.",
    );
    let mut wakes = Family::new(
        "specstudio_deployment_wakes",
        Kind::Counter,
        "Wakes of a sleeping deployment by a client.",
    );
    let mut stops = Family::new(
        "specstudio_deployment_stops",
        Kind::Counter,
        "Idle stops of a deployment.",
    );
    let mut replicas = Family::new(
        "specstudio_service_replicas",
        Kind::Gauge,
        "Instances a service runs (autoscaled count when autoscaling).",
    );
    let mut lag = Family::new(
        "specstudio_replication_lag_seconds",
        Kind::Gauge,
        "Seconds_Behind_Master of a replica (sampled every 5 s).",
    );
    let mut cpu = Family::new(
        "specstudio_container_cpu_percent",
        Kind::Gauge,
        "Container CPU use as a percent of its CPU limit (Docker stats).",
    );
    let mut memory = Family::new(
        "specstudio_container_memory_bytes",
        Kind::Gauge,
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
                let count =
                    |a: &std::sync::atomic::AtomicU64| Value::Int(a.load(Ordering::Relaxed));
                connections.add(&labels, count(&l.connections));
                active.add(&labels, count(&l.active));
                bytes.add(
                    &[labels[0], labels[1], ("direction", "client_to_server")],
                    count(&l.bytes_in),
                );
                bytes.add(
                    &[labels[0], labels[1], ("direction", "server_to_client")],
                    count(&l.bytes_out),
                );
            }
            wakes.add(
                &[("deployment", d)],
                Value::Int(net.wakes.load(Ordering::Relaxed)),
            );
            stops.add(
                &[("deployment", d)],
                Value::Int(net.stops.load(Ordering::Relaxed)),
            );
            for (container, seconds) in net.lag() {
                lag.add(
                    &[("deployment", d), ("container", &container)],
                    Value::Int(seconds),
                );
            }
            for (container, u) in net.usage() {
                let labels = [("deployment", d), ("container", container.as_str())];
                cpu.add(
                    &labels,
                    Value::Float((u.cpu_percent * 100.0).round() / 100.0),
                );
                memory.add(&labels, Value::Int(u.memory_bytes));
            }
        }
        for s in &stack.services {
            replicas.add(
                &[("deployment", d), ("service", &s.resource)],
                Value::Int(s.replicas as u64),
            );
        }
    }
    vec![
        connections,
        active,
        bytes,
        wakes,
        stops,
        replicas,
        lag,
        cpu,
        memory,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(families: Vec<Family>) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Snapshot(families)));
        let mut out = String::new();
        prometheus_text::encode(&mut out, &registry).unwrap();
        out
    }

    #[test]
    fn counters_gauges_and_timings_keep_their_series_names() {
        let mut requests = Family::new("demo_requests", Kind::Counter, "Requests.");
        requests.add(
            &[("route", "/a\"b\\c\nd"), ("status", "200")],
            Value::Int(3),
        );
        let mut cpu = Family::new("demo_cpu_percent", Kind::Gauge, "CPU.");
        cpu.add(&[("container", "x")], Value::Float(12.5));
        let ready = Family::new(
            "demo_ready_seconds",
            Kind::Timing { sum: 1.5, count: 2 },
            "Ready.",
        );
        let text = encode(vec![requests, cpu, ready]);
        assert!(
            text.contains("# TYPE demo_requests_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains(r#"demo_requests_total{route="/a\"b\\c\nd",status="200"} 3"#),
            "label values escaped by the encoder: {text}"
        );
        assert!(text.contains("# TYPE demo_cpu_percent gauge\n"), "{text}");
        assert!(
            text.contains("demo_cpu_percent{container=\"x\"} 12.5\n"),
            "{text}"
        );
        assert!(text.contains("demo_ready_seconds_sum 1.5\n"), "{text}");
        assert!(text.contains("demo_ready_seconds_count 2\n"), "{text}");
        assert!(
            !text.contains("# EOF"),
            "0.0.4 text has no EOF marker: {text}"
        );
    }

    #[test]
    fn a_family_without_samples_still_documents_itself() {
        let text = encode(vec![Family::new("demo_idle", Kind::Gauge, "Idle.")]);
        assert_eq!(text, "# HELP demo_idle Idle.\n# TYPE demo_idle gauge\n");
    }
}
