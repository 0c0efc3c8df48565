use std::process::ExitCode;

use clap::{Parser, Subcommand};

use specstudio::cli::{self, GraphArgs, LintArgs};
use specstudio::serve::{self, ServeArgs};

/// specstudio: author, check and deploy Omnistrate-style service specs.
#[derive(Parser)]
#[command(name = "specstudio", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check spec files and print diagnostics.
    Lint(LintArgs),
    /// Print the resource dependency graph of a spec.
    Graph(GraphArgs),
    /// Run the HTTP API and web UI, and provision deployments on Docker.
    Serve(Box<ServeArgs>),
    /// Run the language server on stdin/stdout (for editors).
    Lsp,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // clap uses 0 for --help/--version and 2 for usage errors.
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Lint(args) => cli::lint(args),
        Command::Graph(args) => cli::graph(args),
        Command::Serve(args) => serve::serve(*args),
        Command::Lsp => specstudio::lsp::run(),
    }
}
