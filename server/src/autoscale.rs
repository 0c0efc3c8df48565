//! The autoscaling decision: pure, fed with utilisation samples.
//!
//! **Metric.** Utilisation of a service = the mean, over its replicas that
//! take connections, of each container's CPU time used per second of wall
//! time, as a percent of the container's CPU limit (the instance type's
//! vCPUs, clamped to the host's CPUs), computed from two Docker stats
//! samples (`cpu_stats.cpu_usage.total_usage`). 100 % = every CPU the
//! container may use is busy.
//!
//! **Windows.** A service scales up by one replica when its samples have
//! stayed above `overUtilizedThreshold` for `overUtilizedMinutesBeforeScalingUp`
//! minutes (from the first sample of the run over it); down by one when they
//! have stayed below `idleThreshold` for `idleMinutesBeforeScalingDown`. A minute lasts `--autoscale-minute-secs`
//! seconds (60 by default). After any change the history restarts, so the
//! next decision sees only the new replica set.

use std::time::{Duration, Instant};

use crate::plan::AutoscalePolicy;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Hold,
    Up,
    Down,
}

/// Utilisation samples of one service.
#[derive(Debug, Default)]
pub struct Window {
    last: Option<f64>,
    /// When the current run of samples over the scale-up threshold began.
    over_since: Option<Instant>,
    /// When the current run of samples under the idle threshold began.
    idle_since: Option<Instant>,
}

impl Window {
    pub fn clear(&mut self) {
        *self = Window::default();
    }

    /// The latest sample, if any.
    pub fn last(&self) -> Option<f64> {
        self.last
    }

    /// When utilisation went over the scale-up threshold and stayed there.
    pub fn over_since(&self) -> Option<Instant> {
        self.over_since
    }

    /// Add a sample and decide. `replicas` is the current count. A run of
    /// samples over (under) the threshold must have lasted the whole window:
    /// one sample on the other side restarts it.
    pub fn push(
        &mut self,
        at: Instant,
        percent: f64,
        policy: &AutoscalePolicy,
        replicas: u32,
        minute: Duration,
    ) -> Decision {
        self.last = Some(percent);
        if percent > policy.over_threshold {
            self.over_since.get_or_insert(at);
        } else {
            self.over_since = None;
        }
        if percent < policy.idle_threshold {
            self.idle_since.get_or_insert(at);
        } else {
            self.idle_since = None;
        }
        let lasted = |since: Option<Instant>, minutes: f64| {
            since.is_some_and(|t| at.duration_since(t) >= minute.mul_f64(minutes))
        };
        if replicas < policy.max_replicas && lasted(self.over_since, policy.over_minutes) {
            return Decision::Up;
        }
        if replicas > policy.min_replicas && lasted(self.idle_since, policy.idle_minutes) {
            return Decision::Down;
        }
        Decision::Hold
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
