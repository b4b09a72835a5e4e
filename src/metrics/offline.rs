//! `scangate report --from DIR`: the same input read from a folder instead
//! of the API: what `--keep DIR` writes, or what a script downloaded.
//!
//! ```text
//! DIR/OWNER/NAME/.github/workflows/*.yml      the default branch's workflows
//! DIR/OWNER/NAME/runs/RUN/run.json            GET …/actions/runs/RUN
//! DIR/OWNER/NAME/runs/RUN/jobs.json           GET …/actions/runs/RUN/jobs
//! DIR/OWNER/NAME/runs/RUN/artifacts.json      GET …/actions/runs/RUN/artifacts
//! DIR/OWNER/NAME/runs/RUN/ARTIFACT.zip        each reports artifact, as downloaded
//! DIR/OWNER/NAME/runs/RUN/code-scanning.json  its code scanning analyses, when
//!                                             the reports artifact expired
//! DIR/OWNER/NAME/runs/RUN/code-scanning/ID.sarif  GET …/code-scanning/analyses/ID
//!                                             as application/sarif+json
//! ```
//!
//! A run without `jobs.json` is not a release (its outcome is unknown, and
//! said); without `artifacts.json` its reports are missing. Files are read
//! through the same caps as downloads.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::ReportError;
use super::artifact::{self, MAX_ARTIFACT_BYTES, MAX_REPORT_BYTES};
use super::code_scanning;
use super::inventory::Inventory;
use super::model::{RepoInput, Reports, Run, ScannedVuln};
use super::wire::{Analysis, ArtifactsPage, JobsPage, WorkflowRun};
use crate::policy::Policy;

/// The most bytes of one JSON body read from the folder.
const MAX_JSON_BYTES: u64 = 16 * 1024 * 1024;
/// A run's code scanning analyses (a JSON array of
/// `GET …/code-scanning/analyses` entries), beside `run.json`.
pub const CODE_SCANNING_LIST: &str = "code-scanning.json";

/// The SARIF of analysis `id`, relative to the run's folder.
pub fn code_scanning_file(id: u64) -> String {
    format!("code-scanning/{id}.sarif")
}

/// Every `OWNER/NAME` folder under `dir`, in name order.
pub fn read(dir: &Path, policy: &Policy) -> Result<Vec<RepoInput>, ReportError> {
    let mut repos = Vec::new();
    for owner in sorted_dirs(dir)? {
        for name in sorted_dirs(&owner)? {
            repos.push(read_repo(&name, policy)?);
        }
    }
    if repos.is_empty() {
        return Err(ReportError::Layout {
            path: dir.to_path_buf(),
            message: "no OWNER/NAME folders here; --from reads the layout --keep writes (OWNER/NAME/.github/workflows, OWNER/NAME/runs/RUN/…)".into(),
        });
    }
    Ok(repos)
}

/// One repository's folder.
pub fn read_repo(dir: &Path, policy: &Policy) -> Result<RepoInput, ReportError> {
    let repo = repo_name(dir);
    let mut input = RepoInput {
        repo: repo.clone(),
        ..RepoInput::default()
    };
    input.inventory = inventory(dir, &repo, policy, &mut input.notes)?;
    let runs_dir = dir.join("runs");
    if !runs_dir.is_dir() {
        input.notes.push("no runs/ folder: no runs read".into());
        return Ok(input);
    }
    for run_dir in sorted_dirs(&runs_dir)? {
        let wire: WorkflowRun = read_json(&run_dir.join("run.json"))?;
        let mut run = read_run(&run_dir, wire, &input.inventory, &mut input.notes)?;
        if matches!(run.reports, Reports::Expired) {
            let prefix = &policy.reports.category_prefix;
            let found = read_code_scanning(&run_dir, &run, &input.inventory, prefix)?;
            if let Some(found) = found {
                run.reports = Reports::CodeScanning(found);
            }
        }
        input.runs.push(run);
    }
    Ok(input)
}

