//! `--format text`: compiler-style lines for local files
//! (`path:line:col: rule: message` and a `help:` line), one table over all
//! repositories for a remote check.

use std::io::{self, Write};

use super::{plural, shown_path};
use crate::check::finding::{FileStatus, Report};

pub fn render(report: &Report, out: &mut dyn Write, notes: &mut dyn Write) -> io::Result<()> {
    if report.repositories.is_empty() {
        local(report, out, notes)
    } else {
        table(report, out, notes)
    }
}

fn local(report: &Report, out: &mut dyn Write, notes: &mut dyn Write) -> io::Result<()> {
    for file in &report.files {
        match &file.status {
            FileStatus::Checked {
                findings,
                notes: unseen,
            } => {
                for f in findings {
                    writeln!(out, "{}:{}: {}: {}", file.path, f.at, f.rule, f.message)?;
                    writeln!(out, "  help: {}", f.help)?;
                }
                // Not drift: beside the summary, as `migrate` says them.
                for n in unseen {
                    writeln!(
                        notes,
                        "{}:{}: note: {}: {}",
                        file.path, n.at, n.rule, n.message
                    )?;
                    writeln!(notes, "  help: {}", n.help)?;
                }
            }
            FileStatus::Skipped { reason } => writeln!(notes, "skipped {}: {reason}", file.path)?,
            FileStatus::Error { message } => writeln!(notes, "error: {message}")?,
        }
    }
    summary_line(report, notes)
}

fn summary_line(report: &Report, notes: &mut dyn Write) -> io::Result<()> {
    let files = report
        .files
        .iter()
        .filter(|f| matches!(f.status, FileStatus::Checked { .. }))
        .count();
    let drifted = report
        .files
        .iter()
        .filter(|f| !f.findings().is_empty())
        .count();
    let errors = report.error_count();
    let errors = if errors == 0 {
        String::new()
    } else {
        format!(", {}", plural(errors, "error"))
    };
    let unseen = match report.note_count() {
        0 => String::new(),
        n => format!(
            " ({} of what scangate cannot read, which may push)",
            plural(n, "note")
        ),
    };
    match report.finding_count() {
        0 if report.error_count() > 0 => writeln!(
            notes,
            "no drift found in {}{errors}: the check is incomplete{unseen}",
            plural(files, "workflow")
        ),
        0 => writeln!(
            notes,
            "no drift: the gate invariants hold in {}{unseen}",
            plural(files, "workflow")
        ),
        n => writeln!(
            notes,
            "{} in {} of {}{errors}{unseen}",
            plural(n, "finding"),
            drifted,
            plural(files, "workflow")
        ),
    }
}

/// One row per finding, plus one per repository without findings (its
/// status or error), so that every repository asked about appears.
fn table(report: &Report, out: &mut dyn Write, notes: &mut dyn Write) -> io::Result<()> {
    let mut rows: Vec<[String; 4]> = vec![[
        "REPOSITORY".into(),
        "FILE:LINE:COL".into(),
        "RULE".into(),
        "FINDING".into(),
    ]];
    for repo in &report.repositories {
        let files: Vec<_> = report
            .files
            .iter()
            .filter(|f| f.repo.as_deref() == Some(repo.repo.as_str()))
            .collect();
        let before = rows.len();
        if let Some(e) = &repo.error {
            rows.push([repo.repo.clone(), "-".into(), "error".into(), e.clone()]);
        }
        for file in &files {
            match &file.status {
                FileStatus::Checked { findings, notes } => {
                    for f in findings {
                        rows.push([
                            repo.repo.clone(),
                            format!("{}:{}", file.path, f.at),
                            f.rule.into(),
                            format!("{} (fix: {})", f.message, f.help),
                        ]);
                    }
                    for n in notes {
                        rows.push([
                            repo.repo.clone(),
                            format!("{}:{}", file.path, n.at),
                            format!("note: {}", n.rule),
                            format!("{} (fix: {})", n.message, n.help),
                        ]);
                    }
                }
                FileStatus::Error { message } => rows.push([
                    repo.repo.clone(),
                    file.path.clone(),
                    "error".into(),
                    message.clone(),
                ]),
                FileStatus::Skipped { .. } => {}
            }
        }
        if rows.len() == before {
            let branch = repo.default_branch.as_deref().unwrap_or("?");
            rows.push([
                repo.repo.clone(),
                "-".into(),
                "ok".into(),
                format!(
                    "no drift in {} on `{branch}`",
                    plural(repo.workflows, "workflow")
                ),
            ]);
        }
    }
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2)];
    for row in &rows {
        writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )?;
    }
    for file in &report.files {
        if let FileStatus::Skipped { reason } = &file.status {
            let path = shown_path(file.repo.as_deref(), &file.path);
            writeln!(notes, "skipped {path}: {reason}")?;
        }
    }
    summary_line(report, notes)
}
