//! `--format json`: the report as versioned JSON (`"schema": "scangate/v1"`,
//! `"command": "check"`), stable for programs.

use std::io::{self, Write};

use serde::Serialize;

use crate::check::finding::{FileCheck, RepoCheck, Report};
use crate::report::SCHEMA;

#[derive(Serialize)]
struct Json<'a> {
    schema: &'static str,
    command: &'static str,
    summary: Summary,
    files: &'a [FileCheck],
    #[serde(skip_serializing_if = "<[RepoCheck]>::is_empty")]
    repositories: &'a [RepoCheck],
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    findings: usize,
    /// Notes of pushes scangate cannot read (no drift; absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    notes: usize,
    errors: usize,
    /// The process exit code this report leads to.
    exit_code: u8,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let json = Json {
        schema: SCHEMA,
        command: "check",
        summary: Summary {
            files: report.files.len(),
            findings: report.finding_count(),
            notes: report.note_count(),
            errors: report.error_count(),
            exit_code: report.exit_code(),
        },
        files: &report.files,
        repositories: &report.repositories,
    };
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)
}
