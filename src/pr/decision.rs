//! What to do in one repository, decided from what was read: a pure
//! function, so every case (new, up to date, stale, someone else's branch,
//! nothing left to migrate) is tested without a server.

use serde::Serialize;

/// What `--apply` does (or, in a dry run, would do) to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A pull request is opened.
    Created,
    /// Our branch gets a new commit or our pull request a new body.
    Updated,
    /// Branch and pull request already say exactly this.
    Unchanged,
    /// Nothing is done: nothing to migrate, or the branch is someone's.
    Skipped,
    /// Our pull request is obsolete and is closed (`--close-stale`).
    Closed,
    /// An error stopped the work on this repository.
    Failed,
}

impl Action {
    /// How the action reads in a table.
    pub fn describe(self, applied: bool) -> &'static str {
        match (self, applied) {
            (Action::Created, true) => "created",
            (Action::Created, false) => "would create",
            (Action::Updated, true) => "updated",
            (Action::Updated, false) => "would update",
            (Action::Unchanged, _) => "unchanged",
            (Action::Skipped, _) => "skipped",
            (Action::Closed, true) => "closed",
            (Action::Closed, false) => "would close",
            (Action::Failed, _) => "failed",
        }
    }
}

/// A write, in the order they are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Commit the migration on the default branch's head and create the branch.
    CreateBranch,
    /// Commit it again and force the branch there (only our commits are on it).
    MoveBranch,
    /// Open the pull request, then add labels and reviewers.
    OpenPull,
    /// Give the open pull request the current body.
    RefreshPull,
    /// Close the obsolete pull request.
    ClosePull,
}

/// The branch as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Branch {
    Missing,
    /// Only scangate's commits; `current` when they already hold exactly
    /// this migration's files (the default branch may have moved on).
    Ours {
        current: bool,
    },
    /// Someone else committed to it: never touched.
    Foreign {
        commit: String,
        /// Who wrote that commit, for the person reading the table.
        author: String,
    },
}

/// What was read, reduced to what the decision needs.
#[derive(Debug, Clone)]
pub struct State {
    /// Some workflow changes.
    pub changes: bool,
    pub branch: Branch,
    /// The open pull request from the branch, and whether its body is
    /// the one scangate would write now.
    pub pull: Option<PullState>,
    pub close_stale: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullState {
    pub number: u64,
    pub body_current: bool,
}

/// The decision: an action, its writes, and why when nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    pub steps: Vec<Step>,
    pub reason: Option<String>,
    /// The branch is someone else's: a person has to look.
    pub blocked: bool,
}

fn skip(reason: String, blocked: bool) -> Decision {
    Decision {
        action: Action::Skipped,
        steps: Vec::new(),
        reason: Some(reason),
        blocked,
    }
}

fn act(action: Action, steps: Vec<Step>) -> Decision {
    Decision {
        action,
        steps,
        reason: None,
        blocked: false,
    }
}

pub fn decide(state: &State, branch_name: &str) -> Decision {
    if let Branch::Foreign { commit, author } = &state.branch {
        return skip(
            format!(
                "branch `{branch_name}` holds commit {} by {author}, not made by scangate; left untouched (merge or delete it, or use --branch)",
                short(commit)
            ),
            true,
        );
    }
    if !state.changes {
        return match state.pull {
            Some(_) if state.close_stale => act(Action::Closed, vec![Step::ClosePull]),
            Some(p) => skip(
                format!(
                    "nothing to migrate; pull request #{} is obsolete (--close-stale closes it)",
                    p.number
                ),
                false,
            ),
            None => skip("nothing to migrate".to_owned(), false),
        };
    }
    let pull_step = |pull: Option<PullState>| match pull {
        None => Some(Step::OpenPull),
        Some(p) if !p.body_current => Some(Step::RefreshPull),
        Some(_) => None,
    };
    let (branch_step, pull) = match state.branch {
        Branch::Missing => (Some(Step::CreateBranch), pull_step(state.pull)),
        Branch::Ours { current: false } => (Some(Step::MoveBranch), pull_step(state.pull)),
        Branch::Ours { current: true } => (None, pull_step(state.pull)),
        Branch::Foreign { .. } => (None, None),
    };
    let steps: Vec<Step> = branch_step.into_iter().chain(pull).collect();
    let action = if steps.contains(&Step::OpenPull) {
        Action::Created
    } else if steps.is_empty() {
        Action::Unchanged
    } else {
        Action::Updated
    };
    act(action, steps)
}

/// The first 12 characters of a SHA, as people quote them.
pub fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(changes: bool, branch: Branch, pull: Option<(u64, bool)>, close: bool) -> State {
        State {
            changes,
            branch,
            pull: pull.map(|(number, body_current)| PullState {
                number,
                body_current,
            }),
            close_stale: close,
        }
    }

    fn steps(s: &State) -> (Action, Vec<Step>) {
        let d = decide(s, "scangate/trivy-gate");
        (d.action, d.steps)
    }

    #[test]
    fn new_repositories_get_a_branch_and_a_pull_request() {
        let s = state(true, Branch::Missing, None, false);
        assert_eq!(
            steps(&s),
            (Action::Created, vec![Step::CreateBranch, Step::OpenPull])
        );
    }

    #[test]
    fn an_interrupted_run_finishes_without_a_new_commit() {
        let s = state(true, Branch::Ours { current: true }, None, false);
        assert_eq!(steps(&s), (Action::Created, vec![Step::OpenPull]));
    }

    #[test]
    fn our_stale_branch_is_moved_and_the_body_refreshed() {
        let s = state(
            true,
            Branch::Ours { current: false },
            Some((7, false)),
            false,
        );
        assert_eq!(
            steps(&s),
            (Action::Updated, vec![Step::MoveBranch, Step::RefreshPull])
        );
        let s = state(
            true,
            Branch::Ours { current: false },
            Some((7, true)),
            false,
        );
        assert_eq!(steps(&s), (Action::Updated, vec![Step::MoveBranch]));
        let s = state(
            true,
            Branch::Ours { current: true },
            Some((7, false)),
            false,
        );
        assert_eq!(steps(&s), (Action::Updated, vec![Step::RefreshPull]));
        let s = state(true, Branch::Ours { current: true }, Some((7, true)), false);
        assert_eq!(steps(&s), (Action::Unchanged, vec![]));
    }

    #[test]
    fn a_foreign_branch_is_never_touched() {
        for changes in [true, false] {
            let s = state(
                changes,
                Branch::Foreign {
                    commit: "0123456789abcdef".into(),
                    author: "Jane Doe (@jane)".into(),
                },
                Some((7, false)),
                true,
            );
            let d = decide(&s, "b");
            assert_eq!(
                (d.action, d.steps.len(), d.blocked),
                (Action::Skipped, 0, true)
            );
            let reason = d.reason.unwrap();
            assert!(
                reason.contains("0123456789ab by Jane Doe (@jane)"),
                "{reason}"
            );
        }
    }

    #[test]
    fn nothing_to_change_closes_only_when_asked() {
        let s = state(
            false,
            Branch::Ours { current: false },
            Some((7, true)),
            false,
        );
        let d = decide(&s, "b");
        assert_eq!(d.action, Action::Skipped);
        assert!(d.reason.unwrap().contains("--close-stale"));
        let s = state(
            false,
            Branch::Ours { current: false },
            Some((7, true)),
            true,
        );
        assert_eq!(steps(&s), (Action::Closed, vec![Step::ClosePull]));
        let s = state(false, Branch::Missing, None, true);
        assert_eq!(steps(&s), (Action::Skipped, vec![]));
    }
}
