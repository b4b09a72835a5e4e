#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The pre-commit hooks of `.pre-commit-hooks.yaml`, run for real: the
//! pinned `pre-commit` (scripts/install-tools.sh) runs `try-repo` against
//! this checkout in a temporary git repository — on an ungated workflow
//! both hooks fail and say why, on its migration both pass.
//!
//! `language: rust` makes pre-commit `cargo install` this crate (a release
//! build) into its cache. The test keeps that cost once per checkout: the
//! cache (PRE_COMMIT_HOME) and cargo's target folder live under `target/`,
//! and the release profile is set to build like a debug one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const INSTALL_HINT: &str =
    "run `scripts/install-tools.sh` (installs the pinned tools into .tools/venv)";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pre_commit() -> PathBuf {
    let path = root().join(".tools/venv/bin/pre-commit");
    assert!(
        path.is_file(),
        "pre-commit not found at {}: {INSTALL_HINT}",
        path.display()
    );
    path
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// `pre-commit try-repo <this checkout> HOOK --all-files` in `dir`.
fn try_hook(dir: &Path, hook: &str) -> Output {
    let target = root().join("target");
    Command::new(pre_commit())
        .current_dir(dir)
        .args(["try-repo", root().to_str().unwrap(), hook, "--all-files"])
        .env("PRE_COMMIT_HOME", target.join("pre-commit-home"))
        .env("CARGO_TARGET_DIR", target.join("pre-commit-build"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_hooks_fail_on_an_ungated_workflow_and_pass_on_its_migration() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    let workflows = dir.join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let workflow = workflows.join("release.yml");
    std::fs::copy(
        root().join("fixtures/model-service/.github/workflows/release.yml"),
        &workflow,
    )
    .unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "ungated"]);

    let check = try_hook(dir, "scangate-check");
    let shown = text(&check);
    assert_eq!(check.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("scangate check") && shown.contains("Failed"),
        "{shown}"
    );
    assert!(
        shown.contains(".github/workflows/release.yml") && shown.contains("ungated"),
        "the finding is not in the output:\n{shown}"
    );
    let migrate = try_hook(dir, "scangate-migrate");
    let shown = text(&migrate);
    assert_eq!(migrate.status.code(), Some(1), "{shown}");
    assert!(shown.contains("+++ ") && shown.contains("-scan"), "{shown}");
    assert_eq!(
        std::fs::read(&workflow).unwrap(),
        std::fs::read(root().join("fixtures/model-service/.github/workflows/release.yml")).unwrap(),
        "migrate --check wrote the file"
    );

    let migrated = Command::new(env!("CARGO_BIN_EXE_scangate"))
        .current_dir(dir)
        .args(["migrate", "--write", "."])
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    git(dir, &["commit", "-qam", "gated"]);
    for hook in ["scangate-check", "scangate-migrate"] {
        let out = try_hook(dir, hook);
        assert_eq!(out.status.code(), Some(0), "{hook}:\n{}", text(&out));
        assert!(text(&out).contains("Passed"), "{hook}:\n{}", text(&out));
    }
}
