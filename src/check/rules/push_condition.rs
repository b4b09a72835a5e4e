//! `push-condition-bypass` (invariant 1): an `if:` with `always()`,
//! `!cancelled()` or `failure()` on a push job, a push step, or a job
//! between the scan and the push lets the push run after the gate failed.

use super::{Context, Meta, Rule, step_of};
use crate::check::chain::Chain;
use crate::check::finding::Finding;
use crate::gate;

pub(super) struct PushConditionBypass;

static META: Meta = Meta {
    id: "push-condition-bypass",
    invariant: 1,
    description: "No push job, push step or job between scan and push runs with `always()`, `!cancelled()` or `failure()` in its `if:`.",
    help: "Remove `always()`, `!cancelled()` and `failure()` from the condition: a push must run only when everything it needs succeeded.",
};

fn condition(node: &yaml_serde::Mapping) -> String {
    gate::condition(node)
        .and_then(gate::scalar)
        .unwrap_or_default()
}

impl Rule for PushConditionBypass {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn explain(&self, cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
        let wf = cx.wf;
        let job_id = chain.push.job.as_str();
        let (Some(job), Some(step)) = (wf.job(job_id), wf.step(job_id, chain.push.step)) else {
            return;
        };
        let label = step_of(wf, job_id, chain.push.step);
        if gate::bypasses(step) && chain.has_scan() {
            out.push(self.finding(
                wf.step_key_at(job_id, chain.push.step, "if"),
                job_id,
                format!(
                    "the push in {label} of job `{job_id}` runs with `if: {}`, so it runs even when the Trivy scan before it failed",
                    condition(step)
                ),
                "remove `always()`, `!cancelled()` and `failure()` from the step's `if:` (or drop the `if:`)".into(),
            ));
        }
        // A job that escapes failures upstream but requires the need on the
        // way to the scan to succeed still waits for it (`gate::waits_for`).
        let waits_for_scan = |m: &yaml_serde::Mapping| {
            gate::needs(m).iter().any(|d| {
                gate::waits_for(m, d)
                    && (chain.scan_jobs.contains(d)
                        || wf
                            .scans_above(d)
                            .iter()
                            .any(|j| chain.scan_jobs.contains(j)))
            })
        };
        if gate::bypasses(job) && !chain.scan_jobs.is_empty() && !waits_for_scan(job) {
            out.push(self.finding(
                wf.job_key_at(job_id, "if"),
                job_id,
                format!(
                    "job `{job_id}` pushes an image and runs with `if: {}`, so it runs even when the scan job it needs failed",
                    condition(job)
                ),
                "remove `always()`, `!cancelled()` and `failure()` from the job's `if:`; keep only conditions such as `github.event_name != 'pull_request'`".into(),
            ));
        }
        for mid in wf.needs_closure(job_id) {
            let Some(m) = wf.job(&mid) else { continue };
            if !gate::bypasses(m) || wf.is_gate_job(&mid) || waits_for_scan(m) {
                continue;
            }
            let behind = wf.scans_above(&mid);
            if behind.iter().any(|j| chain.scan_jobs.contains(j)) {
                out.push(self.finding(
                    wf.job_key_at(&mid, "if"),
                    &mid,
                    format!(
                        "job `{mid}` runs with `if: {}` between the scan and the push of job `{job_id}`, so the push can run after the scan failed",
                        condition(m)
                    ),
                    format!(
                        "remove `always()`, `!cancelled()` and `failure()` from the `if:` of job `{mid}`, or make `{job_id}` need the scan job directly"
                    ),
                ));
            }
        }
    }
}
