//! `gate-exit-code` (invariant 2): the gate step's exit code was set to 0 —
//! the classic way to "get a release out" — so findings no longer fail it.

use super::{Context, Meta, Rule, step_of};
use crate::check::chain::{Chain, EXIT_ZERO};
use crate::check::finding::Finding;
use crate::gate;

pub(super) struct GateExitCode;

static META: Meta = Meta {
    id: "gate-exit-code",
    invariant: 2,
    description: "The Trivy gate exits non-zero on findings (`exit-code: 1`).",
    help: "Set the gate's exit code back to 1 (`--exit-code 1` or `exit-code: 1`). To release despite a finding, add it to `.trivyignore` with a reason and an expiry instead.",
};

impl Rule for GateExitCode {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn explain(&self, cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
        let wf = cx.wf;
        for (job, i, step) in chain.gates_with(wf, cx.policy, |d| d.exit_code_zero) {
            let at = if gate::action_name(step).is_some() {
                wf.step_input_at(job, i, "exit-code")
            } else {
                wf.step_text_at(job, i, "run", &EXIT_ZERO)
            };
            out.push(self.finding(
                    at,
                    job,
                    format!(
                        "the Trivy gate in {} of job `{job}` exits 0 on findings, so job `{}` pushes whatever the scan finds",
                        step_of(wf, job, i),
                        chain.push.job
                    ),
                    "set the exit code back to 1 (`--exit-code 1`, or `exit-code: 1` for trivy-action); accept a known finding in `.trivyignore` instead".into(),
                ));
        }
    }
}
