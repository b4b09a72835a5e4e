//! `docker/bake-action` with `push`: every target of a bake file pushed in
//! one step. Detected and refused: the targets cannot be exported and
//! scanned one by one.

use yaml_serde::Mapping;

use super::{Found, Shape, Unsupported, Verdict, refuse_first};
use crate::gate::{self, Push, input};

/// The shape (refused).
pub struct BakeAction;

impl Shape for BakeAction {
    fn id(&self) -> &'static str {
        "bake-action"
    }

    fn label(&self) -> &'static str {
        "docker/bake-action"
    }

    fn push(&self, step: &Mapping, script: Option<&str>) -> Option<Found> {
        if script.is_some() || gate::action_name(step)? != "docker/bake-action" {
            return None;
        }
        let set = input(step, "set").unwrap_or_default().replace(' ', "");
        let push = gate::truthy(input(step, "push")) || set.contains("push=true");
        push.then(|| Found {
            at: 0,
            what: self.label().to_owned(),
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
            "docker/bake-action pushes every target of a bake file in one step; scangate cannot export and scan the targets one by one",
            "build each target with docker/build-push-action (scangate then gates each image), or gate the job by hand",
        )
    }
}
