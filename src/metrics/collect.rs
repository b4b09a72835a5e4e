//! Collecting the input from the GitHub API, through the one client
//! ([`crate::github::Client`]): reads only.
//!
//! Per repository: its workflows at the default branch (the `check`
//! engine's inventory), then for each gated workflow its runs in the window
//! (`GET …/actions/workflows/{file}/runs?created=SINCE..UNTIL`, paged), and
//! for each completed run its jobs and its artifacts, downloading the
//! reports artifacts (capped, in memory). When some run's reports artifact
//! has expired, its vulnerabilities are read from code scanning instead
//! ([`code_scanning`]), listing the repository's analyses once. Anything that fails for one repository or run
//! becomes a note in its report; only a bad token stops everything (the
//! client says so for every repository).
//!
//! Repositories are read `concurrency` at a time; the requests of one
//! repository go one after the other, as GitHub asks of integrations.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use futures_util::StreamExt;

use super::artifact::{self, MAX_ARTIFACT_BYTES};
use super::code_scanning;
use super::inventory::Inventory;
use super::model::{Outcome, RepoInput, Reports, Run, ScannedVuln};
use super::offline::{CODE_SCANNING_LIST, code_scanning_file};
use super::wire::{Analysis, Artifact, ArtifactsPage, JobsPage, RunsPage, WorkflowRun};
use crate::github::{Client, RemoteError, RepoName, encode, repo_route};
use crate::policy::Policy;
use crate::pr::Progress;

/// Runs per page (GitHub's maximum).
const PER_PAGE: usize = 100;
/// The most pages of runs read per workflow (10,000 runs).
const MAX_PAGES: usize = 100;

/// What to collect.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub policy: &'a Policy,
    pub since: NaiveDate,
    pub until: NaiveDate,
    /// Repositories read at the same time.
    pub concurrency: usize,
    /// Also write every body and artifact read under this folder, in the
    /// layout [`super::offline`] reads (`--keep DIR`).
    pub keep: Option<PathBuf>,
}

/// The input of every repository, in the order given.
pub async fn collect(
    client: &Client,
    repos: &[RepoName],
    request: &Request<'_>,
    progress: &dyn Progress,
) -> Vec<RepoInput> {
    progress.total(repos.len() as u64);
    futures_util::stream::iter(repos)
        .map(|repo| async move {
            let input = repository(client, repo, request).await;
            progress.advance(&repo.to_string(), "read");
            input
        })
        .buffered(request.concurrency.max(1))
        .collect()
        .await
}

async fn repository(client: &Client, repo: &RepoName, request: &Request<'_>) -> RepoInput {
    let mut input = RepoInput {
        repo: repo.to_string(),
        ..RepoInput::default()
    };
    let keep = request
        .keep
        .as_ref()
        .map(|k| k.join(&repo.owner).join(&repo.name));
    let found = match client.workflows(repo).await {
        Ok(found) => found,
        Err(e) => {
            input.notes.push(format!("cannot read the workflows: {e}"));
            return input;
        }
    };
    for (path, source) in &found.files {
        let added = match source {
            Ok(source) => input
                .inventory
                .add(&input.repo, path, source, request.policy)
                .map_err(|e| e.to_string()),
            Err(why) => Err(why.clone()),
        };
        if let Err(why) = added {
            input.notes.push(format!(
                "{path}: not read ({why}); its pushes are not counted"
            ));
        }
        if let (Some(dir), Ok(source)) = (&keep, source) {
            keep_file(&dir.join(path), source.text.as_bytes(), &mut input.notes);
        }
    }
    let gated: Vec<String> = input
        .inventory
        .gated_workflows()
        .map(|w| w.path.clone())
        .collect();
    for workflow in &gated {
        match runs(client, repo, workflow, request).await {
            Ok(runs) => {
                for wire in runs {
                    let run = run(
                        client,
                        repo,
                        &input.inventory,
                        wire,
                        keep.as_deref(),
                        &mut input.notes,
                    )
                    .await;
                    input.runs.push(run);
                }
            }
            Err(e) => input
                .notes
                .push(format!("{workflow}: cannot list its runs: {e}")),
        }
    }
    if input
        .runs
        .iter()
        .any(|r| matches!(r.reports, Reports::Expired))
    {
        from_code_scanning(client, repo, request.policy, keep.as_deref(), &mut input).await;
    }
    input
}

