//! `push-rebuilds` (invariant 4): the image that is pushed must be the
//! artifact that was scanned. A push job that builds again (even from cache)
//! pushes bytes nobody scanned; one that downloads another artifact than the
//! scan job did pushes something else altogether.

use std::collections::BTreeSet;

use super::{Context, Meta, Rule, step_of};
use crate::check::chain::{self, Chain};
use crate::check::finding::Finding;
use crate::check::workflow::Workflow;
use crate::gate;

pub(super) struct PushRebuilds;

static META: Meta = Meta {
    id: "push-rebuilds",
    invariant: 4,
    description: "The pushed image is the artifact the scan job scanned, not a rebuild.",
    help: "Download the image artifact the scan job scanned and push it unchanged (`skopeo copy --all --preserve-digests oci:DIR docker://REF`), instead of building again.",
};

/// The artifact names job `id` downloads (steps before `before`, if given).
fn downloads(wf: &Workflow<'_>, id: &str, before: Option<usize>) -> Vec<(usize, String)> {
    let Some(job) = wf.job(id) else {
        return Vec::new();
    };
    gate::steps(job)
        .into_iter()
        .filter(|(i, _)| before.is_none_or(|b| *i < b))
        .filter(|(_, s)| gate::action_name(s).as_deref() == Some("actions/download-artifact"))
        .filter_map(|(i, s)| Some((i, gate::input(s, "name")?)))
        .collect()
}

impl PushRebuilds {
    fn chain(&self, cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
        let wf = cx.wf;
        let job = chain.push.job.as_str();
        let Some(j) = wf.job(job) else { return };
        let gate_jobs = &chain.gate_jobs;
        // Gated by a job it needs: nothing in the push job may build. Gated
        // in its own job: nothing between the gate and the push may.
        let from = if gate_jobs.is_empty() {
            gate::steps(j)
                .into_iter()
                .find(|(i, s)| *i < chain.push.step && gate::is_gate(s, &cx.wf.threshold))
                .map_or(0, |(i, _)| i + 1)
        } else {
            0
        };
        for (i, s) in gate::steps(j) {
            if i < from || i > chain.push.step || !chain::builds(s) {
                continue;
            }
            let scanned = if gate_jobs.is_empty() {
                "the Trivy gate before it".to_owned()
            } else {
                format!("`{}`", gate_jobs[0])
            };
            out.push(self.finding(
                wf.step_at(job, i),
                job,
                format!(
                    "job `{job}` builds the image again in {} before pushing it, so the pushed image is not the one {scanned} scanned",
                    step_of(wf, job, i)
                ),
                "push the scanned artifact instead of building: download the image the scan job scanned and push it with `skopeo copy --all --preserve-digests oci:DIR docker://REF`".into(),
            ));
        }
        if gate_jobs.is_empty() {
            return;
        }
        let scanned: BTreeSet<String> = gate_jobs
            .iter()
            .flat_map(|g| downloads(wf, g, None))
            .map(|(_, name)| name)
            .collect();
        if scanned.is_empty() {
            return;
        }
        // Other artifacts (release files) may come along; at least one
        // download must be the scanned image.
        let pulled = downloads(wf, job, Some(chain.push.step));
        if pulled.iter().any(|(_, name)| scanned.contains(name)) {
            return;
        }
        if let Some((i, name)) = pulled.last() {
            out.push(self.finding(
                wf.step_input_at(job, *i, "name"),
                job,
                format!(
                    "job `{job}` pushes from artifact `{name}`, which the scan job `{}` did not scan",
                    gate_jobs[0]
                ),
                format!(
                    "download the artifact the scan job scanned ({})",
                    scanned
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
}

impl Rule for PushRebuilds {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) -> Result<(), crate::Error> {
        for chain in cx.chains.iter().filter(|c| c.push.gated) {
            self.chain(cx, chain, out);
        }
        Ok(())
    }
}
