//! Conformance: specs in the styles that deploy on Omnistrate or that
//! `docker compose config` accepts get no error (warnings and infos may stay).
//! Each file in `tests/conformance/` is our own, written for one construct
//! family found in published specs (see README, "Sources checked against").

use std::fs;
use std::path::Path;

#[test]
fn published_spec_styles_get_no_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "conformance corpus went missing");
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let analysis = shared::analyze(&text);
        let errors: Vec<_> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            errors.is_empty(),
            "{name}:\n{}",
            shared::output::human(&name, &text, &errors)
        );
        assert!(analysis.parsed, "{name} must parse");
    }
}
