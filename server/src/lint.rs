//! Linting for the HTTP API, bounded: the analysis runs on the blocking pool
//! (never on the async workers that answer `/healthz`), one per core at a
//! time, within [`limits`]: at most
//! [`MAX_DIAGNOSTICS`] diagnostics held (the rest counted into one "and N
//! more" summary inside the core), at most [`MAX_WORK`] units of work (a
//! larger spec gets one located error and is not parsed), and stopped
//! between rules after [`CPU_BUDGET`] of the thread's CPU time.
//!
//! Why: a 5 MiB spec of one-line mappings yields ~440 k diagnostics; the
//! unbounded report was 117 MB, and concurrent requests multiplied that on
//! the runtime's worker threads. Holding every diagnostic and the tree of
//! ~900 k nodes before trimming still cost ~370 MiB per request.

use std::sync::Arc;
use std::time::Duration;

use shared::limits::Limits;
use tokio::sync::Semaphore;

/// Diagnostics a report lists before its "and N more" summary.
pub const MAX_DIAGNOSTICS: usize = 200;

/// The code of the summary diagnostic that stands for the diagnostics left out.
pub const MORE_CODE: &str = shared::limits::MORE_CODE;

/// Work units ([`shared::limits::work_units`]: YAML keys, items and
/// separators) a spec may need. A 2,000-service compose file of ~700 KB needs
/// ~88 k. Storing a spec at the limit (50 k one-line keys, all flagged)
/// costs ~40 MiB and ~0.5 s of CPU: its secrets are masked from a full analysis.
pub const MAX_WORK: usize = 150_000;

/// CPU time one analysis may take before it stops between rules.
pub const CPU_BUDGET: Duration = Duration::from_secs(2);

/// CPU time used by the calling thread so far.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The analysis of `text` within the API's bounds, on the calling thread.
pub fn analyze_bounded(text: &str) -> shared::Analysis {
    let start = thread_cpu_time();
    let stop = move || thread_cpu_time().saturating_sub(start) > CPU_BUDGET;
    shared::analyze_limited(text, &shared::Options::default(), &limits(&stop))
}

/// The API's limits, stopping when `stop` says so.
pub fn limits(stop: &(dyn Fn() -> bool + Sync)) -> Limits<'_> {
    Limits {
        max_diagnostics: Some(MAX_DIAGNOSTICS),
        max_work: Some(MAX_WORK),
        stop: Some(stop),
    }
}

/// Why a lint was not run.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("the server is busy linting other specs; retry in a moment")]
    Busy,
    #[error("lint worker failed: {0}")]
    Worker(String),
    /// Over the work budget where the whole text must be read (to store a
    /// spec, its secrets must be found and masked).
    #[error("{0}")]
    TooLarge(String),
}

/// Refuse a spec over [`MAX_WORK`] before it is stored: its secrets could
/// not be found to mask them, nor its report computed.
pub fn check_size(text: &str) -> Result<(), LintError> {
    let Some(at) = shared::limits::over_budget(text, MAX_WORK) else {
        return Ok(());
    };
    let line = text[..at.start].matches('\n').count() + 1;
    Err(LintError::TooLarge(format!(
        "the spec is too large to store: checking it and masking its secrets needs about {} units of work (YAML keys, items and separators) and this server allows {MAX_WORK} (reached on line {line})",
        shared::limits::work_units(text)
    )))
}

/// Inputs this large run alone (they take every slot): an analysis costs
/// memory in proportion to the spec's nodes and diagnostics.
pub const LARGE_INPUT: usize = 512 * 1024;

/// The API's lint gate: a limit on concurrent analyses.
#[derive(Clone)]
pub struct Linter {
    permits: Arc<Semaphore>,
    slots: u32,
    /// How long a request waits for a free slot.
    wait: Duration,
}

impl Default for Linter {
    fn default() -> Self {
        // one analysis per core, at least one, at most four
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        Linter::new(n, Duration::from_secs(10))
    }
}

impl Linter {
    pub fn new(permits: usize, wait: Duration) -> Linter {
        Linter {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            slots: permits.max(1) as u32,
            wait,
        }
    }

    /// Run `work` on the blocking pool once a slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, LintError> {
        self.run_sized(0, work).await
    }

    /// [`Linter::run`] for an input of `size` bytes: a large one runs alone.
    pub async fn run_sized<T: Send + 'static>(
        &self,
        size: usize,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, LintError> {
        let n = if size >= LARGE_INPUT { self.slots } else { 1 };
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_many_owned(n))
            .await
            .map_err(|_| LintError::Busy)?
            .map_err(|_| LintError::Busy)?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| LintError::Worker(e.to_string()))
    }

    /// The analysis of `text`, within the API's bounds.
    pub async fn analyze(&self, text: Arc<str>) -> Result<shared::Analysis, LintError> {
        self.run_sized(text.len(), move || analyze_bounded(&text))
            .await
    }

    /// The lint JSON report of `text` (the shape of `specstudio lint
    /// --format json` for one file), within the API's bounds.
    pub async fn report(&self, text: Arc<str>) -> Result<String, LintError> {
        self.run_sized(text.len(), move || report_string(&text))
            .await
    }
}

