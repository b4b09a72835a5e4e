//! `ko build|publish|resolve|apply|create|run`: builds Go images and pushes
//! them to `KO_DOCKER_REPO` in one step. Detected and refused unless it
//! keeps the image local (`--push=false`, `--local`/`-L`, `ko.local`).

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

static KO: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bko\s+(?:build|publish|resolve|apply|create|run)\b").expect("static regex")
});
static LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"--push[= ]false\b|--local\b|(?:^|\s)-L(?:\s|$)|\bko\.local\b")
        .expect("static regex")
});

pub static REFUSED: Refused = Refused {
    id: "ko",
    label: "ko build",
    finder: Finder::Command {
        pattern: &KO,
        pushes: |command| !LOCAL.is_match(command),
    },
    reason: |what| {
        format!(
            "`{what}`: ko builds the image and pushes it to `KO_DOCKER_REPO` in one step; there is no image to scan before the push"
        )
    },
    hint: "build with `ko build --push=false --tarball=image.tar`, scan the tarball, and push it with skopeo in a job that needs the scan; or gate the job by hand",
};

/// The shape (refused).
pub struct Ko;

crate::refused_shape!(Ko, REFUSED);
