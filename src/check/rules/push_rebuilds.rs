//! `push-rebuilds` (invariant 4): the image that is pushed must be the
//! artifact that was scanned. A push job that builds again (even from cache)
//! pushes bytes nobody scanned; one that downloads another artifact than the
//! scan job did pushes something else altogether.

use std::collections::BTreeSet;

use super::{Context, Meta, Rule, step_of};
use crate::check::chain::Chain;
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
        // Gated in its own job: `gate` saw no build between the gate and
        // the push. Gated by a job it needs: nothing in the push job may
        // build.
        if gate_jobs.is_empty() {
            return;
        }
        for (i, _) in gate::steps(j)
            .into_iter()
            .filter(|(i, s)| *i <= chain.push.step && gate::builds(s))
        {
            out.push(self.finding(
                wf.step_at(job, i),
                job,
                format!(
                    "job `{job}` builds the image again in {} before pushing it, so the pushed image is not the one `{}` scanned",
                    step_of(wf, job, i),
                    gate_jobs[0]
                ),
                "push the scanned artifact instead of building: download the image the scan job scanned and push it with `skopeo copy --all --preserve-digests oci:DIR docker://REF`".into(),
            ));
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

    /// A push after a Trivy gate of its own job, with a build in between
    /// (or by a step that builds): `gate` counts it ungated, as the gate
    /// scanned something else; this says so instead of "no gate".
    fn explain(&self, cx: &Context<'_>, chain: &Chain<'_>, out: &mut Vec<Finding>) {
        let wf = cx.wf;
        let job = chain.push.job.as_str();
        let Some(j) = wf.job(job) else { return };
        let steps = gate::steps(j);
        let Some(gate_step) = steps
            .iter()
            .filter(|(i, s)| *i < chain.push.step && gate::is_gate(s, &wf.threshold))
            .map(|(i, _)| *i)
            .last()
        else {
            return;
        };
        let Some(build) = steps
            .iter()
            .find(|(i, s)| *i > gate_step && *i <= chain.push.step && gate::builds(s))
            .map(|(i, _)| *i)
        else {
            return;
        };
        out.push(self.finding(
            wf.step_at(job, build),
            job,
            format!(
                "job `{job}` builds the image in {} after the Trivy gate in {} ran, so the gate never scanned the image it pushes",
                step_of(wf, job, build),
                step_of(wf, job, gate_step)
            ),
            format!(
                "run `scangate migrate --write {}` to scan the built image before the push (build → Trivy scan → push), or move the build before the gate",
                wf.source.path.display()
            ),
        ));
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) -> Result<(), crate::Error> {
        for chain in cx.chains.iter().filter(|c| c.push.gated) {
            self.chain(cx, chain, out);
        }
        Ok(())
    }
}
