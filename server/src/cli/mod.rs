//! `specstudio lint` and `specstudio graph`.
//!
//! Exit codes: 0 no file has an error, 1 some file has an error, 2 a file could
//! not be read or the usage is wrong.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LintFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: LintFormat,
    /// Print every rule (code, severity, name, summary) and exit.
    #[arg(long)]
    pub list_rules: bool,
    #[command(flatten)]
    pub vars: VarsArgs,
    /// Spec files to check; `-` reads standard input.
    #[arg(required_unless_present = "list_rules")]
    pub files: Vec<PathBuf>,
}

/// Where interpolation variables (as with `docker compose`) and project
/// settings come from.
#[derive(Args, Debug, Default)]
pub struct VarsArgs {
    /// Read interpolation variables from this file (repeatable; the first
    /// file that sets a variable wins). Replaces the `.env` beside the spec.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Also read the process environment, and treat a variable set nowhere as
    /// unset (compose's view). Without it an unknown variable is not judged.
    #[arg(long = "env")]
    pub process_env: bool,
    /// Project settings to use instead of the `specstudio.toml` found in the
    /// spec's directory or the nearest one above it.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl VarsArgs {
    /// The options for one spec: `--env` first, then `--env-file`s, else the
    /// `.env` beside the spec (not for stdin). The language server calls it
    /// too, with no flags, so an editor sees what `specstudio lint` sees.
    pub fn options_for(&self, spec: &Path, text: &str) -> Result<shared::Options, String> {
        let mut vars = shared::interpolation::Vars::unknown();
        if self.process_env {
            vars.add_missing(std::env::vars());
            vars.set_complete(true);
        }
        if self.env_files.is_empty() {
            let beside = spec.parent().map(|dir| dir.join(".env"));
            if let Some(dotenv) = beside.filter(|p| spec.as_os_str() != "-" && p.is_file()) {
                let (_, text) = read_input(&dotenv)?;
                vars.add_missing(shared::interpolation::parse_env_file(&text));
            }
        }
        for file in &self.env_files {
            let (_, text) = read_input(file)?;
            vars.add_missing(shared::interpolation::parse_env_file(&text));
        }
        let config = match self.config_file(spec) {
            Some(path) => read_config(&path)?,
            None => shared::config::Config::default(),
        };
        let (files, unreadable) = referenced_files(spec, text);
        Ok(shared::Options {
            vars,
            config,
            files,
            unreadable,
        })
    }

    /// `--config`, else `specstudio.toml` upward from the spec (from the
    /// working directory for stdin).
    fn config_file(&self, spec: &Path) -> Option<PathBuf> {
        if let Some(path) = &self.config {
            return Some(path.clone());
        }
        let start = if spec.as_os_str() == "-" {
            std::env::current_dir().ok()?
        } else {
            std::path::absolute(spec).ok()?.parent()?.to_path_buf()
        };
        start
            .ancestors()
            .map(|dir| dir.join(CONFIG_FILE))
            .find(|p| p.is_file())
    }
}

const CONFIG_FILE: &str = "specstudio.toml";

/// The files the spec names in `include` / `extends.file`, read relative to
/// its directory, and the files those include or extend in turn (keyed
/// relative to the spec's directory, see `shared::extends_file`). One that
/// cannot be read goes in the second map with why: the core reports it where
/// `extends.file` or `include` names it (compose refuses the project).
type Files = std::collections::BTreeMap<String, String>;

fn referenced_files(spec: &Path, text: &str) -> (Files, Files) {
    let (mut files, mut unreadable) = (Files::new(), Files::new());
    if spec.as_os_str() == "-" {
        return (files, unreadable);
    }
    let dir = spec.parent().unwrap_or(Path::new("."));
    let mut wanted = shared::external::referenced_files(text);
    while !wanted.is_empty() && files.len() + unreadable.len() < shared::external::MAX_FILES {
        for path in wanted {
            match read_referenced(&dir.join(&path)) {
                Ok(content) => files.insert(path, content),
                Err(why) => unreadable.insert(path, why),
            };
        }
        wanted = shared::extends_file::nested_files(&files);
        wanted.retain(|p| !unreadable.contains_key(p));
    }
    (files, unreadable)
}

fn read_referenced(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err("not a file".to_owned());
    }
    if meta.len() > shared::syntax::MAX_INPUT_BYTES as u64 {
        return Err(format!(
            "larger than {} bytes",
            shared::syntax::MAX_INPUT_BYTES
        ));
    }
    std::fs::read_to_string(path).map_err(|e| io_reason(&e))
}

/// The reason without the OS error number (stable across systems).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::InvalidData => "not UTF-8 text".to_owned(),
        _ => e.to_string(),
    }
}

