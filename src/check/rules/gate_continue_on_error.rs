//! `gate-continue-on-error` (invariant 2): `continue-on-error` on the gate
//! step or on the scan job turns a failing scan into a passing one.

use super::{Context, Meta, Rule, step_of};
use crate::check::chain::{self, Chain};
use crate::check::finding::Finding;
use crate::gate;

pub(super) struct GateContinueOnError;

static META: Meta = Meta {
    id: "gate-continue-on-error",
    invariant: 2,
    description: "Neither the Trivy gate step nor its scan job has `continue-on-error`.",
    help: "Remove `continue-on-error` from the gate step and the scan job; a gate that may fail without failing the job is no gate.",
};

impl Rule for GateContinueOnError {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn explain(&self, cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
        let wf = cx.wf;
        for (job, before) in chain.scan_sites() {
            let Some(j) = wf.job(job) else { continue };
            // Job level: only a separate scan job; in the one-job layout the
            // push job's own flag does not decide whether its push runs.
            let gates = gate::steps(j)
                .iter()
                .any(|(_, s)| gate::is_gate(s, &wf.threshold));
            if before.is_none() && gate::continues_on_error(j) && gates {
                out.push(self.finding(
                    wf.job_key_at(job, "continue-on-error"),
                    job,
                    format!(
                        "the scan job `{job}` has `continue-on-error`, so job `{}` runs its push even when the Trivy gate failed",
                        chain.push.job
                    ),
                    format!("remove `continue-on-error` from job `{job}`"),
                ));
            }
            for (i, defects) in chain::defective_gates(wf, job, before, cx.policy) {
                if defects.continue_on_error {
                    out.push(self.finding(
                        wf.step_key_at(job, i, "continue-on-error"),
                        job,
                        format!(
                            "the Trivy gate in {} of job `{job}` has `continue-on-error`, so its failure does not stop the push",
                            step_of(wf, job, i)
                        ),
                        "remove `continue-on-error` from the gate step".into(),
                    ));
                }
            }
        }
    }
}
