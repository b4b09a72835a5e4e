//! The `scangate` command line: argument parsing, the terminal, exit codes.
//! Everything else lives in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use scangate::error::Error;
use scangate::report::{self, FileReport, FileStatus, RunReport};
use scangate::{Migrator, Outcome, files, pins::Pins, policy::Policy};

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
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    /// Workflow files or repository roots (their .github/workflows/*.yml).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Write the migrated workflows (each file replaced atomically).
    #[arg(long, conflicts_with = "check")]
    write: bool,
    /// Exit 1 if anything would change (for CI).
    #[arg(long)]
    check: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Colour the diff.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Exit codes shared by every command.
mod exit {
    pub(crate) const DIFF: u8 = 1;
    pub(crate) const ERROR: u8 = 2;
    pub(crate) const REFUSED: u8 = 3;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Migrate(args) => migrate(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn migrate(args: &MigrateArgs) -> anyhow::Result<u8> {
    let migrator = Migrator::new(Pins::embedded(), Policy::default())?;
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut reports = Vec::new();
    for arg in &args.paths {
        match files::workflows(arg) {
            Ok(paths) => reports.extend(
                paths
                    .iter()
                    .map(|p| migrate_file(&migrator, p, args, color)),
            ),
            Err(e) => reports.push(FileReport {
                path: arg.display().to_string(),
                status: FileStatus::Error {
                    message: e.to_string(),
                },
            }),
        }
    }
    let code = exit_code(&reports, args.check);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let run = RunReport {
                schema: report::SCHEMA,
                files: reports,
            };
            serde_json::to_writer_pretty(&mut out, &run).context("writing the JSON report")?;
            writeln!(out)?;
        }
        Format::Text => print_text(&mut out, &reports, args)?,
    }
    Ok(code)
}

fn migrate_file(migrator: &Migrator, path: &Path, args: &MigrateArgs, color: bool) -> FileReport {
    let shown = path.display().to_string();
    let status = match run_file(migrator, path, args.write, color) {
        Ok(status) => status,
        Err(e) => FileStatus::Error {
            message: e.to_string(),
        },
    };
    FileReport {
        path: shown,
        status,
    }
}

fn run_file(
    migrator: &Migrator,
    path: &Path,
    write: bool,
    color: bool,
) -> Result<FileStatus, Error> {
    let source = files::read(path)?;
    Ok(match migrator.migrate(&source)? {
        Outcome::Unchanged => FileStatus::Unchanged,
        Outcome::NotAWorkflow(reason) => FileStatus::Skipped { reason },
        Outcome::Refused(refusals) => FileStatus::Refused { refusals },
        Outcome::Migrated { text, jobs } => {
            let diff =
                report::unified_diff(&path.display().to_string(), &source.text, &text, color);
            if write {
                files::write_atomic(path, &source.restore(&text))?;
            }
            FileStatus::Migrated {
                jobs,
                diff,
                written: write,
            }
        }
    })
}

/// Errors win over refusals, refusals over a `--check` diff.
fn exit_code(reports: &[FileReport], check: bool) -> u8 {
    let any = |f: fn(&FileStatus) -> bool| reports.iter().any(|r| f(&r.status));
    if any(|s| matches!(s, FileStatus::Error { .. })) {
        exit::ERROR
    } else if any(|s| matches!(s, FileStatus::Refused { .. })) {
        exit::REFUSED
    } else if check && any(|s| matches!(s, FileStatus::Migrated { .. })) {
        exit::DIFF
    } else {
        0
    }
}

fn print_text(
    out: &mut impl Write,
    reports: &[FileReport],
    args: &MigrateArgs,
) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    let (mut migrated, mut unchanged, mut refused, mut failed) = (0, 0, 0, 0);
    for r in reports {
        match &r.status {
            FileStatus::Migrated {
                jobs,
                diff,
                written,
            } => {
                migrated += 1;
                if !written {
                    write!(out, "{diff}")?;
                }
                let verb = if *written {
                    "migrated"
                } else {
                    "would migrate"
                };
                for job in jobs {
                    writeln!(err, "{verb} {}: {}", r.path, report::job_summary(job))?;
                }
            }
            FileStatus::Unchanged => unchanged += 1,
            FileStatus::Skipped { reason } => {
                unchanged += 1;
                writeln!(err, "skipped {}: {reason}", r.path)?;
            }
            FileStatus::Refused { refusals } => {
                refused += 1;
                for refusal in refusals {
                    write!(err, "{}", report::refusal_text(&r.path, refusal))?;
                }
            }
            FileStatus::Error { message } => {
                failed += 1;
                writeln!(err, "error: {message}")?;
            }
        }
    }
    if reports.len() < 2 {
        return Ok(());
    }
    let action = if args.write { "migrated" } else { "to migrate" };
    writeln!(
        err,
        "{migrated} file(s) {action}, {unchanged} unchanged, {refused} need manual migration, {failed} error(s)"
    )?;
    Ok(())
}
