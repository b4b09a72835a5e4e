//! The three-repository fake that the report tests read: the fixtures'
//! workflows (migrated by scangate, except app-frontend's prerelease.yml),
//! several weeks of runs (pushed, blocked at the gate, failed elsewhere,
//! cancelled, a pull request, artifacts expired) and real Trivy reports in
//! zip artifacts. Every GitHub object is a recorded response object
//! (`tests/data/github-actions/`) with only the fields that matter here
//! replaced, so the shapes are GitHub's.
//!
//! The expected numbers of each metric are written next to the schedule in
//! the tests, worked out by hand from it.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)] // each test binary uses a part

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::{Migrator, Outcome, Source};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load_json(rel: &str) -> Value {
    load(rel)
}

fn load(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(root().join(rel)).unwrap()).unwrap()
}

/// A Trivy report of the samples, by name.
pub fn trivy(name: &str) -> Value {
    load(&format!("tests/data/trivy/{name}.json"))
}

/// What a run's scan found.
#[derive(Debug, Clone)]
pub enum Scan {
    /// alpine 3.10.2 (EOSL): 4 fixable MEDIUM.
    Alpine,
    /// alpine with the libssl findings fixed: 2 fixable MEDIUM.
    AlpineFixed,
    /// debian 10.1: 1 fixable CRITICAL, 1 unfixed LOW (the gate blocks it).
    Debian,
}

