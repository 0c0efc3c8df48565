//! The autoscaling decision: pure, fed with utilisation samples.
//!
//! **Metric.** Utilisation of a service = the mean, over its replicas that
//! take connections, of each container's CPU time used per second of wall
//! time, as a percent of the container's CPU limit (the instance type's
//! vCPUs, clamped to the host's CPUs), computed from two Docker stats
//! samples (`cpu_stats.cpu_usage.total_usage`). 100 % = every CPU the
//! container may use is busy.
//!
//! **Windows.** A service scales up by one replica when every sample of the
//! last `overUtilizedMinutesBeforeScalingUp` minutes was above
//! `overUtilizedThreshold` and the samples cover that whole window; down by
//! one when every sample of the last `idleMinutesBeforeScalingDown` minutes
//! was below `idleThreshold`. A minute lasts `--autoscale-minute-secs`
//! seconds (60 by default). After any change the history restarts, so the
//! next decision sees only the new replica set.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::deploy::AutoscalePolicy;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Hold,
    Up,
    Down,
}

/// Utilisation samples of one service.
#[derive(Debug, Default)]
pub struct Window {
    samples: VecDeque<(Instant, f64)>,
    /// When the current run of samples over the threshold began.
    over_since: Option<Instant>,
}

impl Window {
    pub fn clear(&mut self) {
        self.samples.clear();
        self.over_since = None;
    }

    /// The latest sample, if any.
    pub fn last(&self) -> Option<f64> {
        self.samples.back().map(|(_, v)| *v)
    }

    /// When utilisation went over the scale-up threshold and stayed there.
    pub fn over_since(&self) -> Option<Instant> {
        self.over_since
    }

    /// Add a sample and decide. `replicas` is the current count.
    pub fn push(
        &mut self,
        at: Instant,
        percent: f64,
        policy: &AutoscalePolicy,
        replicas: u32,
        minute: Duration,
    ) -> Decision {
        if percent > policy.over_threshold {
            self.over_since.get_or_insert(at);
        } else {
            self.over_since = None;
        }
        self.samples.push_back((at, percent));
        let up_window = minute.mul_f64(policy.over_minutes);
        let down_window = minute.mul_f64(policy.idle_minutes);
        let keep = up_window.max(down_window) + minute;
        while let Some((t, _)) = self.samples.front() {
            if at.duration_since(*t) > keep {
                self.samples.pop_front();
            } else {
                break;
            }
        }
        if replicas < policy.max_replicas
            && self.all_since(at, up_window, |p| p > policy.over_threshold)
        {
            return Decision::Up;
        }
        if replicas > policy.min_replicas
            && self.all_since(at, down_window, |p| p < policy.idle_threshold)
        {
            return Decision::Down;
        }
        Decision::Hold
    }

    /// Whether the samples span `window` back from `now` and all pass `test`.
    fn all_since(&self, now: Instant, window: Duration, test: impl Fn(f64) -> bool) -> bool {
        let Some((oldest, _)) = self.samples.front() else {
            return false;
        };
        if now.duration_since(*oldest) < window {
            return false;
        }
        self.samples
            .iter()
            .filter(|(t, _)| now.duration_since(*t) <= window)
            .all(|(_, p)| test(*p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AutoscalePolicy {
        AutoscalePolicy {
            min_replicas: 1,
            max_replicas: 3,
            idle_threshold: 20.0,
            idle_minutes: 2.0,
            over_threshold: 80.0,
            over_minutes: 3.0,
        }
    }

    const MINUTE: Duration = Duration::from_secs(1);

    /// Feed one sample every 250 ms; the decision at each step.
    fn run(w: &mut Window, start: Instant, values: &[f64], replicas: u32) -> Vec<Decision> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                w.push(
                    start + Duration::from_millis(250 * i as u64),
                    *v,
                    &policy(),
                    replicas,
                    MINUTE,
                )
            })
            .collect()
    }

    #[test]
    fn scales_up_only_after_the_whole_window_is_over_threshold() {
        let mut w = Window::default();
        let t0 = Instant::now();
        // 3 "minutes" = 3 s = 12 samples at 250 ms; the 13th spans the window
        let d = run(&mut w, t0, &[95.0; 13], 1);
        assert!(d[..12].iter().all(|d| *d == Decision::Hold), "{d:?}");
        assert_eq!(d[12], Decision::Up);
        assert_eq!(w.over_since(), Some(t0));
    }

    #[test]
    fn one_dip_restarts_the_window() {
        let mut w = Window::default();
        let t0 = Instant::now();
        let mut values = vec![95.0; 8];
        values.push(50.0);
        values.extend([95.0; 12]);
        let d = run(&mut w, t0, &values, 1);
        assert!(d.iter().all(|d| *d == Decision::Hold), "{d:?}");
        let d = run(&mut w, t0 + Duration::from_millis(250 * 21), &[95.0], 1);
        assert_eq!(d, vec![Decision::Up]);
    }

    #[test]
    fn scales_down_when_idle_but_never_below_min_or_above_max() {
        let mut w = Window::default();
        let t0 = Instant::now();
        let d = run(&mut w, t0, &[5.0; 9], 2);
        assert_eq!(d[8], Decision::Down);
        let mut w = Window::default();
        assert!(run(&mut w, t0, &[5.0; 20], 1)
            .iter()
            .all(|d| *d == Decision::Hold));
        let mut w = Window::default();
        assert!(run(&mut w, t0, &[99.0; 20], 3)
            .iter()
            .all(|d| *d == Decision::Hold));
    }

    #[test]
    fn between_thresholds_holds() {
        let mut w = Window::default();
        let d = run(&mut w, Instant::now(), &[50.0; 40], 2);
        assert!(d.iter().all(|d| *d == Decision::Hold));
    }
}
