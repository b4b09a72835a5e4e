//! The words of a migration: the pull request's title and body and the
//! commit message, each a pure function of what was migrated, so that a
//! re-run renders the same text (and knows the PR needs no refresh) and
//! later additions (signing verification commands) are more data.

use std::fmt::Write;

use crate::migrate::MigratedJob;
use crate::policy::Policy;

/// The last line of every commit scangate makes. A branch whose commits
/// all carry it holds only scangate's work and may be replaced; any other
/// commit is someone's and is never overwritten.
pub const TRAILER: &str = "Generated-by: scangate";

/// The first line of the body: how scangate recognises its own PR text.
pub const MARKER: &str = "<!-- scangate:pr v1 -->";

pub const TITLE: &str = "Scan container images with Trivy before they are pushed";

/// One workflow file the pull request changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: String,
    pub jobs: Vec<MigratedJob>,
}

/// A workflow that still needs a person, with the first reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    pub path: String,
    pub line: usize,
    pub reason: String,
}

/// Everything the body says.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub repo: &'a str,
    pub files: &'a [ChangedFile],
    pub manual: &'a [Manual],
    pub policy: &'a Policy,
}

/// Whether `message` ends with scangate's trailer.
pub fn is_ours(message: &str) -> bool {
    message.lines().map(str::trim).any(|l| l == TRAILER)
}

/// The commit message: a summary line, the jobs per file, the trailer.
pub fn commit_message(change: &Change<'_>) -> String {
    let mut out = format!("{TITLE}\n\n");
    for file in change.files {
        for job in &file.jobs {
            let _ = writeln!(out, "{}: job {}", file.path, job.chain());
        }
    }
    let _ = write!(
        out,
        "\nThe push jobs now push the scanned image only if Trivy finds no {} vulnerabilities or secrets.\n\n{TRAILER}\n",
        change.policy.severity
    );
    out
}

/// The pull request body (Markdown).
pub fn pull_body(change: &Change<'_>) -> String {
    let mut out = format!(
        "{MARKER}\nThis pull request puts a **Trivy gate** between building and pushing the container images of `{}`: each image is built, scanned, and pushed only if the scan passes — the scanned bytes, never a rebuild.\n\n",
        change.repo
    );
    out.push_str(&images(change.files));
    out.push_str(&expressions(change.files));
    out.push_str(&policy(change.policy));
    out.push_str(&reports(change.files, change.policy));
    out.push_str(&verify(change.repo));
    if let Some(signing) = &change.policy.signing {
        out.push_str(&signatures(change, signing));
    }
    out.push_str(&manual(change.manual));
    out.push_str(&format!(
        "---\nMade by `scangate pr` {}. Re-running it updates this branch while it holds only scangate's commits (`{TRAILER}`); if you push to the branch, scangate leaves it alone.\n",
        env!("CARGO_PKG_VERSION")
    ));
    out
}

fn images(files: &[ChangedFile]) -> String {
    let mut out = String::from(
        "## Images gated\n\n| workflow | job | image tags | platforms |\n| --- | --- | --- | --- |\n",
    );
    for file in files {
        for job in &file.jobs {
            let platforms = if job.platforms.is_empty() {
                "default".to_owned()
            } else {
                job.platforms.join(", ")
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                file.path,
                job.chain(),
                cell(&job.tags),
                platforms
            );
        }
    }
    out.push_str("\nThe push job keeps its id and name, so `needs:`, its outputs and required status checks keep working.\n\n");
    out
}

/// The expressions of rewritten scripts that now reach them as shell
/// variables: a change beyond the push the reviewer should see named.
fn expressions(files: &[ChangedFile]) -> String {
    let moved: Vec<String> = files
        .iter()
        .flat_map(|f| &f.jobs)
        .flat_map(|j| &j.moved_expressions)
        .map(|(written, variable)| format!("{} → {}", cell(written), cell(variable)))
        .collect();
    if moved.is_empty() {
        return String::new();
    }
    format!(
        "The scripts scangate rewrites read their expressions as shell variables ({}), set in the step's `env:` unless the runner sets them: a value is no longer pasted into the script (zizmor's fix for template injection), and code scanning sees no new finding in the rewritten step.\n\n",
        moved.join(", ")
    )
}

/// A table cell: one line, no pipes, code-formatted.
fn cell(text: &str) -> String {
    let one_line = crate::gate::one_line(text);
    format!("`{}`", one_line.replace('|', "\\|").replace('`', "'"))
}

fn policy(policy: &Policy) -> String {
    let mut what = Vec::new();
    if policy.scanners.vuln {
        what.push(format!(
            "**{}** vulnerabilities (packages: {}{})",
            policy.severity,
            policy.pkg_types,
            if policy.ignore_unfixed {
                "; fixed ones only: `--ignore-unfixed`"
            } else {
                "; fixed or not"
            }
        ));
    }
    if policy.scanners.secret {
        what.push("secrets found in the image".to_owned());
    }
    if policy.fail_on_misconfig {
        what.push(format!(
            "**{}** Dockerfile misconfigurations",
            policy.severity
        ));
    }
    format!(
        "## Policy\n\nThe gate fails on {}. Trivy {} is pinned, and every action added is pinned by commit SHA. Each job gets least-privilege `permissions:`.\n\n",
        what.join(", and on "),
        policy.trivy_version
    )
}

