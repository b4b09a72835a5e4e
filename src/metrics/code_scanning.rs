//! The fallback for a run whose reports artifact has expired: the SARIF its
//! scan job uploaded to code scanning, one analysis per scanned target, with
//! the category `PREFIX/STEM/JOB/SLUG` (`templates/scan-job.yml`).
//!
//! Two endpoints were possible. `GET …/code-scanning/alerts` gives each
//! alert's *most recent* instance only, so an alert seen again by a later
//! run of the same ref no longer names the older run, and a fixed one names
//! the run that no longer found it: the counts of an older run cannot be
//! read from it. `GET …/code-scanning/analyses/{id}` with
//! `Accept: application/sarif+json` answers the SARIF of that one upload,
//! so the analyses are listed (`?tool_name=Trivy`), matched to the run by
//! commit, ref and category, and each matched analysis is read whole.
//!
//! Trivy writes each vulnerability result's message as `Package: …`,
//! `Installed Version: …`, `Vulnerability …`, `Severity: …`,
//! `Fixed Version: …` lines; those give the finding's identity, severity
//! and whether a fix exists. A result without a `Fixed Version:` line has
//! an unknown fixability, counted as such (never as "not fixable").

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::artifact::MAX_REPORT_BYTES;
use super::counts::{Severity, Vuln};
use super::inventory::Inventory;
use super::model::{Run, ScannedVuln};
use super::wire::Analysis;
use crate::github::{Client, RemoteError, RepoName, repo_route};

/// The media type in which GitHub answers an analysis as its SARIF.
const SARIF_MEDIA_TYPE: &str = "application/sarif+json";
/// The `tool.driver.name` of Trivy's SARIF, as code scanning records it.
const TOOL: &str = "Trivy";
/// Analyses per page (GitHub's maximum).
const PER_PAGE: usize = 100;
/// The most pages of analyses read per repository (10,000 analyses).
const MAX_PAGES: usize = 100;

/// Trivy's analyses of repository `repo` created since `since`, newest
/// first; `None` when GitHub says there are none (it answers 404 then).
/// A 403 (code scanning not enabled, or the token may not read security
/// events) is an error.
///
/// The list is not filtered by `ref`: a run names its ref without saying
/// whether it is a branch or a tag, and the filter needs `refs/tags/…` for
/// a tag. Pages are read newest first until one reaches before `since`.
pub async fn analyses(
    client: &Client,
    repo: &RepoName,
    since: DateTime<Utc>,
) -> Result<Option<Vec<Analysis>>, RemoteError> {
    let mut out: Vec<Analysis> = Vec::new();
    for page in 1..=MAX_PAGES {
        let route = format!(
            "{}/code-scanning/analyses?tool_name={TOOL}&per_page={PER_PAGE}&page={page}",
            repo_route(repo)
        );
        let Some(body): Option<Vec<Analysis>> = client.json(&route).await? else {
            return Ok((!out.is_empty()).then_some(out));
        };
        let n = body.len();
        let older = body.last().is_some_and(|a| a.created_at < since);
        out.extend(body);
        if n < PER_PAGE || older {
            break;
        }
    }
    Ok(Some(out))
}

/// The analyses of `run`'s images: its commit and ref, uploaded after it
/// started, without a processing error, a category that names an image of
/// its workflow (`prefix` is the policy's category prefix; the Dockerfile's
/// is left out), and for each category only the newest (a re-run attempt
/// uploads the same category again).
pub fn of_run<'a>(
    analyses: &'a [Analysis],
    run: &Run,
    inventory: &Inventory,
    prefix: &str,
) -> Vec<&'a Analysis> {
    let (Some(sha), Some(branch)) = (&run.head_sha, &run.head_branch) else {
        return Vec::new();
    };
    let refs = [
        format!("refs/heads/{branch}"),
        format!("refs/tags/{branch}"),
    ];
    let mut newest: BTreeMap<&str, &Analysis> = BTreeMap::new();
    for a in analyses.iter().filter(|a| {
        a.commit_sha == *sha
            && refs.contains(&a.git_ref)
            && a.created_at >= run.created_at
            && a.error.is_empty()
            && inventory
                .attribute_category(&run.workflow, prefix, &a.category)
                .is_some()
    }) {
        let slot = newest.entry(a.category.as_str()).or_insert(a);
        if a.created_at > slot.created_at {
            *slot = a;
        }
    }
    newest.into_values().collect()
}

