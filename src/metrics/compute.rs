//! The metrics as a pure function of the collected input ([`RepoInput`]):
//! no I/O, no clock, so the same input always gives the same summary.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use super::counts::{Change, Counts, Findings, Severity};
use super::model::{Outcome, RepoInput, Reports, Run};
use super::summary::{
    CountSource, ImageSummary, LastPushed, PlatformCounts, Releases, RepoSummary, ReportState,
    Stopped, Summary, Trend, Week, WorkflowReleases,
};

/// The window and the policy the numbers are computed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// First and last day, inclusive (UTC).
    pub since: NaiveDate,
    pub until: NaiveDate,
    /// The gate's severities: what counts as stopped.
    pub severities: Vec<Severity>,
    /// The gate ignores findings without a fixed version.
    pub fixable_only: bool,
}

impl Window {
    /// The policy's gate (`CRITICAL,HIGH`, `ignore-unfixed`) over these days.
    pub fn new(since: NaiveDate, until: NaiveDate, policy: &crate::policy::Policy) -> Window {
        let mut severities: Vec<Severity> =
            policy.severity.split(',').map(Severity::parse).collect();
        severities.sort_unstable();
        severities.dedup();
        Window {
            since,
            until,
            severities,
            fixable_only: policy.ignore_unfixed,
        }
    }

    fn contains(&self, run: &Run) -> bool {
        let day = run.created_at.date_naive();
        self.since <= day && day <= self.until
    }
}

/// The summary of every repository, in the order given.
pub fn summarize(repos: &[RepoInput], window: &Window) -> Summary {
    Summary {
        since: window.since.to_string(),
        until: window.until.to_string(),
        repositories: repos.iter().map(|r| repository(r, window)).collect(),
    }
}

/// One release: a run, how it ended, and what its reports say.
struct Release<'a> {
    run: &'a Run,
    outcome: Outcome,
    week: String,
}

impl Release<'_> {
    /// The distinct findings of the images that `keep` selects (by name),
    /// or `None` when the reports are not known.
    fn findings(&self, keep: impl Fn(&str) -> bool) -> Option<Findings> {
        let mut f = Findings::default();
        match &self.run.reports {
            Reports::Found(reports) => {
                for r in reports
                    .iter()
                    .filter(|r| r.report.is_image() && keep(&r.image))
                {
                    f.add(&r.report);
                }
            }
            Reports::CodeScanning(vulns) => {
                for v in vulns.iter().filter(|v| keep(&v.image)) {
                    f.add_vuln(&v.vuln);
                }
            }
            Reports::Expired | Reports::Missing(_) => return None,
        }
        Some(f)
    }

    fn counts(&self) -> Option<Counts> {
        self.findings(|_| true).map(|f| f.counts())
    }
}

fn repository(input: &RepoInput, window: &Window) -> RepoSummary {
    let gated: BTreeSet<&str> = input
        .inventory
        .gated_workflows()
        .map(|w| w.path.as_str())
        .collect();
    let mut releases: Vec<Release<'_>> = input
        .runs
        .iter()
        .filter(|r| gated.contains(r.workflow.as_str()) && window.contains(r))
        .filter_map(|run| {
            Some(Release {
                run,
                outcome: run.outcome()?,
                week: iso_week(run),
            })
        })
        .collect();
    releases.sort_by_key(|r| (r.run.created_at, r.run.id));
    let mut notes = input.notes.clone();
    if gated.is_empty() {
        notes.push("no workflow at the default branch holds a scangate gate".into());
    }
    notes.extend(expired_notes(&releases));
    RepoSummary {
        repo: input.repo.clone(),
        notes,
        coverage: input.inventory.coverage(),
        releases: totals(&releases),
        workflows: gated
            .iter()
            .map(|w| {
                let t = totals(releases.iter().filter(|r| r.run.workflow == *w));
                WorkflowReleases {
                    workflow: (*w).to_owned(),
                    attempted: t.attempted,
                    pushed: t.pushed,
                    blocked: t.blocked,
                    failed_other: t.failed_other,
                }
            })
            .collect(),
        images: images(input, &releases),
        stopped: stopped(&releases, window),
        weeks: weeks(releases.iter().map(|r| (r, r.counts()))),
        trend: None,
    }
    .with_trend()
}

