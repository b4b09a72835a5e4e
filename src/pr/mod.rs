//! `scangate pr`: the migration of many repositories as one reviewed pull
//! request each, made through the GitHub API without a clone.
//!
//! Three phases, so that a dry run and `--apply` can never disagree:
//!
//! 1. **Read** (concurrently, [`Options::concurrency`] repositories at a
//!    time): the default branch's head, its workflows at that commit, the
//!    open pull request from our branch (`head=owner:branch`) and, if the
//!    branch exists, whether every commit on it is ours ([`body::TRAILER`])
//!    and already holds this migration (compared by blob SHA).
//! 2. **Decide** ([`decision::decide`], pure): created, updated, unchanged,
//!    skipped or closed, and the writes that takes.
//! 3. **Write** (`--apply` only, one repository after the other, writes
//!    spaced by [`Retry::write_pause`](crate::github::Retry)): tree →
//!    commit → ref, then the pull request, labels and reviewers.
//!
//! A branch with anyone else's commit is never written to; our own branch is
//! force-moved, never deleted (deleting it would close the pull request).
//! Creating a ref or a pull request is never sent blindly twice: when the
//! answer is "already exists", a 5xx or lost, the state is read again, so
//! an interrupted or repeated run finishes the job without duplicates.

pub mod body;
pub mod decision;
pub mod local;

pub mod output;

use futures_util::StreamExt;
use serde::Serialize;

use crate::github::repo::{Commit, Created, Pull, Repo, TokenScopes, TreeFile};
use crate::github::{Client, RemoteError, RepoName};
use crate::migrate::{Migrator, Outcome};
use crate::report::{self, FileReport, FileStatus};
use crate::source::Source;
use body::{Change, ChangedFile, Manual};
use decision::{Action, Branch, Decision, PullState, State, Step};

/// The branch scangate commits to unless told otherwise.
pub const DEFAULT_BRANCH: &str = "scangate/trivy-gate";

/// One repository to migrate, and how its pull request should look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrTarget {
    pub repo: RepoName,
    /// Only these workflow files (a path such as
    /// `.github/workflows/release.yml`, or a file name); all when `None`.
    pub workflows: Option<Vec<String>>,
    /// The branch to commit to; [`Options::branch`] when `None`.
    pub branch: Option<String>,
    pub labels: Vec<String>,
    pub reviewers: Vec<String>,
}

impl PrTarget {
    pub fn new(repo: RepoName) -> Self {
        PrTarget {
            repo,
            workflows: None,
            branch: None,
            labels: Vec::new(),
            reviewers: Vec::new(),
        }
    }
}

/// How the run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Write (commit, branch, pull request); otherwise only read and report.
    pub apply: bool,
    pub draft: bool,
    /// Close our open pull request when nothing is left to migrate.
    pub close_stale: bool,
    /// The default branch name for targets that name none.
    pub branch: String,
    /// Repositories read at the same time.
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            apply: false,
            draft: false,
            close_stale: false,
            branch: DEFAULT_BRANCH.to_owned(),
            concurrency: 4,
        }
    }
}

/// How a repository came out, for exit codes and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    /// Some workflows need manual migration (listed in the PR body).
    Refused,
    /// The branch holds someone else's commits: a person has to decide.
    Blocked,
    Failed,
}

/// A pull request, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRef {
    pub number: u64,
    pub url: String,
}

