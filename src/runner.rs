//! The runners a job asks for (`runs-on:`): the labels GitHub hosts, those
//! it has retired, and those a repository declares for its own runners.
//!
//! The three-job layout repeats the job's `runs-on:` in the scan and push
//! jobs. That is right for a label a runner answers to, and it is why a
//! label no one declares matters: a self-hosted or larger runner's label,
//! or a typo, that actionlint reports once in the original would be
//! reported three times after the migration.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::{Mapping, Value};

use crate::gate::scalar;

/// GitHub-hosted Ubuntu images GitHub no longer runs jobs on (20.04 was
/// retired on 2025-04-15).
const RETIRED: &[&str] = &["ubuntu-16.04", "ubuntu-18.04", "ubuntu-20.04"];

/// The runner the new jobs take when the job's image is retired.
pub const CURRENT: &str = "ubuntu-latest";

/// The labels actionlint 1.17.0 knows without a config: GitHub-hosted
/// images (standard and larger) and the generic labels of self-hosted
/// runners, as its `runner-label` message lists them.
const KNOWN: &[&str] = &[
    "windows-latest",
    "windows-latest-8-cores",
    "windows-2025",
    "windows-2025-vs2026",
    "windows-2022",
    "windows-11-arm",
    "windows-11-vs2026-arm",
    "ubuntu-slim",
    "ubuntu-latest",
    "ubuntu-latest-4-cores",
    "ubuntu-latest-8-cores",
    "ubuntu-latest-16-cores",
    "ubuntu-26.04",
    "ubuntu-26.04-arm",
    "ubuntu-24.04",
    "ubuntu-24.04-arm",
    "ubuntu-22.04",
    "ubuntu-22.04-arm",
    "xcode-27",
    "xcode-27-xlarge",
    "macos-latest",
    "macos-latest-xlarge",
    "macos-latest-large",
    "macos-26-intel",
    "macos-26-xlarge",
    "macos-26-large",
    "macos-26",
    "macos-15-intel",
    "macos-15-xlarge",
    "macos-15-large",
    "macos-15",
    "macos-14-xlarge",
    "macos-14-large",
    "macos-14",
    "self-hosted",
    "x64",
    "arm",
    "arm64",
    "linux",
    "macos",
    "windows",
];

/// The job's runner label, when GitHub has retired it.
pub fn retired_label(job: &Mapping) -> Option<String> {
    let label = job.get("runs-on").and_then(scalar)?;
    RETIRED
        .contains(&label.trim())
        .then(|| label.trim().to_owned())
}

/// A label of the job's `runs-on:` that neither GitHub nor the repository
/// declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undeclared {
    pub label: String,
    /// A known label one or two typing errors away (`ubuntu-lastest`).
    pub near: Option<&'static str>,
}

/// The first label of `job`'s `runs-on:` that is not GitHub's and not in
/// `declared` (the repository's self-hosted labels, `*` matching any run of
/// characters, as in actionlint's config). `${{ matrix.NAME }}` stands for
/// the matrix's literal values of NAME, as actionlint reads it; other
/// expressions are known only at run time and are not judged. A retired
/// image has its own handling ([`retired_label`]).
pub fn undeclared_label(job: &Mapping, declared: &[String]) -> Option<Undeclared> {
    let runs_on = job.get("runs-on")?;
    let labels = match runs_on {
        Value::Mapping(m) => m.get("labels")?,
        other => other,
    };
    let mut written = Vec::new();
    flatten(labels, &mut written);
    let labels: Vec<String> = written
        .iter()
        .flat_map(|label| match MATRIX_VALUE.captures(label) {
            Some(name) => matrix_values(job, &name[1]),
            None => vec![label.clone()],
        })
        .collect();
    labels
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.contains("${{") && !RETIRED.contains(&l.as_str()))
        .find(|l| {
            !KNOWN.iter().any(|k| k.eq_ignore_ascii_case(l))
                && !declared
                    .iter()
                    .any(|d| glob(&d.to_lowercase(), &l.to_lowercase()))
        })
        .map(|label| Undeclared {
            near: KNOWN
                .iter()
                .copied()
                .find(|k| strsim::levenshtein(k, &label.to_lowercase()) <= 2),
            label,
        })
}

/// Where a repository keeps its actionlint config, from its root.
pub const ACTIONLINT_CONFIGS: [&str; 2] = [".github/actionlint.yaml", ".github/actionlint.yml"];

/// A whole label that is one matrix value.
static MATRIX_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}\s*$").expect("static regex")
});

/// The scalars of `value`, a scalar or a list (of lists) of them.
fn flatten(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Sequence(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.extend(scalar(other)),
    }
}

/// The literal values the job's matrix gives `name`: its list and its
/// `include:` entries.
fn matrix_values(job: &Mapping, name: &str) -> Vec<String> {
    let Some(matrix) = job.get("strategy").and_then(|s| s.get("matrix")) else {
        return Vec::new();
    };
    let mut values = Vec::new();
    if let Some(list) = matrix.get(name) {
        flatten(list, &mut values);
    }
    for entry in matrix
        .get("include")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        if let Some(value) = entry.get(name) {
            flatten(value, &mut values);
        }
    }
    values
}