/// Read and parse a project config; errors name the file, line and column.
fn read_config(path: &Path) -> Result<shared::config::Config, String> {
    let (name, text) = read_input(path)?;
    shared::config::Config::parse(&text).map_err(|e| match e.span {
        Some(span) => {
            let at = shared::LineIndex::new(&text).position(&text, span.start);
            format!("{name}:{}:{}: {}", at.line, at.column, e.message)
        }
        None => format!("{name}: {}", e.message),
    })
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GraphFormat {
    Json,
    Dot,
    Mermaid,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: GraphFormat,
    #[command(flatten)]
    pub vars: VarsArgs,
    /// The spec file; `-` reads standard input.
    pub file: PathBuf,
}

/// Read a file, or stdin for `-`; the display name to print with it.
fn read_input(path: &Path) -> Result<(String, String), String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(("<stdin>".to_owned(), text));
    }
    let name = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    if metadata.is_dir() {
        return Err(format!("cannot read {name}: it is a directory"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "cannot read {name}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok((name, text))
}

pub fn lint(args: LintArgs) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    if args.list_rules {
        let _ = stdout.write_all(list_rules().as_bytes());
        return ExitCode::SUCCESS;
    }
    let mut read_failed = false;
    let mut any_error = false;
    let mut analysed: Vec<(String, String, Vec<shared::Diagnostic>)> = Vec::new();
    for path in &args.files {
        match read_input(path).and_then(|(name, text)| {
            let options = args.vars.options_for(path, &text)?;
            Ok((name, text, options))
        }) {
            Ok((name, text, options)) => {
                let diagnostics = shared::analyze_with(&text, &options).diagnostics;
                any_error |= diagnostics.iter().any(|d| d.is_error());
                analysed.push((name, text, diagnostics));
            }
            Err(message) => {
                eprintln!("error: {message}");
                read_failed = true;
            }
        }
    }
    let out = match args.format {
        LintFormat::Human => {
            let mut out = String::new();
            let mut total = shared::Summary::default();
            for (name, text, diagnostics) in &analysed {
                out.push_str(&shared::output::human(name, text, diagnostics));
                total.merge(shared::Summary::of(diagnostics));
            }
            out.push_str(&format!(
                "{} file{} checked: {}\n",
                analysed.len(),
                if analysed.len() == 1 { "" } else { "s" },
                shared::output::summary_line(total)
            ));
            if std::io::stdout().is_terminal() {
                colorize(&out)
            } else {
                out
            }
        }
        LintFormat::Json => {
            let files = analysed
                .iter()
                .map(|(name, text, diagnostics)| shared::output::json_file(name, text, diagnostics))
                .collect();
            let mut json =
                serde_json::to_string(&shared::output::JsonReport::new(files)).expect("serializes");
            json.push('\n');
            json
        }
        LintFormat::Sarif => {
            let files: Vec<(&str, &str, &[shared::Diagnostic])> = analysed
                .iter()
                .map(|(n, t, d)| (n.as_str(), t.as_str(), d.as_slice()))
                .collect();
            let mut json =
                serde_json::to_string_pretty(&shared::output::sarif(&files)).expect("serializes");
            json.push('\n');
            json
        }
    };
    let _ = stdout.write_all(out.as_bytes());
    if read_failed {
        ExitCode::from(2)
    } else if any_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The registry as a table.
pub fn list_rules() -> String {
    let mut out =
        String::from("CODE  SEVERITY  FIX  NAME                                   SUMMARY\n");
    for rule in shared::rules::all() {
        let meta = rule.meta();
        out.push_str(&format!(
            "{:<5} {:<9} {:<4} {:<38} {}\n",
            meta.code,
            meta.severity.as_str(),
            if meta.fixable { "yes" } else { "" },
            meta.name,
            meta.summary
        ));
    }
    out
}

/// Colour severities when printing to a terminal.
fn colorize(text: &str) -> String {
    text.lines()
        .map(|line| {
            for (prefix, color) in [("error[", "31"), ("warning[", "33"), ("info[", "36")] {
                if let Some(rest) = line.strip_prefix(prefix.trim_end_matches('[')) {
                    return format!(
                        "\x1b[1;{color}m{}\x1b[0m{rest}",
                        prefix.trim_end_matches('[')
                    );
                }
            }
            line.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

pub fn graph(args: GraphArgs) -> ExitCode {
    let read = read_input(&args.file).and_then(|(_, text)| {
        let options = args.vars.options_for(&args.file, &text)?;
        Ok((text, options))
    });
    let (text, options) = match read {
        Ok(pair) => pair,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let analysis = shared::analyze_with(&text, &options);
    if !analysis.parsed {
        let name = args.file.display().to_string();
        eprint!(
            "{}",
            shared::output::human(&name, &text, &analysis.diagnostics)
        );
        return ExitCode::from(1);
    }
    let out = match args.format {
        GraphFormat::Json => serde_json::to_string(&analysis.graph).expect("serializes") + "\n",
        GraphFormat::Dot => shared::output::dot(&analysis.graph),
        GraphFormat::Mermaid => shared::output::mermaid(&analysis.graph),
    };
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    ExitCode::SUCCESS
}
