//! The Markdown table for `$GITHUB_STEP_SUMMARY`: every finding, where the
//! annotations show only about ten. GitHub refuses a step summary over
//! 1 MiB, so the table stops short of that with a note.

use std::fmt::Write as _;

use super::plural;
use crate::check::finding::{FileStatus, Report};

/// Stay below GitHub's 1 MiB step summary limit, with room for the note.
const BUDGET: usize = 1_000_000;

/// Text made safe for a Markdown table cell: no row or cell breaks, no HTML.
fn cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

pub fn markdown(report: &Report) -> String {
    let remote = !report.repositories.is_empty();
    let mut md = String::from("## scangate drift check\n\n");
    let findings = report.finding_count();
    let errors = report.error_count();
    if findings == 0 && errors == 0 {
        let _ = writeln!(
            md,
            "No drift: the gate invariants hold in {}.",
            plural(report.files.len(), "file")
        );
        return md;
    }
    let _ = writeln!(
        md,
        "{} and {} in {}.\n",
        plural(findings, "finding"),
        plural(errors, "error"),
        plural(report.files.len(), "file")
    );
    let mut rows = Vec::new();
    for repo in report.repositories.iter().filter(|r| r.error.is_some()) {
        let e = repo.error.as_deref().unwrap_or_default();
        rows.push(vec![
            repo.repo.clone(),
            "-".into(),
            "-".into(),
            "error".into(),
            e.into(),
            String::new(),
        ]);
    }
    for file in &report.files {
        let repo = file.repo.clone().unwrap_or_default();
        match &file.status {
            FileStatus::Checked { findings, notes } => {
                let noted = notes.iter().map(|n| (format!("{} (note)", n.rule), n));
                for (rule, f) in findings.iter().map(|f| (f.rule.to_owned(), f)).chain(noted) {
                    rows.push(vec![
                        repo.clone(),
                        file.path.clone(),
                        f.at.to_string(),
                        rule,
                        f.message.clone(),
                        f.help.clone(),
                    ]);
                }
            }
            FileStatus::Error { message } => rows.push(vec![
                repo,
                file.path.clone(),
                "-".into(),
                "error".into(),
                message.clone(),
                String::new(),
            ]),
            FileStatus::Skipped { .. } => {}
        }
    }
    let skip = usize::from(!remote);
    let header = ["Repository", "File", "Line:col", "Rule", "Problem", "Fix"];
    let line = |cells: Vec<String>| format!("| {} |\n", cells[skip..].join(" | "));
    md.push_str(&line(header.iter().map(|h| (*h).to_owned()).collect()));
    md.push_str(&line(header.iter().map(|_| "---".to_owned()).collect()));
    let total = rows.len();
    for (n, row) in rows.into_iter().enumerate() {
        let text = line(row.iter().map(|c| cell(c)).collect());
        if md.len() + text.len() > BUDGET {
            let _ = writeln!(
                md,
                "\n{} more not shown: the step summary is limited to 1 MiB; use `--format json` or the SARIF report for all of them.",
                total - n
            );
            break;
        }
        md.push_str(&text);
    }
    md
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc<script>"), "a\\|b c&lt;script&gt;");
    }
}
