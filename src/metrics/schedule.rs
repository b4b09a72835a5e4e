//! `scangate init --report-workflow`: the weekly workflow that runs
//! `scangate report` on its repository, puts the Markdown in the job
//! summary and the HTML and JSON in an artifact.
//!
//! It asks for the least it needs: nothing at the top level; for its one job
//! `actions: read` (runs, jobs, artifacts), `contents: read` (the
//! workflows) and `security-events: read` (code scanning). It needs no
//! checkout: everything is read through the API. scangate is built from its
//! repository at the pinned commit (`cargo install --git … --rev`), the one
//! action it uses (`upload-artifact`) comes from the pins table, so every
//! piece of code it runs is fixed by a SHA. The API is read once
//! (`--keep`); the other formats are rendered from what was kept (`--from`).

use crate::check::drift_workflow::ActionRef;
use crate::pins::Pins;

/// Where `init` writes the workflow, relative to the repository root.
pub const PATH: &str = ".github/workflows/scangate-report.yml";

/// The workflow text for scangate's repository at `source`'s commit.
pub fn render(source: &ActionRef, pins: &Pins) -> String {
    format!(
        r#"# Written by `scangate init --report-workflow`.
#
# Every Monday: the success metrics of the scangate gate in this repository
# (gate coverage, releases pushed and blocked, vulnerabilities pushed and
# stopped, outdated base images, the trend per week) over the last 90 days.
# The Markdown goes to the job summary; the HTML page and the JSON to the
# `scangate-report` artifact. To report on several repositories, give
# GH_TOKEN a token that can read their Actions and add `--repo OWNER/NAME`.
name: scangate report

on:
  schedule:
    - cron: "23 5 * * 1"
  workflow_dispatch:

permissions: {{}}

concurrency:
  group: scangate-report
  cancel-in-progress: true

jobs:
  report:
    name: Gate metrics
    runs-on: ubuntu-24.04
    timeout-minutes: 60
    permissions:
      actions: read # workflow runs, their jobs and reports artifacts
      contents: read # the workflows at the default branch
      security-events: read # code scanning, for expired reports
    steps:
      - name: Install scangate
        env:
          SCANGATE_GIT: https://github.com/{repo}
          SCANGATE_REV: {sha}
        run: |
          set -euo pipefail
          cargo install --locked --root "$RUNNER_TEMP/scangate" --git "$SCANGATE_GIT" --rev "$SCANGATE_REV"
          echo "$RUNNER_TEMP/scangate/bin" >> "$GITHUB_PATH"

      - name: Report
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          SCANGATE_REPO: ${{{{ github.repository }}}}
        run: |
          set -euo pipefail
          out="$RUNNER_TEMP/scangate-report"
          mkdir -p "$out"
          scangate report --repo "$SCANGATE_REPO" --keep "$RUNNER_TEMP/scangate-data" --format json --output "$out/report.json"
          scangate report --from "$RUNNER_TEMP/scangate-data" --format html --output "$out/report.html"
          scangate report --from "$RUNNER_TEMP/scangate-data" --format markdown >> "$GITHUB_STEP_SUMMARY"

      - name: Upload the report
        uses: {upload}
        with:
          name: scangate-report
          path: ${{{{ runner.temp }}}}/scangate-report
          retention-days: 90
"#,
        repo = source.repo,
        sha = source.sha,
        upload = pins.uses("actions/upload-artifact"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_privilege_and_every_action_pinned() {
        let source: ActionRef = "acme/scangate@0123456789abcdef0123456789abcdef01234567"
            .parse()
            .unwrap();
        let text = render(&source, &Pins::embedded());
        let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        assert_eq!(doc["permissions"].as_mapping().map(|m| m.len()), Some(0));
        let perms = doc["jobs"]["report"]["permissions"].as_mapping().unwrap();
        let perms: Vec<(String, String)> = perms
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().unwrap().to_owned(),
                    v.as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            perms,
            [
                ("actions".to_owned(), "read".to_owned()),
                ("contents".to_owned(), "read".to_owned()),
                ("security-events".to_owned(), "read".to_owned())
            ]
        );
        let steps = doc["jobs"]["report"]["steps"].as_sequence().unwrap();
        for step in steps.iter().filter_map(|s| s["uses"].as_str()) {
            assert!(crate::check::rules::is_pinned(step), "{step} is not pinned");
        }
        assert!(text.contains("--rev \"$SCANGATE_REV\""));
        assert_eq!(
            steps[0]["env"]["SCANGATE_REV"].as_str(),
            Some(source.sha.as_str())
        );
        assert!(doc["on"]["schedule"][0]["cron"].as_str().is_some());
    }
}