/// One repository's line in the report (`--format json`: one record each).
#[derive(Debug, Clone, Serialize)]
pub struct RepoRecord {
    pub repo: String,
    pub status: Status,
    pub action: Action,
    /// Whether the action was carried out (`--apply`) or only planned.
    pub applied: bool,
    pub branch: String,
    pub default_branch: Option<String>,
    pub pull_request: Option<PullRef>,
    pub images_gated: usize,
    pub refusals: usize,
    pub files: Vec<FileReport>,
    /// Why nothing was written, when nothing was.
    pub reason: Option<String>,
    pub error: Option<String>,
    /// Things that did not stop the work (a label or reviewer refused).
    pub warnings: Vec<String>,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Run {
    pub records: Vec<RepoRecord>,
    /// Remarks about the run as a whole (e.g. the kind of token).
    pub notes: Vec<String>,
}

impl Run {
    /// 1 when a repository failed or is blocked, else 3 when a workflow
    /// needs manual migration, else 0.
    pub fn exit_code(&self) -> u8 {
        let any = |s: Status| self.records.iter().any(|r| r.status == s);
        if any(Status::Failed) || any(Status::Blocked) {
            1
        } else if any(Status::Refused) {
            3
        } else {
            0
        }
    }
}

/// Errors that stop the whole run before anything is written (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PrError {
    #[error(
        "--apply needs a GitHub token: set GH_TOKEN or GITHUB_TOKEN, or log in with `gh auth login --scopes repo,workflow`"
    )]
    NoToken,
    #[error("{0}")]
    Token(RemoteError),
    #[error(
        "the token may not change workflow files: it is a classic token with the scopes `{0}` but not `workflow`, and GitHub refuses any commit that touches .github/workflows without it. Fix: `gh auth refresh --scopes workflow` (for a `gh` login), or give the token the `workflow` scope at https://github.com/settings/tokens, or use a fine-grained token with Contents, Pull requests and Workflows: write. Nothing was written."
    )]
    MissingWorkflowScope(String),
    #[error("`{0}` is not a valid branch name (see `git check-ref-format --branch`)")]
    BadBranch(String),
}

/// Told about progress, one repository and phase at a time.
pub trait Progress {
    /// The number of steps in all.
    fn total(&self, steps: u64);
    /// One step done.
    fn advance(&self, repo: &str, phase: &str);
}

/// No progress display.
pub struct Silent;

impl Progress for Silent {
    fn total(&self, _: u64) {}
    fn advance(&self, _: &str, _: &str) {}
}

/// Everything read and decided for one repository.
struct Inspection {
    branch: String,
    default_branch: String,
    base: Commit,
    /// The branch head when the branch exists.
    head: Option<String>,
    files: Vec<FileReport>,
    changed: Vec<(ChangedFile, TreeFile)>,
    pull: Option<Pull>,
    body: String,
    message: String,
    decision: Decision,
}

