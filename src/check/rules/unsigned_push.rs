//! `unsigned-push` (invariant 5, when `[signing]` is configured): every
//! gated push is followed, in its job, by a `cosign sign` of the pushed
//! image; otherwise the cluster's admission policy refuses the image, or a
//! later hand edit dropped the signing and nobody noticed. A job that pushes
//! an index of gated images (a manifest-merge job after push-by-digest legs)
//! counts too: the cluster resolves tags to that index, so it must be signed.

use super::{Context, Meta, Rule, step_of};
use crate::check::finding::Finding;
use crate::error::Error;
use crate::gate;

pub(super) struct UnsignedPush;

static META: Meta = Meta {
    id: "unsigned-push",
    invariant: 5,
    description: "With signing configured, every gated push is signed after it, in the same job.",
    help: "Sign the pushed image after the push, by digest (`cosign sign --yes IMAGE@DIGEST`); `scangate migrate --sign` writes these steps when it splits a job.",
};

impl Rule for UnsignedPush {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) -> Result<(), Error> {
        if cx.policy.signing.is_none() {
            return Ok(());
        }
        let wf = cx.wf;
        for chain in cx.chains.iter().filter(|c| c.push.gated) {
            let (id, at) = (chain.push.job.as_str(), chain.push.step);
            let signed = wf.job(id).is_some_and(|job| {
                gate::steps(job)
                    .into_iter()
                    .any(|(i, s)| i > at && gate::cosign_signs(s))
            });
            if !signed {
                out.push(self.finding(
                    wf.step_at(id, at),
                    id,
                    format!(
                        "job `{id}` pushes in {} and signs nothing after it, but signing is configured",
                        step_of(wf, id, at)
                    ),
                    "add the signing steps after the push (`cosign sign --yes IMAGE@DIGEST`, then the vulnerability attestation)".into(),
                ));
            }
        }
        Ok(())
    }
}
