//! `scangate migrate`: the diff, `--write`, `--check` and `--commit`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::ValueEnum;

use scangate::error::Error;
use scangate::report::{self, FileReport, FileStatus, RunReport};
use scangate::signing::Signing;
use scangate::{Migrator, Outcome, files};

use super::{Color, ConfigArgs, Format, detail, detail_config, exit, note, use_color};
use scangate::config::Settings;

#[derive(Debug, clap::Args)]
pub(crate) struct MigrateArgs {
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
    /// Override the config's layout: `jobs` (build → scan → push jobs) or
    /// `steps` (one job).
    #[arg(long, value_enum)]
    layout: Option<LayoutArg>,
    #[command(flatten)]
    config: ConfigArgs,
    /// With --write in a git checkout: commit the changed workflows on a new
    /// branch and switch to it (no push; the files must be clean first).
    #[arg(long, requires = "write")]
    commit: bool,
    /// The branch --commit creates.
    #[arg(long, requires = "commit", default_value = scangate::pr::DEFAULT_BRANCH)]
    branch: String,
    /// Sign and attest the pushed images (cosign keyless, vulnerability
    /// attestation, GitHub artifact attestations); `[signing]` defaults.
    #[arg(long)]
    sign: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LayoutArg {
    Jobs,
    Steps,
}

pub(crate) fn run(args: &MigrateArgs) -> anyhow::Result<u8> {
    let mut settings = args.config.load(&args.paths)?;
    // The repository's own runners, which the new jobs may ask for too; the
    // repositories `pr` migrates declare theirs in their own checkouts.
    if let Some(config) = files::actionlint_config(&super::root(&args.paths))? {
        settings.policy.layout.runner_labels = scangate::migrate::runner_labels(&config)?;
    }
    if let Some(layout) = args.layout {
        settings.policy.layout.single_job = layout == LayoutArg::Steps;
    }
    if args.sign && settings.policy.signing.is_none() {
        settings.policy.signing = Some(Signing::default());
    }
    let migrator = settings.migrator()?;
    explain_settings(&settings, args.layout.is_some());
    let color = use_color(
        args.color,
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let (reports, committed) = if args.commit {
        let (reports, commit) =
            scangate::pr::local::migrate_and_commit(&migrator, &args.paths, &args.branch)?;
        (reports, Some(commit))
    } else {
        (migrate_paths(&migrator, args, color), None)
    };
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
    if let Some(commit) = committed {
        print_commit(commit.as_ref());
    }
    Ok(code)
}

/// `--verbose`: which config was read and which layout was chosen, and why.
fn explain_settings(settings: &Settings, layout_flag: bool) {
    detail_config(settings);
    let (layout, what) = if settings.policy.layout.single_job {
        (
            "steps",
            "one job, scan steps between build and push (no artifact transfer)",
        )
    } else {
        (
            "jobs",
            "build → scan → push jobs (the push job alone holds the registry credentials, and runs only after the scan passed)",
        )
    };
    let why = if layout_flag {
        "--layout"
    } else if settings.path.is_some() {
        "the config's [layout] mode, or its default"
    } else {
        "the default"
    };
    detail(&format!("layout: {layout}, from {why}: {what}"));
}

pub(crate) fn migrate_paths(
    migrator: &Migrator,
    args: &MigrateArgs,
    color: bool,
) -> Vec<FileReport> {
    let mut reports = Vec::new();
    for arg in &args.paths {
        match files::workflows(arg) {
            Ok(paths) => {
                reports.extend(paths.iter().map(|p| migrate_file(migrator, p, args, color)))
            }
            Err(e) => reports.push(FileReport {
                path: arg.display().to_string(),
                status: FileStatus::Error {
                    message: e.to_string(),
                },
            }),
        }
    }
    reports
}

/// `migrate --write --commit`: the commit made, for a person.
pub(crate) fn print_commit(commit: Option<&scangate::pr::local::LocalCommit>) {
    match commit {
        Some(c) => note(&format!(
            "committed {} on the new branch `{}` ({}); push it with `git push -u origin {}`",
            c.files.join(", "),
            c.branch,
            scangate::pr::decision::short(&c.commit),
            c.branch
        )),
        None => note("nothing to commit; no branch created"),
    }
}

pub(crate) fn migrate_file(
    migrator: &Migrator,
    path: &Path,
    args: &MigrateArgs,
    color: bool,
) -> FileReport {
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

pub(crate) fn run_file(
    migrator: &Migrator,
    path: &Path,
    write: bool,
    color: bool,
) -> Result<FileStatus, Error> {
    let source = files::read(path)?;
    let (outcome, unseen) = migrator.migrate_with_unseen(&source)?;
    Ok(match outcome {
        Outcome::Unchanged => FileStatus::Unchanged { unseen },
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
                unseen,
            }
        }
    })
}

/// Errors win over refusals, refusals over a `--check` diff.
pub(crate) fn exit_code(reports: &[FileReport], check: bool) -> u8 {
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

pub(crate) fn print_text(
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
                unseen,
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
                    note(&format!("{verb} {}: {}", r.path, report::job_summary(job)));
                    write!(err, "{}", report::job_notes(&r.path, job))?;
                }
                write!(err, "{}", report::warnings_text(&r.path, unseen))?;
            }
            FileStatus::Unchanged { unseen } => {
                unchanged += 1;
                detail(&format!(
                    "unchanged {}: no job pushes an image without a gate",
                    r.path
                ));
                write!(err, "{}", report::warnings_text(&r.path, unseen))?;
            }
            FileStatus::Skipped { reason } => {
                unchanged += 1;
                note(&format!("skipped {}: {reason}", r.path));
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
    note(&format!(
        "{migrated} file(s) {action}, {unchanged} unchanged, {refused} need manual migration, {failed} error(s)"
    ));
    Ok(())
}