/// Migrates `targets` (see the module documentation). Per-repository
/// failures are records; only a token that cannot do the job, or a bad
/// branch name, is an error.
pub async fn run(
    client: &Client,
    migrator: &Migrator,
    targets: &[PrTarget],
    options: &Options,
    progress: &dyn Progress,
) -> Result<Run, PrError> {
    for t in targets {
        let branch = branch_of(t, options);
        if !git2::Branch::name_is_valid(branch).unwrap_or(false) {
            return Err(PrError::BadBranch(branch.to_owned()));
        }
    }
    let notes = if options.apply {
        preflight(client).await?
    } else {
        Vec::new()
    };
    let phases = if options.apply { 2 } else { 1 };
    progress.total((targets.len() * phases) as u64);
    let inspected: Vec<Result<Inspection, RemoteError>> = futures_util::stream::iter(targets)
        .map(|t| async move {
            let found = inspect(client, migrator, t, options).await;
            progress.advance(&t.repo.to_string(), "read");
            found
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await;
    let mut records = Vec::new();
    for (target, found) in targets.iter().zip(inspected) {
        let record = match found {
            Err(e) => failed(target, options, None, Vec::new(), &e),
            Ok(insp) if !options.apply => record(target, insp, None, Vec::new(), false),
            Ok(insp) => {
                let done = execute(client, target, &insp, options).await;
                progress.advance(&target.repo.to_string(), "write");
                match done {
                    Ok((pull, warnings)) => record(target, insp, pull, warnings, true),
                    Err(e) => {
                        let files = insp.files;
                        failed(target, options, Some(insp.default_branch), files, &e)
                    }
                }
            }
        };
        records.push(record);
    }
    Ok(Run { records, notes })
}

fn branch_of<'a>(target: &'a PrTarget, options: &'a Options) -> &'a str {
    target.branch.as_deref().unwrap_or(&options.branch)
}

/// Checks, before any write, that the token may change workflow files.
async fn preflight(client: &Client) -> Result<Vec<String>, PrError> {
    if !client.has_token() {
        return Err(PrError::NoToken);
    }
    match crate::github::repo::token_scopes(client).await.map_err(PrError::Token)? {
        TokenScopes::Workflow => Ok(Vec::new()),
        TokenScopes::Missing(scopes) => Err(PrError::MissingWorkflowScope(scopes)),
        TokenScopes::Unlisted => Ok(vec![
            "the token does not list its permissions (a fine-grained or GitHub App token): it needs Contents, Pull requests and Workflows: write on each repository; where it lacks them, GitHub refuses the commit and that repository is reported as failed. The GITHUB_TOKEN of a workflow run can never change workflow files."
                .to_owned(),
        ]),
    }
}

async fn inspect(
    client: &Client,
    migrator: &Migrator,
    target: &PrTarget,
    options: &Options,
) -> Result<Inspection, RemoteError> {
    let repo = Repo {
        client,
        name: &target.repo,
    };
    let branch = branch_of(target, options).to_owned();
    let default_branch = client.repository(&target.repo).await?.default_branch;
    if branch == default_branch {
        return Err(RemoteError(format!(
            "`{branch}` is the default branch of {}; scangate commits to a branch of its own (--branch)",
            target.repo
        )));
    }
    let base_sha = repo.branch_head(&default_branch).await?.ok_or_else(|| {
        RemoteError(format!(
            "{}: the default branch `{default_branch}` has no commits",
            target.repo
        ))
    })?;
    let base = repo.commit(&base_sha).await?;
    let workflows = client.workflows_at(&target.repo, &base.sha).await?;
    let labels = declared_runner_labels(client, &target.repo, &base.sha).await?;
    let pull = repo.open_pull(&branch).await?;
    let head = repo.branch_head(&branch).await?;
    let migrator = migrator.with_runner_labels(labels);
    let (files, changed, manual) = migrate_all(&migrator, target, workflows);
    let branch_state = match &head {
        None => Branch::Missing,
        Some(h) => branch_state(&repo, &base.sha, h, &changed).await?,
    };
    let name = target.repo.to_string();
    let files_changed: Vec<ChangedFile> = changed.iter().map(|(c, _)| c.clone()).collect();
    let change = Change {
        repo: &name,
        files: &files_changed,
        manual: &manual,
        policy: migrator.policy(),
    };
    let body = body::pull_body(&change);
    let state = State {
        changes: !changed.is_empty(),
        branch: branch_state,
        pull: pull.as_ref().map(|p| PullState {
            number: p.number,
            body_current: same_text(p.body.as_deref().unwrap_or(""), &body),
        }),
        close_stale: options.close_stale,
    };
    Ok(Inspection {
        decision: decision::decide(&state, &branch),
        message: body::commit_message(&change),
        body,
        branch,
        default_branch,
        base,
        head,
        files,
        changed,
        pull,
    })
}

/// The self-hosted runner labels `repo` declares for actionlint at `at`
/// (`.github/actionlint.yaml` or `.yml`), as `migrate` reads them in a
/// checkout.
async fn declared_runner_labels(
    client: &Client,
    repo: &RepoName,
    at: &str,
) -> Result<Vec<String>, RemoteError> {
    for path in crate::runner::ACTIONLINT_CONFIGS {
        if let Some(source) = client.file_at(repo, path, at).await? {
            return crate::migrate::runner_labels(&source)
                .map_err(|e| RemoteError(format!("{repo}: {e}")));
        }
    }
    Ok(Vec::new())
}

/// Equal but for line endings and surrounding blank space (GitHub may
/// return a body with `\r\n`).
fn same_text(a: &str, b: &str) -> bool {
    a.replace("\r\n", "\n").trim() == b.replace("\r\n", "\n").trim()
}

type Migrated = (Vec<FileReport>, Vec<(ChangedFile, TreeFile)>, Vec<Manual>);

/// Runs each workflow through the migration, in memory.
fn migrate_all(
    migrator: &Migrator,
    target: &PrTarget,
    workflows: Vec<(String, Result<Source, String>)>,
) -> Migrated {
    let wanted = |path: &str| {
        target.workflows.as_ref().is_none_or(|list| {
            list.iter()
                .any(|w| w == path || path.rsplit('/').next() == Some(w.as_str()))
        })
    };
    let (mut files, mut changed, mut manual) = (Vec::new(), Vec::new(), Vec::new());
    for (path, source) in workflows.into_iter().filter(|(p, _)| wanted(p)) {
        let outcome = source.and_then(|s| {
            migrator
                .migrate_with_unseen(&s)
                .map(|(o, unseen)| (s, o, unseen))
                .map_err(|e| e.to_string())
        });
        let status = match outcome {
            Err(message) => {
                manual.push(Manual {
                    path: path.clone(),
                    line: 1,
                    reason: message.clone(),
                });
                FileStatus::Error { message }
            }
            Ok((_, Outcome::Unchanged, unseen)) => FileStatus::Unchanged { unseen },
            Ok((_, Outcome::NotAWorkflow(reason), _)) => FileStatus::Skipped { reason },
            Ok((_, Outcome::Refused(refusals), _)) => {
                manual.extend(refusals.iter().map(|r| Manual {
                    path: path.clone(),
                    line: r.at.line,
                    reason: format!("job `{}`: {}", r.job, r.reason),
                }));
                FileStatus::Refused { refusals }
            }
            Ok((source, Outcome::Migrated { text, jobs }, unseen)) => {
                let diff = report::unified_diff(&path, &source.text, &text, false);
                // The text came from UTF-8 and scangate adds only UTF-8.
                let content = String::from_utf8_lossy(&source.restore(&text)).into_owned();
                changed.push((
                    ChangedFile {
                        path: path.clone(),
                        jobs: jobs.clone(),
                    },
                    TreeFile {
                        path: path.clone(),
                        content,
                    },
                ));
                FileStatus::Migrated {
                    jobs,
                    diff,
                    written: false,
                    unseen,
                }
            }
        };
        files.push(FileReport { path, status });
    }
    (files, changed, manual)
}

/// Whether the branch at `head` holds only scangate's commits, and whether
/// it already holds exactly `changed` (the same files, byte for byte). A
/// default branch that moved on elsewhere does not make it stale: moving
/// it anyway would dismiss reviews for nothing.
async fn branch_state(
    repo: &Repo<'_>,
    base: &str,
    head: &str,
    changed: &[(ChangedFile, TreeFile)],
) -> Result<Branch, RemoteError> {
    let cmp = repo.compare(base, head).await?;
    if let Some(c) = cmp
        .commits
        .iter()
        .find(|c| !body::is_ours(&c.commit.message))
    {
        return Ok(Branch::Foreign {
            commit: c.sha.clone(),
            author: c.author(),
        });
    }
    if cmp.ahead_by == 0 || cmp.ahead_by > cmp.commits.len() {
        // No commit of ours on it (someone's branch that happens to have
        // this name), or more than the 250 commits GitHub lists: nothing
        // vouches that moving it loses nobody's work.
        let author = repo.commit(head).await?.author;
        return Ok(Branch::Foreign {
            commit: head.to_owned(),
            author: author.map_or_else(|| "an unknown author".to_owned(), |a| a.name),
        });
    }
    let want: Vec<(String, String)> = changed
        .iter()
        .map(|(_, f)| (f.path.clone(), blob_sha(&f.content)))
        .collect();
    let mut have: Vec<(String, String)> = cmp
        .files
        .iter()
        .map(|f| (f.filename.clone(), f.sha.clone().unwrap_or_default()))
        .collect();
    have.sort();
    let mut want_sorted = want;
    want_sorted.sort();
    Ok(Branch::Ours {
        current: have == want_sorted,
    })
}

/// The git blob id of `content`, as GitHub reports it for a file.
fn blob_sha(content: &str) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, content.as_bytes())
        .map_or_else(|_| String::new(), |oid| oid.to_string())
}

