//! Jib (`mvn … jib:build`, `gradle jib`): builds the image from the Java
//! build and pushes it straight to the registry, with no Docker daemon and
//! no step in between. Detected and refused (`jib:dockerBuild`,
//! `jib:buildTar` and their Gradle tasks push nothing).

use std::sync::LazyLock;

use regex::Regex;

use super::{Finder, Refused};

/// A Maven or Gradle command (wrappers too).
pub(super) static BUILD_TOOL: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\b(?:mvnw?|gradlew?)\b").expect("static regex")
});
/// Maven's `jib:build` (or the plugin's full coordinates), Gradle's `jib` task.
static JIB_PUSH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bjib:build\b|jib-maven-plugin:\S*:build\b|(?:^|\s)(?::[\w-]+)*:?jib(?:\s|$)")
        .expect("static regex")
});

/// Push credentials for Jib on the command line: a build whose pom binds
/// `jib:build` to a phase (`mvn package -Djib.to.auth.password=…`).
static JIB_AUTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-Djib\.to\.auth\.").expect("static regex"));
/// Jib's goals that keep the image local.
static JIB_LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"jib:(?:dockerBuild|buildTar)\b|\bjib(?:DockerBuild|BuildTar)\b")
        .expect("static regex")
});

pub static REFUSED: Refused = Refused {
    id: "jib",
    label: "jib:build / gradle jib",
    finder: Finder::Command {
        pattern: &BUILD_TOOL,
        pushes: |command| {
            JIB_PUSH.is_match(command)
                || (JIB_AUTH.is_match(command) && !JIB_LOCAL.is_match(command))
        },
    },
    reason: |what| {
        format!(
            "`{what}`: Jib builds the image and pushes it to the registry in one step; there is no image to scan before the push"
        )
    },
    hint: "build a tarball with `jib:buildTar` (Gradle: `jibBuildTar`), scan it, and push it with skopeo in a job that needs the scan; or gate the job by hand",
};

/// The shape (refused).
pub struct Jib;

crate::refused_shape!(Jib, REFUSED);
