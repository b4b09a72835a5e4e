//! The computed metrics: what every output format renders, and the JSON
//! contract (`"schema": "scangate/v1"`) other tools read. Field names are
//! part of the contract; add fields, never rename them.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::counts::{Change, Counts, Severity};
use super::inventory::Coverage;

/// The JSON document: `{"schema": "scangate/v1", "report": …}`.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub schema: &'static str,
    pub report: &'a Summary,
}

/// The metrics of all repositories over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// First day of the window (UTC, inclusive), `YYYY-MM-DD`.
    pub since: String,
    /// Last day of the window (UTC, inclusive).
    pub until: String,
    pub repositories: Vec<RepoSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoSummary {
    pub repo: String,
    /// What could not be read or does not apply (expired artifacts, no code
    /// scanning, no gated workflow); the rest of the report stands.
    pub notes: Vec<String>,
    pub coverage: Coverage,
    pub releases: Releases,
    /// The same counts per gated workflow.
    pub workflows: Vec<WorkflowReleases>,
    pub images: Vec<ImageSummary>,
    pub stopped: Stopped,
    pub weeks: Vec<Week>,
    /// The change between the first and the last week with known counts.
    pub trend: Option<Trend>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Releases {
    pub attempted: usize,
    pub pushed: usize,
    pub blocked: usize,
    pub failed_other: usize,
    pub runs: RunIds,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunIds {
    pub pushed: Vec<u64>,
    pub blocked: Vec<u64>,
    pub failed_other: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowReleases {
    pub workflow: String,
    pub attempted: usize,
    pub pushed: usize,
    pub blocked: usize,
    pub failed_other: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageSummary {
    pub image: String,
    /// Every push of it is gated.
    pub gated: bool,
    /// Its newest pushed release in the window.
    pub last_pushed: Option<LastPushed>,
    /// Per week: its releases and the vulnerabilities of what was pushed.
    pub weeks: Vec<Week>,
}

/// What the reports artifact of a release gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    Found,
    /// GitHub deleted the artifact after its retention.
    Expired,
    /// No reports artifact, or it could not be read.
    Missing,
}

/// Where a release's vulnerabilities were counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountSource {
    /// Its Trivy JSON reports, in the reports artifact.
    Artifact,
    /// The artifact expired: the SARIF its scan uploaded to code scanning
    /// (no OS, and `fixable` is `null` where the results do not say).
    CodeScanning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastPushed {
    pub run: u64,
    /// The run's ref name (`head_branch`): the tag of a release.
    pub tag: Option<String>,
    pub created_at: String,
    pub reports: ReportState,
    /// Where `vulnerabilities` were counted from; `null` when they are not
    /// known.
    pub source: Option<CountSource>,
    /// All platforms together; `null` when the reports are not known.
    pub vulnerabilities: Option<Counts>,
    pub platforms: Vec<PlatformCounts>,
    /// "Family Name" of `Metadata.OS`.
    pub os: Option<String>,
    /// `Metadata.OS.EOSL`: the OS gets no more security fixes.
    pub eol: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformCounts {
    /// `linux-amd64` …; empty for a single-platform image.
    pub platform: String,
    pub vulnerabilities: Counts,
}

/// The findings the gate stopped in blocked runs, and how long until the
/// workflow pushed again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stopped {
    /// The policy's severities, most severe first.
    pub severities: Vec<Severity>,
    pub counts: Counts,
    /// Blocked runs whose reports are not known (not counted above).
    pub unknown_runs: Vec<u64>,
    /// Per blocked run, in run order: hours from its creation to the
    /// creation of the same workflow's next pushed run (`None`: not yet).
    pub hours_to_fix: Vec<Option<f64>>,
}

impl Serialize for Stopped {
    /// `{"CRITICAL": n, "HIGH": n, …, "unknown_runs": […], "hours_to_fix": […]}`:
    /// the policy's severities as keys.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.severities.len() + 2))?;
        for sev in &self.severities {
            map.serialize_entry(sev.name(), &self.counts.get(*sev))?;
        }
        map.serialize_entry("unknown_runs", &self.unknown_runs)?;
        map.serialize_entry("hours_to_fix", &self.hours_to_fix)?;
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Week {
    /// ISO week (UTC) of the runs' creation, `2026-W38`.
    pub week: String,
    pub pushed: usize,
    pub blocked: usize,
    pub failed_other: usize,
    /// The sum over the week's pushed releases whose reports are known;
    /// `null` when none is.
    pub vulnerabilities: Option<Counts>,
    /// Pushed releases of the week whose reports are not known.
    pub unknown: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trend {
    pub first: String,
    pub last: String,
    pub first_vulnerabilities: Counts,
    pub last_vulnerabilities: Counts,
    /// `last - first`: negative numbers are the reduction.
    pub change: Change,
}

impl Summary {
    /// The JSON contract, pretty-printed, with a final newline. The same
    /// summary always gives the same bytes (every collection is ordered).
    pub fn to_json(&self) -> String {
        let doc = Document {
            schema: "scangate/v1",
            report: self,
        };
        // Serialising plain structs, maps with string keys and finite
        // numbers cannot fail.
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}
