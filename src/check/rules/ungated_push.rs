//! `ungated-push` (invariant 1): an image push that no Trivy scan has to
//! pass first — a new publishing job, or a push job that no longer needs the
//! scan job.

use super::{Context, Meta, Rule, list, step_of};
use crate::check::chain::Chain;
use crate::check::finding::Finding;
use crate::gate;
use crate::migrate::Outcome;

pub(super) struct UngatedPush;

static META: Meta = Meta {
    id: "ungated-push",
    invariant: 1,
    description: "Every image push happens in a job that needs (directly or through other jobs) a Trivy scan job that gates it.",
    help: "Make the pushing job need the scan job (`needs: [J-build, J-scan]`), or run `scangate migrate --write` to split the job into build → scan → push.",
};

impl Rule for UngatedPush {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// Explains the pushes with no Trivy scan before them at all.
    fn explain(&self, cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
        if chain.has_scan() {
            return;
        }
        let wf = cx.wf;
        let job = chain.push.job.as_str();
        let step = step_of(wf, job, chain.push.step);
        // No scan above the push (`has_scan` is false), so every Trivy job
        // other than the push job is one it does not need.
        let elsewhere: Vec<String> = wf
            .jobs
            .iter()
            .map(|(id, _)| id.clone())
            .filter(|id| id != job && wf.runs_trivy(id))
            .collect();
        let missing = wf.missing_needs(job);
        let finding = if !elsewhere.is_empty() {
            // Point at `needs:` when the job has one (it lost the scan job);
            // a job that needs nothing is pointed at by its push.
            let has_needs = wf.job(job).is_some_and(|j| j.contains_key("needs"));
            let at = if has_needs {
                wf.job_key_at(job, "needs")
            } else {
                wf.step_at(job, chain.push.step)
            };
            self.finding(
                at,
                job,
                format!(
                    "job `{job}` pushes an image in {step} but does not need the Trivy scan job {}: it can push before the scan, or without it",
                    list(&elsewhere)
                ),
                format!(
                    "add {} to `needs:` of job `{job}` (scangate writes `needs: [{job}-build, {job}-scan]`)",
                    list(&elsewhere)
                ),
            )
        } else {
            let gone = if missing.is_empty() {
                String::new()
            } else {
                format!(" (it needs {}, which no longer exist)", list(&missing))
            };
            let source: Vec<String> = wf
                .jobs
                .iter()
                .filter(|(_, j)| gate::steps(j).iter().any(|(_, s)| gate::scans_source(s)))
                .map(|(id, _)| id.clone())
                .collect();
            let source = if source.is_empty() {
                String::new()
            } else {
                format!(
                    "; Trivy runs in {} on the source (`fs`, `repo` or `config`), which does not scan the image's packages",
                    list(&source)
                )
            };
            self.finding(
                wf.step_at(job, chain.push.step),
                job,
                format!(
                    "job `{job}` pushes an image in {step} and no Trivy scan of the image runs before it{gone}{source}"
                ),
                refusal_of(cx, job).unwrap_or_else(|| {
                    format!(
                        "run `scangate migrate --write {}` to put a build → Trivy scan → push gate around job `{job}`, or push from a job that needs a gating scan job",
                        wf.source.path.display()
                    )
                }),
            )
        };
        out.push(finding);
    }
}

/// Why `migrate` cannot gate `job`, and what to do instead, when it refuses
/// the job: suggesting the migration would only lead to that refusal.
fn refusal_of(cx: &Context<'_>, job: &str) -> Option<String> {
    let Ok(Outcome::Refused(refusals)) = (cx.migrate)() else {
        return None;
    };
    let refusal = refusals.into_iter().find(|r| r.job == job)?;
    Some(format!(
        "`scangate migrate` cannot gate it ({}); {}",
        refusal.reason, refusal.hint
    ))
}

/// The finding for an ungated push that no rule could explain: `gate` sees no
/// gate before it, although a Trivy scan runs somewhere before the push.
pub(super) fn unexplained(cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
    let wf = cx.wf;
    let job = chain.push.job.as_str();
    let mut scans = chain.scan_jobs.clone();
    if !chain.scan_steps.is_empty() {
        scans.push(job.to_owned());
    }
    out.push(UngatedPush.finding(
        wf.step_at(job, chain.push.step),
        job,
        format!(
            "job `{job}` pushes an image in {}, but no Trivy step in {} is a gate that fails on {} findings (an `exit-code` other than 0, the policy severities, no `continue-on-error`)",
            step_of(wf, job, chain.push.step),
            list(&scans),
            cx.policy.severity
        ),
        format!(
            "make the scan fail the job: `trivy image … --severity {} --ignore-unfixed --exit-code 1` as the last step of the scan job",
            cx.policy.severity
        ),
    ));
}
