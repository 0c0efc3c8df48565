//! Bounds on one analysis of untrusted text: how many diagnostics it keeps,
//! how much work it starts, and when it stops between rules.
//!
//! Why: the server lints specs posted by anonymous clients. A 5 MiB file of
//! one-line mappings yields ~440 k diagnostics and a tree of ~900 k nodes;
//! held in full, one request cost hundreds of megabytes before the API could
//! trim the report. The editor, the CLI and the language server pass
//! [`Limits::NONE`] and see everything.
//!
//! ```
//! let text: String = (0..1000).map(|i| format!("k{i}: 1\n")).collect();
//! let limits = shared::limits::Limits { max_diagnostics: Some(10), ..Default::default() };
//! let a = shared::analyze_limited(&text, &Default::default(), &limits);
//! assert_eq!(a.diagnostics.len(), 11);
//! assert_eq!(a.diagnostics.last().unwrap().code, shared::limits::MORE_CODE);
//! ```

use crate::diagnostic::{Diagnostic, Severity};
use crate::span::Span;

/// The code of the summary that stands for the diagnostics left out
/// (the rule `more-diagnostics`).
pub const MORE_CODE: &str = crate::rules::yaml::MoreDiagnostics::META.code;
/// The code of the diagnostic that says the spec was not checked fully (the
/// rule `analysis-stopped`).
pub const BUDGET_CODE: &str = crate::rules::yaml::AnalysisStopped::META.code;

/// What one analysis may cost. `Default` is [`Limits::NONE`].
#[derive(Clone, Copy, Default)]
pub struct Limits<'a> {
    /// Diagnostics kept before one "and N more" summary ([`MORE_CODE`]).
    pub max_diagnostics: Option<usize>,
    /// Work units (see [`work_units`]) a spec may need; a larger spec is
    /// not parsed and gets one [`BUDGET_CODE`] error where the budget ran out.
    pub max_work: Option<usize>,
    /// Asked between rules; `true` stops the analysis there with one
    /// [`BUDGET_CODE`] error (the caller's clock: `shared` has none).
    pub stop: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl std::fmt::Debug for Limits<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("max_diagnostics", &self.max_diagnostics)
            .field("max_work", &self.max_work)
            .field("stop", &self.stop.is_some())
            .finish()
    }
}

impl Limits<'_> {
    /// No bound: the editor, the CLI and the language server.
    pub const NONE: Limits<'static> = Limits {
        max_diagnostics: None,
        max_work: None,
        stop: None,
    };
}

/// Bytes that can start a YAML node or separate two: a line break, flow
/// punctuation, `key:`, `- item`, anchors, aliases, tags, explicit keys.
fn is_work(b: u8) -> bool {
    matches!(
        b,
        b'\n' | b',' | b'[' | b'{' | b':' | b'-' | b'*' | b'&' | b'!' | b'?'
    )
}

/// An upper estimate of the parse and rule work `text` needs: the bytes
/// that can start or separate YAML nodes (every node needs at least one,
/// except a scalar right after its `key:` or `-`; hence the factor in the
/// budget, not here). Linear, allocation-free.
pub fn work_units(text: &str) -> usize {
    text.bytes().filter(|b| is_work(*b)).count()
}

/// Where `text` first needs more than `max` work units: the line on which
/// the budget runs out, or `None` when it fits.
pub fn over_budget(text: &str, max: usize) -> Option<Span> {
    let mut units = 0usize;
    for (i, b) in text.bytes().enumerate() {
        if is_work(b) {
            units += 1;
            if units > max {
                let start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                return Some(Span::new(start, end));
            }
        }
    }
    None
}

/// The error for a spec over the work budget, on the line where it ran out.
pub fn too_much_work(text: &str, at: Span, max: usize) -> Diagnostic {
    budget_diagnostic(
        at,
        format!(
            "the spec is too large to check here: it needs about {} units of work (YAML keys, items and separators) and this check allows {max}; nothing was checked",
            work_units(text)
        ),
    )
}