/// Carries out the decision's writes, in order.
async fn execute(
    client: &Client,
    target: &PrTarget,
    insp: &Inspection,
    options: &Options,
) -> Result<(Option<Pull>, Vec<String>), RemoteError> {
    let repo = Repo {
        client,
        name: &target.repo,
    };
    let mut pull = insp.pull.clone();
    let mut warnings = Vec::new();
    for step in &insp.decision.steps {
        match step {
            Step::CreateBranch => create_branch(&repo, insp).await?,
            Step::MoveBranch => {
                let sha = commit(&repo, insp).await?;
                let now = repo.branch_head(&insp.branch).await?;
                if now != insp.head {
                    return Err(RemoteError(format!(
                        "branch `{}` moved while scangate was working; nothing was overwritten, run again",
                        insp.branch
                    )));
                }
                repo.move_branch(&insp.branch, &sha).await?;
            }
            Step::OpenPull => {
                let opened = open_pull(&repo, insp, options).await?;
                warnings.extend(decorate(&repo, target, opened.number).await);
                pull = Some(opened);
            }
            Step::RefreshPull => {
                if let Some(p) = &pull {
                    let fields = serde_json::json!({"title": body::TITLE, "body": insp.body});
                    repo.update_pull(p.number, &fields).await?;
                }
            }
            Step::ClosePull => {
                if let Some(p) = &pull {
                    let fields = serde_json::json!({"state": "closed"});
                    repo.update_pull(p.number, &fields).await?;
                }
            }
        }
    }
    Ok((pull, warnings))
}

