//! Per-rule fixtures: `tests/fixtures/<CODE>/valid*.yaml` must not trigger the
//! rule; `invalid*.yaml` must, and the human rendering of that rule's
//! diagnostics is snapshotted. Every fix must make its diagnostic go away.

use std::fs;
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixtures(code: &str) -> Vec<PathBuf> {
    let dir = fixture_dir().join(code);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|_| panic!("rule {code} has no fixture directory {}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_rule_has_valid_and_invalid_fixtures() {
    for rule in shared::rules::all() {
        let code = rule.meta().code;
        let files = fixtures(code);
        if code == "Y004" {
            // A 5 MiB fixture would bloat the repository: tests/syntax.rs builds one.
            continue;
        }
        let stem = |p: &PathBuf| p.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            files.iter().any(|p| stem(p).starts_with("valid")),
            "{code}: no valid fixture"
        );
        assert!(
            files.iter().any(|p| stem(p).starts_with("invalid")),
            "{code}: no invalid fixture"
        );
    }
}

/// A fixture may bring its variables: `<stem>.env` beside `<stem>.yaml` is
/// read as the complete environment (as `--env-file F --env` with nothing set);
/// and its other files, in `<stem>.files/`.
fn options_for(path: &Path) -> shared::Options {
    let mut options = shared::Options::default();
    if let Ok(env) = fs::read_to_string(path.with_extension("env")) {
        options.vars =
            shared::interpolation::Vars::known(shared::interpolation::parse_env_file(&env), true);
    }
    // `<stem>.files/` beside the fixture: the other files it names
    // (`extends.file`, `include`), keyed by their path in that directory.
    let dir = path.with_extension("files");
    let mut stack = vec![dir.clone()];
    while let Some(at) = stack.pop() {
        for entry in fs::read_dir(&at).into_iter().flatten() {
            let file = entry.unwrap().path();
            if file.is_dir() {
                stack.push(file);
                continue;
            }
            let key = file
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            options
                .files
                .insert(key, fs::read_to_string(&file).unwrap());
        }
    }
    options
}

/// A fixture may bring the bounds of its analysis: `<stem>.limits` beside
/// `<stem>.yaml` (`max_diagnostics = N`, `max_work = N`), as the server's
/// API applies them (the rules `Y998`/`Y999` only fire within bounds).
fn limits_for(path: &Path) -> shared::limits::Limits<'static> {
    let mut limits = shared::limits::Limits::NONE;
    let Ok(text) = fs::read_to_string(path.with_extension("limits")) else {
        return limits;
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = line.split_once('=').expect("`key = N`");
        let n: usize = value.trim().parse().expect("a number");
        match key.trim() {
            "max_diagnostics" => limits.max_diagnostics = Some(n),
            "max_work" => limits.max_work = Some(n),
            other => panic!("{}: unknown limit `{other}`", path.display()),
        }
    }
    limits
}

#[test]
fn fixtures_behave_and_match_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    for rule in shared::rules::all() {
        let code = rule.meta().code;
        for path in fixtures(code) {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = fs::read_to_string(&path).unwrap();
            let name = format!("{code}/{stem}.yaml");
            let options = options_for(&path);
            let limits = limits_for(&path);
            let check = |text: &str| shared::analyze_limited(text, &options, &limits).diagnostics;
            let mine: Vec<_> = check(&text)
                .into_iter()
                .filter(|d| d.code == code)
                .collect();
            if stem.starts_with("valid") {
                assert!(
                    mine.is_empty(),
                    "{name}: expected no {code}, got:\n{}",
                    shared::output::human(&name, &text, &mine)
                );
                continue;
            }
            assert!(!mine.is_empty(), "{name}: expected at least one {code}");
            for d in &mine {
                let Some(fix) = &d.fix else { continue };
                let fixed = fix.apply(&text);
                let after = check(&fixed).into_iter().filter(|a| a.code == code).count();
                assert!(
                    after < mine.len(),
                    "{name}: fix `{}` did not remove the diagnostic:\n{fixed}",
                    fix.title
                );
            }
            insta::assert_snapshot!(
                format!("{code}-{stem}"),
                shared::output::human(&name, &text, &mine)
            );
        }
    }
}
