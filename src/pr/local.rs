//! `scangate migrate --write --commit`: the migration as a branch and one
//! commit in a local checkout, for teams who push themselves. libgit2
//! (vendored, no network): nothing leaves the machine.
//!
//! Everything that could refuse is checked before a file is touched — a
//! repository with a commit on a branch (not a detached HEAD), a new branch
//! name, and each file to change clean in both index and work tree — so a
//! refusal leaves the checkout exactly as it was. Then the files are
//! written (atomically), added to the index (git's clean filters apply), and
//! committed on top of HEAD's tree with only those files changed: other
//! staged or unstaged work is neither committed nor lost. HEAD moves to the
//! new branch, as `git switch -c` would.

use std::path::{Path, PathBuf};

use git2::{BranchType, ErrorCode, Repository, Status};

use super::body::{self, Change, ChangedFile, Manual};
use crate::error::Error;
use crate::files;
use crate::migrate::{Migrator, Outcome};
use crate::report::{self, FileReport, FileStatus};

/// What was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCommit {
    pub branch: String,
    pub commit: String,
    /// Paths relative to the repository root.
    pub files: Vec<String>,
}

/// Why nothing (or, for [`LocalError::Files`], not everything) was done.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{}: not in a git repository ({message}); --commit needs a checkout", path.display())]
    NotARepository { path: PathBuf, message: String },
    #[error("{}: outside the repository at {}; --commit changes one repository", path.display(), root.display())]
    Outside { path: PathBuf, root: PathBuf },
    #[error(
        "HEAD is detached; switch to the branch the migration should start from (`git switch main`) and run again"
    )]
    Detached,
    #[error("the repository has no commit yet; commit the workflows first")]
    Unborn,
    #[error("`{0}` is not a valid branch name (see `git check-ref-format --branch`)")]
    BadBranch(String),
    #[error(
        "branch `{0}` exists already; pass --branch NAME, or delete it (`git branch -D {0}`) if it is an old scangate branch"
    )]
    BranchExists(String),
    #[error(
        "{path}: {state}; commit or stash that first — --commit commits only scangate's change. Nothing was written."
    )]
    Dirty { path: String, state: &'static str },
    #[error(
        "git does not know who you are: set user.name and user.email (`git config user.email you@example.com`); the files were written but not committed"
    )]
    NoIdentity,
    #[error("{0}; nothing was committed")]
    Files(Error),
    #[error("git: {what}: {message}")]
    Git { what: &'static str, message: String },
}

fn git(what: &'static str) -> impl Fn(git2::Error) -> LocalError {
    move |e| LocalError::Git {
        what,
        message: e.message().to_owned(),
    }
}

/// A migrated file waiting to be written and committed.
struct Pending {
    path: PathBuf,
    relative: String,
    bytes: Vec<u8>,
}

/// Migrates the workflows `paths` stand for and commits the changed ones on
/// a new branch `branch`. The reports say what happened to each file
/// (refused and unchanged files included); the commit is `None` when
/// nothing needed migrating.
pub fn migrate_and_commit(
    migrator: &Migrator,
    paths: &[PathBuf],
    branch: &str,
) -> Result<(Vec<FileReport>, Option<LocalCommit>), LocalError> {
    let start = paths.first().map_or(Path::new("."), PathBuf::as_path);
    let repo = open(start, branch)?;
    let root = repo
        .workdir()
        .and_then(|w| w.canonicalize().ok())
        .ok_or_else(|| LocalError::NotARepository {
            path: start.to_path_buf(),
            message: "a bare repository has no work tree".into(),
        })?;
    let mut reports = Vec::new();
    let mut pending = Vec::new();
    let mut changed = Vec::new();
    let mut manual = Vec::new();
    for arg in paths {
        let found = files::workflows(arg).map_err(LocalError::Files)?;
        for path in found {
            let relative = relative(&root, &path)?;
            let shown = path.display().to_string();
            let status = match migrate_one(migrator, &path) {
                Ok((
                    FileStatus::Migrated {
                        jobs, diff, unseen, ..
                    },
                    Some(bytes),
                )) => {
                    changed.push(ChangedFile {
                        path: relative.clone(),
                        jobs: jobs.clone(),
                    });
                    pending.push(Pending {
                        path: path.clone(),
                        relative,
                        bytes,
                    });
                    FileStatus::Migrated {
                        jobs,
                        diff,
                        written: true,
                        unseen,
                    }
                }
                Ok((status, _)) => {
                    if let FileStatus::Refused { refusals } = &status {
                        manual.extend(refusals.iter().map(|r| Manual {
                            path: relative.clone(),
                            line: r.at.line,
                            reason: r.reason.clone(),
                        }));
                    }
                    status
                }
                Err(e) => FileStatus::Error {
                    message: e.to_string(),
                },
            };
            reports.push(FileReport {
                path: shown,
                status,
            });
        }
    }
    if pending.is_empty() {
        return Ok((reports, None));
    }
    for p in &pending {
        ensure_clean(&repo, &p.relative)?;
    }
    let name = root
        .file_name()
        .map_or_else(|| ".".to_owned(), |n| n.to_string_lossy().into_owned());
    let message = body::commit_message(&Change {
        repo: &name,
        files: &changed,
        manual: &manual,
        policy: migrator.policy(),
    });
    let commit = commit(&repo, &pending, branch, &message)?;
    Ok((reports, Some(commit)))
}

