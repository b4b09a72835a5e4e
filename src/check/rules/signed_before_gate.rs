//! `signed-before-gate` (invariant 5): a signature or attestation of an
//! image vouches for it at admission, so it may only be made once the gate
//! has passed — in a job that needs a gating scan job, or after a gate step
//! of its own job. Signing in the build job, or in a job that does not wait
//! for the scan, signs bytes nobody scanned. Fires whether or not signing is
//! configured: any image signature is a promise.

use super::{Context, Meta, Rule, step_of};
use crate::check::finding::Finding;
use crate::error::Error;
use crate::gate;

pub(super) struct SignedBeforeGate;

static META: Meta = Meta {
    id: "signed-before-gate",
    invariant: 5,
    description: "Images are signed and attested only after a Trivy gate has passed.",
    help: "Move the signing step into the push job, after the push of the scanned image (`scangate migrate --sign` writes it there), or make its job need the gating scan job.",
};

impl Rule for SignedBeforeGate {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) -> Result<(), Error> {
        let wf = cx.wf;
        for (id, job) in &wf.jobs {
            // Through a need the job waits for (`gate::waits_for`).
            let gated_by_need = gate::needs(job).iter().any(|d| {
                gate::waits_for(job, d) && (wf.is_gate_job(d) || !wf.gates_above(d).is_empty())
            });
            let mut gate_seen = false;
            for (i, step) in gate::steps(job) {
                gate_seen |= gate::is_gate(step, &wf.threshold);
                if !gate::signs_image(step) || gated_by_need || (gate_seen && !gate::bypasses(step))
                {
                    continue;
                }
                out.push(self.finding(
                    wf.step_at(id, i),
                    id,
                    format!(
                        "{} of job `{id}` signs or attests an image before any Trivy gate has passed, so the signature vouches for bytes nobody scanned",
                        step_of(wf, id, i)
                    ),
                    "sign in the push job after the push of the scanned image, or make this job need the gating scan job".into(),
                ));
            }
        }
        Ok(())
    }
}
