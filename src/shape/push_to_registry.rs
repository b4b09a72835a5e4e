//! `redhat-actions/push-to-registry`: pushes an image that an earlier step
//! (usually `redhat-actions/buildah-build`) put into containers storage.
//! Detected and refused with the rewrite that scangate does migrate: the
//! same push as a `buildah push` command. Forks of the action (`OWNER/
//! push-to-registry`, with signing added, say) push the same way.

use super::{Finder, Refused};

const ACTION: &str = "redhat-actions/push-to-registry";

pub static REFUSED: Refused = Refused {
    id: "push-to-registry",
    label: ACTION,
    finder: Finder::Action(|action, _| {
        (action == ACTION || action.ends_with("/push-to-registry")).then(|| action.to_owned())
    }),
    reason: |what| {
        format!(
            "`{what}` pushes the image straight from containers storage; scangate does not rewrite this action"
        )
    },
    hint: "push with `buildah push IMAGE docker://REGISTRY/IMAGE:TAG` in a `run:` step instead (and log in with a step of its own): scangate migrates that, scanning the image before the push",
};

/// The shape (refused).
pub struct PushToRegistry;

crate::refused_shape!(PushToRegistry, REFUSED);