/// What became of the releases whose reports artifact expired: counted
/// from code scanning, or unknown.
fn expired_notes(releases: &[Release<'_>]) -> Vec<String> {
    let runs = |keep: &dyn Fn(&Release<'_>) -> bool| {
        let ids: Vec<String> = releases
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.run.id.to_string())
            .collect();
        let s = if ids.len() == 1 { "" } else { "s" };
        (!ids.is_empty()).then(|| format!("run{s} {}", ids.join(", ")))
    };
    let mut notes = Vec::new();
    if let Some(ids) = runs(&|r| matches!(r.run.reports, Reports::CodeScanning(_))) {
        notes.push(format!(
            "counted from code scanning: reports artifact expired for {ids}"
        ));
    }
    let unfixed = |r: &Release<'_>| {
        matches!(r.run.reports, Reports::CodeScanning(_))
            && !r.findings(|_| true).is_some_and(|f| f.fixable_known())
    };
    if let Some(ids) = runs(&unfixed) {
        notes.push(format!(
            "fixable unknown for {ids}: their code scanning results do not say whether a fix exists"
        ));
    }
    if let Some(ids) = runs(&|r| matches!(r.run.reports, Reports::Expired)) {
        notes.push(format!(
            "reports artifact expired for {ids}: their vulnerabilities are unknown"
        ));
    }
    notes
}

fn totals<'a, 'b: 'a>(releases: impl IntoIterator<Item = &'a Release<'b>>) -> Releases {
    let mut t = Releases::default();
    for r in releases {
        t.attempted += 1;
        let ids = match r.outcome {
            Outcome::Pushed => {
                t.pushed += 1;
                &mut t.runs.pushed
            }
            Outcome::Blocked => {
                t.blocked += 1;
                &mut t.runs.blocked
            }
            Outcome::FailedOther => {
                t.failed_other += 1;
                &mut t.runs.failed_other
            }
        };
        ids.push(r.run.id);
    }
    t
}

fn iso_week(run: &Run) -> String {
    let w = run.created_at.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Every image of the repository, by name, with its newest pushed release.
fn images(input: &RepoInput, releases: &[Release<'_>]) -> Vec<ImageSummary> {
    let coverage = input.inventory.coverage();
    let names: BTreeSet<&str> = input
        .inventory
        .workflows
        .iter()
        .flat_map(|w| &w.sites)
        .map(|s| s.image.as_str())
        .collect();
    names
        .into_iter()
        .map(|image| {
            let mine: Vec<&Release<'_>> = releases
                .iter()
                .filter(|r| input.inventory.images_of(&r.run.workflow).contains(image))
                .collect();
            let only = |name: &str| name == image;
            ImageSummary {
                image: image.to_owned(),
                gated: !coverage.ungated.iter().any(|u| u == image),
                last_pushed: mine
                    .iter()
                    .rev()
                    .find(|r| r.outcome == Outcome::Pushed)
                    .map(|r| last_pushed(r, image)),
                weeks: weeks(
                    mine.iter()
                        .map(|r| (*r, r.findings(only).map(|f| f.counts()))),
                ),
            }
        })
        .collect()
}

fn last_pushed(release: &Release<'_>, image: &str) -> LastPushed {
    let run = release.run;
    let (state, source) = match &run.reports {
        Reports::Found(_) => (ReportState::Found, Some(CountSource::Artifact)),
        Reports::CodeScanning(_) => (ReportState::Expired, Some(CountSource::CodeScanning)),
        Reports::Expired => (ReportState::Expired, None),
        Reports::Missing(_) => (ReportState::Missing, None),
    };
    let os = match &run.reports {
        Reports::Found(all) => all
            .iter()
            .filter(|r| r.image == image && r.report.is_image())
            .find_map(|r| r.report.metadata.os.as_ref()),
        _ => None,
    };
    LastPushed {
        run: run.id,
        tag: run.head_branch.clone(),
        created_at: run.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        reports: state,
        source,
        vulnerabilities: release.findings(|i| i == image).map(|f| f.counts()),
        platforms: platforms(run, image)
            .into_iter()
            .map(|(p, f)| PlatformCounts {
                platform: p.to_owned(),
                vulnerabilities: f.counts(),
            })
            .collect(),
        os: os.map(super::trivy::Os::label),
        eol: os.is_some_and(|o| o.eosl),
    }
}

/// The findings of `image` in `run`, per platform.
fn platforms<'a>(run: &'a Run, image: &str) -> BTreeMap<&'a str, Findings> {
    let mut out: BTreeMap<&str, Findings> = BTreeMap::new();
    match &run.reports {
        Reports::Found(all) => {
            for r in all
                .iter()
                .filter(|r| r.image == image && r.report.is_image())
            {
                out.entry(&r.platform).or_default().add(&r.report);
            }
        }
        Reports::CodeScanning(vulns) => {
            for v in vulns.iter().filter(|v| v.image == image) {
                out.entry(&v.platform).or_default().add_vuln(&v.vuln);
            }
        }
        Reports::Expired | Reports::Missing(_) => {}
    }
    out
}

