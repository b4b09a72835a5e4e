//! What can go wrong, as data. Errors stop the work on a file (exit 2);
//! refusals are the tool saying, precisely, that it will not guess (exit 3).

use std::fmt;
use std::path::PathBuf;

/// A 1-based position in a file, as editors and GitHub annotations count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A build-and-push the tool found but will not rewrite, with where and why.
///
/// A refusal is never a guess deferred: it names the construct (`at`), what
/// about it is not understood (`reason`) and what would make the workflow
/// migratable (`hint`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    pub at: Location,
    pub job: String,
    pub reason: String,
    pub hint: String,
}

impl Refusal {
    pub fn new(
        at: Location,
        job: &str,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Refusal {
            at,
            job: job.to_owned(),
            reason: reason.into(),
            hint: hint.into(),
        }
    }
}

/// Errors that end the processing of one file or of the whole run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot write: {source}; the file was left as it was", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not UTF-8 (invalid byte at byte {offset}); GitHub reads workflows as UTF-8, convert the file first", path.display())]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{}: contains a NUL byte at byte {offset}; this is not a text file", path.display())]
    NulByte { path: PathBuf, offset: usize },
    #[error("{}: {size} bytes is over the {limit}-byte limit for a workflow file", path.display())]
    TooLarge {
        path: PathBuf,
        size: usize,
        limit: usize,
    },
    #[error("{}:{at}: invalid YAML: {message}", path.display())]
    Yaml {
        path: PathBuf,
        at: Location,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Usage { path: PathBuf, message: String },
    #[error(
        "{}: internal error: the rewritten workflow failed verification ({what}); nothing was written. Please report this with the workflow file.",
        path.display()
    )]
    Verification { path: PathBuf, what: String },
    #[error("{0}")]
    Config(Box<ConfigError>),
    #[error("template {name}:{line}: {message}")]
    Template {
        name: String,
        line: usize,
        message: String,
    },
}

/// An invalid `scangate.toml`: where, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub at: Location,
    /// The dotted key (`policy.severity[0]`), when the error is about one.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.at)?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
