//! `reports-not-published` (invariant 3): a gating scan job uploads its
//! reports as an artifact whatever the gate says — `if: ${{ !cancelled() }}`
//! or `always()` — because a failed gate is exactly when people need them.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{Context, Meta, Rule, step_of};
use crate::check::finding::Finding;
use crate::gate;

pub(super) struct ReportsNotPublished;

static META: Meta = Meta {
    id: "reports-not-published",
    invariant: 3,
    description: "Every gating scan job uploads its reports with `actions/upload-artifact` and `if: ${{ !cancelled() }}` (or `always()`), so they exist when the gate fails.",
    help: "After the Trivy report step, upload the reports folder with `actions/upload-artifact` and `if: ${{ !cancelled() }}`.",
};

/// Conditions under which a step runs after an earlier step failed.
static RUNS_AFTER_FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\balways\s*\(\s*\)|!\s*cancelled\s*\(\s*\)|\bfailure\s*\(\s*\)[\s\S]*\bsuccess\s*\(|\bsuccess\s*\(\s*\)[\s\S]*\bfailure\s*\(")
        .expect("static regex")
});

impl Rule for ReportsNotPublished {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) -> Result<(), crate::Error> {
        let wf = cx.wf;
        let mut gating = BTreeSet::new();
        for chain in cx.chains.iter().filter(|c| c.push.gated) {
            gating.extend(chain.gate_jobs.iter().cloned());
            if chain.gated_in_job(wf) {
                gating.insert(chain.push.job.clone());
            }
        }
        for job in &gating {
            let Some(j) = wf.job(job) else { continue };
            let steps = gate::steps(j);
            let Some(first_scan) = steps
                .iter()
                .find(|(_, s)| gate::runs_trivy(s))
                .map(|(i, _)| *i)
            else {
                continue;
            };
            let uploads: Vec<usize> = steps
                .iter()
                .filter(|(i, s)| {
                    *i > first_scan
                        && gate::action_name(s).as_deref() == Some("actions/upload-artifact")
                })
                .map(|(i, _)| *i)
                .collect();
            let published = uploads.iter().any(|&i| {
                wf.step(job, i)
                    .and_then(|s| gate::condition(s))
                    .and_then(gate::scalar)
                    .is_some_and(|c| RUNS_AFTER_FAILURE.is_match(&c))
            });
            if published {
                continue;
            }
            let finding = match uploads.first() {
                Some(&i) => self.finding(
                    wf.step_key_at(job, i, "if"),
                    job,
                    format!(
                        "the scan reports of job `{job}` are uploaded in {} only when every step before it passed: when the gate fails, nobody can see why",
                        step_of(wf, job, i)
                    ),
                    "give the upload step `if: ${{ !cancelled() }}`".into(),
                ),
                None => self.finding(
                    wf.job_at(job),
                    job,
                    format!(
                        "the scan job `{job}` gates a push but publishes no reports (no `actions/upload-artifact` step after its Trivy scan)"
                    ),
                    format!(
                        "add a step after the scan: `uses: {}` with `if: ${{{{ !cancelled() }}}}` and the reports folder as `path:`",
                        cx.pins.uses("actions/upload-artifact")
                    ),
                ),
            };
            out.push(finding);
        }
        Ok(())
    }
}
