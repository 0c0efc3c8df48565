//! The usage sampler and autoscaling loop (decisions in [`crate::autoscale`]).
//!
//! Every tick (a quarter of an autoscaling minute, 0.5–10 s) each awake
//! deployment that autoscales or declares `omnistrateMetrics` has its
//! containers sampled through the Docker stats API; autoscaled services feed
//! their utilisation to a [`Window`]. A decision changes the service's
//! replica count (kept in the store, within `minReplicas..maxReplicas`) and
//! kicks a reconcile: a new replica is routed once it caught up; a removed
//! one is drained first. Replication lag is sampled every 5 s for metrics.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::warn;

use super::Controller;
use crate::autoscale::{Decision, Window};
use crate::docker::UsageSample;
use crate::plan::Probe;
use crate::proxy::{Power, Usage};
use crate::store::{Desired, Status};

const LAG_EVERY: Duration = Duration::from_secs(5);

impl Controller {
    pub fn spawn_autoscaler(self: &Arc<Self>) {
        let this = self.clone();
        let minute = self.settings.autoscale_minute;
        let every = (minute / 4).clamp(Duration::from_millis(500), Duration::from_secs(10));
        tokio::spawn(async move {
            let mut previous: HashMap<String, UsageSample> = HashMap::new();
            let mut lag_at: HashMap<String, Instant> = HashMap::new();
            loop {
                tokio::time::sleep(every).await;
                let Some(engine) = this.engine() else {
                    continue;
                };
                let stacks = this.stacks();
                let mut seen = Vec::new();
                for (id, stack) in stacks {
                    let autoscaled = stack.services.iter().any(|s| s.autoscaling.is_some());
                    if !autoscaled && !stack.metrics {
                        continue;
                    }
                    let Ok(Some(rec)) = this.store.get_deployment(&id) else {
                        continue;
                    };
                    let net = this.endpoints.net(&id);
                    if rec.desired != Desired::Running || net.power() != Power::Awake {
                        this.clear_windows(&id);
                        continue;
                    }
                    // sample every container of the stack
                    let samples = stack.active().map(|c| {
                        let engine = &*engine;
                        async move { (c, engine.usage_sample(&c.name).await) }
                    });
                    let mut unreadable = None;
                    for (c, sample) in futures_util::future::join_all(samples).await {
                        seen.push(c.name.clone());
                        if let Err(e) = &sample {
                            unreadable.get_or_insert_with(|| format!("{}: {e}", c.name));
                        }
                        let Ok(Some(sample)) = sample else {
                            previous.remove(&c.name);
                            continue;
                        };
                        let limit = c.nano_cpus.map_or(this.host_cpus, |n| n as f64 / 1e9);
                        if let Some(cpu) = previous
                            .get(&c.name)
                            .and_then(|p| sample.cpu_percent_since(p, limit))
                        {
                            net.set_usage(
                                &c.name,
                                Usage {
                                    cpu_percent: cpu,
                                    memory_bytes: sample.memory_bytes,
                                },
                            );
                        }
                        previous.insert(c.name.clone(), sample);
                    }
                    if stack.metrics && lag_at.get(&id).is_none_or(|t| t.elapsed() >= LAG_EVERY) {
                        lag_at.insert(id.clone(), Instant::now());
                        let host = this.probe_host();
                        for c in stack
                            .containers
                            .iter()
                            .filter(|c| matches!(c.probe, Probe::Mysql { replica: true, .. }))
                        {
                            let r = this.replication_of(&*engine, c, &host).await;
                            if let Ok(Some(h)) = &r {
                                if let Some(s) = h.seconds_behind_master {
                                    net.set_lag(&c.name, s);
                                }
                            }
                            this.record_replication(&id, &c.name, r);
                        }
                    }
                    if !autoscaled {
                        continue;
                    }
                    if this.usage_unreadable(&id, unreadable) {
                        this.clear_windows(&id);
                        continue;
                    }
                    if this.busy(&id) || !matches!(rec.status, Status::Running | Status::Degraded) {
                        // mid-change: decide on the settled replica set only
                        this.clear_windows(&id);
                        continue;
                    }
                    this.autoscale_step(&id, &stack, &net);
                }
                previous.retain(|k, _| seen.contains(k));
            }
        });
    }

