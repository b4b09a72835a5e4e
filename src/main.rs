//! The `scangate` command line: parses the arguments, runs the command
//! (each in its file under `cli/`) and turns its result into the exit code.
//! Everything else lives in the library.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Put a Trivy gate between building and pushing container images in GitHub
/// Actions workflows.
#[derive(Debug, Parser)]
#[command(name = "scangate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Split every job that builds and pushes an image into build → Trivy
    /// scan → push. Shows a diff by default; nothing is written without --write.
    Migrate(cli::migrate::MigrateArgs),
    /// Prove that every image push is still gated by a Trivy scan (the gate
    /// invariants) and that `migrate` would change nothing. Exit 0: no
    /// drift; 1: drift found; 2: an error (parse, I/O, API).
    Check(cli::check::CheckArgs),
    /// Set scangate up in a repository: write a commented scangate.toml
    /// (and, with --drift-workflow, the scheduled drift check).
    Init(cli::init::InitArgs),
    /// Show the actions scangate writes and the commits they are pinned to;
    /// --update resolves each action's latest release through the GitHub API.
    Pins(cli::pins::PinsArgs),
    /// Open the migration as one pull request per repository, through the
    /// GitHub API (no clone). A dry run (diffs and a table) unless --apply.
    /// Exit 0: done; 1: a repository failed or its branch is someone
    /// else's; 2: a global error (token); 3: a workflow needs manual migration.
    Pr(cli::pr::PrArgs),
    /// Print the cluster admission policies that admit only images these
    /// workflows pushed through the gate and signed: one per image, keyless
    /// identity of the workflow on a tag, Trivy vulnerability attestation
    /// without fixable CRITICAL findings. Exit 3 if some pushed image name
    /// is only known at run time (no policy covers it).
    Policy(cli::policy::AdmissionArgs),
    /// Run the repository's Trivy gate on a local image or an image archive
    /// with the installed `trivy`: the flags of the generated gate step, from
    /// scangate.toml. Exit 0: passes; 1: the gate fails; 2: no trivy, or an
    /// error.
    Gate(cli::gate::GateArgs),
    /// Print the completion script for a shell (bash, zsh, fish,
    /// powershell, elvish).
    Completions(cli::completions::CompletionsArgs),
    /// Print the manual page (roff; `scangate man | man -l -`).
    Man(cli::man::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Migrate(args) => cli::migrate::run(&args),
        Command::Check(args) => cli::check::run(&args),
        Command::Init(args) => cli::init::run(&args),
        Command::Pins(args) => cli::pins::run(&args),
        Command::Pr(args) => cli::pr::run(&args),
        Command::Policy(args) => cli::policy::run(&args),
        Command::Gate(args) => cli::gate::run(&args),
        Command::Completions(args) => cli::completions::run(&args, Cli::command()),
        Command::Man(args) => cli::man::run(&args, Cli::command()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(cli::exit::ERROR)
        }
    }
}