/// The migration as a commit on the default branch's head.
async fn commit(repo: &Repo<'_>, insp: &Inspection) -> Result<String, RemoteError> {
    let files: Vec<TreeFile> = insp.changed.iter().map(|(_, f)| f.clone()).collect();
    let tree = repo.create_tree(&insp.base.tree.sha, &files).await?;
    repo.create_commit(&insp.message, &tree, &insp.base.sha)
        .await
}

/// Creates the branch at a new commit. After a 5xx or a lost answer the
/// branch is read: at our commit, done; missing, asked for again with
/// back-off. If it exists otherwise (made by someone meanwhile), it is read
/// again: holding only our commits, moved; anyone else's, left alone.
async fn create_branch(repo: &Repo<'_>, insp: &Inspection) -> Result<(), RemoteError> {
    let sha = commit(repo, insp).await?;
    let created = repo
        .client
        .create_checked(
            || repo.create_branch(&insp.branch, &sha),
            || async {
                Ok(match repo.branch_head(&insp.branch).await? {
                    Some(head) if head == sha => Some(Created::Done(())),
                    Some(head) => Some(Created::Exists(format!(
                        "the branch points at {}",
                        decision::short(&head)
                    ))),
                    None => None,
                })
            },
        )
        .await?;
    let why = match created {
        Created::Done(()) => return Ok(()),
        Created::Unknown(m) => {
            return Err(RemoteError(format!(
                "creating branch `{}` failed ({m}); run again",
                insp.branch
            )));
        }
        Created::Exists(m) => m,
    };
    match repo.branch_head(&insp.branch).await? {
        Some(head) if head == sha => Ok(()),
        Some(head) => match branch_state(repo, &insp.base.sha, &head, &insp.changed).await? {
            Branch::Foreign { commit, author } => Err(RemoteError(format!(
                "branch `{}` appeared during the run with commit {} by {author}, not made by scangate; left untouched",
                insp.branch,
                decision::short(&commit)
            ))),
            _ => repo.move_branch(&insp.branch, &sha).await,
        },
        None => match repo.create_branch(&insp.branch, &sha).await? {
            Created::Done(()) => Ok(()),
            Created::Exists(m) | Created::Unknown(m) => Err(RemoteError(format!(
                "creating branch `{}` failed ({why}; then {m}); run again",
                insp.branch
            ))),
        },
    }
}

