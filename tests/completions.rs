#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate completions SHELL` and `scangate man`: each shell's script is
//! generated and names the commands; the bash one is sourced in a real bash
//! and completes `scangate mi` to `migrate`; the manual page is roff with
//! every command, and `--dir` writes one page per command.

use std::process::Output;

use assert_cmd::Command;

fn scangate(args: &[&str]) -> Output {
    Command::cargo_bin("scangate")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = scangate(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const COMMANDS: &[&str] = &["migrate", "check", "init", "pins", "pr", "policy"];

#[test]
fn every_shell_gets_a_script_that_names_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        for command in COMMANDS {
            assert!(script.contains(command), "{shell}: no `{command}`");
        }
    }
    let bad = scangate(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values"));
}

/// What bash's completion offers for `words`, the last one being completed,
/// after sourcing the script in a fresh bash.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> String {
    let current = words.len() - 1;
    let program = format!(
        "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={current}\n_scangate scangate {} {}\necho \"${{COMPREPLY[*]}}\"\n",
        script.display(),
        words.join(" "),
        words[current],
        words[current - 1],
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn bash_completes_commands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("scangate.bash");
    std::fs::write(&script, stdout_of(&["completions", "bash"])).unwrap();
    assert_eq!(bash_completes(&script, &["scangate", "mi"]), "migrate");
    assert_eq!(
        bash_completes(&script, &["scangate", "p"]),
        "pins pr policy"
    );
    assert_eq!(
        bash_completes(&script, &["scangate", "migrate", "--wr"]),
        "--write"
    );
}

#[test]
fn the_manual_page_lists_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH scangate 1"), "{page}");
    for command in COMMANDS {
        assert!(page.contains(&format!("scangate\\-{command}")), "{command}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = scangate(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    for command in COMMANDS {
        let sub = std::fs::read_to_string(dir.path().join(format!("scangate-{command}.1")))
            .unwrap_or_else(|e| panic!("scangate-{command}.1: {e}"));
        assert!(sub.contains(".TH scangate-"), "{command}");
    }
    let migrate = std::fs::read_to_string(dir.path().join("scangate-migrate.1")).unwrap();
    assert!(migrate.contains("\\-\\-write"), "{migrate}");
}
