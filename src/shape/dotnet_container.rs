//! `dotnet publish -t:PublishContainer` with `-p:ContainerRegistry=…`: the
//! .NET SDK builds the image and pushes it straight to the registry, with
//! no Docker daemon and no step in between. Detected and refused (without
//! `ContainerRegistry` the SDK loads the image into the local daemon, which
//! is no push).

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

static PUBLISH: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bdotnet\s+publish\b").expect("static regex")
});
static CONTAINER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[-/]t(?:arget)?:PublishContainer\b|PublishProfile=DefaultContainer\b")
        .expect("static regex")
});
/// `-p:`, `/p:`, `--property:` and, as the dotnet CLI also takes them, the
/// same followed by a space.
static REGISTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)(?:[-/]p|--?property|/property)[:\s]\s*ContainerRegistry=\S")
        .expect("static regex")
});

pub static REFUSED: Refused = Refused {
    id: "dotnet-container",
    label: "dotnet publish -t:PublishContainer",
    finder: Finder::Command {
        pattern: &PUBLISH,
        pushes: |command| CONTAINER.is_match(command) && REGISTRY.is_match(command),
    },
    reason: |what| {
        format!(
            "`{what}`: the .NET SDK builds the container and pushes it to `ContainerRegistry` in one step; there is no image to scan before the push"
        )
    },
    hint: "publish a tarball instead (`-p:ContainerArchiveOutputPath=image.tar.gz`, no `ContainerRegistry`), scan it, and push it with skopeo in a job that needs the scan; or gate the job by hand",
};

/// The shape (refused).
pub struct DotnetContainer;

crate::refused_shape!(DotnetContainer, REFUSED);
