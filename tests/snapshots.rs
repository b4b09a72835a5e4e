#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The diff `scangate migrate --color never FILE` prints for each fixture,
//! pinned as an insta snapshot. The snapshots were reviewed by hand (build job
//! keeps the steps up to the build, the build exports instead of pushing, the
//! scan job gates, the push job keeps the original id, later steps follow the
//! push); any change to them must be reviewed the same way.

use std::path::Path;

use assert_cmd::Command;

/// Runs the dry run on `fixtures/<service>/.github/workflows/<file>` from the
/// crate root (so the paths in the diff headers are relative and stable) and
/// returns stdout. Also checks what holds for every fixture: exit 0, the
/// fixture is not modified, the output is a diff of that very file.
fn dry_run_diff(service: &str, file: &str) -> String {
    dry_run_diff_with(service, file, &[])
}

/// [`dry_run_diff`] with `extra` arguments to `scangate migrate`.
fn dry_run_diff_with(service: &str, file: &str, extra: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = format!("fixtures/{service}/.github/workflows/{file}");
    let before = std::fs::read(root.join(&rel)).expect("fixture exists");
    let out = Command::cargo_bin("scangate")
        .expect("binary is built")
        .current_dir(root)
        .args(["migrate", "--color", "never"])
        .args(extra)
        .arg(&rel)
        .output()
        .expect("scangate runs");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "exit code; stderr:\n{stderr}");
    assert_eq!(
        std::fs::read(root.join(&rel)).expect("fixture still exists"),
        before,
        "a dry run must not modify the fixture"
    );
    assert!(
        stdout.starts_with(&format!("--- a/{rel}\n+++ b/{rel}\n@@ ")),
        "not a unified diff of {rel}:\n{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "--color never printed escapes");
    stdout
}

macro_rules! fixture_snapshot {
    ($test:ident, $service:literal, $file:literal, $name:literal) => {
        #[test]
        fn $test() {
            let diff = dry_run_diff($service, $file);
            insta::assert_snapshot!($name, diff);
        }
    };
}

