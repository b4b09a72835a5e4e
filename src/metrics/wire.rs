//! GitHub's REST response bodies the report reads, as GitHub sends them:
//! workflow runs, their jobs and their artifacts. Only the fields used are
//! declared; the rest of each object is ignored, so the shapes of
//! `GET …/actions/workflows/{file}/runs`, `…/runs/{id}/jobs` and
//! `…/runs/{id}/artifacts` read as they come.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::Step;

/// `GET /repos/{o}/{r}/actions/workflows/{file}/runs`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RunsPage {
    #[serde(default)]
    pub total_count: u64,
    pub workflow_runs: Vec<WorkflowRun>,
}

/// One run, also the body of `GET …/actions/runs/{id}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorkflowRun {
    pub id: u64,
    /// `.github/workflows/NAME.yml`.
    pub path: String,
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `GET …/actions/runs/{id}/jobs`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct JobsPage {
    #[serde(default)]
    pub total_count: u64,
    pub jobs: Vec<Job>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Job {
    pub name: String,
    pub conclusion: Option<String>,
    #[serde(default)]
    pub steps: Option<Vec<JobStep>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct JobStep {
    pub name: String,
    pub conclusion: Option<String>,
}

/// `GET …/actions/runs/{id}/artifacts`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ArtifactsPage {
    #[serde(default)]
    pub total_count: u64,
    pub artifacts: Vec<Artifact>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub size_in_bytes: u64,
    #[serde(default)]
    pub expired: bool,
}

/// One entry of `GET /repos/{o}/{r}/code-scanning/analyses`: one SARIF
/// upload (one category) for one commit and ref.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Analysis {
    pub id: u64,
    /// `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/7/merge`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub commit_sha: String,
    #[serde(default)]
    pub category: String,
    pub created_at: DateTime<Utc>,
    /// GitHub's processing error of the upload, empty when none.
    #[serde(default)]
    pub error: String,
}

impl JobsPage {
    /// Every step of every job, flattened.
    pub fn steps(&self) -> Vec<Step> {
        self.jobs
            .iter()
            .flat_map(|j| {
                j.steps.iter().flatten().map(|s| Step {
                    job: j.name.clone(),
                    name: s.name.clone(),
                    conclusion: s.conclusion.clone(),
                })
            })
            .collect()
    }
}
