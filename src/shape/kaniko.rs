//! Kaniko (`/kaniko/executor --destination …`): builds inside a container
//! and pushes to every destination in one step. Detected and refused unless
//! it runs with `--no-push`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

static EXECUTOR: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bkaniko(?:-project)?/executor\b").expect("static regex")
});
static DESTINATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--destination\b|(?:^|\s)-d[\s=]").expect("static regex"));
static NO_PUSH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--no-push(?:=true)?(?:\s|$)").expect("static regex"));

pub static REFUSED: Refused = Refused {
    id: "kaniko",
    label: "kaniko/executor --destination",
    finder: Finder::Command {
        pattern: &EXECUTOR,
        pushes: |command| DESTINATION.is_match(command) && !NO_PUSH.is_match(command),
    },
    reason: |what| {
        format!(
            "`{what}`: kaniko builds the image and pushes it to each `--destination` in one step; there is no image to scan before the push"
        )
    },
    hint: "run the executor with `--no-push --tar-path=image.tar`, scan the tarball, and push it with skopeo in a job that needs the scan; or gate the job by hand",
};

/// The shape (refused).
pub struct Kaniko;

crate::refused_shape!(Kaniko, REFUSED);