/// The route of analysis `id`, read as SARIF with [`sarif`].
pub fn analysis_route(repo: &RepoName, id: u64) -> String {
    format!("{}/code-scanning/analyses/{id}", repo_route(repo))
}

/// The SARIF of one analysis, capped as a report is; `None` when it is gone.
pub async fn sarif(
    client: &Client,
    repo: &RepoName,
    id: u64,
) -> Result<Option<Vec<u8>>, RemoteError> {
    client
        .bytes_as(
            &analysis_route(repo, id),
            SARIF_MEDIA_TYPE,
            MAX_REPORT_BYTES,
        )
        .await
}

/// The vulnerabilities of analysis `analysis` of a run of `workflow`, each
/// attributed to the images its category names (`prefix` is the policy's
/// category prefix). `Ok(None)` when the category is not one of the
/// workflow's images (the Dockerfile's); an error when the SARIF is not
/// one.
pub fn vulns(
    inventory: &Inventory,
    workflow: &str,
    prefix: &str,
    analysis: &Analysis,
    sarif: &[u8],
) -> Result<Option<Vec<ScannedVuln>>, String> {
    let Some((images, platform)) =
        inventory.attribute_category(workflow, prefix, &analysis.category)
    else {
        return Ok(None);
    };
    let found = parse(sarif).map_err(|e| format!("not SARIF ({e})"))?;
    Ok(Some(
        images
            .iter()
            .flat_map(|image| {
                found.iter().map(|v| ScannedVuln {
                    image: image.clone(),
                    platform: platform.clone(),
                    vuln: v.clone(),
                })
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
struct Sarif {
    #[serde(default)]
    runs: Vec<SarifRun>,
}

#[derive(Deserialize)]
struct SarifRun {
    #[serde(default)]
    results: Vec<SarifResult>,
}

#[derive(Deserialize)]
struct SarifResult {
    #[serde(rename = "ruleId", default)]
    rule_id: String,
    #[serde(default)]
    message: Message,
}

#[derive(Deserialize, Default)]
struct Message {
    #[serde(default)]
    text: String,
}

/// The vulnerability results of a Trivy SARIF (secrets, misconfigurations
/// and licences have no `Installed Version:` line and are left out).
fn parse(bytes: &[u8]) -> Result<Vec<Vuln>, serde_json::Error> {
    let sarif: Sarif = serde_json::from_slice(bytes)?;
    Ok(sarif
        .runs
        .iter()
        .flat_map(|r| &r.results)
        .filter_map(vuln)
        .collect())
}

fn vuln(result: &SarifResult) -> Option<Vuln> {
    let line = |name: &str| {
        result
            .message
            .text
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let installed = line("Installed Version:")?;
    Some(Vuln {
        id: result.rule_id.clone(),
        package: line("Package:").unwrap_or_default().to_owned(),
        installed: installed.to_owned(),
        severity: Severity::parse(line("Severity:").unwrap_or_default()),
        fixable: line("Fixed Version:").map(|f| !f.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::inventory::{Site, WorkflowImages};

    fn result(id: &str, text: &str) -> serde_json::Value {
        serde_json::json!({"ruleId": id, "ruleIndex": 0, "level": "error", "message": {"text": text}})
    }

    #[test]
    fn vulnerability_results_are_read_from_trivy_messages() {
        let sarif = serde_json::json!({"version": "2.1.0", "runs": [{"results": [
            result("CVE-1", "Package: openssl\nInstalled Version: 1.1\nVulnerability CVE-1\nSeverity: HIGH\nFixed Version: 1.2\nLink: [CVE-1](x)"),
            result("CVE-2", "Package: bash\nInstalled Version: 5\nVulnerability CVE-2\nSeverity: LOW\nFixed Version: \nLink: [CVE-2](x)"),
            result("CVE-3", "Package: zlib\nInstalled Version: 1\nVulnerability CVE-3\nSeverity: CRITICAL"),
            result("aws-access-key-id", "Artifact: app\nType: \nSecret AWS\nSeverity: CRITICAL\nMatch: ****"),
        ]}]});
        let found = parse(&serde_json::to_vec(&sarif).unwrap()).unwrap();
        let got: Vec<(&str, Severity, Option<bool>)> = found
            .iter()
            .map(|v| (v.id.as_str(), v.severity, v.fixable))
            .collect();
        assert_eq!(
            got,
            [
                ("CVE-1", Severity::High, Some(true)),
                ("CVE-2", Severity::Low, Some(false)),
                ("CVE-3", Severity::Critical, None),
            ]
        );
    }

    fn analysis(id: u64, category: &str, sha: &str, git_ref: &str, at: &str) -> Analysis {
        serde_json::from_value(serde_json::json!({
            "id": id, "ref": git_ref, "commit_sha": sha, "category": category,
            "created_at": at, "error": ""
        }))
        .unwrap()
    }

    #[test]
    fn a_run_gets_the_newest_analysis_of_each_category_of_its_commit_and_ref() {
        let run = Run {
            id: 1,
            workflow: ".github/workflows/release.yml".into(),
            head_branch: Some("v1".into()),
            head_sha: Some("abc".into()),
            created_at: "2026-09-01T00:00:00Z".parse().unwrap(),
            conclusion: Some("success".into()),
            steps: None,
            reports: super::super::model::Reports::Expired,
        };
        let all = [
            analysis(
                5,
                "scangate/release/r/image",
                "abc",
                "refs/tags/v1",
                "2026-09-01T00:20:00Z",
            ),
            analysis(
                4,
                "scangate/release/r/image",
                "abc",
                "refs/tags/v1",
                "2026-09-01T00:10:00Z",
            ),
            analysis(
                3,
                "scangate/release/r/image",
                "abc",
                "refs/heads/main",
                "2026-09-01T00:10:00Z",
            ),
            analysis(
                2,
                "scangate/release/r/image",
                "def",
                "refs/tags/v1",
                "2026-09-01T00:10:00Z",
            ),
            analysis(
                1,
                "scangate/release/r/image",
                "abc",
                "refs/tags/v1",
                "2026-08-31T00:10:00Z",
            ),
        ];
        let inventory = Inventory {
            workflows: vec![WorkflowImages {
                path: run.workflow.clone(),
                sites: vec![Site {
                    image: "ghcr.io/acme/app".into(),
                    job: "r".into(),
                    key: String::new(),
                    gated: true,
                    artifact: "scangate-r-reports".into(),
                }],
            }],
        };
        let ids: Vec<u64> = of_run(&all, &run, &inventory, "scangate")
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, [5]);
        let (images, platform) = inventory
            .attribute_category(
                &run.workflow,
                "scangate",
                "scangate/release/r/linux-arm64-1",
            )
            .unwrap();
        assert_eq!(
            (images[0].as_str(), platform.as_str()),
            ("ghcr.io/acme/app", "linux-arm64")
        );
        for other in [
            "scangate/release/r/dockerfile",
            "scangate/prerelease/r/image",
            "scangate/release/other/image",
            "sec/release/r/image",
        ] {
            assert_eq!(
                inventory.attribute_category(&run.workflow, "scangate", other),
                None,
                "{other}"
            );
        }
    }
}