/// A stored spec's public text (literal secrets masked) and its bounded
/// JSON report, on the calling thread. The secrets must be found by a full
/// analysis; when there are none, the public text is the text and that same
/// analysis, capped, is the report (one analysis instead of two). A spec
/// with literal secrets gets its report from the masked text.
pub fn public_and_report(text: &str) -> (String, String) {
    let full = shared::analyze(text);
    let spans = shared::redact::secret_spans_in(&full, text);
    if spans.is_empty() {
        let diagnostics = shared::limits::cap(full.diagnostics, MAX_DIAGNOSTICS);
        let report = shared::output::json_report_string("spec.yaml", text, &diagnostics);
        return (text.to_owned(), report);
    }
    drop(full);
    let public = shared::redact::mask_spans(text, &spans);
    let report = report_string(&public);
    (public, report)
}

/// The bounded JSON report of `text`, computed on the calling thread.
pub fn report_string(text: &str) -> String {
    let diagnostics = analyze_bounded(text).diagnostics;
    shared::output::json_report_string("spec.yaml", text, &diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::Severity;

    #[test]
    fn reports_are_capped_inside_the_core_with_a_summary_of_the_rest() {
        let text: String = (0..1000).map(|i| format!("k{i}: 1\n")).collect();
        let all = shared::check(&text);
        assert!(all.len() > 1000, "one per unknown key: {}", all.len());
        let capped = analyze_bounded(&text).diagnostics;
        assert_eq!(capped.len(), MAX_DIAGNOSTICS + 1);
        assert_eq!(capped[..MAX_DIAGNOSTICS], all[..MAX_DIAGNOSTICS]);
        let more = capped.last().unwrap();
        assert_eq!(more.code, MORE_CODE);
        assert_eq!(more.severity, Severity::Error);
        assert!(
            more.message.starts_with(&format!(
                "and {} more diagnostic(s)",
                all.len() - MAX_DIAGNOSTICS
            )),
            "{}",
            more.message
        );
        assert_eq!(more.span, all[MAX_DIAGNOSTICS].span);
        assert_eq!(more.path, all[MAX_DIAGNOSTICS].path);
        let report: serde_json::Value = serde_json::from_str(&report_string(&text)).unwrap();
        let listed = report["files"][0]["diagnostics"].as_array().unwrap().len();
        assert_eq!(listed, MAX_DIAGNOSTICS + 1);
        // a spec within the cap is checked as the editor checks it
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        assert_eq!(analyze_bounded(seed).diagnostics, shared::check(seed));
    }

    /// Storing a spec: one analysis when it holds no literal secret, and
    /// the same report as masking, then linting the masked text.
    #[test]
    fn a_stored_specs_report_is_the_bounded_report_of_its_public_text() {
        let many: String = (0..1000).map(|i| format!("k{i}: 1\n")).collect();
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let plain = "services:\n  Web:\n    image: nginx:1.27\n    ports: ['8080']\n";
        for text in [many.as_str(), seed, plain] {
            let (public, report) = public_and_report(text);
            let masked = shared::redact::mask_literal_secrets(text);
            assert_eq!(public, masked);
            assert_eq!(report, report_string(&masked));
        }
        assert_ne!(
            public_and_report(seed).0,
            seed,
            "the seed has a literal password"
        );
    }

    #[test]
    fn a_spec_over_the_work_budget_gets_one_located_error() {
        let line = "k: {a: [1, 2, 3]}\n";
        let lines = MAX_WORK / shared::limits::work_units(line) + 10;
        let text = line.repeat(lines);
        let a = analyze_bounded(&text);
        assert_eq!(a.diagnostics.len(), 1, "{:?}", a.diagnostics);
        let d = &a.diagnostics[0];
        assert_eq!(d.code, shared::limits::BUDGET_CODE);
        assert_eq!(d.severity, Severity::Error);
        assert!(d.message.contains("too large to check"), "{}", d.message);
        // on the line where the budget ran out, not at the top
        let budget_line = MAX_WORK / shared::limits::work_units(line);
        assert_eq!(d.span.start, budget_line * line.len());
        assert_eq!(d.span.len(), line.len() - 1);
        assert!(!a.parsed && a.tree.nodes.is_empty());
    }

    #[test]
    fn thread_cpu_time_advances_with_work() {
        let t0 = thread_cpu_time();
        let mut x = 0u64;
        while thread_cpu_time() - t0 < Duration::from_millis(5) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(thread_cpu_time() > t0);
    }

    #[test]
    fn specs_over_the_budget_are_refused_for_storage_with_the_line() {
        assert!(check_size("services: {}\n").is_ok());
        let text = "k: 1\n".repeat(MAX_WORK / 2 + 5);
        let Err(LintError::TooLarge(message)) = check_size(&text) else {
            panic!("over the budget");
        };
        assert!(
            message.contains(&format!("reached on line {}", MAX_WORK / 2 + 1)),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_full_linter_answers_busy_instead_of_queueing_forever() {
        let linter = Linter::new(1, Duration::from_millis(50));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let held = linter.clone();
        let slow = tokio::spawn(async move { held.run(move || rx.recv().ok()).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(matches!(linter.run(|| ()).await, Err(LintError::Busy)));
        tx.send(()).unwrap();
        assert!(slow.await.unwrap().is_ok());
        assert!(linter.run(|| ()).await.is_ok());
    }
}
