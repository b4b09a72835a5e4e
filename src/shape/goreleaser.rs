//! GoReleaser (`goreleaser release`, or its action): the images of its
//! `dockers:`/`kos:` configuration are built and pushed inside the one
//! release step. That configuration lives outside the workflow, so the
//! step counts as a push when its job logs in to a container registry
//! (nothing else there needs the login) and the release publishes (no
//! `--snapshot`, no skipped publishing or docker stage). Detected and
//! refused: there is no image to scan before the push.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::Mapping;

use super::{Finder, Refused};
use crate::gate;

static RELEASE_RUN: LazyLock<Regex> = LazyLock::new(|| {
    // #[allow]: constant patterns, exercised by the tests.
    Regex::new(r"\bgoreleaser\s+release\b[^\n;&|]*").expect("static regex")
});
/// Subcommands of the action's `args` that release (the root command
/// releases too, so empty `args` do).
static OTHER_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:build|check|healthcheck|init|changelog|completion|jsonschema|man|verify-license|continue|publish|announce)\b")
        .expect("static regex")
});
/// Flags that keep images local.
static LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"--snapshot\b|--skip[-=\s]+(?:[a-z,-]*,)?(?:publish|docker|ko)\b")
        .expect("static regex")
});

/// The release command of `step`, as messages name it, when it publishes.
fn release(step: &Mapping) -> Option<String> {
    let what = match gate::action_name(step) {
        Some(action) if action == "goreleaser/goreleaser-action" => {
            let args = gate::input(step, "args").unwrap_or_default();
            if OTHER_COMMAND.is_match(&args) {
                return None;
            }
            format!("goreleaser {}", args.trim()).trim_end().to_owned()
        }
        Some(_) => return None,
        None => {
            let run = gate::shell_body(step.get("run")?.as_str()?);
            RELEASE_RUN.find(&run)?.as_str().trim().to_owned()
        }
    };
    (!LOCAL.is_match(&what)).then_some(what)
}

/// Whether a step of `job` logs in to a container registry.
fn logs_in(job: &Mapping) -> bool {
    gate::steps(job)
        .iter()
        .any(|(_, s)| gate::registry_login(s))
}

pub static REFUSED: Refused = Refused {
    id: "goreleaser",
    label: "goreleaser release",
    finder: Finder::InJob(|job, step| release(step).filter(|_| logs_in(job))),
    reason: |what| {
        format!(
            "`{what}` runs in a job that logs in to a container registry: the images of its `dockers:`/`kos:` configuration are built and pushed inside that one step; there is no image to scan before the push"
        )
    },
    hint: "set `skip_push: true` on those images (they stay in the Docker daemon) and push them with `docker push IMAGE:TAG` in a later step, which scangate migrates; pass `--skip=docker` if the release builds no image; or gate the job by hand",
};

/// The shape (refused).
pub struct Goreleaser;

crate::refused_shape!(Goreleaser, REFUSED);

#[cfg(test)]
mod tests {
    use super::*;

    fn step(text: &str) -> Mapping {
        yaml_serde::from_str(text).unwrap()
    }

    #[test]
    fn a_publishing_release_is_named_and_a_local_one_is_not() {
        let action = |args: &str| {
            release(&step(&format!(
                "uses: goreleaser/goreleaser-action@v6\nwith:\n  args: {args}\n"
            )))
        };
        assert_eq!(
            action("release --clean").as_deref(),
            Some("goreleaser release --clean")
        );
        assert_eq!(action("''").as_deref(), Some("goreleaser"));
        assert_eq!(action("release --snapshot --clean"), None);
        assert_eq!(action("release --skip=publish"), None);
        assert_eq!(action("release --skip=validate,docker"), None);
        assert_eq!(action("build --single-target"), None);
        let run = release(&step(
            "run: |\n  go test ./...\n  goreleaser release --clean\n",
        ));
        assert_eq!(run.as_deref(), Some("goreleaser release --clean"));
        assert_eq!(release(&step("run: goreleaser check")), None);
    }

    #[test]
    fn only_a_job_that_logs_in_to_a_registry_counts() {
        let job = |login: &str| -> Mapping {
            yaml_serde::from_str(&format!(
                "steps:\n  - uses: actions/checkout@v5\n{login}  - uses: goreleaser/goreleaser-action@v6\n    with:\n      args: release --clean\n"
            ))
            .unwrap()
        };
        assert!(!logs_in(&job("")));
        assert!(logs_in(&job("  - uses: docker/login-action@v3\n")));
        assert!(logs_in(&job(
            "  - run: echo \"$T\" | docker login ghcr.io -u x --password-stdin\n"
        )));
    }
}