    /// Autoscaling is off while a container's CPU cannot be read (on a
    /// swarm: its node's daemon does not answer): a decision on part of the
    /// replicas would be wrong. Said once in an event when it stops and
    /// once when it resumes. `true`: off now.
    fn usage_unreadable(&self, id: &str, problem: Option<String>) -> bool {
        let off = problem.is_some();
        let was = self.with_runtime(id, |rt| {
            std::mem::replace(&mut rt.usage_unreadable, problem.clone())
        });
        match (was, problem) {
            (None, Some(p)) => self.hub.step(
                id,
                &format!("autoscaling disabled: CPU cannot be read ({p}); no scaling decision until it can"),
            ),
            (Some(_), None) => self.hub.step(
                id,
                "autoscaling enabled again: CPU is read from every container",
            ),
            _ => {}
        }
        off
    }

    fn clear_windows(&self, id: &str) {
        self.with_runtime(id, |rt| rt.windows.values_mut().for_each(Window::clear));
    }

    fn autoscale_step(
        self: &Arc<Self>,
        id: &str,
        stack: &crate::plan::DesiredStack,
        net: &crate::proxy::DeploymentNet,
    ) {
        let usage = net.usage();
        let backends = net.backends();
        let minute = self.settings.autoscale_minute;
        for s in &stack.services {
            let Some(policy) = &s.autoscaling else {
                continue;
            };
            let serving: Vec<f64> = backends
                .iter()
                .filter(|(_, b)| b.resource == s.resource && b.routable && !b.draining)
                .filter_map(|(name, _)| usage.get(name).map(|u| u.cpu_percent))
                .collect();
            if serving.len() < s.replicas as usize {
                // a replica is not serving yet: no decision on a partial set
                continue;
            }
            let util = serving.iter().sum::<f64>() / serving.len().max(1) as f64;
            let (decision, over_since) = self.with_runtime(id, |rt| {
                let w = rt.windows.entry(s.resource.clone()).or_default();
                let d = w.push(Instant::now(), util, policy, s.replicas, minute);
                let over_since = w.over_since();
                if d != Decision::Hold {
                    w.clear();
                }
                (d, over_since)
            });
            let secs = |minutes: f64| minute.mul_f64(minutes).as_secs_f64();
            let target = match decision {
                Decision::Hold => continue,
                Decision::Up => {
                    self.counters.scale_ups.fetch_add(1, Ordering::Relaxed);
                    self.hub.step(id, &format!(
                            "autoscaling {}: CPU {util:.0}% of limit above {}% for {} min ({:.0} s) → {} replicas",
                            s.resource,
                            policy.over_threshold,
                            policy.over_minutes,
                            secs(policy.over_minutes),
                            s.replicas + 1
                        ),
                    );
                    let up = super::ScaleUp {
                        decided: Instant::now(),
                        over_since,
                        target: s.replicas + 1,
                    };
                    self.with_runtime(id, |rt| rt.scale_started.insert(s.resource.clone(), up));
                    s.replicas + 1
                }
                Decision::Down => {
                    self.counters.scale_downs.fetch_add(1, Ordering::Relaxed);
                    self.hub.step(id, &format!(
                            "autoscaling {}: CPU {util:.0}% of limit below {}% for {} min ({:.0} s) → {} replicas (the last one is drained, then removed)",
                            s.resource,
                            policy.idle_threshold,
                            policy.idle_minutes,
                            secs(policy.idle_minutes),
                            s.replicas - 1
                        ),
                    );
                    s.replicas - 1
                }
            };
            if let Err(e) = self.store.set_replica_override(id, &s.resource, target) {
                warn!(deployment = id, "storing the autoscaled count failed: {e}");
                continue;
            }
            self.kick(id);
        }
    }
}