fn migrate_one(migrator: &Migrator, path: &Path) -> Result<(FileStatus, Option<Vec<u8>>), Error> {
    let source = files::read(path)?;
    let (outcome, unseen) = migrator.migrate_with_unseen(&source)?;
    Ok(match outcome {
        Outcome::Unchanged => (FileStatus::Unchanged { unseen }, None),
        Outcome::NotAWorkflow(reason) => (FileStatus::Skipped { reason }, None),
        Outcome::Refused(refusals) => (FileStatus::Refused { refusals }, None),
        Outcome::Migrated { text, jobs } => {
            let shown = path.display().to_string();
            let diff = report::unified_diff(&shown, &source.text, &text, false);
            let status = FileStatus::Migrated {
                jobs,
                diff,
                written: false,
                unseen,
            };
            (status, Some(source.restore(&text)))
        }
    })
}

/// The repository `start` is in, checked to have a branch checked out and
/// no branch called `branch` yet.
fn open(start: &Path, branch: &str) -> Result<Repository, LocalError> {
    if !git2::Branch::name_is_valid(branch).unwrap_or(false) {
        return Err(LocalError::BadBranch(branch.to_owned()));
    }
    let repo = Repository::discover(start).map_err(|e| LocalError::NotARepository {
        path: start.to_path_buf(),
        message: e.message().to_owned(),
    })?;
    match repo.head() {
        Err(e) if e.code() == ErrorCode::UnbornBranch => return Err(LocalError::Unborn),
        Err(e) => return Err(git("reading HEAD")(e)),
        Ok(_) => {}
    }
    if repo.head_detached().map_err(git("reading HEAD"))? {
        return Err(LocalError::Detached);
    }
    if repo.find_branch(branch, BranchType::Local).is_ok() {
        return Err(LocalError::BranchExists(branch.to_owned()));
    }
    Ok(repo)
}

/// `path` relative to the work tree, with `/` separators as git has them.
fn relative(root: &Path, path: &Path) -> Result<String, LocalError> {
    let outside = || LocalError::Outside {
        path: path.to_path_buf(),
        root: root.to_path_buf(),
    };
    let full = path.canonicalize().map_err(|_| outside())?;
    let rel = full.strip_prefix(root).map_err(|_| outside())?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(parts.join("/"))
}

/// Refuses a file with staged or unstaged changes, or one git does not track.
fn ensure_clean(repo: &Repository, relative: &str) -> Result<(), LocalError> {
    let status = repo
        .status_file(Path::new(relative))
        .map_err(git("reading the status"))?;
    let state = if status.is_empty() {
        return Ok(());
    } else if status.intersects(Status::WT_NEW | Status::IGNORED) {
        "not tracked by git"
    } else if status.intersects(
        Status::INDEX_NEW
            | Status::INDEX_MODIFIED
            | Status::INDEX_DELETED
            | Status::INDEX_RENAMED
            | Status::INDEX_TYPECHANGE,
    ) {
        "has staged changes"
    } else {
        "has changes that are not committed"
    };
    Err(LocalError::Dirty {
        path: relative.to_owned(),
        state,
    })
}

/// Writes the files, then commits HEAD's tree with exactly them changed on
/// a new branch, and checks that branch out.
fn commit(
    repo: &Repository,
    pending: &[Pending],
    branch: &str,
    message: &str,
) -> Result<LocalCommit, LocalError> {
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(git("reading HEAD"))?;
    let base = head.tree().map_err(git("reading HEAD's tree"))?;
    let signature = repo.signature().map_err(|_| LocalError::NoIdentity);
    for p in pending {
        files::write_atomic(&p.path, &p.bytes).map_err(LocalError::Files)?;
    }
    let signature = signature?;
    let mut index = repo.index().map_err(git("opening the index"))?;
    let mut update = git2::build::TreeUpdateBuilder::new();
    for p in pending {
        let rel = Path::new(&p.relative);
        index.add_path(rel).map_err(git("adding to the index"))?;
        let entry = index.get_path(rel, 0).ok_or_else(|| LocalError::Git {
            what: "adding to the index",
            message: format!("{} is not in the index", p.relative),
        })?;
        let mode = base
            .get_path(rel)
            .map_or(git2::FileMode::Blob, |e| match e.filemode() {
                0o100755 => git2::FileMode::BlobExecutable,
                _ => git2::FileMode::Blob,
            });
        update.upsert(p.relative.as_str(), entry.id, mode);
    }
    let tree_id = update
        .create_updated(repo, &base)
        .map_err(git("writing the tree"))?;
    let tree = repo.find_tree(tree_id).map_err(git("reading the tree"))?;
    let id = repo
        .commit(None, &signature, &signature, message, &tree, &[&head])
        .map_err(git("committing"))?;
    let commit = repo.find_commit(id).map_err(git("reading the commit"))?;
    repo.branch(branch, &commit, false)
        .map_err(git("creating the branch"))?;
    repo.set_head(&format!("refs/heads/{branch}"))
        .map_err(git("checking out the branch"))?;
    index.write().map_err(git("writing the index"))?;
    Ok(LocalCommit {
        branch: branch.to_owned(),
        commit: id.to_string(),
        files: pending.iter().map(|p| p.relative.clone()).collect(),
    })
}
