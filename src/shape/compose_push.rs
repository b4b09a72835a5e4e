//! `docker compose push` (and `docker-compose push`, `compose build
//! --push`): pushes every service image of a compose file at once.
//! Detected and refused: the images cannot be told apart from the workflow.

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

static COMPOSE: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bdocker(?:\s+|-)compose\b").expect("static regex")
});
static PUSH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\spush(?:\s|$)|\s--push(?:\s|$)").expect("static regex"));

pub static REFUSED: Refused = Refused {
    id: "compose-push",
    label: "docker compose push",
    finder: Finder::Command {
        pattern: &COMPOSE,
        pushes: |command| PUSH.is_match(command),
    },
    reason: |what| {
        format!(
            "`{what}`: compose pushes the image of every service of the compose file at once; scangate cannot tell which images to export and scan"
        )
    },
    hint: "build with `docker compose build`, then push each image with `docker push IMAGE` (scangate migrates that: it scans each before the push); or gate the job by hand",
};

/// The shape (refused).
pub struct ComposePush;

crate::refused_shape!(ComposePush, REFUSED);