impl Scan {
    fn report(&self) -> Value {
        match self {
            Scan::Alpine => trivy("alpine-310"),
            Scan::Debian => trivy("debian-buster"),
            Scan::AlpineFixed => {
                let mut r = trivy("alpine-310");
                let vulns = r["Results"][0]["Vulnerabilities"].as_array_mut().unwrap();
                vulns.retain(|v| v["PkgName"] != "libssl1.1");
                r
            }
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Gate passed, every push succeeded.
    Pushed(Scan),
    /// Pushed, then a later step (the GitHub release) failed: still pushed.
    PushedThenFailed(Scan),
    /// Pushed, and the reports artifact has expired since.
    PushedExpired,
    /// The gate step failed.
    Blocked(Scan),
    /// A test failed before the scan: no reports.
    TestFailed,
    /// The push step failed after the gate passed.
    PushFailed(Scan),
    /// A pull request: built and scanned, the push skipped by its condition.
    PullRequest(Scan),
    /// Cancelled after the push had succeeded.
    Cancelled(Scan),
}

#[derive(Debug, Clone)]
pub struct FakeRun {
    pub id: u64,
    /// `release.yml` or `prerelease.yml`.
    pub workflow: &'static str,
    pub created_at: &'static str,
    pub tag: &'static str,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub struct FakeRepo {
    pub owner: &'static str,
    pub name: &'static str,
    /// File name and text of each workflow at the default branch.
    pub workflows: Vec<(String, String)>,
    pub runs: Vec<FakeRun>,
    /// The job whose reports artifact the gated workflows publish
    /// (`scangate-JOB-reports`), per workflow file.
    pub jobs: Vec<(&'static str, String)>,
    /// Platform slugs of the image (empty: one platform, `image.json`).
    pub platforms: Vec<&'static str>,
}

fn run(
    id: u64,
    workflow: &'static str,
    created_at: &'static str,
    tag: &'static str,
    kind: Kind,
) -> FakeRun {
    FakeRun {
        id,
        workflow,
        created_at,
        tag,
        kind,
    }
}

/// The fixture's workflow, migrated with the default policy.
fn migrated(service: &str, file: &str) -> String {
    let text = original(service, file);
    let migrator = Migrator::new(Pins::embedded(), Policy::default()).unwrap();
    let source = Source::from_bytes(Path::new(file), text.as_bytes()).unwrap();
    match migrator.migrate(&source).unwrap() {
        Outcome::Migrated { text, .. } => text,
        other => panic!("{service}/{file}: {other:?}"),
    }
}

fn original(service: &str, file: &str) -> String {
    std::fs::read_to_string(root().join(format!("fixtures/{service}/.github/workflows/{file}")))
        .unwrap()
}

/// The first job id of a workflow whose name is the given one after
/// migration (the push job keeps the original id).
fn push_job(text: &str) -> String {
    let doc: yaml_serde::Value = yaml_serde::from_str(text).unwrap();
    let jobs = doc["jobs"].as_mapping().unwrap();
    jobs.iter()
        .map(|(k, _)| k.as_str().unwrap().to_owned())
        .find(|k| jobs.contains_key(format!("{k}-scan").as_str()))
        .unwrap()
}

/// The three repositories.
pub fn repos() -> Vec<FakeRepo> {
    use Kind::*;
    use Scan::*;
    let wf = |service: &str, files: &[(&str, bool)]| -> Vec<(String, String)> {
        files
            .iter()
            .map(|(f, migrate)| {
                let text = if *migrate {
                    migrated(service, f)
                } else {
                    original(service, f)
                };
                ((*f).to_owned(), text)
            })
            .collect()
    };
    let jobs = |w: &[(String, String)]| -> Vec<(&'static str, String)> {
        w.iter()
            .filter(|(_, t)| t.contains("-scan:"))
            .map(|(f, t)| {
                (
                    if f == "release.yml" {
                        "release.yml"
                    } else {
                        "prerelease.yml"
                    },
                    push_job(t),
                )
            })
            .collect()
    };
    let app_service = wf(
        "app-service",
        &[("release.yml", true), ("prerelease.yml", true)],
    );
    let model_service = wf(
        "model-service",
        &[("release.yml", true), ("prerelease.yml", true)],
    );
    let app_frontend = wf(
        "app-frontend",
        &[("release.yml", true), ("prerelease.yml", false)],
    );
    vec![
        FakeRepo {
            owner: "acme",
            name: "app-service",
            jobs: jobs(&app_service),
            workflows: app_service,
            platforms: vec![],
            runs: vec![
                run(
                    101,
                    "release.yml",
                    "2026-09-08T10:00:00Z",
                    "v1.0.0",
                    Pushed(Alpine),
                ),
                run(
                    102,
                    "release.yml",
                    "2026-09-09T09:00:00Z",
                    "v1.0.1",
                    Blocked(Debian),
                ),
                run(
                    103,
                    "release.yml",
                    "2026-09-10T05:30:00Z",
                    "v1.0.2",
                    Pushed(Alpine),
                ),
                run(
                    104,
                    "prerelease.yml",
                    "2026-09-16T12:00:00Z",
                    "v1.1.0-rc1",
                    TestFailed,
                ),
                run(
                    105,
                    "prerelease.yml",
                    "2026-09-17T12:00:00Z",
                    "feature/x",
                    PullRequest(Alpine),
                ),
                run(
                    106,
                    "release.yml",
                    "2026-09-22T08:00:00Z",
                    "v1.1.0",
                    Cancelled(Alpine),
                ),
                run(
                    107,
                    "release.yml",
                    "2026-09-23T08:00:00Z",
                    "v1.1.1",
                    Blocked(Debian),
                ),
                run(
                    108,
                    "release.yml",
                    "2026-09-23T11:00:00Z",
                    "v1.1.2",
                    PushedThenFailed(AlpineFixed),
                ),
                run(
                    109,
                    "release.yml",
                    "2026-09-30T00:00:00Z",
                    "v1.1.3",
                    PushedExpired,
                ),
            ],
        },
        FakeRepo {
            owner: "acme",
            name: "model-service",
            jobs: jobs(&model_service),
            workflows: model_service,
            platforms: vec!["linux-amd64", "linux-arm64"],
            runs: vec![
                run(
                    200,
                    "release.yml",
                    "2026-08-25T10:00:00Z",
                    "v0.9.0",
                    Pushed(Debian),
                ),
                run(
                    201,
                    "release.yml",
                    "2026-09-02T10:00:00Z",
                    "v1.0.0",
                    Pushed(Alpine),
                ),
                run(
                    202,
                    "release.yml",
                    "2026-09-15T10:00:00Z",
                    "v1.1.0",
                    Pushed(Alpine),
                ),
                run(
                    203,
                    "release.yml",
                    "2026-09-29T10:00:00Z",
                    "v1.2.0",
                    Blocked(Debian),
                ),
                run(
                    204,
                    "prerelease.yml",
                    "2026-10-06T10:00:00Z",
                    "v1.2.1-pre1",
                    PushFailed(Alpine),
                ),
                run(
                    205,
                    "prerelease.yml",
                    "2026-10-07T10:00:00Z",
                    "v1.2.1-pre2",
                    Pushed(AlpineFixed),
                ),
            ],
        },
        FakeRepo {
            owner: "acme",
            name: "app-frontend",
            jobs: jobs(&app_frontend),
            workflows: app_frontend,
            platforms: vec![],
            runs: vec![
                run(
                    301,
                    "prerelease.yml",
                    "2026-10-12T10:00:00Z",
                    "v2.0.0-rc1",
                    Pushed(Alpine),
                ),
                run(
                    302,
                    "release.yml",
                    "2026-10-13T10:00:00Z",
                    "v2.0.0",
                    Pushed(Alpine),
                ),
                run(
                    303,
                    "release.yml",
                    "2026-10-20T10:00:00Z",
                    "v2.0.1",
                    TestFailed,
                ),
            ],
        },
    ]
}

impl FakeRun {
    fn conclusion(&self) -> &'static str {
        match self.kind {
            Kind::Pushed(_) | Kind::PushedExpired | Kind::PullRequest(_) => "success",
            Kind::Cancelled(_) => "cancelled",
            Kind::TestFailed if self.id == 303 => "timed_out",
            _ => "failure",
        }
    }

    fn scan(&self) -> Option<&Scan> {
        match &self.kind {
            Kind::Pushed(s)
            | Kind::PushedThenFailed(s)
            | Kind::Blocked(s)
            | Kind::PushFailed(s)
            | Kind::PullRequest(s)
            | Kind::Cancelled(s) => Some(s),
            Kind::PushedExpired | Kind::TestFailed => None,
        }
    }

    /// `(job, [(step, conclusion)])` of the run's jobs.
    fn jobs(&self, job: &str) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
        let (test, gate, push, after) = match self.kind {
            Kind::Pushed(_) | Kind::PushedExpired => ("success", "success", "success", "success"),
            Kind::PushedThenFailed(_) => ("success", "success", "success", "failure"),
            Kind::Blocked(_) => ("success", "failure", "skipped", "skipped"),
            Kind::TestFailed => ("failure", "skipped", "skipped", "skipped"),
            Kind::PushFailed(_) => ("success", "success", "failure", "skipped"),
            Kind::PullRequest(_) => ("success", "success", "skipped", "skipped"),
            Kind::Cancelled(_) => ("success", "success", "success", "cancelled"),
        };
        let scanned = if test == "success" {
            "success"
        } else {
            "skipped"
        };
        vec![
            (
                format!("{job} (build)"),
                vec![
                    ("Set up job", "success"),
                    ("Run tests", test),
                    ("Build", scanned),
                ],
            ),
            (
                format!("{job} (scan)"),
                vec![
                    ("Set up job", scanned),
                    (
                        "Scan with Trivy (full reports; this step never fails)",
                        scanned,
                    ),
                    ("Publish the scan reports", scanned),
                    ("Gate on CRITICAL,HIGH vulnerabilities", gate),
                ],
            ),
            (
                job.to_owned(),
                vec![
                    ("Set up job", push),
                    ("Push the scanned image and verify its digest", push),
                    ("Create the GitHub release", after),
                ],
            ),
        ]
    }
}

/// The GitHub objects of one run, from the recorded templates.
pub struct RunBodies {
    pub run: Value,
    pub jobs: Value,
    pub artifacts: Value,
    /// `(artifact id, zip bytes)` of the artifacts that can be downloaded.
    pub zips: Vec<(u64, Vec<u8>)>,
}

impl FakeRepo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    fn job_of(&self, workflow: &str) -> Option<&str> {
        self.jobs
            .iter()
            .find(|(w, _)| *w == workflow)
            .map(|(_, j)| j.as_str())
    }

