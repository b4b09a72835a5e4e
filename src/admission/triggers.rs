//! Under which git refs a workflow runs, read from its `on:` — and so which
//! keyless identities sign what it pushes.
//!
//! Fulcio names a GitHub Actions certificate after the workflow file *at the
//! ref of the run*: `https://github.com/OWNER/REPO/.github/workflows/FILE@REF`.
//! A tag push runs at `refs/tags/TAG`, a `release` event at the release's
//! tag, a branch push at `refs/heads/BRANCH`, `workflow_dispatch` at the
//! branch it is started from, `schedule` and the other repository events at
//! the default branch. A cluster policy that names other refs than these
//! refuses every image the workflow pushes, so the refs come from the
//! triggers, read with the typed model of `github-actions-models`.
//!
//! GitHub's filter patterns (`v*`, `release/**`, `v[0-9]+.[0-9]+`) become
//! regular expressions with the same meaning. What a pattern list cannot say
//! as one regular expression (`!` exclusions, `*-ignore` lists) is widened
//! to what the workflow could run on, and [`Runs::notes`] says so.

use std::collections::BTreeSet;

use github_actions_models::workflow::Trigger;
use github_actions_models::workflow::event::{BranchFilters, OptionalBody, Push, TagFilters};
use yaml_serde::Value;

/// Whether a run's ref is a tag or a branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefKind {
    Tag,
    Branch,
}

impl RefKind {
    fn prefix(self) -> &'static str {
        match self {
            RefKind::Tag => "refs/tags/",
            RefKind::Branch => "refs/heads/",
        }
    }
}

/// The refs a workflow runs for: a kind and a GitHub filter pattern, with
/// the regular expression that means the same (checked when made).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunRef {
    pub kind: RefKind,
    /// As in the workflow's `branches:` / `tags:` (`**`: any).
    pub pattern: String,
    regex: String,
}

impl RunRef {
    /// The refs `pattern` (a GitHub filter pattern) matches, or why GitHub
    /// would not accept it.
    pub fn new(kind: RefKind, pattern: &str) -> Result<Self, String> {
        let wrong = || format!("`{pattern}` is not a filter pattern GitHub accepts");
        let regex = format!(
            "{}{}",
            regex::escape(kind.prefix()),
            filter_regex(pattern).ok_or_else(wrong)?
        );
        match regex::Regex::new(&format!("^{regex}$")) {
            Ok(_) => Ok(RunRef {
                kind,
                pattern: pattern.to_owned(),
                regex,
            }),
            Err(_) => Err(wrong()),
        }
    }

    fn any(kind: RefKind) -> Self {
        RunRef {
            kind,
            pattern: "**".into(),
            regex: format!("{}.*", regex::escape(kind.prefix())),
        }
    }

    /// Exactly the branch `name` (a name, not a pattern: `+` is literal).
    fn branch(name: &str) -> Self {
        RunRef {
            kind: RefKind::Branch,
            pattern: name.to_owned(),
            regex: regex::escape(&format!("{}{name}", RefKind::Branch.prefix())),
        }
    }

    /// The refs as a person reads them: `refs/tags/v*`.
    pub fn shown(&self) -> String {
        format!("{}{}", self.kind.prefix(), self.pattern)
    }

    /// The refs as an unanchored regular expression (RE2 syntax, which Go's
    /// verifiers and Rust's `regex` share).
    pub fn regex(&self) -> &str {
        &self.regex
    }
}

/// The default branch and the branches `workflow_dispatch` runs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branches {
    /// The repository's default branch (`main`).
    pub default: String,
    /// Where manual runs start; empty: the default branch.
    pub dispatch: Vec<String>,
}

/// What one workflow's triggers say about its runs' refs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Runs {
    pub refs: BTreeSet<RunRef>,
    /// Runs that no policy admits, and widened patterns, for the user.
    pub notes: Vec<String>,
}