fn inventory(
    dir: &Path,
    repo: &str,
    policy: &Policy,
    notes: &mut Vec<String>,
) -> Result<Inventory, ReportError> {
    let mut inventory = Inventory::default();
    let files = match crate::files::workflows(dir) {
        Ok(files) => files,
        Err(_) => {
            notes.push("no .github/workflows folder: gate coverage unknown".into());
            return Ok(inventory);
        }
    };
    for file in files {
        let source = crate::files::read(&file)?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        inventory.add(repo, &format!(".github/workflows/{name}"), &source, policy)?;
    }
    Ok(inventory)
}

fn read_run(
    dir: &Path,
    wire: WorkflowRun,
    inventory: &Inventory,
    notes: &mut Vec<String>,
) -> Result<Run, ReportError> {
    let jobs = dir.join("jobs.json");
    let steps = if jobs.is_file() {
        Some(read_json::<JobsPage>(&jobs)?.steps())
    } else {
        notes.push(format!(
            "run {}: no jobs.json; its outcome is unknown",
            wire.id
        ));
        None
    };
    let list = dir.join("artifacts.json");
    let reports = if list.is_file() {
        let list: ArtifactsPage = read_json(&list)?;
        let (reports, more) = artifact::run_reports(inventory, &wire.path, &list, |a| {
            read_capped(&dir.join(format!("{}.zip", a.name)), MAX_ARTIFACT_BYTES)
                .map_err(|e| e.to_string())
        });
        notes.extend(more.into_iter().map(|n| format!("run {}: {n}", wire.id)));
        reports
    } else {
        Reports::Missing("no artifacts.json".into())
    };
    Ok(Run {
        id: wire.id,
        workflow: wire.path,
        head_branch: wire.head_branch,
        head_sha: wire.head_sha,
        created_at: wire.created_at,
        conclusion: wire.conclusion,
        steps,
        reports,
    })
}

/// The code scanning results of an expired run, when its folder has them
/// (`None` when not, or when one of its analyses is not there).
fn read_code_scanning(
    dir: &Path,
    run: &Run,
    inventory: &Inventory,
    prefix: &str,
) -> Result<Option<Vec<ScannedVuln>>, ReportError> {
    let list = dir.join(CODE_SCANNING_LIST);
    if !list.is_file() {
        return Ok(None);
    }
    let analyses: Vec<Analysis> = read_json(&list)?;
    let mut found: Option<Vec<ScannedVuln>> = None;
    for a in &analyses {
        let path = dir.join(code_scanning_file(a.id));
        if !path.is_file() {
            return Ok(None);
        }
        let sarif = read_capped(&path, MAX_REPORT_BYTES)?;
        let vulns = code_scanning::vulns(inventory, &run.workflow, prefix, a, &sarif).map_err(
            |message| ReportError::Layout {
                path: path.clone(),
                message,
            },
        )?;
        if let Some(v) = vulns {
            found.get_or_insert_with(Vec::new).extend(v);
        }
    }
    Ok(found)
}

/// `OWNER/NAME` from the last two components of `dir`.
fn repo_name(dir: &Path) -> String {
    let part = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    format!("{}/{}", part(dir.parent()), part(Some(dir)))
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let hidden = |p: &Path| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    };
    Ok(crate::files::sorted_entries(dir, |p| {
        p.is_dir() && !hidden(p)
    })?)
}

/// The bytes of `path`, at most `cap` of them (more is an error).
fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, crate::Error> {
    let err = |source| crate::Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes))
        .map_err(err)?;
    if bytes.len() as u64 > cap {
        return Err(err(std::io::Error::other(format!(
            "larger than {cap} bytes"
        ))));
    }
    Ok(bytes)
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let bytes = read_capped(path, MAX_JSON_BYTES)?;
    serde_json::from_slice(&bytes).map_err(|e| ReportError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}