/// The vulnerabilities of the runs whose reports artifact expired, from
/// code scanning ([`code_scanning`]); a run it has nothing for stays
/// expired. Without code scanning, one note says so.
async fn from_code_scanning(
    client: &Client,
    repo: &RepoName,
    policy: &Policy,
    keep: Option<&Path>,
    input: &mut RepoInput,
) {
    let since = input
        .runs
        .iter()
        .filter(|r| matches!(r.reports, Reports::Expired))
        .map(|r| r.created_at)
        .min()
        .unwrap_or_default();
    let all = match code_scanning::analyses(client, repo, since).await {
        Ok(Some(all)) => all,
        Ok(None) => {
            input
                .notes
                .push("no code scanning analyses: expired reports cannot be recovered".into());
            return;
        }
        Err(e) => {
            input.notes.push(format!(
                "no code scanning ({e}): expired reports cannot be recovered"
            ));
            return;
        }
    };
    let prefix = &policy.reports.category_prefix;
    for run in &mut input.runs {
        if !matches!(run.reports, Reports::Expired) {
            continue;
        }
        let keep = keep.map(|k| k.join("runs").join(run.id.to_string()));
        let mine = code_scanning::of_run(&all, run, &input.inventory, prefix);
        let source = Analyses {
            client,
            repo,
            inventory: &input.inventory,
            prefix,
            keep: keep.as_deref(),
        };
        if let Some(found) = source.read(run, &mine, &mut input.notes).await {
            run.reports = Reports::CodeScanning(found);
        }
    }
}

/// Where the analyses of a repository's runs are read from, and kept.
struct Analyses<'a> {
    client: &'a Client,
    repo: &'a RepoName,
    inventory: &'a Inventory,
    /// The policy's SARIF category prefix.
    prefix: &'a str,
    /// The run's folder under `--keep DIR`.
    keep: Option<&'a Path>,
}

impl Analyses<'_> {
    /// The vulnerabilities of `run` in its analyses `mine`; `None` when
    /// it has none, or when one could not be read: counts from some of a
    /// run's analyses only would read as complete.
    async fn read(
        &self,
        run: &Run,
        mine: &[&Analysis],
        notes: &mut Vec<String>,
    ) -> Option<Vec<ScannedVuln>> {
        if let (Some(dir), false) = (self.keep, mine.is_empty()) {
            keep_json(&dir.join(CODE_SCANNING_LIST), &mine, notes);
        }
        let mut found: Option<Vec<ScannedVuln>> = None;
        let mut failed = false;
        for a in mine {
            match self.one(run, a, notes).await {
                Ok(Some(v)) => found.get_or_insert_with(Vec::new).extend(v),
                Ok(None) => {}
                Err(why) => {
                    failed = true;
                    notes.push(format!(
                        "run {}: code scanning analysis {}: {why}",
                        run.id, a.id
                    ));
                }
            }
        }
        found.filter(|_| !failed)
    }

    /// One analysis's vulnerabilities, its SARIF kept under `--keep`.
    async fn one(
        &self,
        run: &Run,
        a: &Analysis,
        notes: &mut Vec<String>,
    ) -> Result<Option<Vec<ScannedVuln>>, String> {
        let bytes = match code_scanning::sarif(self.client, self.repo, a.id).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err("gone".into()),
            Err(e) => return Err(e.to_string()),
        };
        if let Some(dir) = self.keep {
            keep_file(&dir.join(code_scanning_file(a.id)), &bytes, notes);
        }
        code_scanning::vulns(self.inventory, &run.workflow, self.prefix, a, &bytes)
    }
}

/// The completed runs of `workflow` created in the window, every page.
async fn runs(
    client: &Client,
    repo: &RepoName,
    workflow: &str,
    request: &Request<'_>,
) -> Result<Vec<WorkflowRun>, RemoteError> {
    let file = workflow.rsplit('/').next().unwrap_or(workflow);
    let mut out = Vec::new();
    for page in 1..=MAX_PAGES {
        let route = format!(
            "{}/actions/workflows/{}/runs?status=completed&created={}..{}&per_page={PER_PAGE}&page={page}",
            repo_route(repo),
            encode(file),
            request.since,
            request.until
        );
        let Some(body): Option<RunsPage> = client.json(&route).await? else {
            break;
        };
        let n = body.workflow_runs.len();
        out.extend(body.workflow_runs);
        if n < PER_PAGE || out.len() as u64 >= body.total_count {
            break;
        }
    }
    Ok(out)
}

