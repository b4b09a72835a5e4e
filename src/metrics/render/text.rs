//! The terminal table (the default format).

use super::tables::{self, Table};
use crate::metrics::summary::Summary;

pub(super) fn render(summary: &Summary) -> String {
    let mut out = String::new();
    table(&mut out, &tables::overview(summary), "");
    for r in &summary.repositories {
        out.push_str(&format!("\n{}\n", r.repo));
        out.push_str(&format!("  {}\n", tables::coverage_line(r)));
        out.push_str(&format!("  {}\n", tables::stopped_line(r)));
        for t in [
            tables::releases(r),
            tables::images(r),
            tables::weeks("Weeks: releases and vulnerabilities pushed", &r.weeks),
        ] {
            out.push('\n');
            table(&mut out, &t, "  ");
        }
        if !r.notes.is_empty() {
            out.push_str("\n  Notes:\n");
            for n in &r.notes {
                out.push_str(&format!("  - {n}\n"));
            }
        }
    }
    out
}

/// The table with columns padded to their widest cell; numbers right-aligned.
fn table(out: &mut String, t: &Table, indent: &str) {
    let cols = t.headings.len();
    let width = |i: usize| {
        t.rows
            .iter()
            .filter_map(|r| r.get(i))
            .chain(std::iter::once(&t.headings[i]))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..cols).map(width).collect();
    let numeric = t.numeric_columns();
    out.push_str(&format!("{indent}{}\n", t.caption));
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths.iter().zip(&numeric))
            .map(|(c, (&w, &right))| {
                if right {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        format!("{indent}{}\n", padded.join("  ").trim_end())
    };
    out.push_str(&line(&t.headings));
    for row in &t.rows {
        out.push_str(&line(row));
    }
}
