//! Maven and Gradle plugins that push the image from inside the build:
//! `docker:push` (docker-maven-plugin), `dockerfile:push`, JKube's
//! `k8s:push`, `spring-boot:build-image` with `publish`, Gradle's
//! `bootBuildImage --publishImage` and `dockerPushImage`, Quarkus with
//! `quarkus.container-image.push=true`. Detected and refused (Jib has a
//! shape of its own): the push happens inside the build, with no step in
//! between to put a scan in.

use std::sync::LazyLock;

use regex::Regex;

use super::jib::BUILD_TOOL;
use super::{Finder, Refused};

static PLUGIN_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: a constant pattern, exercised by the tests.
    Regex::new(concat!(
        r"\b(?:docker|dockerfile|k8s|oc):push\b",
        r"|spring-boot:build-image\b.*\bpublish=true\b",
        r"|\bbootBuildImage\b.*--publishImage\b",
        r"|\bdockerPushImage\b",
        r"|quarkus\.container-image\.push=true\b",
    ))
    .expect("static regex")
});

pub static REFUSED: Refused = Refused {
    id: "build-plugin",
    label: "a Maven or Gradle plugin's push",
    finder: Finder::Command {
        pattern: &BUILD_TOOL,
        pushes: |command| PLUGIN_PUSH.is_match(command),
    },
    reason: |what| {
        format!(
            "`{what}`: a plugin of the build pushes the image to the registry as part of the build; there is no image to scan before the push"
        )
    },
    hint: "build the image without the push (`docker:build`, `spring-boot:build-image` without `publish`, Quarkus without `container-image.push`), then push it with `docker push IMAGE` in a later step, which scangate migrates; or gate the job by hand",
};

/// The shape (refused).
pub struct BuildPlugin;

crate::refused_shape!(BuildPlugin, REFUSED);