    pub fn bodies(&self, r: &FakeRun) -> RunBodies {
        let runs = load("tests/data/github-actions/actions_workflow_runs.json");
        let mut run = runs["workflow_runs"][0].clone();
        run["id"] = json!(r.id);
        run["path"] = json!(format!(".github/workflows/{}", r.workflow));
        run["head_branch"] = json!(r.tag);
        run["created_at"] = json!(r.created_at);
        run["updated_at"] = json!(r.created_at);
        run["run_started_at"] = json!(r.created_at);
        run["status"] = json!("completed");
        run["conclusion"] = json!(r.conclusion());
        run["event"] = json!(if matches!(r.kind, Kind::PullRequest(_)) {
            "pull_request"
        } else {
            "push"
        });
        let job_id = self.job_of(r.workflow).unwrap_or("build");
        let template = load("tests/data/github-actions/actions_run_jobs.json")["jobs"][0].clone();
        let step_template = template["steps"][0].clone();
        let jobs: Vec<Value> = r
            .jobs(job_id)
            .into_iter()
            .enumerate()
            .map(|(i, (name, steps))| {
                let mut j = template.clone();
                j["id"] = json!(r.id * 10 + i as u64);
                j["run_id"] = json!(r.id);
                j["name"] = json!(name);
                let all_skipped = steps.iter().all(|(_, c)| *c == "skipped");
                j["conclusion"] = json!(if all_skipped {
                    "skipped"
                } else if steps.iter().any(|(_, c)| *c == "failure") {
                    "failure"
                } else {
                    "success"
                });
                j["steps"] = Value::Array(
                    steps
                        .iter()
                        .enumerate()
                        .map(|(n, (name, c))| {
                            let mut s = step_template.clone();
                            s["name"] = json!(name);
                            s["conclusion"] = json!(c);
                            s["number"] = json!(n + 1);
                            s
                        })
                        .collect(),
                );
                j
            })
            .collect();
        let artifact_template =
            load("tests/data/github-actions/actions_artifacts_list.json")["artifacts"][0].clone();
        let mut artifacts = Vec::new();
        let mut zips = Vec::new();
        let gated = self.job_of(r.workflow).is_some();
        let expired = matches!(r.kind, Kind::PushedExpired);
        if gated && (r.scan().is_some() || expired) {
            let id = r.id * 100 + 1;
            let bytes = r.scan().map(|s| self.reports_zip(s)).unwrap_or_default();
            let mut a = artifact_template.clone();
            a["id"] = json!(id);
            a["name"] = json!(format!("scangate-{job_id}-reports"));
            a["expired"] = json!(expired);
            a["size_in_bytes"] = json!(bytes.len());
            a["archive_download_url"] = json!(format!(
                "https://api.github.com/repos/{}/actions/artifacts/{id}/zip",
                self.full_name()
            ));
            a["workflow_run"]["id"] = json!(r.id);
            a["workflow_run"]["head_branch"] = json!(r.tag);
            artifacts.push(a);
            if !expired {
                zips.push((id, bytes));
            }
        }
        RunBodies {
            run,
            jobs: json!({"total_count": jobs.len(), "jobs": jobs}),
            artifacts: json!({"total_count": artifacts.len(), "artifacts": artifacts}),
            zips,
        }
    }

