//! What `check` found, as data: findings per file, files per repository, and
//! the exit code they add up to. Nothing here prints; the renderers in
//! [`super::output`] decide how a finding looks.

use serde::Serialize;

use crate::error::Location;

/// One violated invariant at one place in a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that found it (`gate-exit-code`, ...), see [`super::rules::ALL`].
    pub rule: &'static str,
    /// 1-based line and column of the key, step or text it is about.
    #[serde(flatten)]
    pub at: Location,
    /// The job it is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// What is wrong, naming the job, step and value involved.
    pub message: String,
    /// What to change to fix it.
    pub help: String,
}

/// What became of one workflow file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum FileStatus {
    /// Checked; `findings` is empty when every invariant holds. `notes`
    /// are pushes scangate cannot read (a registry login, then `make
    /// release`; rule `unseen-push`), as `migrate` warns of them: said,
    /// never counted as drift, since scangate cannot tell whether they push.
    Checked {
        findings: Vec<Finding>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notes: Vec<Finding>,
    },
    /// Not a workflow (no `jobs:` mapping): nothing to check.
    Skipped { reason: String },
    /// It could not be read or parsed (exit 2).
    Error { message: String },
}

/// One file's result.
#[derive(Debug, Clone, Serialize)]
pub struct FileCheck {
    /// `owner/name` when the file was read through the GitHub API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The path as the user should see it: as given on the command line, or
    /// relative to the repository root for remote files.
    pub path: String,
    #[serde(flatten)]
    pub status: FileStatus,
}

impl FileCheck {
    pub fn findings(&self) -> &[Finding] {
        match &self.status {
            FileStatus::Checked { findings, .. } => findings,
            _ => &[],
        }
    }

    pub fn notes(&self) -> &[Finding] {
        match &self.status {
            FileStatus::Checked { notes, .. } => notes,
            _ => &[],
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self.status, FileStatus::Error { .. })
    }
}

/// How reading one repository through the API went (remote checks only).
#[derive(Debug, Clone, Serialize)]
pub struct RepoCheck {
    pub repo: String,
    /// The branch whose workflows were read; absent when the repository
    /// could not be read at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    /// How many workflow files were read.
    pub workflows: usize,
    /// Why the repository could not be read (the token is never in it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub files: Vec<FileCheck>,
    /// Empty for a local check.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepoCheck>,
}

/// `check`'s exit codes (DESIGN.md: 0 fine, 1 drift, 2 error).
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const DRIFT: u8 = 1;
    pub const ERROR: u8 = 2;
}

impl Report {
    /// Every finding with the file it is in, in report order.
    pub fn findings(&self) -> impl Iterator<Item = (&FileCheck, &Finding)> {
        self.files
            .iter()
            .flat_map(|f| f.findings().iter().map(move |x| (f, x)))
    }

    pub fn finding_count(&self) -> usize {
        self.files.iter().map(|f| f.findings().len()).sum()
    }

    /// The [`FileStatus::Checked`] notes of every file.
    pub fn note_count(&self) -> usize {
        self.files.iter().map(|f| f.notes().len()).sum()
    }

    pub fn error_count(&self) -> usize {
        self.files.iter().filter(|f| f.is_error()).count()
            + self
                .repositories
                .iter()
                .filter(|r| r.error.is_some())
                .count()
    }

    /// Errors win over drift: a check that could not read everything has not
    /// proven anything, even if it also found drift.
    pub fn exit_code(&self) -> u8 {
        if self.error_count() > 0 {
            exit::ERROR
        } else if self.finding_count() > 0 {
            exit::DRIFT
        } else {
            exit::CLEAN
        }
    }
}
