//! `redhat-actions/push-to-registry`: pushes an image that an earlier step
//! (usually `redhat-actions/buildah-build`) put into containers storage.
//! Detected and refused with the rewrite that scangate does migrate: the
//! same push as a `buildah push` command.

use yaml_serde::Mapping;

use super::{Found, Shape, Unsupported, Verdict, refuse_first};
use crate::gate::{self, Push};

const ACTION: &str = "redhat-actions/push-to-registry";

/// The shape (refused).
pub struct PushToRegistry;

impl Shape for PushToRegistry {
    fn id(&self) -> &'static str {
        "push-to-registry"
    }

    fn label(&self) -> &'static str {
        ACTION
    }

    fn push(&self, step: &Mapping, script: Option<&str>) -> Option<Found> {
        (script.is_none() && gate::action_name(step)? == ACTION).then(|| Found {
            at: 0,
            what: ACTION.to_owned(),
        })
    }

    fn read(&self, job_id: &str, job: &Mapping, pushes: &[Push]) -> Verdict {
        refuse_first(self, job_id, job, pushes)
    }

    fn mixed(
        &self,
        job_id: &str,
        _job: &Mapping,
        push: &Push,
        _other: Option<&Push>,
    ) -> Unsupported {
        Unsupported::new(
            job_id,
            Some(push.step),
            format!(
                "`{ACTION}` pushes the image straight from containers storage; scangate does not rewrite this action"
            ),
            "push with `buildah push IMAGE docker://REGISTRY/IMAGE:TAG` in a `run:` step instead (and log in with a step of its own): scangate migrates that, scanning the image before the push",
        )
    }
}
