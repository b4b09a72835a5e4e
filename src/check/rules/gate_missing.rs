//! `gate-missing` (invariant 2): the scan job still runs Trivy, but no step
//! is meant to fail the job any more — the gate step was removed (or lost
//! its exit code).

use super::{Context, Meta, Rule, step_of};
use crate::check::chain::{self, Chain};
use crate::check::finding::Finding;
use crate::gate;

pub(super) struct GateMissing;

static META: Meta = Meta {
    id: "gate-missing",
    invariant: 2,
    description: "The scan job a push needs has a Trivy step that fails the job on findings (the gate).",
    help: "Put the gate back as the scan job's last step: `trivy image … --severity CRITICAL,HIGH --ignore-unfixed --exit-code 1` (what `scangate migrate` writes).",
};

impl Rule for GateMissing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn explain(&self, cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
        let wf = cx.wf;
        let push_job = chain.push.job.as_str();
        for (job, before) in chain.scan_sites() {
            if chain::has_gate_attempt(wf, job, before) {
                continue;
            }
            let help = format!(
                "add a gate step after the scan in job `{job}`: `trivy image … --severity {} --ignore-unfixed --exit-code 1` (as `scangate migrate` writes it)",
                cx.policy.severity
            );
            let finding = match before {
                None => self.finding(
                    wf.job_at(job),
                    job,
                    format!(
                        "the scan job `{job}` that job `{push_job}` needs runs Trivy, but no step fails the job on findings: the gate step is gone, so the push does not wait for a passing scan"
                    ),
                    help,
                ),
                Some(_) => {
                    let last = chain.scan_steps.last().copied().unwrap_or(0);
                    let trivy: Vec<String> = chain
                        .scan_steps
                        .iter()
                        .filter(|&&i| wf.step(job, i).is_some_and(gate::runs_trivy))
                        .map(|&i| step_of(wf, job, i))
                        .collect();
                    self.finding(
                        wf.step_at(job, last),
                        job,
                        format!(
                            "job `{job}` runs Trivy before its push ({}), but no step fails the job on findings: the gate step is gone",
                            trivy.join(", ")
                        ),
                        help,
                    )
                }
            };
            out.push(finding);
        }
    }
}
