//! Third-party actions that build and push in one step
//! (`elgohr/publish-docker-github-action`, `aevea/action-kaniko`, … listed
//! in [`gate::PUBLISH_ACTIONS`]). Detected and refused when they push:
//! there is no step between the build and the push to put a scan in.

use super::{Finder, Refused};
use crate::gate;

pub static REFUSED: Refused = Refused {
    id: "publish-action",
    label: "publish-action",
    finder: Finder::Action(|_, step| gate::publishes(step).map(str::to_owned)),
    reason: |what| format!("`{what}` builds and pushes in one step and cannot be split"),
    hint: "replace it with docker/login-action + docker/build-push-action (scangate splits those), or gate the job by hand",
};

/// The shape (refused).
pub struct PublishAction;

crate::refused_shape!(PublishAction, REFUSED);