/// The error for an analysis stopped by [`Limits::stop`] before `rule`.
pub fn stopped_before(rule: &str) -> Diagnostic {
    budget_diagnostic(
        Span::empty(0),
        format!("the spec is too large to check fully in the time allowed: rules from {rule} on were not run"),
    )
}

fn budget_diagnostic(span: Span, message: String) -> Diagnostic {
    Diagnostic {
        code: BUDGET_CODE,
        severity: Severity::Error,
        message,
        help: Some(crate::rules::yaml::AnalysisStopped::META.help.to_owned()),
        span,
        path: String::new(),
        fix: None,
        related: Vec::new(),
    }
}

/// What the cap does with a new diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// There is room: keep it.
    Push,
    /// It comes before the latest kept one (kept at this index), which
    /// makes room for it.
    Replace(usize),
    /// It comes after every kept one: count it only.
    LeaveOut,
}

/// The ignore comments of a text (`config::ignores`), read before the rules
/// run: a finding they silence takes no place under the cap, is not counted
/// in the summary and is not held — except one per comment, which
/// `config::apply` then removes and counts as that comment's use (else it
/// would report the comment as silencing nothing).
#[derive(Debug, Default)]
struct Silencer {
    /// (rule code, the line it covers; `None`: the whole file)
    ignores: Vec<(&'static str, Option<Span>)>,
    /// Whether a finding each one silences is held for `config::apply`.
    held: Vec<bool>,
    /// Where those are in the rules' output (not counted toward the cap).
    at: Vec<usize>,
    /// The last finding admitted was silenced (so not counted).
    last_silenced: bool,
}

impl Silencer {
    fn of(text: &str) -> Silencer {
        let ignores: Vec<_> = crate::config::ignores(text)
            .into_iter()
            .filter_map(|i| Some((crate::rules::find(&i.code)?.meta().code, i.line)))
            .collect();
        Silencer {
            held: vec![false; ignores.len()],
            ignores,
            ..Silencer::default()
        }
    }

    /// `Some(hold)` when an ignore comment silences `code` at `span`
    /// (`hold`: keep this one for `config::apply`), as `config::apply` decides.
    fn silences(&mut self, code: &'static str, span: Span) -> Option<bool> {
        let mut silenced = false;
        let mut hold = false;
        for (i, (c, line)) in self.ignores.iter().enumerate() {
            let covers = line.is_none_or(|l| span.start >= l.start && span.start <= l.end);
            if *c == code && covers {
                silenced = true;
                hold |= !self.held[i];
                self.held[i] = true;
            }
        }
        silenced.then_some(hold)
    }
}

/// The diagnostics a capped analysis left out: counted, never held. The
/// kept ones are the earliest in the text (what a reader fixes first),
/// whatever rule found them; findings an ignore comment silences do not
/// count (see [`Overflow::silencing`]).
#[derive(Debug)]
pub struct Overflow {
    max: usize,
    silencer: Silencer,
    counts: [usize; 3],
    /// The earliest place among those left out, with its JSON path.
    first: Option<(Span, String)>,
    /// Index of the latest kept diagnostic, while known.
    latest: Option<usize>,
    /// What a rule writes into once the cap is reached (overwritten each time).
    pub(crate) scratch: Diagnostic,
}

fn order(d: &Diagnostic) -> (usize, usize, &'static str) {
    (d.span.start, d.span.end, d.code)
}

impl Overflow {
    pub fn new(max: usize) -> Overflow {
        Overflow {
            max,
            silencer: Silencer::default(),
            counts: [0; 3],
            first: None,
            latest: None,
            scratch: budget_diagnostic(Span::empty(0), String::new()),
        }
    }

    /// Apply the ignore comments of `text` before the cap: a silenced
    /// finding is neither kept nor counted.
    pub fn silencing(mut self, text: &str) -> Overflow {
        self.silencer = Silencer::of(text);
        self
    }