/// The refs the workflow whose `on:` is `on` runs for.
pub fn runs(on: Option<&Value>, branches: &Branches) -> Runs {
    let mut runs = Runs::default();
    let Some(on) = on else {
        runs.notes.push("has no `on:`, so it never runs".into());
        return runs;
    };
    let trigger: Trigger = match yaml_serde::from_value(on.clone()) {
        Ok(t) => t,
        Err(e) => {
            runs.notes.push(format!("`on:` is not understood ({e})"));
            return runs;
        }
    };
    let events = &trigger.events;
    match &events.push {
        OptionalBody::Missing => {}
        OptionalBody::Default => runs.any_push(),
        OptionalBody::Body(push) => runs.push(push),
    }
    if events.release.is_present() {
        // A release's run has the release's tag, whichever it is.
        runs.refs.insert(RunRef::any(RefKind::Tag));
    }
    if events.workflow_dispatch.is_present() {
        if branches.dispatch.is_empty() {
            runs.refs.insert(RunRef::branch(&branches.default));
        } else {
            runs.filter(RefKind::Branch, &branches.dispatch, false);
        }
    }
    if events.pull_request.is_present() || events.pull_request_target.is_present() {
        runs.notes.push(
            "its pull-request runs are never admitted (a cluster admits what a reviewed ref built)"
                .into(),
        );
    }
    if events.workflow_call.is_present() {
        runs.notes.push(
            "called by other workflows, it signs as itself at the caller's ref, which scangate does not follow; admit those images with a policy written by hand"
                .into(),
        );
    }
    // Every event not handled above runs at the default branch (GitHub:
    // "`GITHUB_REF`: last commit on default branch").
    let named = [
        events.push.is_present(),
        events.release.is_present(),
        events.workflow_dispatch.is_present(),
        events.pull_request.is_present(),
        events.pull_request_target.is_present(),
        events.workflow_call.is_present(),
    ];
    if events.count() as usize > named.iter().filter(|p| **p).count() {
        runs.refs.insert(RunRef::branch(&branches.default));
    }
    runs
}

impl Runs {
    /// `push` without filters: every branch and every tag.
    fn any_push(&mut self) {
        self.refs.insert(RunRef::any(RefKind::Tag));
        self.refs.insert(RunRef::any(RefKind::Branch));
    }

    /// GitHub: with only branch filters a push of a tag does not run the
    /// workflow, and the other way round; with neither, both run.
    fn push(&mut self, push: &Push) {
        let branches = push.branch_filters.as_ref().map(|f| match f {
            BranchFilters::Branches(p) => (p, false),
            BranchFilters::BranchesIgnore(p) => (p, true),
        });
        let tags = push.tag_filters.as_ref().map(|f| match f {
            TagFilters::Tags(p) => (p, false),
            TagFilters::TagsIgnore(p) => (p, true),
        });
        if branches.is_none() && tags.is_none() {
            return self.any_push();
        }
        for (kind, filter) in [(RefKind::Branch, branches), (RefKind::Tag, tags)] {
            if let Some((patterns, ignore)) = filter {
                self.filter(kind, patterns, ignore);
            }
        }
    }

    fn filter(&mut self, kind: RefKind, patterns: &[String], ignore: bool) {
        let key = match kind {
            RefKind::Tag => "tags",
            RefKind::Branch => "branches",
        };
        if ignore {
            self.refs.insert(RunRef::any(kind));
            self.notes.push(format!(
                "`{key}-ignore` is not subtracted: the policy names every {} (the workflow does not run for the ignored ones, so it signs nothing there)",
                RunRef::any(kind).shown()
            ));
            return;
        }
        for p in patterns {
            if let Some(excluded) = p.strip_prefix('!') {
                self.notes.push(format!(
                    "`!{excluded}` in `{key}:` is not subtracted (the workflow does not run there, so it signs nothing under it)"
                ));
                continue;
            }
            match RunRef::new(kind, p) {
                Ok(run) => {
                    self.refs.insert(run);
                }
                Err(why) => self.notes.push(format!("`{key}:` {why}; it is left out")),
            }
        }
    }
}

