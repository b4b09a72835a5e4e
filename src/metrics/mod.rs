//! `scangate report`: the success metrics of the gate over many
//! repositories and a time window — are all images scanned before they are
//! pushed (gate coverage), and do fewer vulnerabilities reach production
//! (what was pushed, what the gate stopped, the trend per week).
//!
//! The data flows one way: **collect** ([`collect`] from the GitHub API, or [`offline`] from
//! a folder) → a typed [`model::RepoInput`] per repository → **compute**
//! ([`compute::summarize`], pure) → a [`summary::Summary`] → **render**
//! ([`render`]: text, Markdown, JSON, HTML). Only collection does I/O.

pub mod artifact;
pub mod code_scanning;
pub mod collect;
pub mod compute;
pub mod counts;
pub mod inventory;
pub mod model;
pub mod offline;
pub mod render;
pub mod schedule;
pub mod summary;
pub mod trivy;
pub mod wire;

use std::path::PathBuf;

/// What stops a report as a whole (a repository that cannot be read is a
/// note in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}:{line}:{column}: not the GitHub API body expected here: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Layout { path: PathBuf, message: String },
    #[error(transparent)]
    Files(#[from] crate::Error),
}
