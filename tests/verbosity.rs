#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `--quiet` and `--verbose`, as in ripgrep and zizmor: quiet leaves the
//! result (diffs, findings) and errors; verbose adds what was read and
//! decided (the config, each file, the layout and why). Colour: none when
//! standard output is not a terminal, unless `--color always`.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

/// A repository holding the model-service workflows and `extra` files.
fn repo(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/model-service/.github/workflows");
    for file in ["release.yml", "prerelease.yml"] {
        std::fs::copy(fixtures.join(file), workflows.join(file)).unwrap();
    }
    for (path, text) in extra {
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    dir
}

fn scangate(dir: &Path, args: &[&str]) -> (Output, String, String) {
    let out = Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    (out, stdout, stderr)
}

#[test]
fn migrate_quiet_keeps_the_diff_and_verbose_says_why() {
    let dir = repo(&[]);
    let (normal, diff, chatter) = scangate(dir.path(), &["migrate", "."]);
    assert_eq!(normal.status.code(), Some(0));
    assert!(diff.contains("+++ "), "{diff}");
    assert!(chatter.contains("would migrate"), "{chatter}");
    assert!(!chatter.contains("layout:"), "{chatter}");

    let (quiet, quiet_diff, quiet_err) = scangate(dir.path(), &["migrate", "--quiet", "."]);
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(quiet_diff, diff);
    assert_eq!(quiet_err, "");

    let (_, _, verbose) = scangate(dir.path(), &["migrate", "-v", "--layout", "steps", "."]);
    assert!(
        verbose.contains("config: no scangate.toml found")
            && verbose.contains("layout: steps, from --layout"),
        "{verbose}"
    );
    let configured = repo(&[("scangate.toml", "[layout]\nmode = \"jobs\"\n")]);
    let (_, _, from_config) = scangate(configured.path(), &["migrate", "-v", "."]);
    assert!(
        from_config.contains("config: ./scangate.toml")
            && from_config.contains("layout: jobs, from the config"),
        "{from_config}"
    );
    // Not a terminal: no colour, unless asked for.
    assert!(!diff.contains('\u{1b}'));
    let (_, coloured, _) = scangate(dir.path(), &["migrate", "--color", "always", "."]);
    assert!(coloured.contains("\u{1b}["));
    // One or the other.
    let (both, _, _) = scangate(dir.path(), &["migrate", "-q", "-v", "."]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn check_quiet_prints_findings_and_errors_only() {
    let dir = repo(&[(".github/workflows/broken.yml", "jobs: [\n")]);
    let (normal, findings, notes) = scangate(dir.path(), &["check", "."]);
    assert_eq!(normal.status.code(), Some(2));
    assert!(findings.contains("ungated-push"), "{findings}");
    assert!(
        notes.contains("error:") && notes.contains("finding"),
        "{notes}"
    );

    let (quiet, quiet_findings, quiet_notes) = scangate(dir.path(), &["check", "-q", "."]);
    assert_eq!(quiet.status.code(), Some(2));
    assert_eq!(quiet_findings, findings);
    assert!(quiet_notes.starts_with("error:"), "{quiet_notes}");
    assert!(
        quiet_notes.lines().all(|l| l.starts_with("error")),
        "{quiet_notes}"
    );

    let (_, _, verbose) = scangate(dir.path(), &["check", "--verbose", "."]);
    assert!(
        verbose.contains("checking ./.github/workflows/release.yml"),
        "{verbose}"
    );
}