    /// Where a diagnostic of `code` at `span` goes, given the kept `out`.
    pub(crate) fn admit(&mut self, out: &[Diagnostic], code: &'static str, span: Span) -> Admit {
        let silencer = &mut self.silencer;
        silencer.last_silenced = false;
        if !silencer.ignores.is_empty() {
            match silencer.silences(code, span) {
                Some(true) => {
                    silencer.at.push(out.len());
                    return Admit::Push;
                }
                Some(false) => {
                    silencer.last_silenced = true;
                    return Admit::LeaveOut;
                }
                None => {}
            }
        }
        let held = &self.silencer.at;
        if out.len() - held.len() < self.max {
            self.latest = None;
            return Admit::Push;
        }
        let Some(latest) = self.latest.filter(|i| *i < out.len()).or_else(|| {
            (0..out.len())
                .filter(|i| !held.contains(i))
                .max_by_key(|i| order(&out[*i]))
        }) else {
            // a cap of zero keeps nothing
            return Admit::LeaveOut;
        };
        self.latest = Some(latest);
        if (span.start, span.end, code) < order(&out[latest]) {
            self.latest = None;
            Admit::Replace(latest)
        } else {
            Admit::LeaveOut
        }
    }

    /// Whether a diagnostic at `span` would be the earliest left out (its
    /// path is then worth computing).
    pub(crate) fn is_first(&self, span: Span) -> bool {
        self.first
            .as_ref()
            .is_none_or(|(s, _)| span.start < s.start)
    }

    /// Count one diagnostic that is not kept; `path` when [`Self::is_first`].
    pub(crate) fn count(&mut self, severity: Severity, span: Span, path: Option<String>) {
        if self.silencer.last_silenced {
            return;
        }
        self.counts[severity as usize] += 1;
        if let Some(path) = path.filter(|_| self.is_first(span)) {
            self.first = Some((span, path));
        }
    }

    /// Count one diagnostic left out; returns the scratch for the rule's
    /// builder calls.
    pub(crate) fn leave_out(
        &mut self,
        code: &'static str,
        severity: Severity,
        span: Span,
        path: Option<String>,
    ) -> &mut Diagnostic {
        self.count(severity, span, path);
        let d = &mut self.scratch;
        d.code = code;
        d.severity = severity;
        d.span = span;
        d.help = None;
        d.fix = None;
        d.related.clear();
        d
    }