/// The labels under `self-hosted-runner: labels:` of an actionlint config
/// (`.github/actionlint.yaml`); none when the text declares none.
pub fn declared_labels(config: &Value) -> Vec<String> {
    config
        .get("self-hosted-runner")
        .and_then(|s| s.get("labels"))
        .and_then(Value::as_sequence)
        .map(|labels| labels.iter().filter_map(scalar).collect())
        .unwrap_or_default()
}

/// Whether `text` matches `pattern`, whose `*` matches any run of
/// characters.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn job(runs_on: &str) -> Mapping {
        yaml_serde::from_str(&format!("runs-on: {runs_on}\nsteps: []\n")).unwrap()
    }

    fn undeclared(runs_on: &str, declared: &[&str]) -> Option<String> {
        let declared: Vec<String> = declared.iter().map(|d| (*d).to_owned()).collect();
        undeclared_label(&job(runs_on), &declared).map(|u| u.label)
    }

    #[test]
    fn github_hosted_and_generic_self_hosted_labels_are_known() {
        assert_eq!(undeclared("ubuntu-latest", &[]), None);
        assert_eq!(undeclared("[self-hosted, linux, X64]", &[]), None);
        assert_eq!(undeclared("${{ matrix.os }}", &[]), None);
        assert_eq!(undeclared("ubuntu-20.04", &[]), None);
    }

    #[test]
    fn a_custom_label_is_undeclared_until_the_repository_declares_it() {
        assert_eq!(
            undeclared("arc-runner-set", &[]).as_deref(),
            Some("arc-runner-set")
        );
        assert_eq!(
            undeclared("[self-hosted, gpu]", &[]).as_deref(),
            Some("gpu")
        );
        assert_eq!(
            undeclared("{group: big, labels: [docker]}", &[]).as_deref(),
            Some("docker")
        );
        assert_eq!(undeclared("{group: big}", &[]), None);
        assert_eq!(
            undeclared("[[self-hosted, gpu]]", &[]).as_deref(),
            Some("gpu")
        );
        assert_eq!(undeclared("arc-runner-set", &["arc-runner-set"]), None);
        assert_eq!(undeclared("arc-runner-set", &["arc-*"]), None);
        assert_eq!(undeclared("arc-runner-set", &["*-set"]), None);
        assert_eq!(
            undeclared("arc-runner-set", &["arc-*-x"]).as_deref(),
            Some("arc-runner-set")
        );
    }

    #[test]
    fn a_matrix_value_stands_for_the_labels_the_matrix_lists() {
        let job = |matrix: &str| -> Mapping {
            yaml_serde::from_str(&format!(
                "strategy:\n  matrix:\n{matrix}runs-on: ${{{{ matrix.runner }}}}\nsteps: []\n"
            ))
            .unwrap()
        };
        let listed = job("    runner: [ubuntu-latest, my-custom]\n");
        let found = undeclared_label(&listed, &[]).map(|u| u.label);
        assert_eq!(found.as_deref(), Some("my-custom"));
        let included = job("    include:\n      - runner: [self-hosted, gpu]\n");
        let found = undeclared_label(&included, &[]).map(|u| u.label);
        assert_eq!(found.as_deref(), Some("gpu"));
        let known = job("    runner: [ubuntu-latest, ubuntu-24.04-arm]\n");
        assert_eq!(undeclared_label(&known, &[]), None);
        // A value computed at run time is not judged.
        let computed = job("    runner: ${{ fromJSON(needs.a.outputs.runners) }}\n");
        assert_eq!(undeclared_label(&computed, &[]), None);
    }

    #[test]
    fn a_typo_is_told_the_label_it_is_near() {
        let near = undeclared_label(&job("ubuntu-lastest"), &[]).unwrap().near;
        assert_eq!(near, Some("ubuntu-latest"));
        let near = undeclared_label(&job("docker"), &[]).unwrap().near;
        assert_eq!(near, None);
    }

    #[test]
    fn the_labels_of_an_actionlint_config_are_read() {
        let config: Value =
            yaml_serde::from_str("self-hosted-runner:\n  labels:\n    - docker\n    - 'gpu-*'\n")
                .unwrap();
        assert_eq!(declared_labels(&config), vec!["docker", "gpu-*"]);
        let empty: Value = yaml_serde::from_str("config-variables: null\n").unwrap();
        assert!(declared_labels(&empty).is_empty());
    }

    #[test]
    fn glob_matches_runs_of_characters() {
        assert!(glob("a*c", "abbc"));
        assert!(glob("a*", "a"));
        assert!(!glob("a*c", "ab"));
        assert!(!glob("abc", "abcd"));
        assert!(glob("*", ""));
        assert!(!glob("a*bc*bc", "abc"));
    }
}
