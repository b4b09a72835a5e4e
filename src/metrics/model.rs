//! What the metrics are computed from, however it was collected (the GitHub
//! API, or a folder on disk): per repository, the workflows of the default
//! branch and the runs of the gated ones, each with its jobs' steps and its
//! Trivy reports. Plain data, so that the computation is a pure function of
//! it and can be tested without a server.

use chrono::{DateTime, Utc};

use super::counts::Vuln;
use super::inventory::Inventory;
use super::trivy::TrivyReport;

/// The name of the gate step in the scan job (`templates/scan-job.yml`:
/// "Gate on CRITICAL,HIGH …"): its failure is a blocked release.
pub const GATE_STEP: &str = "Gate on ";
/// The name of each push step in the push job (`templates/push-job.yml`).
pub const PUSH_STEP: &str = "Push the scanned image and verify its digest";

/// One repository's input.
#[derive(Debug, Clone, Default)]
pub struct RepoInput {
    /// `OWNER/NAME`.
    pub repo: String,
    /// What the workflows at the default branch push, and which pushes are gated.
    pub inventory: Inventory,
    /// Runs of the gated workflows, any order.
    pub runs: Vec<Run>,
    /// What could not be read, said in the report (no code scanning, an
    /// artifact skipped because it was too large, …); never fatal.
    pub notes: Vec<String>,
}

/// One workflow run, with what its jobs and reports say.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: u64,
    /// The workflow file, `.github/workflows/NAME.yml`.
    pub workflow: String,
    /// The ref the run ran on (a tag for a release, or a branch).
    pub head_branch: Option<String>,
    /// The commit the run ran on: what its code scanning analyses name.
    pub head_sha: Option<String>,
    pub created_at: DateTime<Utc>,
    /// GitHub's `conclusion` (`success`, `failure`, `timed_out`,
    /// `cancelled`, `skipped`, …); `None` while the run is in progress.
    pub conclusion: Option<String>,
    /// Every step of every job; `None` when the jobs could not be read.
    pub steps: Option<Vec<Step>>,
    pub reports: Reports,
}

/// One step of one job of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub job: String,
    pub name: String,
    pub conclusion: Option<String>,
}

/// The run's Trivy reports.
#[derive(Debug, Clone)]
pub enum Reports {
    /// The reports artifacts were read: every image report in them.
    Found(Vec<ImageReport>),
    /// GitHub deleted the artifact at the end of its retention, and the
    /// SARIF the scan job uploaded to code scanning was read instead: every
    /// vulnerability result of it, attributed to its image.
    CodeScanning(Vec<ScannedVuln>),
    /// GitHub deleted the artifact at the end of its retention (and code
    /// scanning had nothing for the run).
    Expired,
    /// The run published no reports artifact, or it could not be read (why).
    Missing(String),
}

/// One image report, attributed to the image it scanned.
#[derive(Debug, Clone)]
pub struct ImageReport {
    /// The image name, without tag.
    pub image: String,
    /// `linux-amd64` …; empty for a single-platform image.
    pub platform: String,
    pub report: TrivyReport,
}

/// One vulnerability result of a code scanning analysis of a run,
/// attributed to the image (and platform) its SARIF category names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedVuln {
    pub image: String,
    /// `linux-amd64` …; empty for a single-platform image.
    pub platform: String,
    pub vuln: Vuln,
}

/// How a run ended, as a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Every push step ran and succeeded.
    Pushed,
    /// The gate step failed.
    Blocked,
    /// Anything else stopped it: a test, the scan itself, a push step.
    FailedOther,
}

impl Run {
    /// The run as a release, or `None` when it is not one: cancelled,
    /// skipped or still running, or successful with its push skipped by its
    /// own condition (a pull request, a `[skip …]` commit), or its jobs
    /// unknown.
    ///
    /// Push steps skipped by a condition while others succeeded (a matrix
    /// leg that does not push) do not make the run less pushed.
    pub fn outcome(&self) -> Option<Outcome> {
        let conclusion = self.conclusion.as_deref()?;
        if !matches!(conclusion, "success" | "failure" | "timed_out") {
            return None;
        }
        let steps = self.steps.as_ref()?;
        if steps
            .iter()
            .any(|s| s.name.starts_with(GATE_STEP) && failed(s))
        {
            return Some(Outcome::Blocked);
        }
        let pushes: Vec<&Step> = steps
            .iter()
            .filter(|s| s.name.starts_with(PUSH_STEP))
            .collect();
        let pushed = pushes
            .iter()
            .any(|s| s.conclusion.as_deref() == Some("success"));
        if pushed && !pushes.iter().any(|s| failed(s)) {
            return Some(Outcome::Pushed);
        }
        (conclusion != "success").then_some(Outcome::FailedOther)
    }
}

/// A step that ran and did not succeed (a skipped step did not run).
fn failed(step: &Step) -> bool {
    matches!(
        step.conclusion.as_deref(),
        Some("failure" | "timed_out" | "cancelled")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(conclusion: &str, steps: &[(&str, &str)]) -> Run {
        Run {
            id: 1,
            workflow: ".github/workflows/release.yml".into(),
            head_branch: Some("v1".into()),
            head_sha: None,
            created_at: DateTime::UNIX_EPOCH,
            conclusion: Some(conclusion.into()),
            steps: Some(
                steps
                    .iter()
                    .map(|(name, c)| Step {
                        job: "release".into(),
                        name: (*name).into(),
                        conclusion: Some((*c).into()),
                    })
                    .collect(),
            ),
            reports: Reports::Missing(String::new()),
        }
    }

    const GATE: &str = "Gate on CRITICAL,HIGH vulnerabilities";

    #[test]
    fn a_failed_gate_is_blocked() {
        let r = run("failure", &[(GATE, "failure"), (PUSH_STEP, "skipped")]);
        assert_eq!(r.outcome(), Some(Outcome::Blocked));
    }

    #[test]
    fn a_later_failure_does_not_undo_a_push() {
        let r = run(
            "failure",
            &[
                (GATE, "success"),
                (PUSH_STEP, "success"),
                ("Deploy", "failure"),
            ],
        );
        assert_eq!(r.outcome(), Some(Outcome::Pushed));
    }

    #[test]
    fn a_failed_push_or_test_is_failed_other() {
        let push = run("failure", &[(GATE, "success"), (PUSH_STEP, "failure")]);
        assert_eq!(push.outcome(), Some(Outcome::FailedOther));
        let test = run("timed_out", &[("Test", "failure")]);
        assert_eq!(test.outcome(), Some(Outcome::FailedOther));
        let half = run(
            "failure",
            &[
                (PUSH_STEP, "success"),
                (&format!("{PUSH_STEP} (worker)"), "failure"),
            ],
        );
        assert_eq!(half.outcome(), Some(Outcome::FailedOther));
    }

    #[test]
    fn skipped_pushes_and_cancelled_runs_are_no_release() {
        let pr = run("success", &[(GATE, "success"), (PUSH_STEP, "skipped")]);
        assert_eq!(pr.outcome(), None);
        let cancelled = run("cancelled", &[(GATE, "success"), (PUSH_STEP, "success")]);
        assert_eq!(cancelled.outcome(), None);
        let mut unknown = run("success", &[]);
        unknown.steps = None;
        assert_eq!(unknown.outcome(), None);
    }
}
