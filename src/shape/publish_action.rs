//! Third-party actions that build and push in one step
//! (`elgohr/publish-docker-github-action`, …). Detected and refused: there
//! is no step between the build and the push to put a scan in.

use yaml_serde::Mapping;

use super::{Found, Shape, Unsupported, Verdict, refuse_first};
use crate::gate::{self, Push};

/// The shape (refused).
pub struct PublishAction;

impl Shape for PublishAction {
    fn id(&self) -> &'static str {
        "publish-action"
    }

    fn push(&self, step: &Mapping, script: Option<&str>) -> Option<Found> {
        if script.is_some() {
            return None;
        }
        let action = gate::action_name(step)?;
        gate::PUBLISH_ACTIONS
            .iter()
            .find(|a| action.starts_with(*a))
            .map(|a| Found {
                at: 0,
                what: (*a).to_owned(),
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
                "`{}` builds and pushes in one step and cannot be split",
                push.kind.what
            ),
            "replace it with docker/login-action + docker/build-push-action",
        )
    }
}