    /// How many were left out.
    pub fn dropped(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The "and N more" summary, when anything was left out: an error when an
    /// error is among them, placed where the earliest one was.
    pub fn summary(&self) -> Option<Diagnostic> {
        let (span, path) = self.first.clone()?;
        let [errors, warnings, infos] = self.counts;
        let severity = if errors > 0 {
            Severity::Error
        } else if warnings > 0 {
            Severity::Warning
        } else {
            Severity::Info
        };
        Some(Diagnostic {
            code: MORE_CODE,
            severity,
            message: format!(
                "and {} more diagnostic(s) not listed ({errors} error(s), {warnings} warning(s), {infos} info(s))",
                self.dropped()
            ),
            help: Some(format!(
                "This check lists at most {} diagnostics; fix these and check again, or run `specstudio lint` for the full list.",
                self.max
            )),
            span,
            path,
            fix: None,
            related: Vec::new(),
        })
    }
}

/// Cap a finished, sorted list of diagnostics at `max` like a capped
/// analysis does: the earliest `max` kept, the rest counted into one "and N
/// more" summary. For a caller that needed the full list anyway (the server
/// masks a stored spec's secrets from it, then keeps its capped report).
pub fn cap(mut diagnostics: Vec<Diagnostic>, max: usize) -> Vec<Diagnostic> {
    if diagnostics.len() <= max {
        return diagnostics;
    }
    let mut overflow = Overflow::new(max);
    for d in diagnostics.drain(max..) {
        overflow.count(d.severity, d.span, Some(d.path));
    }
    diagnostics.extend(overflow.summary());
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_is_counted_and_located() {
        assert_eq!(work_units("a: 1\nb: [1, 2]\n"), 6);
        assert_eq!(over_budget("a: 1\nb: [1, 2]\n", 6), None);
        // the 5th unit is the `,` on line 2
        assert_eq!(over_budget("a: 1\nb: [1, 2]\n", 4), Some(Span::new(5, 14)));
        assert_eq!(over_budget("", 0), None);
    }

    #[test]
    fn the_cap_keeps_the_earliest_whatever_rule_found_them() {
        let text: String = (0..300).map(|i| format!("k{i}: 1\n")).collect();
        let all = crate::check(&text);
        let limits = Limits {
            max_diagnostics: Some(10),
            ..Limits::NONE
        };
        let capped = crate::analyze_limited(&text, &Default::default(), &limits).diagnostics;
        assert_eq!(capped.len(), 11);
        assert_eq!(capped[..10], all[..10]);
        let more = &capped[10];
        assert_eq!((more.code, more.span), (MORE_CODE, all[10].span));
        assert_eq!(more.path, all[10].path);
        assert!(more
            .message
            .starts_with(&format!("and {} more", all.len() - 10)));
        // no cap: the editor's view
        let none = crate::analyze_limited(&text, &Default::default(), &Limits::NONE);
        assert_eq!(none.diagnostics, all);
    }

    /// An ignore comment applies before the cap: what it silences neither
    /// fills the cap nor is counted as "more", and the comment still counts
    /// as used (no I001).
    #[test]
    fn silenced_findings_take_no_place_under_the_cap() {
        let mut text =
            String::from("# specstudio-ignore-file: C002\nservices:\n  A:\n    image: x\n");
        for i in 0..300 {
            text.push_str(&format!("    bogus{i}: 1\n"));
        }
        text.push_str("# specstudio-ignore: C001\nk0: 1\n");
        for i in 1..30 {
            text.push_str(&format!("k{i}: 1\n"));
        }
        let truth = crate::check(&text);
        assert_eq!(truth.len(), 29, "k1..k29: {truth:?}");
        assert!(truth.iter().all(|d| d.code == "C001"));
        let limits = Limits {
            max_diagnostics: Some(10),
            ..Limits::NONE
        };
        let capped = crate::analyze_limited(&text, &Default::default(), &limits).diagnostics;
        assert_eq!(capped.len(), 11, "{capped:?}");
        assert_eq!(capped[..10], truth[..10]);
        let more = &capped[10];
        assert_eq!((more.code, more.span), (MORE_CODE, truth[10].span));
        assert!(more.message.starts_with("and 19 more"), "{}", more.message);
        // an ignore that silences nothing is still reported
        let unused = text.replace("ignore-file: C002", "ignore-file: C002, C005");
        let capped = crate::analyze_limited(&unused, &Default::default(), &limits).diagnostics;
        assert_eq!(capped.iter().filter(|d| d.code == "I001").count(), 1);
        assert_eq!(capped.iter().filter(|d| d.code == "C001").count(), 10);
    }

    #[test]
    fn a_stop_between_rules_ends_the_analysis_with_one_error() {
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let stop = || asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 2;
        let limits = Limits {
            stop: Some(&stop),
            ..Limits::NONE
        };
        let a = crate::analyze_limited("k: 1\n", &Default::default(), &limits);
        let budget: Vec<_> = a
            .diagnostics
            .iter()
            .filter(|d| d.code == BUDGET_CODE)
            .collect();
        assert_eq!(budget.len(), 1, "{:?}", a.diagnostics);
        let third = crate::rules::all().nth(2).unwrap().meta().code;
        assert!(
            budget[0]
                .message
                .contains(&format!("rules from {third} on")),
            "{}",
            budget[0].message
        );
    }
}