/// One run with its jobs' steps and its reports. Only what a release needs
/// is read: a cancelled or skipped run is never one (its jobs are not
/// read), and only pushed and blocked releases have vulnerabilities to
/// count (the others' artifacts are not read).
async fn run(
    client: &Client,
    repo: &RepoName,
    inventory: &Inventory,
    wire: WorkflowRun,
    keep: Option<&Path>,
    notes: &mut Vec<String>,
) -> Run {
    let base = format!("{}/actions/runs/{}", repo_route(repo), wire.id);
    let keep = keep.map(|k| k.join("runs").join(wire.id.to_string()));
    let mut run = Run {
        id: wire.id,
        workflow: wire.path.clone(),
        head_branch: wire.head_branch.clone(),
        head_sha: wire.head_sha.clone(),
        created_at: wire.created_at,
        conclusion: wire.conclusion.clone(),
        steps: None,
        reports: Reports::Missing("not a release".into()),
    };
    if let Some(dir) = &keep {
        keep_json(&dir.join("run.json"), &wire, notes);
    }
    if !matches!(
        run.conclusion.as_deref(),
        Some("success" | "failure" | "timed_out")
    ) {
        return run;
    }
    match client
        .json::<JobsPage>(&format!("{base}/jobs?per_page={PER_PAGE}"))
        .await
    {
        Ok(Some(jobs)) => {
            run.steps = Some(jobs.steps());
            if let Some(dir) = &keep {
                keep_json(&dir.join("jobs.json"), &jobs, notes);
            }
        }
        Ok(None) => notes.push(format!(
            "run {}: its jobs are gone; its outcome is unknown",
            wire.id
        )),
        Err(e) => notes.push(format!("run {}: cannot read its jobs: {e}", wire.id)),
    }
    if !matches!(run.outcome(), Some(Outcome::Pushed | Outcome::Blocked)) {
        return run;
    }
    let list = match client
        .json::<ArtifactsPage>(&format!("{base}/artifacts?per_page={PER_PAGE}"))
        .await
    {
        Ok(Some(list)) => list,
        Ok(None) => {
            run.reports = Reports::Missing("no artifacts list".into());
            return run;
        }
        Err(e) => {
            run.reports = Reports::Missing(format!("cannot list the artifacts: {e}"));
            return run;
        }
    };
    let mut zips = Vec::new();
    for a in artifact::wanted(inventory, &wire.path, &list) {
        zips.push((a.id, download(client, repo, a).await));
    }
    let (reports, more) = artifact::run_reports(inventory, &wire.path, &list, |a| {
        zips.iter()
            .find(|(id, _)| *id == a.id)
            .map_or_else(|| Err("not downloaded".into()), |(_, z)| z.clone())
    });
    notes.extend(more.into_iter().map(|n| format!("run {}: {n}", wire.id)));
    if let Some(dir) = &keep {
        keep_json(&dir.join("artifacts.json"), &list, notes);
        for a in &list.artifacts {
            if let Some((_, Ok(bytes))) = zips.iter().find(|(id, _)| *id == a.id) {
                keep_file(&dir.join(format!("{}.zip", a.name)), bytes, notes);
            }
        }
    }
    run.reports = reports;
    run
}

/// One artifact's zip, capped; why not, when it cannot be had.
async fn download(client: &Client, repo: &RepoName, a: &Artifact) -> Result<Vec<u8>, String> {
    let route = format!("{}/actions/artifacts/{}/zip", repo_route(repo), a.id);
    match client.bytes(&route, MAX_ARTIFACT_BYTES).await {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err("gone (expired or deleted)".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn keep_json(path: &Path, value: &impl serde::Serialize, notes: &mut Vec<String>) {
    match serde_json::to_vec_pretty(value) {
        Ok(bytes) => keep_file(path, &bytes, notes),
        Err(e) => notes.push(format!("--keep: {}: {e}", path.display())),
    }
}

/// Writes `bytes` to `path` (under `--keep DIR`), atomically.
fn keep_file(path: &Path, bytes: &[u8], notes: &mut Vec<String>) {
    let made = path.parent().map_or(Ok(()), std::fs::create_dir_all);
    if let Err(e) = made
        .map_err(|e| e.to_string())
        .and_then(|()| crate::files::write_new_or_atomic(path, bytes).map_err(|e| e.to_string()))
    {
        notes.push(format!("--keep: {}: {e}", path.display()));
    }
}

/// The repositories of organisation `org` (`GET /orgs/{org}/repos`, every
/// page), archived ones left out: nothing is released from them.
pub async fn org_repos(client: &Client, org: &str) -> Result<Vec<RepoName>, RemoteError> {
    #[derive(serde::Deserialize)]
    struct Listed {
        full_name: String,
        #[serde(default)]
        archived: bool,
    }
    let mut out = Vec::new();
    for page in 1..=MAX_PAGES {
        let route = format!(
            "/orgs/{}/repos?per_page={PER_PAGE}&page={page}",
            encode(org)
        );
        let listed: Vec<Listed> = client.json(&route).await?.ok_or_else(|| {
            RemoteError(format!(
                "organisation {org} not found (or the token cannot see it)"
            ))
        })?;
        let n = listed.len();
        for l in listed.into_iter().filter(|l| !l.archived) {
            out.push(l.full_name.parse().map_err(RemoteError)?);
        }
        if n < PER_PAGE {
            break;
        }
    }
    Ok(out)
}
