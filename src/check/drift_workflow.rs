//! `scangate init --drift-workflow`: the scheduled workflow that runs
//! `scangate check` in a repository and uploads the findings to code
//! scanning.
//!
//! The workflow runs scangate through scangate's own composite action
//! (`action.yml` at the root of the scangate repository), pinned by commit
//! SHA like every other action in it; `checkout` and `upload-sarif` come
//! from the embedded pins table. It asks for the least it needs: nothing at
//! the top level, and `contents: read`, `security-events: write` (upload)
//! and `actions: read` (upload on private repositories) for its one job.

use std::fmt;
use std::str::FromStr;

use crate::pins::Pins;

/// Where `init` writes the workflow, relative to the repository root.
pub const PATH: &str = ".github/workflows/scangate-drift.yml";

/// The scangate action to run: `owner/repo@<commit SHA>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRef {
    /// `owner/repo`.
    pub repo: String,
    /// A full commit SHA.
    pub sha: String,
}

impl FromStr for ActionRef {
    type Err = String;

    /// Only a full commit SHA is accepted: a tag or branch can be moved by
    /// whoever controls the repository, and the drift check would then run
    /// someone else's code with `security-events: write`.
    fn from_str(s: &str) -> Result<Self, String> {
        let Some((repo, sha)) = s.split_once('@') else {
            return Err(format!(
                "`{s}` names no commit: write OWNER/REPO@<40-hex commit SHA> of the scangate repository"
            ));
        };
        let name_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        let repo_ok = matches!(repo.split_once('/'), Some((o, n)) if name_ok(o) && name_ok(n));
        if !repo_ok {
            return Err(format!("`{repo}` is not OWNER/REPO"));
        }
        if !(sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(format!(
                "`{sha}` is not a full commit SHA: pin the action by commit (e.g. `git ls-remote https://github.com/{repo} refs/tags/{sha}` prints the commit of a tag)"
            ));
        }
        Ok(ActionRef {
            repo: repo.to_owned(),
            sha: sha.to_ascii_lowercase(),
        })
    }
}

impl fmt::Display for ActionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.repo, self.sha)
    }
}

/// What goes into the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftWorkflow {
    pub action: ActionRef,
    /// A scangate release tag to install (`cargo install --git … --tag`);
    /// `None` installs the action's own pinned source.
    pub version: Option<String>,
}

/// Whether `s` can be written as a plain YAML scalar without quoting.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '/'))
}

impl DriftWorkflow {
    /// The workflow text.
    pub fn render(&self, pins: &Pins) -> Result<String, String> {
        let with = match &self.version {
            None => String::new(),
            Some(v) if plain(v) => format!(
                "        with:\n          git: https://github.com/{}\n          version: {v}\n",
                self.action.repo
            ),
            Some(v) => return Err(format!("`{v}` is not a version tag")),
        };
        Ok(format!(
            r#"# Written by `scangate init --drift-workflow`.
#
# Proves, on a schedule and whenever a workflow changes, that every container
# image is still scanned by Trivy before it is pushed (the gate invariants),
# and that `scangate migrate` would change nothing. Findings go to code
# scanning (SARIF) and to the job summary; the job fails on drift.
name: scangate drift check

on:
  schedule:
    - cron: "17 6 * * *"
  workflow_dispatch:
  push:
    paths:
      - ".github/workflows/**"

permissions: {{}}

concurrency:
  group: scangate-drift-${{{{ github.ref }}}}
  cancel-in-progress: true

jobs:
  drift:
    name: Gate drift check
    runs-on: ubuntu-24.04
    timeout-minutes: 30
    permissions:
      actions: read # upload-sarif reads the run on private repositories
      contents: read # check out the workflows
      security-events: write # upload the findings to code scanning
    steps:
      - name: Check out the workflows
        uses: {checkout}
        with:
          persist-credentials: false

      - name: Check the gate invariants
        id: scangate
        uses: {action}
{with}
      - name: Upload the findings to code scanning
        if: ${{{{ !cancelled() && steps.scangate.outputs.sarif != '' }}}}
        # Private repositories without code scanning reject the upload; the
        # findings are in the job summary either way.
        continue-on-error: true
        uses: {upload}
        with:
          sarif_file: ${{{{ steps.scangate.outputs.sarif }}}}
          category: scangate-drift
"#,
            checkout = pins.uses("actions/checkout"),
            upload = pins.uses("github/codeql-action/upload-sarif"),
            action = self.action,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn only_commit_pins_are_accepted() {
        let a: ActionRef = format!("acme/scangate@{SHA}").parse().unwrap();
        assert_eq!(a.repo, "acme/scangate");
        assert!("acme/scangate@v1".parse::<ActionRef>().is_err());
        assert!("acme/scangate".parse::<ActionRef>().is_err());
        assert!(format!("acme@{SHA}").parse::<ActionRef>().is_err());
    }

    #[test]
    fn every_action_is_pinned() {
        let wf = DriftWorkflow {
            action: format!("acme/scangate@{SHA}").parse().unwrap(),
            version: Some("v0.2.0".into()),
        }
        .render(&Pins::embedded())
        .unwrap();
        let doc: yaml_serde::Value = yaml_serde::from_str(&wf).unwrap();
        let steps = doc["jobs"]["drift"]["steps"].as_sequence().unwrap();
        for step in steps {
            let uses = step["uses"].as_str().unwrap();
            assert!(crate::check::rules::is_pinned(uses), "{uses} is not pinned");
        }
        assert_eq!(steps[1]["with"]["version"].as_str(), Some("v0.2.0"));
    }
}
