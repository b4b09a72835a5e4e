//! `gate-severity` (invariant 2): the gate's severity list leaves out a
//! severity the policy fails on (default `CRITICAL,HIGH`).

use super::{Context, Meta, Rule, step_of};
use crate::check::chain::{Chain, SEVERITY_FLAG};
use crate::check::finding::Finding;
use crate::gate;

pub(super) struct GateSeverity;

static META: Meta = Meta {
    id: "gate-severity",
    invariant: 2,
    description: "The Trivy gate fails on at least the policy severities (default CRITICAL,HIGH).",
    help: "List every policy severity in the gate's `--severity` (or `severity:` input); more are fine, fewer are not.",
};

impl Rule for GateSeverity {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn explain(&self, cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
        let wf = cx.wf;
        for (job, i, step) in chain.gates_with(wf, cx.policy, |d| d.severity_below_policy) {
            let (at, found) = if gate::action_name(step).is_some() {
                (
                    wf.step_input_at(job, i, "severity"),
                    gate::input(step, "severity").unwrap_or_default(),
                )
            } else {
                let run = step.get("run").and_then(|r| r.as_str()).unwrap_or("");
                let found = SEVERITY_FLAG
                    .captures(&gate::shell_body(run))
                    .map(|c| c[2].to_owned())
                    .unwrap_or_default();
                (wf.step_text_at(job, i, "run", &SEVERITY_FLAG), found)
            };
            out.push(self.finding(
                    at,
                    job,
                    format!(
                        "the Trivy gate in {} of job `{job}` fails only on `{found}`, less than the policy `{}`",
                        step_of(wf, job, i),
                        cx.policy.severity
                    ),
                    format!("gate on `--severity {}` (or add the missing severities)", cx.policy.severity),
                ));
        }
    }
}
