//! `pack build --publish`: Cloud Native Buildpacks build the image and push
//! it straight to the registry. Detected and refused (without `--publish`
//! the image goes to the Docker daemon, which is no push).

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

static PACK: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bpack\s+build\b").expect("static regex")
});
static PUBLISH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--publish(?:=true)?(?:\s|$)").expect("static regex"));

pub static REFUSED: Refused = Refused {
    id: "pack",
    label: "pack build --publish",
    finder: Finder::Command {
        pattern: &PACK,
        pushes: |command| PUBLISH.is_match(command),
    },
    reason: |what| {
        format!(
            "`{what}`: `--publish` makes the buildpacks push the image to the registry as they build it; there is no image to scan before the push"
        )
    },
    hint: "drop `--publish` (the image goes to the Docker daemon) and push it with `docker push IMAGE` in a later step, which scangate migrates; or gate the job by hand",
};

/// The shape (refused).
pub struct Pack;

crate::refused_shape!(Pack, REFUSED);