    /// The reports folder of the scan job, zipped as GitHub serves it:
    /// one JSON (and SARIF) per platform, and the Dockerfile report.
    fn reports_zip(&self, scan: &Scan) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let slugs: Vec<&str> = if self.platforms.is_empty() {
            vec!["image"]
        } else {
            self.platforms.clone()
        };
        for slug in slugs {
            let mut report = scan.report();
            // Each platform is scanned from its own folder, as the scan job does.
            if let Some(t) = report["Results"][0]["Target"].as_str() {
                report["Results"][0]["Target"] =
                    json!(format!("/home/runner/work/_temp/scangate/{slug}/{t}"));
            }
            zip.start_file(format!("{slug}.json"), opts).unwrap();
            zip.write_all(&serde_json::to_vec_pretty(&report).unwrap())
                .unwrap();
            zip.start_file(format!("{slug}.sarif"), opts).unwrap();
            zip.write_all(b"{\"version\": \"2.1.0\", \"runs\": []}")
                .unwrap();
        }
        zip.start_file("dockerfile.json", opts).unwrap();
        zip.write_all(&serde_json::to_vec(&trivy("dockerfile")).unwrap())
            .unwrap();
        zip.finish().unwrap().into_inner()
    }

    /// Writes the repository in the layout `report --from DIR` reads.
    pub fn write_dir(&self, dir: &Path) {
        let base = dir.join(self.owner).join(self.name);
        let wf = base.join(".github/workflows");
        std::fs::create_dir_all(&wf).unwrap();
        for (file, text) in &self.workflows {
            std::fs::write(wf.join(file), text).unwrap();
        }
        for r in &self.runs {
            let b = self.bodies(r);
            let rd = base.join("runs").join(r.id.to_string());
            std::fs::create_dir_all(&rd).unwrap();
            std::fs::write(
                rd.join("run.json"),
                serde_json::to_vec_pretty(&b.run).unwrap(),
            )
            .unwrap();
            std::fs::write(
                rd.join("jobs.json"),
                serde_json::to_vec_pretty(&b.jobs).unwrap(),
            )
            .unwrap();
            std::fs::write(
                rd.join("artifacts.json"),
                serde_json::to_vec_pretty(&b.artifacts).unwrap(),
            )
            .unwrap();
            for (id, bytes) in &b.zips {
                let name = b.artifacts["artifacts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["id"] == json!(id))
                    .unwrap()["name"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                std::fs::write(rd.join(format!("{name}.zip")), bytes).unwrap();
            }
        }
    }
}

/// Writes all three repositories under `dir`.
pub fn write_all(dir: &Path) {
    for r in repos() {
        r.write_dir(dir);
    }
}

/// `scangate report --since 2026-09-01 --until 2026-10-31 --from DIR EXTRA…`:
/// the window every report test uses.
pub fn report_from(dir: &Path, extra: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("scangate")
        .unwrap()
        .args([
            "report",
            "--since",
            "2026-09-01",
            "--until",
            "2026-10-31",
            "--from",
        ])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

/// The JSON of a successful report run.
pub fn json_of(out: &std::process::Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Asserts that two JSON reports give the same metrics, repository by
/// repository (notes may differ: only the API knows about code scanning).
pub fn assert_same_metrics(a: &Value, b: &Value) {
    let repos = |v: &Value| v["report"]["repositories"].as_array().unwrap().clone();
    let (a, b) = (repos(a), repos(b));
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        for key in [
            "repo",
            "coverage",
            "releases",
            "workflows",
            "images",
            "stopped",
            "weeks",
            "trend",
        ] {
            assert_eq!(a[key], b[key], "{} {key}", a["repo"]);
        }
    }
}
