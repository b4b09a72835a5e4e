#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate report --repo …` against a fake GitHub (wiremock on
//! 127.0.0.1): the repositories and workflow contents come from the shared
//! stateful fake (`fake_github`), the Actions endpoints from the
//! three-repository fake (`report_fake`): runs, jobs and artifacts in
//! GitHub's recorded shapes, and each reports artifact as a zip behind the
//! redirect GitHub answers `…/artifacts/{id}/zip` with. The numbers must be
//! those the same data gives offline (`--from`), which `tests/report.rs`
//! checks metric by metric against the schedule.

mod fake_github;
mod report_fake;

use std::collections::HashMap;
use std::process::Output;
use std::sync::Arc;

use serde_json::{Value, json};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use fake_github::{Fake, TOKEN};
use report_fake::FakeRepo;

/// The Actions and code scanning endpoints: one answer per path.
#[derive(Clone, Default)]
struct Actions {
    routes: Arc<HashMap<String, ResponseTemplate>>,
}

impl Respond for Actions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.routes.get(request.url.path()).cloned().unwrap_or_else(|| {
            ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}))
        })
    }
}

/// Serves `repos` (workflows, runs, jobs, artifacts, zips). `code_scanning`
/// names the repositories that have analyses; the others answer 403 as
/// GitHub does without Advanced Security.
async fn serve(repos: &[FakeRepo], code_scanning: &[&str]) -> MockServer {
    serve_with(repos, code_scanning, HashMap::new()).await
}

/// [`serve`], with `extra` answers (by path) in place of its own.
async fn serve_with(
    repos: &[FakeRepo],
    code_scanning: &[&str],
    extra: HashMap<String, ResponseTemplate>,
) -> MockServer {
    let (server, fake) = Fake::start().await;
    let uri = server.uri();
    let mut routes = HashMap::new();
    for repo in repos {
        let full = repo.full_name();
        let files: Vec<(String, &str)> = repo
            .workflows
            .iter()
            .map(|(f, t)| (format!(".github/workflows/{f}"), t.as_str()))
            .collect();
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        fake.add_repo(&full, &files);
        let mut by_workflow: HashMap<String, Vec<Value>> = HashMap::new();
        for run in &repo.runs {
            let b = repo.bodies(run);
            let base = format!("/repos/{full}/actions/runs/{}", run.id);
            by_workflow
                .entry(run.workflow.to_owned())
                .or_default()
                .push(b.run.clone());
            routes.insert(
                format!("{base}/jobs"),
                ResponseTemplate::new(200).set_body_json(&b.jobs),
            );
            routes.insert(
                format!("{base}/artifacts"),
                ResponseTemplate::new(200).set_body_json(&b.artifacts),
            );
            for (id, bytes) in b.zips {
                routes.insert(
                    format!("/repos/{full}/actions/artifacts/{id}/zip"),
                    ResponseTemplate::new(302)
                        .insert_header("location", format!("{uri}/blobs/{full}/{id}.zip")),
                );
                routes.insert(
                    format!("/blobs/{full}/{id}.zip"),
                    ResponseTemplate::new(200)
                        .insert_header("content-type", "application/zip")
                        .set_body_bytes(bytes),
                );
            }
        }
        for (workflow, mut runs) in by_workflow {
            // GitHub lists the newest first.
            runs.reverse();
            routes.insert(
                format!("/repos/{full}/actions/workflows/{workflow}/runs"),
                ResponseTemplate::new(200)
                    .set_body_json(json!({"total_count": runs.len(), "workflow_runs": runs})),
            );
        }
        let analyses = if code_scanning.contains(&full.as_str()) {
            ResponseTemplate::new(200).set_body_json(report_fake::load_json(
                "tests/data/github-actions/code_scanning_analyses.json",
            ))
        } else {
            ResponseTemplate::new(403).set_body_json(json!({
                "message": "Advanced Security must be enabled for this repository to use code scanning.",
                "documentation_url": "https://docs.github.com/rest/code-scanning/code-scanning#list-code-scanning-analyses-for-a-repository",
                "status": "403"
            }))
        };
        routes.insert(format!("/repos/{full}/code-scanning/analyses"), analyses);
    }
    routes.extend(extra);
    Mock::given(path_regex(
        r"^/(repos/[^/]+/[^/]+/(actions|code-scanning)/|blobs/)",
    ))
    .respond_with(Actions {
        routes: Arc::new(routes),
    })
    .with_priority(1)
    .mount(&server)
    .await;
    server
}

