//! `unpinned-action` (invariant 5, on by default): the actions a gate chain
//! relies on are pinned by full commit SHA. A tag can be moved by whoever
//! controls the action's repository; in March 2026 nearly every tag of
//! `aquasecurity/trivy-action` was force-pushed to malicious code.
//!
//! Which steps count is a decision, documented here because it is narrower
//! than "every action in every job that pushes": the gate chain is the
//! build → scan → push unit, and in it the steps that decide what is
//! scanned, whether the gate passes, and what is pushed —
//!
//! * every step of a gating scan job that the push job needs *directly*;
//! * the push job's steps up to and including the push (they run with the
//!   registry credentials, before the image leaves);
//! * the steps *after* the last build step of a build job the scan job
//!   needs directly (the hand-over of the image: recording its digest,
//!   uploading the artifact);
//! * in the one-job layout (build, scan, push in one job), the job's steps
//!   after its last build step, up to the push.
//!
//! Left out, because `scangate migrate` leaves them as the user wrote them
//! and `check` must pass right after `migrate`: the steps a build job runs
//! before and for its build, the steps after the push, and jobs gated only
//! through another push job (a manifest-merging job that needs the pushing
//! jobs). zizmor's `unpinned-uses` audit covers the whole workflow for
//! those who want it.

use std::collections::BTreeSet;

use super::{Context, Meta, Rule, step_of};
use crate::check::chain;
use crate::check::finding::Finding;
use crate::gate;

pub(super) struct UnpinnedAction;

static META: Meta = Meta {
    id: "unpinned-action",
    invariant: 5,
    description: "The actions that scan, hand over and push a gated image are pinned by full commit SHA.",
    help: "Pin the action to the full 40-character commit SHA of its release, with the version as a comment (`uses: owner/action@<sha> # v1.2.3`).",
};

/// Whether a `uses:` value is pinned: a local action, a Docker image by
/// digest, or a full commit SHA (40 hex digits; 64 for SHA-256 repositories).
pub fn is_pinned(uses: &str) -> bool {
    let uses = uses.trim();
    if uses.starts_with("./") || uses.starts_with("../") {
        return true;
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        return image.contains("@sha256:");
    }
    uses.rsplit_once('@').is_some_and(|(_, r)| {
        matches!(r.len(), 40 | 64) && r.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

impl Rule for UnpinnedAction {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) -> Result<(), crate::Error> {
        if !cx.options.require_pins {
            return Ok(());
        }
        let wf = cx.wf;
        // (job, first step, last step) ranges, inclusive.
        let mut ranges: BTreeSet<(String, usize, usize)> = BTreeSet::new();
        for chain in cx.chains.iter().filter(|c| c.push.gated) {
            let job = chain.push.job.as_str();
            let direct: Vec<String> = wf
                .job(job)
                .map(gate::needs)
                .unwrap_or_default()
                .into_iter()
                // A job that gates and pushes itself (one-job layout) is
                // another push job to those that need it.
                .filter(|j| wf.is_gate_job(j) && !wf.pushes.iter().any(|p| p.job == *j))
                .collect();
            if direct.is_empty() && !chain.gated_in_job(wf) {
                continue;
            }
            // One job: its steps before and for the build are the user's,
            // as in a build job.
            let from = if direct.is_empty() {
                wf.job(job)
                    .and_then(|j| chain::last_build_before(j, chain.push.step))
                    .map_or(0, |last| last + 1)
            } else {
                0
            };
            ranges.insert((job.to_owned(), from, chain.push.step));
            for scan in direct {
                // The jobs that hand the scan its image are the ones it
                // needs directly; further up are the user's own jobs (tests
                // that build throw-away images, say), not the gate chain.
                let handing_over = wf.job(&scan).map(gate::needs).unwrap_or_default();
                for build in handing_over {
                    if wf.runs_trivy(&build) {
                        continue;
                    }
                    if let Some(last) = wf.job(&build).and_then(chain::last_build_step) {
                        ranges.insert((build, last + 1, usize::MAX));
                    }
                }
                ranges.insert((scan, 0, usize::MAX));
            }
        }
        let mut seen = BTreeSet::new();
        for (job, from, to) in ranges {
            let Some(j) = wf.job(&job) else { continue };
            for (i, s) in gate::steps(j) {
                if i < from || i > to || !seen.insert((job.clone(), i)) {
                    continue;
                }
                let Some(uses) = s.get("uses").and_then(gate::scalar) else {
                    continue;
                };
                if is_pinned(&uses) {
                    continue;
                }
                let action = gate::action_name(s).unwrap_or_default();
                let help = if cx.pins.has(&action) {
                    format!("pin it by commit SHA: `uses: {}`", cx.pins.uses(&action))
                } else {
                    "pin it to the full 40-character commit SHA of the release, with the version as a comment (`pinact run` or `ratchet pin` can do this)".to_owned()
                };
                out.push(self.finding(
                    wf.step_key_at(&job, i, "uses"),
                    &job,
                    format!(
                        "`{}` in {} of job `{job}` is not pinned by commit SHA: whoever controls its tags controls this gate",
                        uses.trim(),
                        step_of(wf, &job, i)
                    ),
                    help,
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_pinned;

    #[test]
    fn pins() {
        assert!(is_pinned(
            "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
        ));
        assert!(is_pinned("./.github/actions/x"));
        assert!(is_pinned("docker://alpine@sha256:abc"));
        assert!(!is_pinned("docker://alpine:3"));
        assert!(!is_pinned("actions/checkout@v5"));
        assert!(!is_pinned("actions/checkout@3d3c42e"));
        assert!(!is_pinned("actions/checkout"));
    }
}
