//! The rows every format shows: the cells are computed once, here, and
//! each format only lays them out.

use crate::metrics::counts::{Counts, Severity};
use crate::metrics::summary::{RepoSummary, Summary, Week};

/// A table: a caption, column headings and rows of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub caption: String,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

const UNKNOWN: &str = "?";

impl Table {
    /// Per column: whether it holds numbers (and `?`/`-` for unknown or
    /// none), to be right-aligned.
    pub fn numeric_columns(&self) -> Vec<bool> {
        (0..self.headings.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .all(|c| c.parse::<f64>().is_ok() || c == UNKNOWN || c == "-" || c.is_empty())
            })
            .collect()
    }
}

/// The severity columns and `fixable`.
fn count_headings() -> impl Iterator<Item = String> {
    Severity::ALL
        .iter()
        .map(|s| s.name().to_owned())
        .chain(std::iter::once("fixable".to_owned()))
}

/// The counts as cells; `?` each when they are unknown.
fn count_cells(c: Option<&Counts>) -> impl Iterator<Item = String> {
    let values: Vec<String> = match c {
        Some(c) => Severity::ALL
            .iter()
            .map(|&s| c.get(s).to_string())
            .chain(std::iter::once(
                c.fixable
                    .map_or_else(|| UNKNOWN.to_owned(), |n| n.to_string()),
            ))
            .collect(),
        None => vec![UNKNOWN.to_owned(); Severity::ALL.len() + 1],
    };
    values.into_iter()
}

/// One line per repository: the two success metrics at a glance.
pub fn overview(summary: &Summary) -> Table {
    Table {
        caption: format!("Repositories, {} to {}", summary.since, summary.until),
        headings: [
            "repository",
            "gated images",
            "releases",
            "pushed",
            "blocked",
            "failed (other)",
            "stopped",
            "trend",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: summary
            .repositories
            .iter()
            .map(|r| {
                vec![
                    r.repo.clone(),
                    format!("{}/{}", r.coverage.images_gated, r.coverage.images_total),
                    r.releases.attempted.to_string(),
                    r.releases.pushed.to_string(),
                    r.releases.blocked.to_string(),
                    r.releases.failed_other.to_string(),
                    stopped_cell(r),
                    trend_cell(r),
                ]
            })
            .collect(),
    }
}

fn stopped_cell(r: &RepoSummary) -> String {
    r.stopped
        .severities
        .iter()
        .map(|s| format!("{} {}", s.name(), r.stopped.counts.get(*s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CRITICAL -2, HIGH -1 (2026-W38 → 2026-W47)`, or `-`.
pub fn trend_cell(r: &RepoSummary) -> String {
    let Some(t) = &r.trend else {
        return "-".into();
    };
    let c = &t.change;
    format!(
        "CRITICAL {:+}, HIGH {:+}, all {:+} ({} → {})",
        c.critical,
        c.high,
        c.critical + c.high + c.medium + c.low + c.unknown,
        t.first,
        t.last
    )
}

/// The images of a repository and what their newest pushed release holds.
pub fn images(r: &RepoSummary) -> Table {
    let mut headings: Vec<String> = ["image", "gated", "last pushed", "run"]
        .map(str::to_owned)
        .to_vec();
    headings.extend(count_headings());
    headings.extend(["OS", "EOL"].map(str::to_owned));
    Table {
        caption: "Images: vulnerabilities in the last pushed release".into(),
        headings,
        rows: r
            .images
            .iter()
            .map(|i| {
                let last = i.last_pushed.as_ref();
                let mut row = vec![
                    i.image.clone(),
                    yes_no(i.gated).into(),
                    last.map_or("-".into(), |l| l.tag.clone().unwrap_or_else(|| "-".into())),
                    last.map_or("-".into(), |l| l.run.to_string()),
                ];
                match last {
                    Some(l) => row.extend(count_cells(l.vulnerabilities.as_ref())),
                    None => {
                        row.extend(std::iter::repeat_n("-".to_owned(), Severity::ALL.len() + 1))
                    }
                }
                row.push(
                    last.and_then(|l| l.os.clone())
                        .unwrap_or_else(|| "-".into()),
                );
                row.push(match last {
                    Some(l) if l.os.is_some() => yes_no(l.eol).into(),
                    _ => "-".into(),
                });
                row
            })
            .collect(),
    }
}

/// Releases and pushed vulnerabilities per ISO week.
pub fn weeks(caption: &str, weeks: &[Week]) -> Table {
    let mut headings: Vec<String> = ["week", "pushed", "blocked", "failed (other)"]
        .map(str::to_owned)
        .to_vec();
    headings.extend(count_headings());
    Table {
        caption: caption.to_owned(),
        headings,
        rows: weeks
            .iter()
            .map(|w| {
                let mut row = vec![
                    w.week.clone(),
                    w.pushed.to_string(),
                    w.blocked.to_string(),
                    w.failed_other.to_string(),
                ];
                if w.pushed == 0 {
                    row.extend(std::iter::repeat_n("-".to_owned(), Severity::ALL.len() + 1));
                } else {
                    row.extend(count_cells(w.vulnerabilities.as_ref()));
                }
                row
            })
            .collect(),
    }
}

/// The release counts, with the run ids of each kind.
pub fn releases(r: &RepoSummary) -> Table {
    let ids = |v: &[u64]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        }
    };
    let rel = &r.releases;
    Table {
        caption: "Releases".into(),
        headings: ["outcome", "count", "runs"].map(str::to_owned).to_vec(),
        rows: vec![
            vec![
                "pushed".into(),
                rel.pushed.to_string(),
                ids(&rel.runs.pushed),
            ],
            vec![
                "blocked by the gate".into(),
                rel.blocked.to_string(),
                ids(&rel.runs.blocked),
            ],
            vec![
                "failed (other)".into(),
                rel.failed_other.to_string(),
                ids(&rel.runs.failed_other),
            ],
            vec!["attempted".into(), rel.attempted.to_string(), String::new()],
        ],
    }
}

/// One line: what the gate stopped and how long fixing took.
pub fn stopped_line(r: &RepoSummary) -> String {
    let hours: Vec<String> = r
        .stopped
        .hours_to_fix
        .iter()
        .map(|h| h.map_or("not yet".into(), |h| format!("{h} h")))
        .collect();
    let mut line = format!("Stopped by the gate: {}", stopped_cell(r));
    if !hours.is_empty() {
        line.push_str(&format!(
            "; time to the next pushed release: {}",
            hours.join(", ")
        ));
    }
    if !r.stopped.unknown_runs.is_empty() {
        let runs: Vec<String> = r.stopped.unknown_runs.iter().map(u64::to_string).collect();
        line.push_str(&format!(
            " (reports unknown for blocked run {})",
            runs.join(", ")
        ));
    }
    line
}

/// One line: the gate coverage, with the ungated images named.
pub fn coverage_line(r: &RepoSummary) -> String {
    let c = &r.coverage;
    let mut line = format!(
        "Gate coverage: {} of {} images gated",
        c.images_gated, c.images_total
    );
    if !c.ungated.is_empty() {
        line.push_str(&format!("; not gated: {}", c.ungated.join(", ")));
    }
    line
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