fixture_snapshot!(
    model_service_release,
    "model-service",
    "release.yml",
    "model-service-release"
);
fixture_snapshot!(
    model_service_prerelease,
    "model-service",
    "prerelease.yml",
    "model-service-prerelease"
);
fixture_snapshot!(
    app_frontend_release,
    "app-frontend",
    "release.yml",
    "app-frontend-release"
);
fixture_snapshot!(
    app_frontend_prerelease,
    "app-frontend",
    "prerelease.yml",
    "app-frontend-prerelease"
);
fixture_snapshot!(
    app_service_release,
    "app-service",
    "release.yml",
    "app-service-release"
);
fixture_snapshot!(
    app_service_prerelease,
    "app-service",
    "prerelease.yml",
    "app-service-prerelease"
);
fixture_snapshot!(
    shapes_script_push,
    "shapes",
    "script-push.yml",
    "shapes-script-push"
);
fixture_snapshot!(
    shapes_several_steps,
    "shapes",
    "several-steps.yml",
    "shapes-several-steps"
);
fixture_snapshot!(
    shapes_matrix_by_digest,
    "shapes",
    "matrix-by-digest.yml",
    "shapes-matrix-by-digest"
);
fixture_snapshot!(
    shapes_buildx_script,
    "shapes",
    "buildx-script.yml",
    "shapes-buildx-script"
);
fixture_snapshot!(
    shapes_buildx_attributes,
    "shapes",
    "buildx-attributes.yml",
    "shapes-buildx-attributes"
);
fixture_snapshot!(
    shapes_buildx_script_if,
    "shapes",
    "buildx-script-if.yml",
    "shapes-buildx-script-if"
);
fixture_snapshot!(shapes_after_ci, "shapes", "after-ci.yml", "shapes-after-ci");
fixture_snapshot!(
    shapes_ko_alternatives,
    "shapes",
    "ko-alternatives.yml",
    "shapes-ko-alternatives"
);
fixture_snapshot!(
    shapes_two_images,
    "shapes",
    "two-images.yml",
    "shapes-two-images"
);
fixture_snapshot!(
    shapes_matrix_script,
    "shapes",
    "matrix-script.yml",
    "shapes-matrix-script"
);
fixture_snapshot!(
    shapes_matrix_script_skip,
    "shapes",
    "matrix-script-skip.yml",
    "shapes-matrix-script-skip"
);
fixture_snapshot!(shapes_ko, "shapes", "ko.yml", "shapes-ko");
fixture_snapshot!(shapes_ko_steps, "shapes", "ko-steps.yml", "shapes-ko-steps");
fixture_snapshot!(shapes_jib, "shapes", "jib.yml", "shapes-jib");
fixture_snapshot!(
    shapes_jib_maven,
    "shapes",
    "jib-maven.yml",
    "shapes-jib-maven"
);
fixture_snapshot!(shapes_jib_auth, "shapes", "jib-auth.yml", "shapes-jib-auth");
fixture_snapshot!(shapes_jib_env, "shapes", "jib-env.yml", "shapes-jib-env");
fixture_snapshot!(
    shapes_docker_build_push,
    "shapes",
    "docker-build-push.yml",
    "shapes-docker-build-push"
);
fixture_snapshot!(shapes_podman, "shapes", "podman.yml", "shapes-podman");
fixture_snapshot!(
    shapes_podman_manifest,
    "shapes",
    "podman-manifest.yml",
    "shapes-podman-manifest"
);
fixture_snapshot!(shapes_ecr, "shapes", "ecr.yml", "shapes-ecr");
fixture_snapshot!(shapes_build_if, "shapes", "build-if.yml", "shapes-build-if");
fixture_snapshot!(
    shapes_docker_publish,
    "shapes",
    "docker-publish.yml",
    "shapes-docker-publish"
);
fixture_snapshot!(
    shapes_attestations,
    "shapes",
    "attestations.yml",
    "shapes-attestations"
);
fixture_snapshot!(
    shapes_by_digest_outputs,
    "shapes",
    "by-digest-outputs.yml",
    "shapes-by-digest-outputs"
);
fixture_snapshot!(
    shapes_outputs_tags,
    "shapes",
    "outputs-tags.yml",
    "shapes-outputs-tags"
);
fixture_snapshot!(
    shapes_outputs_push_input,
    "shapes",
    "outputs-push-input.yml",
    "shapes-outputs-push-input"
);
fixture_snapshot!(
    shapes_local_cache,
    "shapes",
    "local-cache.yml",
    "shapes-local-cache"
);
fixture_snapshot!(
    shapes_matrix_from_needs,
    "shapes",
    "matrix-from-needs.yml",
    "shapes-matrix-from-needs"
);
fixture_snapshot!(
    shapes_script_images,
    "shapes",
    "script-images.yml",
    "shapes-script-images"
);
fixture_snapshot!(
    shapes_run_defaults,
    "shapes",
    "run-defaults.yml",
    "shapes-run-defaults"
);
fixture_snapshot!(
    shapes_continue_on_error,
    "shapes",
    "continue-on-error.yml",
    "shapes-continue-on-error"
);
fixture_snapshot!(
    shapes_load_pull_request,
    "shapes",
    "load-pull-request.yml",
    "shapes-load-pull-request"
);
fixture_snapshot!(
    shapes_build_if_summary,
    "shapes",
    "build-if-summary.yml",
    "shapes-build-if-summary"
);
fixture_snapshot!(shapes_imageid, "shapes", "imageid.yml", "shapes-imageid");
fixture_snapshot!(
    shapes_push_secret,
    "shapes",
    "push-secret.yml",
    "shapes-push-secret"
);
fixture_snapshot!(
    shapes_manifest_if,
    "shapes",
    "manifest-if.yml",
    "shapes-manifest-if"
);
fixture_snapshot!(
    shapes_buildx_two,
    "shapes",
    "buildx-two.yml",
    "shapes-buildx-two"
);
fixture_snapshot!(
    shapes_buildx_output,
    "shapes",
    "buildx-output.yml",
    "shapes-buildx-output"
);
fixture_snapshot!(
    shapes_by_digest_tags,
    "shapes",
    "by-digest-tags.yml",
    "shapes-by-digest-tags"
);
fixture_snapshot!(
    shapes_matrix_build_if,
    "shapes",
    "matrix-build-if.yml",
    "shapes-matrix-build-if"
);
fixture_snapshot!(
    shapes_platforms_expression,
    "shapes",
    "platforms-expression.yml",
    "shapes-platforms-expression"
);
fixture_snapshot!(
    shapes_push_to_registry,
    "shapes",
    "push-to-registry.yml",
    "shapes-push-to-registry"
);
fixture_snapshot!(
    shapes_legacy_action,
    "shapes",
    "legacy-action.yml",
    "shapes-legacy-action"
);
fixture_snapshot!(
    shapes_script_login,
    "shapes",
    "script-login.yml",
    "shapes-script-login"
);
fixture_snapshot!(
    shapes_no_builder,
    "shapes",
    "no-builder.yml",
    "shapes-no-builder"
);

/// The same with signing on (`--sign`): the scan job also writes the
/// cosign-vuln predicate, and the push job signs and attests after the push,
/// before the steps that followed it.
macro_rules! signed_snapshot {
    ($test:ident, $service:literal, $file:literal, $name:literal) => {
        #[test]
        fn $test() {
            let diff = dry_run_diff_with($service, $file, &["--sign"]);
            let push = diff.find("Push the scanned image").expect("a push step");
            let sign = diff.find("cosign sign --yes").expect("a cosign sign");
            assert!(push < sign, "signing must follow the push");
            insta::assert_snapshot!($name, diff);
        }
    };
}

signed_snapshot!(
    signed_model_service_release,
    "model-service",
    "release.yml",
    "signed-model-service-release"
);
signed_snapshot!(
    signed_app_service_release,
    "app-service",
    "release.yml",
    "signed-app-service-release"
);
signed_snapshot!(
    signed_shapes_script_push,
    "shapes",
    "script-push.yml",
    "signed-shapes-script-push"
);
/// Push-by-digest legs cannot make a signed image (the index the merge job
/// creates is what tags resolve to): with signing on, a refusal.
#[test]
fn signed_push_by_digest_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = "fixtures/shapes/.github/workflows/matrix-by-digest.yml";
    let out = Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(root)
        .args(["migrate", "--sign", "--color", "never", rel])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("{rel}:45:7: "))
            && stderr.contains("pushes by digest")
            && stderr.contains("imagetools create"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
fixture_snapshot!(shapes_promote, "shapes", "promote.yml", "shapes-promote");
fixture_snapshot!(
    shapes_promote_seed,
    "shapes",
    "promote-seed.yml",
    "shapes-promote-seed"
);
fixture_snapshot!(
    shapes_guarded_builds,
    "shapes",
    "guarded-builds.yml",
    "shapes-guarded-builds"
);
fixture_snapshot!(shapes_reusable, "shapes", "reusable.yml", "shapes-reusable");
