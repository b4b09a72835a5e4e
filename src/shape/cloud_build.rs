//! Builds in a cloud build service (`gcloud builds submit --tag|--pack`,
//! `az acr build --image`): the service builds the image from the uploaded
//! source and pushes it from its own machines. Detected and refused: no
//! image exists on the runner to scan before the push. A build from a
//! config file (`gcloud builds submit --config`) pushes what that file's
//! `images:` say, which the workflow does not show; it is not counted.

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

static SUBMIT: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bgcloud\s+(?:(?:alpha|beta)\s+)?builds\s+submit\b|\baz\s+acr\s+build\b")
        .expect("static regex")
});
/// Cloud Build's flags that name the image it pushes.
static GCLOUD_IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\s)(?:--tag|-t|--pack)[\s=]").expect("static regex"));
/// ACR's flag that names the image, and the one that keeps it unpushed.
static ACR_IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\s)(?:--image|-t)[\s=]").expect("static regex"));
static ACR_NO_PUSH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\s)--no-push(?:\s|$)").expect("static regex"));

fn pushes(command: &str) -> bool {
    if command.starts_with("az") {
        ACR_IMAGE.is_match(command) && !ACR_NO_PUSH.is_match(command)
    } else {
        GCLOUD_IMAGE.is_match(command)
    }
}

pub static REFUSED: Refused = Refused {
    id: "cloud-build",
    label: "a cloud build service",
    finder: Finder::Command {
        pattern: &SUBMIT,
        pushes,
    },
    reason: |what| {
        format!(
            "`{what}`: the build service builds the image from the uploaded source and pushes it from its own machines; there is no image on the runner to scan before the push"
        )
    },
    hint: "build on the runner with docker/build-push-action and push to the same registry (scangate then gates it); or scan in the service before its push (a Trivy step ahead of `images:` in cloudbuild.yaml, or in the ACR task); or gate the job by hand",
};

/// The shape (refused).
pub struct CloudBuild;

crate::refused_shape!(CloudBuild, REFUSED);
