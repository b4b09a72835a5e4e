//! `scangate check`: proves that the gate invariants of DESIGN.md still hold
//! in a repository's workflows, and that `migrate` would change nothing.
//!
//! Drift is judged on meaning, not text: a scan job rewritten by hand that
//! still gates passes. Whether a push is gated is decided by [`crate::gate`],
//! the same definition `migrate` and `verify` use; the [`rules`] only say
//! *why* a push is not, or which other invariant a gated push breaks.
//!
//! ```text
//! Source ─▶ parse (once) ─▶ Workflow + gate chains ─▶ rules ─▶ Finding*
//!                                                   └▶ migrate (only if a push is ungated)
//! ```
//!
//! Cost: a file is parsed once, and its `needs:` graph is read once, in
//! linear time. Only a file with an ungated push is also handed to
//! `migrate` (which reads it again), and the template renderer `migrate`
//! needs is built on the first such file, so a clean repository never pays
//! for it.
//!
//! [`output`] renders a [`finding::Report`] as text, JSON, GitHub annotations
//! or SARIF; [`remote`] reads workflows through the GitHub API;
//! [`drift_workflow`] writes the scheduled workflow that runs this check.

pub mod chain;
pub mod drift_workflow;
pub mod finding;
pub mod output;
pub mod remote;
pub mod rules;
pub mod workflow;

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use yaml_serde::Value;

use crate::error::Error;
use crate::migrate::{self, Migrator, Outcome};
use crate::pins::Pins;
use crate::policy::Policy;
use crate::render::Overrides;
use crate::shape::Shapes;
use crate::source::Source;
use finding::{FileCheck, FileStatus, Finding};
use rules::Context;
use workflow::Workflow;

/// The rule name of a note: a push scangate cannot read.
pub const UNSEEN_PUSH: &str = "unseen-push";

/// Switches of the check itself (the policy says what the gate must do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Require the actions of gate chains to be pinned by commit SHA
    /// (`unpinned-action`). On by default.
    pub require_pins: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { require_pins: true }
    }
}

/// What checking one source concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Findings, sorted by position, empty when the workflow is in order;
    /// and notes of pushes scangate cannot read ([`FileStatus::Checked`]).
    Findings {
        findings: Vec<Finding>,
        notes: Vec<Finding>,
    },
    /// Not a workflow (no `jobs:` mapping), with why.
    NotAWorkflow(String),
}

/// Checks workflows against one policy. Cheap to create; the migrator is
/// built on first need.
pub struct Checker {
    policy: Policy,
    pins: Pins,
    templates: Overrides,
    options: Options,
    migrator: OnceCell<Migrator>,
}

impl Checker {
    pub fn new(policy: Policy, pins: Pins, options: Options) -> Self {
        Checker {
            policy,
            pins,
            templates: Overrides::default(),
            options,
            migrator: OnceCell::new(),
        }
    }

    /// Judges "`migrate` would change nothing" with these templates.
    pub fn with_templates(mut self, templates: Overrides) -> Self {
        self.templates = templates;
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn migrator(&self) -> Result<&Migrator, Error> {
        if let Some(m) = self.migrator.get() {
            return Ok(m);
        }
        let built = Migrator::with_templates(
            self.pins.clone(),
            self.policy.clone(),
            self.templates.clone(),
        )?;
        Ok(self.migrator.get_or_init(|| built))
    }

    /// Checks one workflow. Errors are for text that is not YAML and for a
    /// migration that fails inside scangate.
    pub fn check(&self, source: &Source) -> Result<Checked, Error> {
        let doc = migrate::parse(source, &source.text)?;
        if !doc.get("jobs").is_some_and(Value::is_mapping) {
            return Ok(Checked::NotAWorkflow(
                "no `jobs:` mapping; not a GitHub Actions workflow".into(),
            ));
        }
        let wf = Workflow::new(source, &doc, self.policy.threshold());
        let chains = chain::chains(&wf);
        let outcome: OnceCell<Outcome> = OnceCell::new();
        let migrate = || -> Result<Outcome, Error> {
            if let Some(o) = outcome.get() {
                return Ok(o.clone());
            }
            let o = self.migrator()?.migrate(source)?;
            Ok(outcome.get_or_init(|| o).clone())
        };
        let cx = Context {
            wf: &wf,
            chains: &chains,
            policy: &self.policy,
            pins: &self.pins,
            options: &self.options,
            migrate: &migrate,
        };
        let notes = migrate::unseen_pushes(source, &doc, Shapes::builtin())
            .into_iter()
            .map(|r| Finding {
                rule: UNSEEN_PUSH,
                at: r.at,
                job: Some(r.job),
                message: r.reason,
                help: r.hint,
            })
            .collect();
        Ok(Checked::Findings {
            findings: rules::run(&cx)?,
            notes,
        })
    }

    /// Checks `source` and wraps the result (or the error) for the report.
    pub fn check_source(&self, repo: Option<&str>, path: String, source: &Source) -> FileCheck {
        let status = match self.check(source) {
            Ok(Checked::Findings { findings, notes }) => FileStatus::Checked { findings, notes },
            Ok(Checked::NotAWorkflow(reason)) => FileStatus::Skipped { reason },
            Err(e) => FileStatus::Error {
                message: e.to_string(),
            },
        };
        FileCheck {
            repo: repo.map(str::to_owned),
            path,
            status,
        }
    }

    /// Reads and checks one file on disk.
    pub fn check_path(&self, path: &Path) -> FileCheck {
        let shown = path.display().to_string();
        match crate::files::read(path) {
            Ok(source) => self.check_source(None, shown, &source),
            Err(e) => FileCheck {
                repo: None,
                path: shown,
                status: FileStatus::Error {
                    message: e.to_string(),
                },
            },
        }
    }
}

/// Checks `paths` (workflow files) on up to `threads` threads, each with its
/// own [`Checker`] from `new_checker`, and returns the results in the order
/// of `paths`. Files are independent, and on a large repository (or a
/// corpus) reading and parsing is most of the work, so it spreads well.
pub fn check_paths(
    paths: &[PathBuf],
    threads: usize,
    new_checker: impl Fn() -> Checker + Sync,
) -> Vec<FileCheck> {
    // A thread per few files at most: starting one costs more than a file.
    let threads = threads.clamp(1, paths.len().div_ceil(8).max(1));
    if threads == 1 {
        let checker = new_checker();
        return paths.iter().map(|p| checker.check_path(p)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, FileCheck)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let checker = new_checker();
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(i) else { break };
                        out.push((i, checker.check_path(path)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(results) => results,
                // A panic is a bug; let it surface as one, not as a lost file.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, f)| f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_checks_keep_the_order_of_the_paths() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for i in 0..40 {
            let p = dir.path().join(format!("w{i:02}.yml"));
            let text = if i % 3 == 0 {
                "jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: docker push x\n".to_owned()
            } else if i % 3 == 1 {
                "on: push\n".to_owned()
            } else {
                "jobs: [\n".to_owned()
            };
            std::fs::write(&p, text).unwrap();
            paths.push(p);
        }
        let new = || Checker::new(Policy::default(), Pins::embedded(), Options::default());
        let serial = check_paths(&paths, 1, new);
        let parallel = check_paths(&paths, 4, new);
        assert_eq!(serial.len(), 40);
        for (i, (a, b)) in serial.iter().zip(&parallel).enumerate() {
            assert_eq!(a.path, paths[i].display().to_string());
            assert_eq!(a.path, b.path);
            assert_eq!(a.findings(), b.findings());
            assert_eq!(a.is_error(), i % 3 == 2);
        }
    }
}
