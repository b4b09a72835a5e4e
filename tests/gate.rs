#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate gate`: the laptop runs the gate CI runs. The flags come from
//! the repository's `scangate.toml` and are the generated gate step's own
//! (read back from a migrated fixture, not from scangate's code); a
//! stand-in `trivy` (tests/data/trivy/trivy) accepts only flags Trivy's
//! `image` command has, records what it was given and answers with the
//! exit code it is told to, which becomes the verdict.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

const CONFIG: &str = "[policy]\nseverity = [\"CRITICAL\"]\nignore-unfixed = false\nscanners = [\"vuln\"]\npkg-types = [\"os\"]\ntrivyignore = \".github/trivyignore\"\n";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A repository with the config and the model-service release workflow.
fn repo(config: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scangate.toml"), config).unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::copy(
        root().join("fixtures/model-service/.github/workflows/release.yml"),
        workflows.join("release.yml"),
    )
    .unwrap();
    dir
}

/// `scangate ARGS` in `dir` with `path` as PATH and the stand-in's settings.
fn scangate(dir: &Path, path: &str, exit: &str, args: &[&str]) -> Output {
    Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(dir)
        .env("PATH", path)
        .env("TRIVY_ARGS", dir.join("trivy-args"))
        .env("TRIVY_EXIT", exit)
        .args(args)
        .output()
        .unwrap()
}

fn with_stand_in() -> String {
    let stand_in = root().join("tests/data/trivy");
    format!(
        "{}:{}",
        stand_in.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn recorded(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("trivy-args"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The flags with values of a `trivy image` word list, as pairs, sorted;
/// `skip` flags (and their values) left out.
fn flag_pairs(words: &[String], skip: &[&str]) -> Vec<(String, String)> {
    let boolean = [
        "--ignore-unfixed",
        "--skip-db-update",
        "--skip-java-db-update",
    ];
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if boolean.contains(&w.as_str()) {
            pairs.push((w.clone(), String::new()));
            i += 1;
        } else if w.starts_with("--") {
            pairs.push((w.clone(), words[i + 1].clone()));
            i += 2;
        } else {
            i += 1;
        }
    }
    pairs.retain(|(f, _)| !skip.contains(&f.as_str()));
    pairs.sort();
    pairs
}

/// The flags of the `trivy image` line of the gate step that `migrate`
/// writes for this repository.
fn gate_step_flags(dir: &Path) -> Vec<(String, String)> {
    let out = scangate(dir, &with_stand_in(), "0", &["migrate", "--write", "."]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(dir.join(".github/workflows/release.yml")).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("trivy image --input") && l.contains("--exit-code"))
        .unwrap_or_else(|| panic!("no gate line in\n{text}"));
    let words: Vec<String> = line
        .split("||")
        .next()
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    flag_pairs(
        &words,
        &["--input", "--skip-db-update", "--skip-java-db-update"],
    )
}

#[test]
fn the_flags_are_the_generated_gate_steps() {
    for config in ["", CONFIG] {
        let dir = repo(config);
        let out = scangate(
            dir.path(),
            &with_stand_in(),
            "0",
            &["gate", "--print", "ghcr.io/acme/model-service:1.2.3"],
        );
        assert!(out.status.success(), "{out:?}");
        let printed = String::from_utf8(out.stdout).unwrap();
        let words: Vec<String> = printed.split_whitespace().map(str::to_owned).collect();
        assert_eq!(words[..2], ["trivy", "image"], "{printed}");
        assert_eq!(
            words.last().unwrap(),
            "ghcr.io/acme/model-service:1.2.3",
            "{printed}"
        );
        assert_eq!(
            flag_pairs(&words, &["--db-repository", "--java-db-repository"]),
            gate_step_flags(dir.path()),
            "config:\n{config}"
        );
        assert!(!dir.path().join("trivy-args").exists(), "--print ran trivy");
    }
}

#[test]
fn trivys_exit_code_is_the_verdict() {
    let dir = repo(CONFIG);
    for (trivy_exit, verdict) in [("0", 0), ("1", 1), ("3", 2)] {
        let out = scangate(
            dir.path(),
            &with_stand_in(),
            trivy_exit,
            &["gate", "acme/app:dev"],
        );
        assert_eq!(out.status.code(), Some(verdict), "{out:?}");
        // Trivy's table reaches the terminal.
        assert!(String::from_utf8_lossy(&out.stdout).contains("Total: 1"));
        let args = recorded(dir.path());
        assert_eq!(args[0], "image");
        assert!(args.windows(2).any(|w| w == ["--severity", "CRITICAL"]));
        assert!(!args.contains(&"--ignore-unfixed".to_owned()));
        assert_eq!(args.last().unwrap(), "acme/app:dev");
    }
    let stderr = String::from_utf8(
        scangate(dir.path(), &with_stand_in(), "1", &["gate", "acme/app:dev"]).stderr,
    )
    .unwrap();
    assert!(stderr.contains("the gate fails"), "{stderr}");
}

#[test]
fn an_archive_or_layout_is_scanned_with_input() {
    let dir = repo("");
    let layout = dir.path().join("image layout");
    std::fs::create_dir_all(&layout).unwrap();
    let out = scangate(
        dir.path(),
        &with_stand_in(),
        "0",
        &["gate", "--input", layout.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let args = recorded(dir.path());
    let at = args.iter().position(|a| a == "--input").unwrap();
    assert_eq!(PathBuf::from(&args[at + 1]), layout);
    assert!(args.contains(&"--ignore-unfixed".to_owned()));
    // --print quotes what a shell would split.
    let printed = scangate(
        dir.path(),
        &with_stand_in(),
        "0",
        &["gate", "--print", "--input", layout.to_str().unwrap()],
    );
    let printed = String::from_utf8(printed.stdout).unwrap();
    assert!(
        printed.contains(&format!("--input '{}'", layout.display())),
        "{printed}"
    );
}

#[test]
fn without_trivy_it_says_how_to_install_it() {
    let dir = repo("");
    let empty = tempfile::tempdir().unwrap();
    let out = scangate(
        dir.path(),
        empty.path().to_str().unwrap(),
        "0",
        &["gate", "acme/app:dev"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("`trivy` is not on PATH") && stderr.contains("v0.70.0"),
        "{stderr}"
    );
    // Neither an image nor --input: a usage error.
    let none = scangate(dir.path(), &with_stand_in(), "0", &["gate"]);
    assert_eq!(none.status.code(), Some(2));
}
