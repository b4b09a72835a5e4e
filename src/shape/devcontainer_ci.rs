//! `devcontainers/ci`: builds a dev container image with the devcontainer
//! CLI, runs a command in it, and pushes the image to `imageName` unless
//! `push: never` (its default, `filter`, pushes on `push` events; `always`
//! on any). Detected and refused when it may push: the push is the
//! action's own, after its build, with no step between to scan. With
//! `push: never` the image stays in the Docker daemon as `imageName`, and a
//! later `docker push` of it is a push scangate gates.

use super::{Finder, Refused};
use crate::gate::input;

pub static REFUSED: Refused = Refused {
    id: "devcontainer-ci",
    label: "devcontainers/ci",
    finder: Finder::Action(|action, step| {
        let named = input(step, "imageName").is_some_and(|n| !n.trim().is_empty());
        let never = input(step, "push").is_some_and(|p| p.trim().eq_ignore_ascii_case("never"));
        (action == "devcontainers/ci" && named && !never).then(|| action.to_owned())
    }),
    reason: |_| {
        "devcontainers/ci builds the dev container image and pushes it to `imageName` in one step (unless `push: never`), with no step between to scan it".to_owned()
    },
    hint: "set `push: never` and push the image (`imageName`, tagged `imageTag` or `latest`) with `docker push` in a later step, which scangate gates; or gate the job by hand",
};

/// The shape (refused).
pub struct DevcontainerCi;

crate::refused_shape!(DevcontainerCi, REFUSED);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_pushes_when_named_unless_never() {
        let pushes = |with: &str| {
            let step: yaml_serde::Value = yaml_serde::from_str(&format!(
                "uses: devcontainers/ci@v0.3\nwith: {{runCmd: make, {with}}}\n"
            ))
            .unwrap();
            let Finder::Action(find) = REFUSED.finder else {
                unreachable!("an action's finder")
            };
            find("devcontainers/ci", step.as_mapping().unwrap()).is_some()
        };
        assert!(pushes("imageName: ghcr.io/a/b"));
        assert!(pushes("imageName: ghcr.io/a/b, push: always"));
        assert!(!pushes("imageName: ghcr.io/a/b, push: never"));
        // Without a name there is nothing to push to.
        assert!(!pushes("push: always"));
    }
}
