//! Third-party actions that build and push in one step
//! (`elgohr/publish-docker-github-action`, …). Detected and refused: there
//! is no step between the build and the push to put a scan in.

use super::{Finder, Refused};
use crate::gate;

pub static REFUSED: Refused = Refused {
    id: "publish-action",
    label: "publish-action",
    finder: Finder::Action(|action, _| {
        gate::PUBLISH_ACTIONS
            .iter()
            .find(|a| action.starts_with(*a))
            .map(|a| (*a).to_owned())
    }),
    reason: |what| format!("`{what}` builds and pushes in one step and cannot be split"),
    hint: "replace it with docker/login-action + docker/build-push-action",
};

/// The shape (refused).
pub struct PublishAction;

crate::refused_shape!(PublishAction, REFUSED);
