//! Linting for the HTTP API, bounded: the analysis runs on the blocking pool
//! (never on the async workers that answer `/healthz`), at most
//! [`Linter::permits`] at a time, and a report lists at most
//! [`MAX_DIAGNOSTICS`] diagnostics followed by one summary of the rest.
//!
//! Why: a 5 MiB spec of one-line mappings yields ~440 k diagnostics; the
//! unbounded report was 117 MB, and concurrent requests multiplied that on
//! the runtime's worker threads.

use std::sync::Arc;
use std::time::Duration;

use shared::diagnostic::{Diagnostic, Severity};
use tokio::sync::Semaphore;

/// Diagnostics a report lists before its "and N more" summary.
pub const MAX_DIAGNOSTICS: usize = 200;

/// The code of the summary diagnostic that stands for the diagnostics left out.
pub const MORE_CODE: &str = "Y999";

/// Why a lint was not run.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("the server is busy linting other specs; retry in a moment")]
    Busy,
    #[error("lint worker failed: {0}")]
    Worker(String),
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

    /// The analysis of `text`, its diagnostics capped.
    pub async fn analyze(&self, text: Arc<str>) -> Result<shared::Analysis, LintError> {
        self.run_sized(text.len(), move || {
            let mut a = shared::analyze(&text);
            a.diagnostics = cap(std::mem::take(&mut a.diagnostics), MAX_DIAGNOSTICS);
            a
        })
        .await
    }

    /// The lint JSON report of `text` (the shape of `specstudio lint
    /// --format json` for one file), its diagnostics capped.
    pub async fn report(&self, text: Arc<str>) -> Result<String, LintError> {
        self.run_sized(text.len(), move || report_string(&text))
            .await
    }
}

/// The capped JSON report of `text`, computed on the calling thread.
pub fn report_string(text: &str) -> String {
    let diagnostics = cap(shared::check(text), MAX_DIAGNOSTICS);
    shared::output::json_report_string("spec.yaml", text, &diagnostics)
}

/// The first `max` diagnostics, then one summary diagnostic for the rest
/// (an error when an error is among them), placed where the first one left
/// out was.
pub fn cap(mut diagnostics: Vec<Diagnostic>, max: usize) -> Vec<Diagnostic> {
    if diagnostics.len() <= max {
        return diagnostics;
    }
    let rest = diagnostics.split_off(max);
    let (mut errors, mut warnings, mut infos) = (0usize, 0usize, 0usize);
    for d in &rest {
        match d.severity {
            Severity::Error => errors += 1,
            Severity::Warning => warnings += 1,
            Severity::Info => infos += 1,
        }
    }
    let first = &rest[0];
    let severity = if errors > 0 {
        Severity::Error
    } else if warnings > 0 {
        Severity::Warning
    } else {
        Severity::Info
    };
    diagnostics.push(Diagnostic {
        code: MORE_CODE,
        severity,
        message: format!(
            "and {} more diagnostic(s) not listed ({errors} error(s), {warnings} warning(s), {infos} info(s))",
            rest.len()
        ),
        help: Some(format!(
            "A report lists at most {max} diagnostics; fix these and lint again, or run `specstudio lint` locally for the full list."
        )),
        span: first.span,
        path: first.path.clone(),
        fix: None,
        related: Vec::new(),
    });
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_capped_with_a_summary_of_the_rest() {
        let text: String = (0..1000).map(|i| format!("k{i}: 1\n")).collect();
        let all = shared::check(&text);
        assert!(all.len() > 1000, "one per unknown key: {}", all.len());
        let capped = cap(all.clone(), 50);
        assert_eq!(capped.len(), 51);
        let more = capped.last().unwrap();
        assert_eq!(more.code, MORE_CODE);
        assert_eq!(more.severity, Severity::Error);
        assert!(
            more.message
                .starts_with(&format!("and {} more diagnostic(s)", all.len() - 50)),
            "{}",
            more.message
        );
        assert_eq!(more.span, all[50].span);
        // short lists are untouched
        assert_eq!(cap(all[..3].to_vec(), 50).len(), 3);
        let report: serde_json::Value = serde_json::from_str(&report_string(&text)).unwrap();
        let listed = report["files"][0]["diagnostics"].as_array().unwrap().len();
        assert_eq!(listed, MAX_DIAGNOSTICS + 1);
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