/// Opens the pull request. After a 5xx or a lost answer it is looked for,
/// and asked for again with back-off only while it is not there; after
/// "already exists", it is read.
async fn open_pull(
    repo: &Repo<'_>,
    insp: &Inspection,
    options: &Options,
) -> Result<Pull, RemoteError> {
    let created = repo
        .client
        .create_checked(
            || {
                repo.create_pull(
                    body::TITLE,
                    &insp.branch,
                    &insp.default_branch,
                    &insp.body,
                    options.draft,
                )
            },
            || async { Ok(repo.open_pull(&insp.branch).await?.map(Created::Done)) },
        )
        .await?;
    match created {
        Created::Done(pull) => Ok(pull),
        Created::Exists(m) => repo
            .open_pull(&insp.branch)
            .await?
            .ok_or_else(|| RemoteError(format!("opening the pull request in {}: {m}", repo.name))),
        Created::Unknown(m) => Err(RemoteError(format!(
            "opening the pull request in {}: {m}; run again (scangate finds the pull request if it was made)",
            repo.name
        ))),
    }
}

/// Labels and reviewers for a new pull request. A refusal (an unknown
/// reviewer, say) is a warning: the pull request is there either way.
async fn decorate(repo: &Repo<'_>, target: &PrTarget, number: u64) -> Vec<String> {
    let mut warnings = Vec::new();
    if !target.labels.is_empty()
        && let Err(e) = repo.add_labels(number, &target.labels).await
    {
        warnings.push(e.to_string());
    }
    if !target.reviewers.is_empty()
        && let Err(e) = repo.request_reviewers(number, &target.reviewers).await
    {
        warnings.push(e.to_string());
    }
    warnings
}

fn counts(files: &[FileReport]) -> (usize, usize) {
    files
        .iter()
        .fold((0, 0), |(images, refusals), f| match &f.status {
            FileStatus::Migrated { jobs, .. } => (images + jobs.len(), refusals),
            FileStatus::Refused { refusals: r } => (images, refusals + r.len()),
            FileStatus::Error { .. } => (images, refusals + 1),
            _ => (images, refusals),
        })
}

fn record(
    target: &PrTarget,
    insp: Inspection,
    pull: Option<Pull>,
    warnings: Vec<String>,
    applied: bool,
) -> RepoRecord {
    let d = insp.decision;
    let mut files = insp.files;
    let written = applied
        && matches!(
            d.action,
            Action::Created | Action::Updated | Action::Unchanged
        );
    for f in &mut files {
        if let FileStatus::Migrated { written: w, .. } = &mut f.status {
            *w = written;
        }
    }
    let (images_gated, refusals) = counts(&files);
    let status = if d.blocked {
        Status::Blocked
    } else if refusals > 0 {
        Status::Refused
    } else {
        Status::Ok
    };
    RepoRecord {
        repo: target.repo.to_string(),
        status,
        action: d.action,
        applied,
        branch: insp.branch,
        default_branch: Some(insp.default_branch),
        pull_request: pull.or(insp.pull).map(|p| PullRef {
            number: p.number,
            url: p.html_url,
        }),
        images_gated,
        refusals,
        files,
        reason: d.reason,
        error: None,
        warnings,
    }
}

fn failed(
    target: &PrTarget,
    options: &Options,
    default_branch: Option<String>,
    files: Vec<FileReport>,
    error: &RemoteError,
) -> RepoRecord {
    let (images_gated, refusals) = counts(&files);
    RepoRecord {
        repo: target.repo.to_string(),
        status: Status::Failed,
        action: Action::Failed,
        applied: options.apply,
        branch: branch_of(target, options).to_owned(),
        default_branch,
        pull_request: None,
        images_gated,
        refusals,
        files,
        reason: None,
        error: Some(error.to_string()),
        warnings: Vec::new(),
    }
}
