//! Renderers for a [`Report`]: each turns the same data into one format and
//! decides nothing. `check` picks `github` by itself when it runs in GitHub
//! Actions (`GITHUB_ACTIONS=true`), and also writes a Markdown table of every
//! finding to the step summary there, because GitHub shows only about ten
//! annotations per step.

pub mod github;
pub mod json;
pub mod sarif;
pub mod summary;
pub mod text;

use super::finding::Report;

/// `--format` of `scangate check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Github,
    Sarif,
}

impl Format {
    /// The format when none is given: `github` inside GitHub Actions, else
    /// `text`.
    pub fn default_for(github_actions: Option<&str>) -> Format {
        if github_actions == Some("true") {
            Format::Github
        } else {
            Format::Text
        }
    }
}

/// Renders `report` as `format` to `out`, the stream that carries the result
/// (stdout); `notes` gets what is for a person only (stderr).
pub fn render(
    format: Format,
    report: &Report,
    out: &mut dyn std::io::Write,
    notes: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Text => text::render(report, out, notes),
        Format::Json => json::render(report, out),
        Format::Github => github::render(report, out),
        Format::Sarif => sarif::render(report, out),
    }
}

/// The path of a finding as people should see it: `owner/name:path` for a
/// remote file.
pub(crate) fn shown_path(repo: Option<&str>, path: &str) -> String {
    match repo {
        Some(r) => format!("{r}:{path}"),
        None => path.to_owned(),
    }
}

/// "1 finding", "2 findings".
pub(crate) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}
