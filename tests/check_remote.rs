#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate check --repo` against a fake GitHub (wiremock on 127.0.0.1; no
//! request leaves the machine): the contents API listing and base64 files,
//! one table over all repositories, and the failures a real API produces —
//! 404, 401, 403 rate limits with `Retry-After` (waited for, or refused when
//! too long), 500 then success. In every run the token must appear neither
//! on stdout nor on stderr, even when the server echoes it back.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use base64::Engine;
use scangate::check::remote::{Client, RepoName, Retry, Token};
use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::{Migrator, Outcome, Source};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghp_TESTSECRETtokenXYZ0123456789abcdefgh";

fn fixture(service: &str, file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(service)
            .join(".github/workflows")
            .join(file),
    )
    .unwrap()
}

fn migrated(service: &str, file: &str) -> String {
    let text = fixture(service, file);
    let source = Source::from_bytes(Path::new(file), text.as_bytes()).unwrap();
    match Migrator::new(Pins::embedded(), Policy::default())
        .unwrap()
        .migrate(&source)
        .unwrap()
    {
        Outcome::Migrated { text, .. } => text,
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// A GitHub-shaped fake
// ---------------------------------------------------------------------------

/// A repository object as `GET /repos/{owner}/{repo}` returns it (abridged
/// to the fields clients commonly read, with GitHub's shapes).
fn repository(full: &str, branch: &str) -> Value {
    let (owner, name) = full.split_once('/').unwrap();
    json!({
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": full,
        "private": false,
        "owner": { "login": owner, "id": 1, "type": "Organization", "site_admin": false },
        "html_url": format!("https://github.com/{full}"),
        "description": "A service",
        "fork": false,
        "url": format!("https://api.github.com/repos/{full}"),
        "archived": false,
        "disabled": false,
        "visibility": "public",
        "default_branch": branch,
        "permissions": { "admin": false, "push": false, "pull": true }
    })
}

fn entry(full: &str, file: &str, size: usize) -> Value {
    let p = format!(".github/workflows/{file}");
    json!({
        "type": "file",
        "size": size,
        "name": file,
        "path": p,
        "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
        "url": format!("https://api.github.com/repos/{full}/contents/{p}?ref=main"),
        "git_url": format!("https://api.github.com/repos/{full}/git/blobs/3d21ec53a331a6f037a91c368710b99387d012c1"),
        "html_url": format!("https://github.com/{full}/blob/main/{p}"),
        "download_url": format!("https://raw.githubusercontent.com/{full}/main/{p}"),
        "_links": {
            "self": format!("https://api.github.com/repos/{full}/contents/{p}?ref=main"),
            "git": format!("https://api.github.com/repos/{full}/git/blobs/3d21ec53a331a6f037a91c368710b99387d012c1"),
            "html": format!("https://github.com/{full}/blob/main/{p}")
        }
    })
}

/// Base64 with a line break every 60 characters, as GitHub sends it.
fn b64(bytes: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(bytes);
    s.as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn file_body(full: &str, file: &str, bytes: &[u8]) -> Value {
    let mut v = entry(full, file, bytes.len());
    v["encoding"] = json!("base64");
    v["content"] = json!(b64(bytes));
    v
}

/// Serves `full` with default branch `main` and `files` in
/// `.github/workflows` under `prefix` (`""`, or `/api/v3` for GHES).
async fn serve_repo(server: &MockServer, prefix: &str, full: &str, files: &[(&str, &[u8])]) {
    Mock::given(method("GET"))
        .and(path(format!("{prefix}/repos/{full}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(repository(full, "main")))
        .mount(server)
        .await;
    let listing: Vec<Value> = files
        .iter()
        .map(|(name, bytes)| entry(full, name, bytes.len()))
        .chain([json!({"type": "dir", "name": "sub", "path": ".github/workflows/sub", "sha": "x", "size": 0})])
        .collect();
    Mock::given(method("GET"))
        .and(path(format!(
            "{prefix}/repos/{full}/contents/.github/workflows"
        )))
        .and(query_param("ref", "main"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing))
        .mount(server)
        .await;
    for (name, bytes) in files {
        Mock::given(method("GET"))
            .and(path(format!(
                "{prefix}/repos/{full}/contents/.github/workflows/{name}"
            )))
            .and(query_param("ref", "main"))
            .respond_with(ResponseTemplate::new(200).set_body_json(file_body(full, name, bytes)))
            .expect(1)
            .mount(server)
            .await;
    }
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404"
    }))
}

/// Runs `scangate check --repo …` against `server` with the token in
/// GH_TOKEN, off the async runtime.
async fn check(server: &MockServer, api_path: &str, args: &[&str]) -> Output {
    let api = format!("{}{api_path}", server.uri());
    let mut argv: Vec<String> = vec!["check".into(), "--api-url".into(), api];
    argv.extend(args.iter().map(|s| (*s).to_owned()));
    tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("scangate")
            .unwrap()
            .args(&argv)
            .env("GH_TOKEN", TOKEN)
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

/// The token appears nowhere the user (or a CI log) can see.
fn assert_no_token(o: &Output) {
    assert!(
        !stdout(o).contains(TOKEN) && !stderr(o).contains(TOKEN),
        "the token leaked:\n{}",
        show(o)
    );
}

async fn requests_to(server: &MockServer, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn one_table_over_all_repositories() {
    let server = MockServer::start().await;
    let clean = migrated("model-service", "release.yml");
    let drifted = fixture("app-service", "release.yml");
    // A BOM and CRLF survive the trip through base64.
    let crlf = format!("\u{feff}{}", clean.replace('\n', "\r\n"));
    serve_repo(
        &server,
        "",
        "acme/model-service",
        &[
            ("release.yml", clean.as_bytes()),
            ("crlf.yaml", crlf.as_bytes()),
        ],
    )
    .await;
    serve_repo(
        &server,
        "",
        "acme/app-service",
        &[("release.yml", drifted.as_bytes())],
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/no-workflows"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(repository("acme/no-workflows", "trunk")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/no-workflows/contents/.github/workflows"))
        .and(query_param("ref", "trunk"))
        .respond_with(not_found())
        .mount(&server)
        .await;

    let o = check(
        &server,
        "",
        &[
            "--repo",
            "acme/model-service",
            "--repo",
            "acme/app-service",
            "--repo",
            "acme/no-workflows",
        ],
    )
    .await;
    assert_no_token(&o);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("REPOSITORY"), "{out}");
    let model: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("acme/model-service "))
        .collect();
    assert_eq!(model.len(), 1, "{out}");
    assert!(
        model[0].contains(" ok ") && model[0].contains("2 workflows"),
        "{out}"
    );
    let app: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("acme/app-service "))
        .collect();
    assert!(app.iter().any(|l| l.contains("ungated-push")), "{out}");
    assert!(
        app.iter()
            .any(|l| l.contains(".github/workflows/release.yml:")),
        "{out}"
    );
    assert!(app.iter().all(|l| l.contains("(fix: ")), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("acme/no-workflows ") && l.contains("0 workflows on `trunk`")),
        "{out}"
    );
    // The whole table is aligned: the rule column starts at one offset.
    let at = lines[0].find("RULE").unwrap();
    for l in &lines[1..] {
        assert_eq!(l.chars().nth(at - 1), Some(' '), "{l}");
    }
    server.verify().await;

    // As JSON, the report names the repository of every file.
    let server = MockServer::start().await;
    serve_repo(
        &server,
        "",
        "acme/app-service",
        &[("release.yml", drifted.as_bytes())],
    )
    .await;
    let o = check(
        &server,
        "",
        &["--repo", "acme/app-service", "--format", "json"],
    )
    .await;
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["repositories"][0]["repo"], "acme/app-service");
    assert_eq!(v["repositories"][0]["default_branch"], "main");
    assert_eq!(v["files"][0]["repo"], "acme/app-service");
    assert_eq!(v["files"][0]["path"], ".github/workflows/release.yml");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_repository_is_an_error_row() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/gone"))
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;
    let o = check(&server, "", &["--repo", "acme/gone"]).await;
    assert_no_token(&o);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let row = stdout(&o)
        .lines()
        .find(|l| l.starts_with("acme/gone"))
        .unwrap()
        .to_owned();
    assert!(
        row.contains("error") && row.contains("not found"),
        "{}",
        show(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_never_show_the_token() {
    let server = MockServer::start().await;
    // A server that echoes the token back must not get it printed.
    Mock::given(method("GET"))
        .and(path("/repos/acme/svc"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": format!("Bad credentials: {TOKEN}"),
            "documentation_url": "https://docs.github.com/rest"
        })))
        .expect(4) // one run per format, no retry of a 401
        .mount(&server)
        .await;
    for format in ["text", "json", "github", "sarif"] {
        let o = check(&server, "", &["--repo", "acme/svc", "--format", format]).await;
        assert_no_token(&o);
        assert_eq!(o.status.code(), Some(2), "{format}: {}", show(&o));
        let all = stdout(&o) + &stderr(&o);
        assert!(
            all.contains("authentication failed"),
            "{format}: {}",
            show(&o)
        );
        assert!(all.contains("***"), "{format}: {}", show(&o));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_is_waited_out_as_retry_after_says() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/svc"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "1")
                .set_body_json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let clean = migrated("app-frontend", "release.yml");
    serve_repo(
        &server,
        "",
        "acme/svc",
        &[("release.yml", clean.as_bytes())],
    )
    .await;
    let started = Instant::now();
    let o = check(&server, "", &["--repo", "acme/svc"]).await;
    assert_no_token(&o);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(requests_to(&server, "/repos/acme/svc").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_longer_than_the_bound_fails_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/svc"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "3600")
                .insert_header("x-ratelimit-remaining", "0")
                .set_body_json(json!({"message": "API rate limit exceeded"})),
        )
        .mount(&server)
        .await;
    let started = Instant::now();
    let o = check(&server, "", &["--repo", "acme/svc"]).await;
    assert_no_token(&o);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(started.elapsed() < Duration::from_secs(20), "it waited");
    let out = stdout(&o);
    assert!(
        out.contains("rate limited") && out.contains("3600"),
        "{}",
        show(&o)
    );
    assert_eq!(requests_to(&server, "/repos/acme/svc").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/svc/contents/.github/workflows"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<html>oops</html>"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let drifted = fixture("model-service", "prerelease.yml");
    serve_repo(
        &server,
        "",
        "acme/svc",
        &[("prerelease.yml", drifted.as_bytes())],
    )
    .await;
    let o = check(&server, "", &["--repo", "acme/svc"]).await;
    assert_no_token(&o);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(
        requests_to(&server, "/repos/acme/svc/contents/.github/workflows").await,
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_server_errors_give_up_after_the_bound() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/svc"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let retry = Retry {
        attempts: 3,
        backoff: Duration::from_millis(10),
        ..Retry::default()
    };
    let client = Client::new(&server.uri(), Token::new(TOKEN), retry).unwrap();
    let repo: RepoName = "acme/svc".parse().unwrap();
    let err = client.workflows(&repo).await.unwrap_err();
    assert!(err.to_string().contains("HTTP 502"), "{err}");
    assert!(!err.to_string().contains(TOKEN));
    assert_eq!(requests_to(&server, "/repos/acme/svc").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn github_enterprise_api_urls_keep_their_path() {
    let server = MockServer::start().await;
    let clean = migrated("app-service", "prerelease.yml");
    serve_repo(
        &server,
        "/api/v3",
        "corp/svc",
        &[("prerelease.yml", clean.as_bytes())],
    )
    .await;
    let o = check(&server, "/api/v3", &["--repo", "corp/svc"]).await;
    assert_no_token(&o);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn large_files_come_from_the_blob_api() {
    let server = MockServer::start().await;
    let drifted = fixture("app-frontend", "prerelease.yml");
    Mock::given(method("GET"))
        .and(path("/repos/acme/big"))
        .respond_with(ResponseTemplate::new(200).set_body_json(repository("acme/big", "main")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/big/contents/.github/workflows"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([entry("acme/big", "big.yml", 1_500_000)])),
        )
        .mount(&server)
        .await;
    // Over 1 MB the contents API sends no content.
    let mut body = entry("acme/big", "big.yml", 1_500_000);
    body["encoding"] = json!("none");
    body["content"] = json!("");
    Mock::given(method("GET"))
        .and(path("/repos/acme/big/contents/.github/workflows/big.yml"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/repos/acme/big/git/blobs/3d21ec53a331a6f037a91c368710b99387d012c1",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
            "size": drifted.len(),
            "encoding": "base64",
            "content": b64(drifted.as_bytes())
        })))
        .expect(1)
        .mount(&server)
        .await;
    let o = check(&server, "", &["--repo", "acme/big"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stdout(&o).contains("ungated-push"), "{}", show(&o));
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_public_repositories_still_work() {
    let server = MockServer::start().await;
    let clean = migrated("app-service", "release.yml");
    Mock::given(method("GET"))
        .and(path("/repos/acme/pub"))
        .respond_with(ResponseTemplate::new(200).set_body_json(repository("acme/pub", "main")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/pub/contents/.github/workflows"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([entry(
            "acme/pub",
            "release.yml",
            clean.len()
        )])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/repos/acme/pub/contents/.github/workflows/release.yml",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(file_body(
            "acme/pub",
            "release.yml",
            clean.as_bytes(),
        )))
        .mount(&server)
        .await;
    let api = server.uri();
    let empty = tempfile::tempdir().unwrap();
    let path_env = empty.path().to_owned();
    let o = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("scangate")
            .unwrap()
            .args(["check", "--api-url", &api, "--repo", "acme/pub"])
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_ACTIONS")
            .env("PATH", path_env) // no `gh` to ask
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(stderr(&o).contains("no GitHub token"), "{}", show(&o));
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .all(|r| !r.headers.contains_key("authorization"))
    );
}

/// `scangate policy --repo` reads the workflows through the same client:
/// the identity is the repository read, the images those its workflows
/// push, and the token stays out of the output.
#[tokio::test(flavor = "multi_thread")]
async fn policy_reads_workflows_through_the_api() {
    let server = MockServer::start().await;
    let release = fixture("app-service", "release.yml");
    let prerelease = migrated("app-service", "prerelease.yml");
    serve_repo(
        &server,
        "",
        "acme/app-service",
        &[
            ("prerelease.yml", prerelease.as_bytes()),
            ("release.yml", release.as_bytes()),
        ],
    )
    .await;
    let api = server.uri();
    let o = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("scangate")
            .unwrap()
            .args([
                "policy",
                "kyverno",
                "--repo",
                "acme/app-service",
                "--api-url",
                &api,
                "--admit",
                "all",
            ])
            .env("GH_TOKEN", TOKEN)
            .env_remove("GITHUB_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_no_token(&o);
    let out = stdout(&o);
    assert!(out.contains("- ghcr.io/acme/app-service:*"), "{out}");
    // Each workflow at the refs its triggers run for.
    for identity in [
        "prerelease\\.yml@refs/heads/develop$",
        "release\\.yml@refs/tags/v[^/]*$",
    ] {
        assert!(
            out.contains(&format!(
                "subjectRegExp: ^https://github\\.com/acme/app\\-service/\\.github/workflows/{identity}"
            )),
            "{out}"
        );
    }
}

/// `--config-repos` checks the repositories the config lists, with the
/// config's policy: a CRITICAL-only gate passes under a CRITICAL-only policy.
#[tokio::test(flavor = "multi_thread")]
async fn the_config_names_the_repositories_and_the_policy() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scangate.toml");
    std::fs::write(
        &config,
        "[policy]\nseverity = [\"CRITICAL\"]\n\n[[repos]]\nname = \"acme/model-service\"\n\n[[repos]]\nname = \"acme/app-service\"\n",
    )
    .unwrap();
    let critical_only = {
        let text = fixture("model-service", "release.yml");
        let source = Source::from_bytes(Path::new("release.yml"), text.as_bytes()).unwrap();
        let policy = Policy {
            severity: "CRITICAL".into(),
            ..Policy::default()
        };
        match Migrator::new(Pins::embedded(), policy)
            .unwrap()
            .migrate(&source)
            .unwrap()
        {
            Outcome::Migrated { text, .. } => text,
            other => panic!("{other:?}"),
        }
    };
    serve_repo(
        &server,
        "",
        "acme/model-service",
        &[("release.yml", critical_only.as_bytes())],
    )
    .await;
    serve_repo(
        &server,
        "",
        "acme/app-service",
        &[(
            "release.yml",
            migrated("app-service", "release.yml").as_bytes(),
        )],
    )
    .await;
    let args = [
        "--config-repos",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ];
    let o = check(&server, "", &args).await;
    assert_no_token(&o);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let repos: Vec<&str> = report["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repo"].as_str().unwrap())
        .collect();
    assert_eq!(repos, ["acme/model-service", "acme/app-service"]);
    // Under the default policy the CRITICAL-only gate is drift.
    let server = MockServer::start().await;
    serve_repo(
        &server,
        "",
        "acme/model-service",
        &[("release.yml", critical_only.as_bytes())],
    )
    .await;
    std::fs::write(&config, "[[repos]]\nname = \"acme/model-service\"\n").unwrap();
    let o = check(&server, "", &args).await;
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
}
