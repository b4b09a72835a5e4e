//! `docker/bake-action` with `push`: every target of a bake file pushed in
//! one step. Detected and refused: the targets cannot be exported and
//! scanned one by one.

use super::{Finder, Refused};
use crate::gate::{self, input};

pub static REFUSED: Refused = Refused {
    id: "bake-action",
    label: "docker/bake-action",
    finder: Finder::Action(|action, step| {
        let set = input(step, "set").unwrap_or_default().replace(' ', "");
        let push = gate::truthy(input(step, "push")) || set.contains("push=true");
        (action == "docker/bake-action" && push).then(|| action.to_owned())
    }),
    reason: |_| {
        "docker/bake-action pushes every target of a bake file in one step; scangate cannot export and scan the targets one by one".to_owned()
    },
    hint: "build each target with docker/build-push-action (scangate then gates each image), or gate the job by hand",
};

/// The shape (refused).
pub struct BakeAction;

crate::refused_shape!(BakeAction, REFUSED);
