//! The wasm build of the spec core answers exactly what the native CLI prints.
//!
//! Runs the module the page ships (`dist/pkg/specstudio_frontend_bg.wasm`, built
//! by `cargo run -p xtask -- build-ui`) under node, through its C-ABI exports.
//! Under `CI=true` a missing prerequisite fails the test; locally it skips loudly.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wasm_module() -> PathBuf {
    if let Ok(path) = std::env::var("SPECSTUDIO_WASM") {
        return PathBuf::from(path);
    }
    workspace().join("dist/pkg/specstudio_frontend_bg.wasm")
}

fn prerequisites() -> Option<PathBuf> {
    let wasm = wasm_module();
    let node = Command::new("node").arg("--version").output().is_ok();
    let missing = match (wasm.exists(), node) {
        (true, true) => return Some(wasm),
        (false, _) => format!(
            "the wasm module {} (build it with `cargo run -p xtask -- build-ui`)",
            wasm.display()
        ),
        (true, false) => "node (apt-get install nodejs)".to_owned(),
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("wasm parity test needs {missing}");
    }
    eprintln!("\n*** SKIPPING wasm parity test: missing {missing} ***\n");
    None
}

fn node(wasm: &Path, command: &str, spec: &Path, display: &str) -> String {
    let out = Command::new("node")
        .arg(workspace().join("tests/wasm/run.mjs"))
        .arg(wasm)
        .arg(command)
        .arg(spec)
        .arg(display)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn native(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_specstudio"))
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn wasm_lint_and_graph_match_the_native_cli() {
    let Some(wasm) = prerequisites() else { return };
    let dir = std::env::temp_dir().join(format!("specstudio-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed =
        std::fs::read_to_string(workspace().join("examples/serverless-mysql-master-replica.yaml"))
            .unwrap();
    let cases = [
        ("serverless.yaml", seed.clone()),
        (
            "hello.yaml",
            std::fs::read_to_string(workspace().join("examples/hello-world-mysql.yaml")).unwrap(),
        ),
        (
            "broken.yaml",
            seed.replacen(
                "dependentResourceKey: Master",
                "dependentResourceKey: Mastr",
                1,
            ),
        ),
        (
            "unicode.yaml",
            format!(
                "# é😀\n{}",
                seed.replacen("Master Instance Type", "Tipo de instância 😀", 1)
            ),
        ),
        ("syntax.yaml", "services:\n  Master: [\n".to_owned()),
    ];
    for (name, text) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &text).unwrap();
        let path_str = path.to_str().unwrap();
        let from_wasm = node(&wasm, "lint", &path, path_str);
        let from_cli = native(&["lint", "--format", "json", path_str]);
        assert_eq!(from_wasm, from_cli, "lint differs for {name}");
        if name != "syntax.yaml" {
            assert_eq!(
                node(&wasm, "graph", &path, path_str),
                native(&["graph", path_str]),
                "graph differs for {name}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