async fn report(server: &MockServer, args: &[&str]) -> Output {
    let mut argv: Vec<String> = [
        "report",
        "--api-url",
        &server.uri(),
        "--since",
        "2026-09-01",
        "--until",
        "2026-10-31",
    ]
    .map(str::to_owned)
    .to_vec();
    argv.extend(args.iter().map(|s| (*s).to_owned()));
    tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("scangate")
            .unwrap()
            .args(&argv)
            .env("GH_TOKEN", TOKEN)
            .env_remove("GITHUB_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

const REPOS: [&str; 6] = [
    "--repo",
    "acme/app-frontend",
    "--repo",
    "acme/app-service",
    "--repo",
    "acme/model-service",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_api_gives_the_numbers_the_offline_data_gives() {
    let repos = report_fake::repos();
    let server = serve(&repos, &["acme/model-service"]).await;
    let out = report(&server, &[&REPOS[..], &["--format", "json"]].concat()).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let online = report_fake::json_of(&out);
    let dir = tempfile::tempdir().unwrap();
    report_fake::write_all(dir.path());
    let offline =
        report_fake::json_of(&report_fake::report_from(dir.path(), &["--format", "json"]));
    report_fake::assert_same_metrics(&online, &offline);
    // The API run also says which repository has no code scanning to fall
    // back on for its expired artifact.
    let app = &online["report"]["repositories"][1];
    assert_eq!(app["repo"], "acme/app-service");
    assert!(
        app["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("no code scanning")),
        "{}",
        app["notes"]
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(TOKEN));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_per_repository_and_reads_only() {
    let repos = report_fake::repos();
    let server = serve(&repos, &["acme/model-service"]).await;
    let out = report(&server, &[&REPOS[..], &["--format", "json"]].concat()).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = server.received_requests().await.unwrap();
    assert!(
        seen.iter().all(|r| r.method.as_str() == "GET"),
        "the report only reads"
    );
    let mut per_repo: HashMap<String, usize> = HashMap::new();
    for r in &seen {
        let path = r.url.path();
        let repo = path
            .strip_prefix("/repos/")
            .or_else(|| path.strip_prefix("/blobs/"))
            .map(|p| p.splitn(3, '/').take(2).collect::<Vec<_>>().join("/"))
            .unwrap();
        *per_repo.entry(repo).or_default() += 1;
    }
    // app-service: the repository (1), the workflows listing and its 2
    // files (3), the runs of its 2 gated workflows (2), the jobs of the 8
    // runs that are not cancelled (8), the artifacts of the 6 pushed or
    // blocked ones (6), the 5 zips that have not expired, each a redirect
    // and the storage answer (10), code scanning once for the expired one (1).
    println!("requests per repository: {per_repo:?}");
    assert_eq!(per_repo["acme/app-service"], 1 + 3 + 2 + 8 + 6 + 10 + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_writes_what_from_reads() {
    let repos = report_fake::repos();
    let server = serve(&repos, &["acme/model-service"]).await;
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("kept");
    let keep_arg = keep.display().to_string();
    let out = report(
        &server,
        &[&REPOS[..], &["--format", "json", "--keep", &keep_arg]].concat(),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let online = report_fake::json_of(&out);
    let again = report_fake::json_of(&report_fake::report_from(&keep, &["--format", "json"]));
    report_fake::assert_same_metrics(&online, &again);
    assert!(
        keep.join("acme/app-service/runs/101/scangate-build-and-push-reports.zip")
            .is_file()
    );
}

/// app-service's expired run (109, tag v1.1.3, single platform).
const EXPIRED_RUN: u64 = 109;
const EXPIRED_TAG: &str = "v1.1.3";

/// The SARIF `trivy convert --format sarif` writes for the Trivy report
/// `name` (`tests/data/trivy/`): one result per vulnerability, with
/// Trivy's message lines, plus a secret result that is not counted.
fn trivy_sarif(name: &str) -> Value {
    let report = report_fake::trivy(name);
    let mut results = Vec::new();
    for r in report["Results"].as_array().unwrap() {
        for v in r["Vulnerabilities"].as_array().into_iter().flatten() {
            let text = format!(
                "Package: {}\nInstalled Version: {}\nVulnerability {}\nSeverity: {}\nFixed Version: {}\nLink: [{}](https://avd.aquasec.com/nvd/{})",
                v["PkgName"].as_str().unwrap(),
                v["InstalledVersion"].as_str().unwrap(),
                v["VulnerabilityID"].as_str().unwrap(),
                v["Severity"].as_str().unwrap(),
                v["FixedVersion"].as_str().unwrap_or_default(),
                v["VulnerabilityID"].as_str().unwrap(),
                v["VulnerabilityID"].as_str().unwrap(),
            );
            results.push(json!({
                "ruleId": v["VulnerabilityID"], "ruleIndex": results.len(), "level": "error",
                "message": {"text": text},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "library/app", "uriBaseId": "ROOTPATH"},
                    "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}}}]
            }));
        }
    }
    results.push(json!({
        "ruleId": "aws-access-key-id", "ruleIndex": results.len(), "level": "error",
        "message": {"text": "Artifact: app/.env\nType: \nSecret AWS Access Key ID\nSeverity: CRITICAL\nMatch: AWS_ACCESS_KEY_ID=********************"}
    }));
    json!({"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "Trivy", "fullName": "Trivy Vulnerability Scanner", "rules": []}},
            "results": results, "columnKind": "utf16CodeUnits"}]})
}

/// app-service's code scanning: Trivy's analyses of the expired run (its
/// image, and its Dockerfile, which is not counted), an older upload of
/// the same category from a re-run, another commit's, and the recorded
/// CodeQL analysis; the image's SARIF holds `scan`'s findings.
fn code_scanning_of_app_service(
    repos: &[FakeRepo],
    scan: &str,
) -> HashMap<String, ResponseTemplate> {
    let app = repos.iter().find(|r| r.name == "app-service").unwrap();
    let run = app.runs.iter().find(|r| r.id == EXPIRED_RUN).unwrap();
    let body = app.bodies(run).run;
    let sha = body["head_sha"].as_str().unwrap();
    let job = &app
        .jobs
        .iter()
        .find(|(w, _)| *w == "release.yml")
        .unwrap()
        .1;
    let recorded = report_fake::load_json("tests/data/github-actions/code_scanning_analyses.json");
    let analysis = |id: u64, category: &str, sha: &str, at: &str| {
        let mut a = recorded[0].clone();
        a["id"] = json!(id);
        a["ref"] = json!(format!("refs/tags/{EXPIRED_TAG}"));
        a["commit_sha"] = json!(sha);
        a["category"] = json!(category);
        a["analysis_key"] = json!(format!(".github/workflows/release.yml:{job}-scan"));
        a["environment"] = json!("{}");
        a["created_at"] = json!(at);
        a["tool"] = json!({"name": "Trivy", "version": "0.69.1", "guid": null});
        a
    };
    let image = format!("scangate/release/{job}/image");
    let list = json!([
        analysis(
            9003,
            &format!("scangate/release/{job}/dockerfile"),
            sha,
            "2026-09-30T00:06:00Z"
        ),
        analysis(9002, &image, sha, "2026-09-30T00:05:00Z"),
        analysis(9001, &image, sha, "2026-09-30T00:04:00Z"),
        analysis(
            9000,
            &image,
            "0000000000000000000000000000000000000000",
            "2026-09-29T00:04:00Z"
        ),
        recorded[0].clone(),
    ]);
    let full = app.full_name();
    let mut routes = HashMap::new();
    routes.insert(
        format!("/repos/{full}/code-scanning/analyses"),
        ResponseTemplate::new(200).set_body_json(list),
    );
    routes.insert(
        format!("/repos/{full}/code-scanning/analyses/9002"),
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/sarif+json")
            .set_body_json(trivy_sarif(scan)),
    );
    routes
}

fn repo_of<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["report"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repo"] == name)
        .unwrap()
}

fn notes(repo: &Value) -> Vec<String> {
    repo["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_artifact_is_counted_from_code_scanning() {
    let repos = report_fake::repos();
    let extra = code_scanning_of_app_service(&repos, "debian-buster");
    let server = serve_with(&repos, &[], extra).await;
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("kept");
    let keep_arg = keep.display().to_string();
    let out = report(
        &server,
        &[
            "--repo",
            "acme/app-service",
            "--format",
            "json",
            "--keep",
            &keep_arg,
        ],
    )
    .await;
    let online = report_fake::json_of(&out);
    let app = repo_of(&online, "acme/app-service");
    let last = &app["images"][0]["last_pushed"];
    assert_eq!(last["run"], EXPIRED_RUN, "{last}");
    assert_eq!(last["reports"], "expired");
    assert_eq!(last["source"], "code-scanning");
    // debian-buster: 1 fixable CRITICAL, 1 unfixed LOW; the secret is no
    // vulnerability, the Dockerfile's analysis and the older upload are
    // not read.
    assert_eq!(
        last["vulnerabilities"],
        json!({"CRITICAL": 1, "HIGH": 0, "MEDIUM": 0, "LOW": 1, "UNKNOWN": 0, "fixable": 1})
    );
    assert_eq!(last["os"], Value::Null);
    let week = app["weeks"].as_array().unwrap().last().unwrap();
    assert_eq!(week["unknown"], 0, "{week}");
    let notes = notes(app);
    assert!(
        notes
            .iter()
            .any(|n| n == "counted from code scanning: reports artifact expired for run 109"),
        "{notes:?}"
    );
    assert!(!notes.iter().any(|n| n.contains("unknown")), "{notes:?}");
    let seen = server.received_requests().await.unwrap();
    let sarif: Vec<_> = seen
        .iter()
        .filter(|r| r.url.path().contains("/code-scanning/analyses/"))
        .collect();
    assert_eq!(sarif.len(), 1, "only the image's newest analysis is read");
    assert_eq!(
        sarif[0].url.path(),
        "/repos/acme/app-service/code-scanning/analyses/9002"
    );
    assert_eq!(
        sarif[0].headers.get("accept").unwrap().to_str().unwrap(),
        "application/sarif+json"
    );
    let list = seen
        .iter()
        .find(|r| r.url.path().ends_with("/code-scanning/analyses"))
        .unwrap();
    assert!(
        list.url.query().unwrap().contains("tool_name=Trivy"),
        "{}",
        list.url
    );
    // What --keep wrote gives the same numbers offline.
    let again = report_fake::json_of(&report_fake::report_from(&keep, &["--format", "json"]));
    report_fake::assert_same_metrics(&online, &again);
    // And the other formats say where the numbers came from.
    let text = report(&server, &["--repo", "acme/app-service"]).await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("counted from code scanning"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_code_scanning_an_expired_artifact_stays_unknown() {
    let repos = report_fake::repos();
    for (status, message) in [
        (
            403,
            "Advanced Security must be enabled for this repository to use code scanning.",
        ),
        (404, "no analysis found"),
    ] {
        let mut extra = HashMap::new();
        extra.insert(
            "/repos/acme/app-service/code-scanning/analyses".to_owned(),
            ResponseTemplate::new(status).set_body_json(json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest/code-scanning/code-scanning#list-code-scanning-analyses-for-a-repository",
                "status": status.to_string()
            })),
        );
        let server = serve_with(&repos, &[], extra).await;
        let out = report(&server, &["--repo", "acme/app-service", "--format", "json"]).await;
        let online = report_fake::json_of(&out);
        let app = repo_of(&online, "acme/app-service");
        let last = &app["images"][0]["last_pushed"];
        assert_eq!(last["reports"], "expired", "{status}");
        assert_eq!(last["source"], Value::Null, "{status}");
        assert_eq!(last["vulnerabilities"], Value::Null, "{status}");
        let notes = notes(app);
        assert!(
            notes.iter().any(|n| n.starts_with("no code scanning")),
            "{status}: {notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n
                    == "reports artifact expired for run 109: their vulnerabilities are unknown"),
            "{status}: {notes:?}"
        );
        assert!(
            !notes
                .iter()
                .any(|n| n.contains("counted from code scanning"))
        );
    }
}

/// `n` copies of app-service named `acme/svc-NNN`, each with `runs` runs
/// over the window: pushed, blocked, pushed again, a failed test, in turn.
fn many(n: usize, runs: usize) -> Vec<FakeRepo> {
    use report_fake::{FakeRun, Kind, Scan};
    let base = report_fake::repos()
        .into_iter()
        .find(|r| r.name == "app-service")
        .unwrap();
    (0..n)
        .map(|i| {
            let mut r = base.clone();
            r.name = Box::leak(format!("svc-{i:03}").into_boxed_str());
            r.runs = (0..runs)
                .map(|k| FakeRun {
                    id: 10_000 + k as u64,
                    workflow: "release.yml",
                    created_at: Box::leak(
                        format!("2026-09-{:02}T{:02}:00:00Z", 1 + k / 2 % 30, 8 + k % 2 * 4)
                            .into_boxed_str(),
                    ),
                    tag: Box::leak(format!("v1.{k}.0").into_boxed_str()),
                    kind: match k % 4 {
                        0 => Kind::Pushed(Scan::Alpine),
                        1 => Kind::Blocked(Scan::Debian),
                        2 => Kind::Pushed(Scan::AlpineFixed),
                        _ => Kind::TestFailed,
                    },
                })
                .collect();
            r
        })
        .collect()
}

/// The measurement the issue asks for: 100 repositories × 50 runs against
/// the fake (which answers at once, so this is scangate's own cost plus
/// loopback HTTP). Prints the time and the requests per repository; no
/// assertion on time. Run it with
/// `cargo test --release --test report_api -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check"]
async fn measure_100_repositories_of_50_runs() {
    let repos = many(100, 50);
    let server = serve(&repos, &[]).await;
    let mut args: Vec<String> = vec!["--format".into(), "json".into()];
    for r in &repos {
        args.push("--repo".into());
        args.push(r.full_name());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let out = report(&server, &args).await;
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["report"]["repositories"].as_array().unwrap().len(), 100);
    let requests = server.received_requests().await.unwrap().len();
    println!(
        "100 repositories x 50 runs: {:.2} s, {requests} requests ({:.1} per repository)",
        took.as_secs_f64(),
        requests as f64 / 100.0
    );
}
