//! How a `scangate pr` run is shown: diffs and a table for a person, one
//! JSON record per repository for a program, and a progress bar while it
//! runs on a terminal. Nothing here decides anything.

use std::fmt::Write;

use serde::Serialize;

use super::{Progress, RepoRecord, Run};
use crate::report::{self, FileStatus, SCHEMA};

/// `--format json`.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub schema: &'static str,
    pub repositories: &'a [RepoRecord],
}

pub fn json(run: &Run) -> JsonReport<'_> {
    JsonReport {
        schema: SCHEMA,
        repositories: &run.records,
    }
}

/// The diffs of a dry run, one repository after the other.
pub fn diffs(run: &Run) -> String {
    let mut out = String::new();
    for r in run.records.iter().filter(|r| !r.applied) {
        for f in &r.files {
            if let FileStatus::Migrated { diff, .. } = &f.status {
                let _ = writeln!(out, "# {}", r.repo);
                out.push_str(diff);
            }
        }
    }
    out
}

/// Refusals and errors per file, compiler-style.
pub fn problems(run: &Run) -> String {
    let mut out = String::new();
    for r in &run.records {
        for f in &r.files {
            let path = format!("{}:{}", r.repo, f.path);
            match &f.status {
                FileStatus::Refused { refusals } => {
                    for refusal in refusals {
                        out.push_str(&report::refusal_text(&path, refusal));
                    }
                }
                FileStatus::Error { message } => {
                    let _ = writeln!(out, "{path}: {message}");
                }
                _ => {}
            }
        }
        for w in &r.warnings {
            let _ = writeln!(out, "warning: {}: {w}", r.repo);
        }
    }
    out
}

/// The summary table: repository, files, images gated, refusals, action,
/// and the pull request or why nothing happened.
pub fn table(run: &Run) -> String {
    let header = [
        "repository",
        "files",
        "images",
        "refusals",
        "action",
        "pull request / note",
    ];
    let rows: Vec<[String; 6]> = run
        .records
        .iter()
        .map(|r| {
            let changed = r
                .files
                .iter()
                .filter(|f| matches!(f.status, FileStatus::Migrated { .. }))
                .count();
            // A skipped repository says why, beside its old pull request.
            let note = match (&r.error, &r.pull_request, &r.reason) {
                (Some(e), _, _) => e.clone(),
                (None, Some(p), Some(reason)) => format!("#{} {}: {reason}", p.number, p.url),
                (None, Some(p), None) => format!("#{} {}", p.number, p.url),
                (None, None, Some(reason)) => reason.clone(),
                (None, None, None) => String::new(),
            };
            [
                r.repo.clone(),
                format!("{changed}/{}", r.files.len()),
                r.images_gated.to_string(),
                r.refusals.to_string(),
                r.action.describe(r.applied).to_owned(),
                note,
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..5).map(width).collect();
    let mut out = String::new();
    let mut line = |cells: [&str; 6]| {
        for (i, c) in cells.iter().take(5).enumerate() {
            let _ = write!(out, "{c:<w$}  ", w = widths[i]);
        }
        let _ = writeln!(out, "{}", cells[5]);
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]);
    }
    out
}

/// A progress bar on standard error (use it only on a terminal).
pub struct Bar(indicatif::ProgressBar);

impl Bar {
    pub fn new() -> Self {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
        {
            bar.set_style(style);
        }
        Bar(bar)
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn total(&self, steps: u64) {
        self.0.set_length(steps);
    }

    fn advance(&self, repo: &str, phase: &str) {
        self.0.set_message(format!("{phase}: {repo}"));
        self.0.inc(1);
    }
}