fn reports(files: &[ChangedFile], policy: &Policy) -> String {
    let mut names: Vec<String> = files
        .iter()
        .flat_map(|f| &f.jobs)
        .map(|j| format!("`{}`", policy.reports.artifact_of(&j.job)))
        .collect();
    names.dedup();
    let artifacts = if names.len() == 1 {
        "artifact"
    } else {
        "artifacts"
    };
    format!(
        "## Where the reports appear\n\n- On every run, pass or fail: the workflow run's {artifacts} {} (Trivy JSON and SARIF), kept {} days.\n{}- The failing scan's log names each finding that stopped the push.\n\n",
        names.join(", "),
        policy.reports.retention_days,
        if policy.reports.sarif {
            "- In the **Security → Code scanning** tab, one category per image and platform (where code scanning is enabled; the upload never blocks the release).\n"
        } else {
            ""
        }
    )
}

fn verify(repo: &str) -> String {
    format!(
        "## How to verify\n\n1. Run the changed workflows (e.g. on a pre-release tag): the `-build`, `-scan` and push jobs appear in order, and the push job fails unless the registry holds the digest that was scanned.\n2. Locally, in a checkout of this branch:\n\n   ```sh\n   scangate check .          # exit 0: every push is gated\n   scangate migrate --check  # exit 0: nothing left to migrate\n   ```\n\n## Keep the gate in CI\n\n```sh\nscangate check --repo {repo}\n# or, as a scheduled workflow in this repository:\nscangate init --drift-workflow --action OWNER/scangate@<commit SHA>\n```\n\n"
    )
}

/// With signing on: how to check a pushed image's signature, vulnerability
/// attestation and provenance by hand, per workflow that pushes, and how to
/// make the cluster check them.
fn signatures(change: &Change<'_>, signing: &crate::signing::Signing) -> String {
    let mut out = String::from(
        "## Signatures and attestations

After the push, each image is signed (cosign, keyless) and attested: its Trivy vulnerability report, and its build provenance (GitHub artifact attestation). Check a released image by hand:

",
    );
    for file in change.files {
        let workflow = file.path.rsplit('/').next().unwrap_or(&file.path);
        let identity = crate::signing::Identity {
            repo: change.repo.to_owned(),
            workflow: workflow.to_owned(),
        };
        let _ = write!(
            out,
            "Pushed by `{}`:

```sh
{}```

",
            file.path,
            identity.verify_commands("IMAGE@sha256:DIGEST", signing)
        );
    }
    let _ = write!(
        out,
        "Admit only such images in the cluster: `scangate policy kyverno --repo {0}` (or `policy-controller`) prints the policies.\n\n",
        change.repo
    );
    out
}

fn manual(manual: &[Manual]) -> String {
    if manual.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Still needs manual migration\n\nscangate left these workflows unchanged because it could not rewrite them safely:\n\n",
    );
    for m in manual {
        let _ = writeln!(out, "- `{}` line {}: {}", m.path, m.line, m.reason);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn job() -> MigratedJob {
        MigratedJob {
            job: "release".into(),
            layout: "jobs",
            build_job: "release-build".into(),
            scan_job: "release-scan".into(),
            tags: "ghcr.io/acme/app:1|x\nghcr.io/acme/app:latest".into(),
            platforms: vec!["linux/amd64".into()],
            push_if: None,
            moved_steps: 0,
            late_scans: 0,
            fallback: None,
            fallback_fix: None,
            warnings: Vec::new(),
            moved_expressions: Vec::new(),
        }
    }

    #[test]
    fn body_names_the_expressions_that_became_variables() {
        let mut moved = job();
        moved.moved_expressions = vec![("${{ inputs.tag }}".into(), "${INPUTS_TAG}".into())];
        let files = [ChangedFile {
            path: ".github/workflows/release.yml".into(),
            jobs: vec![moved],
        }];
        assert!(expressions(&files).contains("`${{ inputs.tag }}` → `${INPUTS_TAG}`"));
        let plain = [ChangedFile {
            path: ".github/workflows/release.yml".into(),
            jobs: vec![job()],
        }];
        assert_eq!(expressions(&plain), "");
    }

    #[test]
    fn body_says_what_where_and_how() {
        let files = [ChangedFile {
            path: ".github/workflows/release.yml".into(),
            jobs: vec![job()],
        }];
        let manual = [Manual {
            path: ".github/workflows/other.yml".into(),
            line: 12,
            reason: "a podman push".into(),
        }];
        let policy = Policy::default();
        let change = Change {
            repo: "acme/app",
            files: &files,
            manual: &manual,
            policy: &policy,
        };
        let body = pull_body(&change);
        assert!(body.starts_with(MARKER));
        assert!(body.contains("`ghcr.io/acme/app:1\\|x ghcr.io/acme/app:latest`"));
        assert!(body.contains("**CRITICAL,HIGH**"));
        assert!(body.contains("`scangate-release-reports`"));
        assert!(body.contains("scangate check --repo acme/app"));
        assert!(body.contains("`.github/workflows/other.yml` line 12: a podman push\n\n---\n"));
        assert!(!body.contains("\n\n\n"), "{body}");
        assert!(!body.contains("cosign"), "{body}");
        let signed = Policy {
            signing: Some(crate::signing::Signing::default()),
            ..Policy::default()
        };
        let body = pull_body(&Change {
            policy: &signed,
            ..change
        });
        assert!(
            body.contains("cosign verify-attestation --type vuln")
                && body.contains("gh attestation verify oci://IMAGE@sha256:DIGEST --repo acme/app")
                && body.contains(r"release\.yml@refs/tags/"),
            "{body}"
        );
        let message = commit_message(&change);
        assert!(is_ours(&message));
        assert!(message.starts_with(TITLE));
        assert!(!is_ours("Update release.yml\n\nGenerated-by: scangate-ish"));
    }
}
