//! The `specstudio lint` / `graph` contract: output shapes and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_specstudio"))
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("specstudio runs")
}

fn stdin_run(args: &[&str], input: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const SEED: &str = "serverless-mysql-master-replica.yaml";
const HELLO: &str = "hello-world-mysql.yaml";

#[test]
fn seed_lints_clean_with_exit_0() {
    let out = run(&["lint", example(SEED).to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 errors"), "{stdout}");
}

#[test]
fn errors_exit_1_and_render_like_rustc() {
    let out = run(&["lint", example(HELLO).to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[M003]"), "{stdout}");
    assert!(stdout.contains("hello-world-mysql.yaml:"), "{stdout}");
    assert!(stdout.contains(" | "), "{stdout}");
    assert!(stdout.contains('^'), "{stdout}");
    assert!(stdout.contains("= help:"), "{stdout}");
}

#[test]
fn unreadable_file_exits_2() {
    let out = run(&["lint", "/nonexistent/spec.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/spec.yaml"));
    let dir = run(&["lint", env!("CARGO_MANIFEST_DIR")]);
    assert_eq!(dir.status.code(), Some(2));
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(
        run(&["lint", "--format", "xml", "x.yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["lint"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn json_has_the_documented_shape() {
    let broken = std::fs::read_to_string(example(SEED)).unwrap().replacen(
        "dependentResourceKey: Master",
        "dependentResourceKey: Mastr",
        1,
    );
    let out = stdin_run(&["lint", "--format", "json", "-"], &broken);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &json["files"][0];
    assert_eq!(file["path"], "<stdin>");
    let errors: Vec<&serde_json::Value> = file["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let d = errors[0];
    assert_eq!(
        d["path"],
        "/services/Replica/x-omnistrate-api-params/1/dependentResourceKey"
    );
    let line = broken.lines().position(|l| l.contains("Mastr")).unwrap() + 1;
    let column = broken.lines().nth(line - 1).unwrap().find("Mastr").unwrap() + 1;
    assert_eq!(
        d["range"]["start"],
        serde_json::json!({"line": line, "column": column})
    );
    assert_eq!(
        d["range"]["end"],
        serde_json::json!({"line": line, "column": column + 5})
    );
    for field in ["code", "message", "help"] {
        assert!(d[field].is_string(), "{field} missing in {d}");
    }
    assert_eq!(json["summary"]["errors"], 1);
}

#[test]
fn sarif_is_valid_json_with_rules() {
    let out = run(&[
        "lint",
        "--format",
        "sarif",
        example(HELLO).to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["version"], "2.1.0");
    assert!(json["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["ruleId"] == "M003"));
    assert!(
        json["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len()
            > 40
    );
}

#[test]
fn list_rules_prints_the_registry() {
    let out = run(&["lint", "--list-rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for code in ["Y001", "C001", "O019", "T001", "M003", "S001"] {
        assert!(text.contains(code), "{code} missing from:\n{text}");
    }
}

#[test]
fn graph_formats() {
    let path = example(SEED);
    let json = run(&["graph", path.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(0));
    let graph: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["from"] == "Replica"
            && e["to"] == "Master"
            && e["kind"] == "resource-link"
            && e["via"] == "masterInstanceId"));
    let dot = run(&["graph", "--format", "dot", path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&dot.stdout).starts_with("digraph"));
    let mermaid = run(&["graph", "--format", "mermaid", path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&mermaid.stdout).starts_with("flowchart LR"));
    let broken = stdin_run(&["graph", "-"], "services: [\n");
    assert_eq!(broken.status.code(), Some(1));
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("specstudio-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn interpolation_variables_come_from_dotenv_env_file_and_env() {
    let dir = scratch("vars");
    let spec = dir.join("compose.yaml");
    std::fs::write(
        &spec,
        "services:\n  web:\n    image: nginx\n    ports:\n      - \"${PORT}:80\"\n    environment:\n      KEY: ${H9_REQUIRED:?set it}\n",
    )
    .unwrap();
    let spec_arg = spec.to_str().unwrap();
    let codes = |out: &Output| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_owned())
            .collect()
    };
    // Nothing known: a variable is not judged.
    let out = run(&["lint", "--format", "json", spec_arg]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(codes(&out).is_empty());
    // The `.env` beside the spec is read, as compose does.
    std::fs::write(dir.join(".env"), "PORT=eighty\n").unwrap();
    let out = run(&["lint", "--format", "json", spec_arg]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(codes(&out), ["C005"]);
    // `--env-file` replaces `.env`.
    let good = dir.join("good.env");
    std::fs::write(&good, "PORT=8080\n").unwrap();
    let out = run(&[
        "lint",
        "--format",
        "json",
        "--env-file",
        good.to_str().unwrap(),
        spec_arg,
    ]);
    assert_eq!(out.status.code(), Some(0));
    // `--env`: the environment is complete, so a required variable set nowhere is an error…
    let out = bin()
        .args([
            "lint",
            "--format",
            "json",
            "--env",
            "--env-file",
            good.to_str().unwrap(),
            spec_arg,
        ])
        .env_remove("H9_REQUIRED")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(codes(&out), ["C015"]);
    // …and one set in the process environment is fine.
    let out = bin()
        .args([
            "lint",
            "--format",
            "json",
            "--env",
            "--env-file",
            good.to_str().unwrap(),
            spec_arg,
        ])
        .env("H9_REQUIRED", "yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // A missing env file is a read failure.
    let out = run(&["lint", "--env-file", "/nonexistent/.env", spec_arg]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn project_config_is_found_upward_or_given_and_ignore_comments_apply() {
    let dir = scratch("config");
    let nested = dir.join("specs/prod");
    std::fs::create_dir_all(&nested).unwrap();
    let spec = nested.join("compose.yaml");
    std::fs::write(
        &spec,
        "services:\n  web:\n    image: nginx\n    ports:\n      - '70000'\n      # specstudio-ignore: C005\n      - '80:http'\n",
    )
    .unwrap();
    let spec_arg = spec.to_str().unwrap();
    let out = run(&["lint", spec_arg]);
    assert_eq!(out.status.code(), Some(1), "no config: C005 is an error");
    let human = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        human.matches("error[C005]").count(),
        1,
        "the ignored line is silent:\n{human}"
    );
    // A `specstudio.toml` two directories up turns the rule into a warning.
    std::fs::write(
        dir.join("specstudio.toml"),
        "[rules]\ninvalid-port = \"warning\"\n",
    )
    .unwrap();
    let out = run(&["lint", spec_arg]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning[C005]"));
    // `--config` wins over the one found upward; a broken config is a usage error.
    let off = dir.join("off.toml");
    std::fs::write(&off, "[rules]\nC005 = \"off\"\n").unwrap();
    let out = run(&["lint", "--config", off.to_str().unwrap(), spec_arg]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("C005"));
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[rules]\nC999 = \"off\"\n").unwrap();
    let out = run(&["lint", "--config", bad.to_str().unwrap(), spec_arg]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:2:1: unknown rule `C999`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn included_and_extended_files_are_read_beside_the_spec() {
    let dir = scratch("external");
    std::fs::create_dir_all(dir.join("db")).unwrap();
    std::fs::write(
        dir.join("db/compose.yaml"),
        "services:\n  db:\n    image: postgres:16\nvolumes:\n  pgdata:\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("common.yaml"),
        "services:\n  base:\n    image: nginx\n",
    )
    .unwrap();
    let spec = dir.join("compose.yaml");
    let write = |body: &str| std::fs::write(&spec, body).unwrap();
    let lint = || run(&["lint", spec.to_str().unwrap()]);
    // Names from the included file are known; a typo is still caught.
    write("include:\n  - db/compose.yaml\nservices:\n  web:\n    extends:\n      file: common.yaml\n      service: base\n    depends_on: [db]\n    volumes: [pgdata:/x]\n");
    let out = lint();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    write("include:\n  - db/compose.yaml\nservices:\n  web:\n    image: nginx\n    depends_on: [dbb]\n");
    let out = lint();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("error[C006]"));
    // A base the other file does not define.
    write("services:\n  web:\n    extends:\n      file: common.yaml\n      service: bsae\n");
    let out = lint();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("error[C016]"));
    // An included file that is not there: compose refuses the project (a
    // located C025); what it would define is not judged (no C006).
    write(
        "include:\n  - missing.yaml\nservices:\n  web:\n    image: nginx\n    depends_on: [db]\n",
    );
    let out = lint();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("error[C025]")
            && stdout.contains("cannot read `missing.yaml`: no such file"),
        "{stdout}"
    );
    assert!(!stdout.contains("C006"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn included_files_are_judged_with_the_project() {
    let dir = scratch("include");
    std::fs::create_dir_all(dir.join("db")).unwrap();
    std::fs::create_dir_all(dir.join("queue")).unwrap();
    // The included file includes a further one, relative to itself.
    std::fs::write(
        dir.join("db/compose.yaml"),
        "include:\n  - ../queue/compose.yaml\nservices:\n  db:\n    image: postgres:16\n    depends_on: [queue]\n",
    )
    .unwrap();
    let queue = dir.join("queue/compose.yaml");
    std::fs::write(&queue, "services:\n  queue:\n    image: rabbitmq:3\n").unwrap();
    let spec = dir.join("compose.yaml");
    let write = |body: &str| std::fs::write(&spec, body).unwrap();
    let lint = || {
        let out = run(&["lint", spec.to_str().unwrap()]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    write("include:\n  - path: db/compose.yaml\n    project_directory: db\nservices:\n  web:\n    image: nginx\n    depends_on: [db, queue]\n");
    let (code, out) = lint();
    assert_eq!(code, Some(0), "{out}");
    // A bad port two files away: one error on the include entry, naming
    // the file and line where it is written.
    std::fs::write(
        &queue,
        "services:\n  queue:\n    image: rabbitmq:3\n    ports:\n      - \"99999:5672\"\n",
    )
    .unwrap();
    let (code, out) = lint();
    assert_eq!(code, Some(1), "{out}");
    let c005: Vec<&str> = out.lines().filter(|l| l.contains("error[C005]")).collect();
    assert_eq!(c005.len(), 1, "{out}");
    assert!(c005[0].contains("`queue/compose.yaml` line 5"), "{out}");
    assert!(out.contains("compose.yaml:2:11"), "{out}");
    // A service defined here and, differently, in the included file.
    std::fs::write(&queue, "services:\n  queue:\n    image: rabbitmq:3\n").unwrap();
    write("include:\n  - db/compose.yaml\nservices:\n  db:\n    image: mysql:8\n");
    let (code, out) = lint();
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("error[C025]")
            && out.contains("`services.db` conflicts with imported resource"),
        "{out}"
    );
    assert!(out.contains("compose.yaml:4:3"), "{out}");
    // With `--env`, the included file is interpolated with the `.env` of
    // its project directory, as compose does; without it the limit is empty.
    std::fs::write(
        &queue,
        "services:\n  queue:\n    image: rabbitmq:3\n    mem_limit: \"${QUEUE_MEM}\"\n",
    )
    .unwrap();
    write("include:\n  - queue/compose.yaml\nservices:\n  web:\n    image: nginx\n");
    let env_lint = || {
        let out = bin()
            .env_remove("QUEUE_MEM")
            .args(["lint", "--env", spec.to_str().unwrap()])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = env_lint();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error[C024]"), "{out}");
    std::fs::write(dir.join("queue/.env"), "QUEUE_MEM=256m\n").unwrap();
    let (code, out) = env_lint();
    assert_eq!(code, Some(0), "{out}");
    // Includes that come back to the spec: a cycle.
    std::fs::write(&queue, "include: [../compose.yaml]\n").unwrap();
    write("include:\n  - db/compose.yaml\nservices:\n  web:\n    image: nginx\n");
    let (code, out) = lint();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the includes form a cycle"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_extends_file_base_is_merged_and_its_problems_reported_on_extends() {
    let dir = scratch("extends-file");
    std::fs::create_dir_all(dir.join("common")).unwrap();
    // The base extends a further base beside it (a path relative to its own
    // file), which holds a bad port.
    std::fs::write(
        dir.join("common/db.yaml"),
        "services:\n  db:\n    extends:\n      file: ports.yaml\n      service: ports\n    image: bitnamilegacy/mysql:8.0\n    environment:\n      MYSQL_ROOT_PASSWORD: $var.rootPassword\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("common/ports.yaml"),
        "services:\n  ports:\n    ports:\n      - \"99999:3306\"\n",
    )
    .unwrap();
    let spec = dir.join("compose.yaml");
    let write = |body: &str| std::fs::write(&spec, body).unwrap();
    let lint = || {
        let out = run(&["lint", spec.to_str().unwrap()]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // The replica inherits its MySQL image from the other file: without a
    // master host it cannot replicate (M002, on this file's token); the bad
    // port two files away is one error on `extends`, naming where it is.
    write("services:\n  replica:\n    extends:\n      file: common/db.yaml\n      service: db\n    environment:\n      MYSQL_REPLICATION_MODE: slave\n");
    let (code, out) = lint();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error[M002]"), "{out}");
    let c005: Vec<&str> = out.lines().filter(|l| l.contains("error[C005]")).collect();
    assert_eq!(c005.len(), 1, "{out}");
    assert!(c005[0].contains("common/ports.yaml` line 4"), "{out}");
    assert!(out.contains("compose.yaml:3:5"), "{out}");
    // Fixed in the base file: clean.
    std::fs::write(
        dir.join("common/ports.yaml"),
        "services:\n  ports:\n    ports:\n      - \"3306:3306\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("common/web.yaml"),
        "services:\n  web:\n    extends:\n      file: ports.yaml\n      service: ports\n    image: nginx:1.27\n",
    )
    .unwrap();
    write("services:\n  web:\n    extends:\n      file: common/web.yaml\n      service: web\n    environment:\n      MODE: prod\n");
    let (code, out) = lint();
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("error["), "{out}");
    // A file that is not there: a located error, as compose refuses it.
    write("services:\n  web:\n    extends:\n      file: nowhere.yaml\n      service: web\n");
    let (code, out) = lint();
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("error[C016]") && out.contains("cannot read `nowhere.yaml`: no such file"),
        "{out}"
    );
    // Bases that come back to the spec itself: a cycle across files.
    std::fs::write(
        dir.join("common/loop.yaml"),
        "services:\n  back:\n    extends:\n      file: ../compose.yaml\n      service: web\n",
    )
    .unwrap();
    write("services:\n  web:\n    extends:\n      file: common/loop.yaml\n      service: back\n");
    let (code, out) = lint();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the bases form a cycle"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
