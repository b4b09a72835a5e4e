//! Markdown for `$GITHUB_STEP_SUMMARY` or an issue: GitHub-flavoured tables.

use super::tables::{self, Table};
use crate::metrics::summary::Summary;

pub(super) fn render(summary: &Summary) -> String {
    let mut out = String::from("# scangate report\n\n");
    table(&mut out, &tables::overview(summary));
    out.push('\n');
    for r in &summary.repositories {
        out.push_str(&format!("## {}\n\n", cell(&r.repo)));
        out.push_str(&format!(
            "{}\n\n{}\n\n",
            cell(&tables::coverage_line(r)),
            cell(&tables::stopped_line(r))
        ));
        for t in [
            tables::releases(r),
            tables::images(r),
            tables::weeks("Weeks: releases and vulnerabilities pushed", &r.weeks),
        ] {
            table(&mut out, &t);
            out.push('\n');
        }
        if !r.notes.is_empty() {
            out.push_str("Notes:\n\n");
            for n in &r.notes {
                out.push_str(&format!("- {}\n", cell(n)));
            }
            out.push('\n');
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn table(out: &mut String, t: &Table) {
    out.push_str(&format!("**{}**\n\n", cell(&t.caption)));
    let row = |cells: &[String]| {
        format!(
            "| {} |\n",
            cells
                .iter()
                .map(|c| cell(c))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    };
    out.push_str(&row(&t.headings));
    out.push_str(&format!("|{}\n", " --- |".repeat(t.headings.len())));
    for r in &t.rows {
        out.push_str(&row(r));
    }
}

/// A cell's text with what Markdown would read as markup escaped (names
/// come from workflows and reports: a `|` would split the table, a `<` open
/// HTML in a step summary).
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