fn stopped(releases: &[Release<'_>], window: &Window) -> Stopped {
    let mut out = Stopped {
        severities: window.severities.clone(),
        ..Stopped::default()
    };
    for (i, r) in releases.iter().enumerate() {
        if r.outcome != Outcome::Blocked {
            continue;
        }
        // Without knowing which findings are fixable, what a gate that
        // ignores unfixed ones stopped is not known either.
        match r
            .findings(|_| true)
            .filter(|f| f.fixable_known() || !window.fixable_only)
        {
            Some(f) => out
                .counts
                .add(&f.gated(&window.severities, window.fixable_only)),
            None => out.unknown_runs.push(r.run.id),
        }
        let fix = releases[i + 1..].iter().find(|next| {
            next.outcome == Outcome::Pushed
                && next.run.workflow == r.run.workflow
                && next.run.created_at > r.run.created_at
        });
        out.hours_to_fix.push(fix.map(|next| {
            let seconds = (next.run.created_at - r.run.created_at).num_seconds();
            // Two decimals, so the JSON is short and byte-stable.
            (seconds as f64 / 36.0).round() / 100.0
        }));
    }
    out
}

/// Per ISO week with a release: the releases and the vulnerabilities of the
/// pushed ones (`counts` of each release, `None` when unknown).
fn weeks<'a, 'b: 'a>(
    releases: impl Iterator<Item = (&'a Release<'b>, Option<Counts>)>,
) -> Vec<Week> {
    let mut by_week: BTreeMap<String, Week> = BTreeMap::new();
    for (r, counts) in releases {
        let w = by_week.entry(r.week.clone()).or_insert_with(|| Week {
            week: r.week.clone(),
            pushed: 0,
            blocked: 0,
            failed_other: 0,
            vulnerabilities: None,
            unknown: 0,
        });
        match r.outcome {
            Outcome::Pushed => {
                w.pushed += 1;
                match counts {
                    Some(c) => w
                        .vulnerabilities
                        .get_or_insert_with(Counts::default)
                        .add(&c),
                    None => w.unknown += 1,
                }
            }
            Outcome::Blocked => w.blocked += 1,
            Outcome::FailedOther => w.failed_other += 1,
        }
    }
    by_week.into_values().collect()
}

impl RepoSummary {
    fn with_trend(mut self) -> Self {
        self.trend = trend(&self.weeks);
        self
    }
}

/// First and last week whose pushed releases have known counts.
pub fn trend(weeks: &[Week]) -> Option<Trend> {
    let mut known = weeks
        .iter()
        .filter_map(|w| Some((w.week.as_str(), w.vulnerabilities?)));
    let (first, first_counts) = known.next()?;
    let (last, last_counts) = known.next_back()?;
    Some(Trend {
        first: first.to_owned(),
        last: last.to_owned(),
        first_vulnerabilities: first_counts,
        last_vulnerabilities: last_counts,
        change: Change::between(&first_counts, &last_counts),
    })
}