/// A GitHub filter pattern as a regular expression: `*` is anything but
/// `/`, `**` anything, `?` and `+` repeat the character before them,
/// `[...]` is a character class, `\` escapes; everything else is literal.
/// `None` for a `?` or `+` with no character before it (Go's RE2, which the
/// verifiers run, refuses `*+`, though Rust's `regex` reads it).
fn filter_regex(pattern: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    // Whether the last thing written is one character a `?`/`+` may repeat.
    let mut repeatable = false;
    while let Some(c) = chars.next() {
        let one = !matches!(c, '*' | '?' | '+');
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str(".*");
            }
            '*' => out.push_str("[^/]*"),
            '?' | '+' if !repeatable => return None,
            '?' | '+' => out.push(c),
            '[' => {
                out.push('[');
                for c in chars.by_ref() {
                    out.push(c);
                    if c == ']' {
                        break;
                    }
                }
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push_str(&regex::escape(&next.to_string()));
                }
            }
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
        repeatable = one;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(on: &str) -> (Vec<String>, Vec<String>) {
        let value: Value = yaml_serde::from_str(on).unwrap();
        let branches = Branches {
            default: "main".into(),
            dispatch: Vec::new(),
        };
        let runs = runs(Some(&value), &branches);
        (runs.refs.iter().map(RunRef::shown).collect(), runs.notes)
    }

    fn matches(pattern: &str, kind: RefKind, git_ref: &str) -> bool {
        let run = RunRef::new(kind, pattern).unwrap();
        regex::Regex::new(&format!("^{}$", run.regex()))
            .unwrap()
            .is_match(git_ref)
    }

    #[test]
    fn reads_each_trigger_shape() {
        assert_eq!(
            refs("push").0,
            ["refs/tags/**", "refs/heads/**"],
            "a bare push runs for every tag and branch"
        );
        assert_eq!(refs("[push, release]").0, ["refs/tags/**", "refs/heads/**"]);
        assert_eq!(
            refs("push:\n  branches: [main, 'release/**']\n  paths: [src/**]\n").0,
            ["refs/heads/main", "refs/heads/release/**"]
        );
        assert_eq!(refs("push:\n  tags: ['v*']\n").0, ["refs/tags/v*"]);
        assert_eq!(
            refs("push:\n  paths: [src/**]\n").0,
            ["refs/tags/**", "refs/heads/**"]
        );
        assert_eq!(
            refs("release:\n  types: [published]\nworkflow_dispatch:\n").0,
            ["refs/tags/**", "refs/heads/main"]
        );
        assert_eq!(
            refs("schedule:\n  - cron: '0 3 * * 1'\n").0,
            ["refs/heads/main"]
        );
    }

    #[test]
    fn says_what_is_never_admitted_or_widened() {
        let (r, notes) = refs("pull_request:\n  branches: [main]\n");
        assert!(r.is_empty());
        assert!(notes[0].contains("pull-request runs are never admitted"));
        let (r, notes) = refs("push:\n  tags: ['v*', '!v*-rc*']\n");
        assert_eq!(r, ["refs/tags/v*"]);
        assert!(notes[0].contains("`!v*-rc*`"), "{notes:?}");
        let (r, notes) = refs("push:\n  branches-ignore: [wip]\n");
        assert_eq!(r, ["refs/heads/**"]);
        assert!(notes[0].contains("branches-ignore"), "{notes:?}");
        let (r, notes) = refs("push:\n  tags: ['*+']\n");
        assert!(r.is_empty());
        assert!(notes[0].contains("left out"), "{notes:?}");
        for bad in ["+v", "v??", "v[0-9"] {
            assert!(RunRef::new(RefKind::Tag, bad).is_err(), "{bad}");
        }
        assert!(
            runs(
                None,
                &Branches {
                    default: "main".into(),
                    dispatch: vec![]
                }
            )
            .refs
            .is_empty()
        );
    }

    #[test]
    fn dispatch_runs_from_the_configured_branches() {
        let value: Value = yaml_serde::from_str("workflow_dispatch:").unwrap();
        let branches = Branches {
            default: "main".into(),
            dispatch: vec!["main".into(), "hotfix/**".into()],
        };
        let shown: Vec<String> = runs(Some(&value), &branches)
            .refs
            .iter()
            .map(RunRef::shown)
            .collect();
        assert_eq!(shown, ["refs/heads/hotfix/**", "refs/heads/main"]);
    }

    #[test]
    fn filter_patterns_mean_what_github_says() {
        use RefKind::{Branch, Tag};
        assert!(matches("v*", Tag, "refs/tags/v1.2.3"));
        assert!(matches("v*", Tag, "refs/tags/v"));
        assert!(!matches("v*", Tag, "refs/tags/v1/x"), "* stops at /");
        assert!(!matches("v*", Tag, "refs/heads/v1"));
        assert!(matches("v*", Branch, "refs/heads/v1"));
        assert!(matches("release/**", Branch, "refs/heads/release/1.2/x"));
        assert!(!matches("release/**", Branch, "refs/heads/releases"));
        assert!(matches("v[0-9]+.[0-9]+.[0-9]+", Tag, "refs/tags/v10.2.33"));
        assert!(!matches("v[0-9]+.[0-9]+.[0-9]+", Tag, "refs/tags/v1.2"));
        assert!(!matches("v[0-9]+.[0-9]+.[0-9]+", Tag, "refs/tags/v1x2x3"));
        assert!(matches("v1.?", Tag, "refs/tags/v1"));
        assert!(matches("main", Branch, "refs/heads/main"));
        assert!(!matches("main", Branch, "refs/heads/main2"));
        assert!(matches("a\\*", Branch, "refs/heads/a*"));
        assert!(!matches("a\\*", Branch, "refs/heads/ab"));
    }
}
