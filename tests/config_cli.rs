#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate.toml`, `--templates` and `scangate pins` from the command line:
//! `init` writes a config that reads back; a config is found at the
//! repository root; invalid configs and templates are exit-2 errors that
//! name the file, line and key and write nothing; `pins --update` resolves
//! releases through a fake GitHub (wiremock on 127.0.0.1), follows annotated
//! tags, refuses compromised tags, keeps the config's comments, and never
//! prints the token.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use tempfile::TempDir;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "ghp_CONFIGTESTsecret0123456789abcdefghijk";

fn scangate(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GH_TOKEN", TOKEN)
        .env_remove("GITHUB_TOKEN")
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scratch repository holding the app-service fixture's workflows.
fn repo() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    fs::create_dir_all(&workflows).unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/app-service/.github/workflows");
    for name in ["release.yml", "prerelease.yml"] {
        fs::copy(fixture.join(name), workflows.join(name)).unwrap();
    }
    let release = workflows.join("release.yml");
    (dir, release)
}

#[test]
fn init_writes_a_config_that_changes_nothing_and_never_overwrites() {
    let (dir, release) = repo();
    let plain = scangate(dir.path(), &["migrate", "--color", "never", "."]);
    let out = scangate(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let written = fs::read_to_string(dir.path().join("scangate.toml")).unwrap();
    assert_eq!(written, scangate::config::DEFAULT_TEXT);
    // The commented default is the defaults: the same diff.
    let with = scangate(dir.path(), &["migrate", "--color", "never", "."]);
    assert_eq!(with.stdout, plain.stdout);
    // A second init refuses and leaves the file alone.
    fs::write(dir.path().join("scangate.toml"), "# mine\n").unwrap();
    let again = scangate(dir.path(), &["init"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("--force"), "{}", text(&again));
    assert_eq!(
        fs::read_to_string(dir.path().join("scangate.toml")).unwrap(),
        "# mine\n"
    );
    assert!(release.exists());
}

#[test]
fn the_config_at_the_repository_root_is_read() {
    let (dir, _) = repo();
    fs::write(
        dir.path().join("scangate.toml"),
        "[policy]\nseverity = [\"CRITICAL\"]\n",
    )
    .unwrap();
    let out = scangate(dir.path(), &["migrate", "--color", "never", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("--severity CRITICAL --ignore-unfixed"),
        "{diff}"
    );
    assert!(!diff.contains("--severity CRITICAL,HIGH"), "{diff}");
}

#[test]
fn an_invalid_config_is_an_error_at_its_line_and_nothing_is_written() {
    let (dir, release) = repo();
    let before = fs::read(&release).unwrap();
    fs::write(
        dir.path().join("scangate.toml"),
        "# team policy\n[policy]\nseverity = [\"HUGE\"]\n",
    )
    .unwrap();
    let out = scangate(dir.path(), &["migrate", "--write", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scangate.toml:3:13: `policy.severity[0]`: unknown variant `HUGE`"),
        "{err}"
    );
    assert!(err.contains("`CRITICAL`"), "{err}");
    assert_eq!(fs::read(&release).unwrap(), before);
    // `check` reads the same config and fails the same way.
    let out = scangate(dir.path(), &["check", "--format", "text", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // An explicit --config that does not exist is an error too.
    let out = scangate(dir.path(), &["migrate", "--config", "nope.toml", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("nope.toml"), "{}", text(&out));
}

/// A copy of the built-in template `name` with `edit` applied.
fn template_dir(name: &str, edit: impl Fn(&str) -> String) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let original = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .join(name),
    )
    .unwrap();
    let edited = edit(&original);
    assert_ne!(edited, original, "the edit changed nothing");
    fs::write(dir.path().join(name), edited).unwrap();
    dir
}

#[test]
fn templates_override_the_built_in_ones() {
    let (dir, _) = repo();
    let templates = template_dir("scan-job.yml", |t| {
        t.replace("- name: Gate on ", "- name: Team gate on ")
    });
    let out = scangate(
        dir.path(),
        &[
            "migrate",
            "--color",
            "never",
            "--templates",
            templates.path().to_str().unwrap(),
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("- name: Team gate on CRITICAL,HIGH"),
        "{}",
        text(&out)
    );
    // The same folder named in the config, relative to the config file.
    let copied = dir.path().join("tpl");
    fs::create_dir(&copied).unwrap();
    fs::copy(
        templates.path().join("scan-job.yml"),
        copied.join("scan-job.yml"),
    )
    .unwrap();
    fs::write(dir.path().join("scangate.toml"), "templates = \"tpl\"\n").unwrap();
    let out = scangate(dir.path(), &["migrate", "--color", "never", "."]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Team gate on"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_broken_template_names_its_file_and_line() {
    let (dir, release) = repo();
    let before = fs::read(&release).unwrap();
    let templates = template_dir("push-job.yml", |t| {
        t.replacen("{% if has_name %}", "{% if has_name %%}", 1)
    });
    let out = scangate(
        dir.path(),
        &[
            "migrate",
            "--write",
            "--templates",
            templates.path().to_str().unwrap(),
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let shown = templates.path().join("push-job.yml").display().to_string();
    let line = fs::read_to_string(templates.path().join("push-job.yml"))
        .unwrap()
        .lines()
        .position(|l| l.contains("%%}"))
        .unwrap()
        + 1;
    assert!(
        text(&out).contains(&format!("template {shown}:{line}:")),
        "{}",
        text(&out)
    );
    assert_eq!(fs::read(&release).unwrap(), before);
}

#[test]
fn an_unknown_template_name_is_an_error() {
    let (dir, _) = repo();
    let templates = tempfile::tempdir().unwrap();
    fs::write(templates.path().join("scan-jobs.yml"), "x").unwrap();
    let out = scangate(
        dir.path(),
        &[
            "migrate",
            "--templates",
            templates.path().to_str().unwrap(),
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not a scangate template name") && text(&out).contains("scan-job.yml"),
        "{}",
        text(&out)
    );
}

#[test]
fn pins_lists_the_table_in_force() {
    let (dir, _) = repo();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    fs::write(
        dir.path().join("scangate.toml"),
        format!("[pins.\"actions/checkout\"]\nversion = \"v99.0.0\"\nsha = \"{sha}\"\n"),
    )
    .unwrap();
    let out = scangate(dir.path(), &["pins", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pins: Value = serde_json::from_slice(&out.stdout).unwrap();
    let checkout = pins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["action"] == "actions/checkout")
        .unwrap();
    assert_eq!(checkout["sha"], sha);
    assert_eq!(checkout["version"], "v99.0.0");
}

/// Answers `GET /repos/{owner}/{repo}/releases/latest` with GitHub's release
/// object, tagged `v9.9.9`, for every repository.
struct LatestRelease(Value);

impl Respond for LatestRelease {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut body = self.0.clone();
        body["tag_name"] = json!("v9.9.9");
        body["url"] = json!(format!("https://api.github.com{}", request.url.path()));
        ResponseTemplate::new(200).set_body_json(body)
    }
}

fn commit_of(repo: &str) -> String {
    // A distinct, valid 40-hex SHA per repository.
    let mut sha = String::new();
    for b in repo.bytes().cycle().take(20) {
        sha.push_str(&format!("{b:02x}"));
    }
    sha
}

#[tokio::test(flavor = "multi_thread")]
async fn pins_update_resolves_releases_to_commits() {
    let server = MockServer::start().await;
    let release: Value = serde_json::from_str(
        &fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/github/release.json"),
        )
        .unwrap(),
    )
    .unwrap();
    Mock::given(method("GET"))
        .and(path_regex(r"^/repos/[^/]+/[^/]+/releases/latest$"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(LatestRelease(release))
        .mount(&server)
        .await;
    // docker/login-action's tag is annotated: the ref names a tag object.
    let tag_object = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    Mock::given(method("GET"))
        .and(path("/repos/docker/login-action/git/ref/tags/v9.9.9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ref": "refs/tags/v9.9.9",
            "node_id": "MDM6UmVmcmVmcy90YWdzL3Y5LjkuOQ==",
            "url": "https://api.github.com/repos/docker/login-action/git/refs/tags/v9.9.9",
            "object": { "type": "tag", "sha": tag_object, "url": "https://api.github.com/x" }
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/docker/login-action/git/tags/{tag_object}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": tag_object,
            "tag": "v9.9.9",
            "message": "v9.9.9",
            "object": { "type": "commit", "sha": commit_of("docker/login-action"), "url": "https://api.github.com/x" }
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/repos/[^/]+/[^/]+/git/ref/tags/v9\.9\.9$"))
        .respond_with(|request: &Request| {
            let parts: Vec<&str> = request.url.path().split('/').collect();
            let repo = format!("{}/{}", parts[2], parts[3]);
            ResponseTemplate::new(200).set_body_json(json!({
                "ref": "refs/tags/v9.9.9",
                "object": { "type": "commit", "sha": commit_of(&repo), "url": "https://api.github.com/x" }
            }))
        })
        .mount(&server)
        .await;

    let (dir, _) = repo();
    let config =
        "# our pins\n[compromised-tags]\n\"actions/checkout\" = [\"v9.9.9\"] # force-pushed\n";
    fs::write(dir.path().join("scangate.toml"), config).unwrap();
    let api = server.uri();
    let root = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        scangate(&root, &["pins", "--update", "--api-url", &api])
    })
    .await
    .unwrap();
    let shown = text(&out);
    assert!(!shown.contains(TOKEN), "the token leaked:\n{shown}");
    // One refusal (the compromised tag): exit 1, the rest written.
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("[compromised-tags]"), "{shown}");

    let written = fs::read_to_string(dir.path().join("scangate.toml")).unwrap();
    assert!(written.starts_with(config), "comments lost:\n{written}");
    let parsed = scangate::config::Config::parse(Path::new("scangate.toml"), &written).unwrap();
    let pins = parsed.pins();
    assert_eq!(
        pins.uses("docker/login-action"),
        format!(
            "docker/login-action@{} # v9.9.9",
            commit_of("docker/login-action")
        ),
        "the annotated tag was not followed to its commit"
    );
    assert_eq!(
        pins.uses("github/codeql-action/upload-sarif"),
        format!(
            "github/codeql-action/upload-sarif@{} # v9.9.9",
            commit_of("github/codeql-action")
        )
    );
    // The compromised tag was not pinned: checkout keeps the embedded pin.
    assert_eq!(
        pins.uses("actions/checkout"),
        scangate::pins::Pins::embedded().uses("actions/checkout")
    );
    assert!(
        !written.contains("[pins.\"actions/checkout\"]"),
        "{written}"
    );

    // The new pins are used by the next migration.
    let out = scangate(dir.path(), &["migrate", "--color", "never", "."]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&commit_of("aquasecurity/setup-trivy")),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pins_update_reports_an_action_without_releases() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
            "status": "404"
        })))
        .mount(&server)
        .await;
    let (dir, _) = repo();
    let api = server.uri();
    let root = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        scangate(&root, &["pins", "--update", "--api-url", &api])
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("has no published release"),
        "{}",
        text(&out)
    );
    // Nothing resolved: no config is created.
    assert!(!dir.path().join("scangate.toml").exists());
}
