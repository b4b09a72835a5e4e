#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate check` and `scangate init --drift-workflow` end to end: exit
//! codes, the four formats (GitHub annotation escaping, the step summary, a
//! structural validation of the SARIF), and the drift workflow and
//! `action.yml` under the same independent validators as migrated workflows
//! (actionlint with ShellCheck, zizmor, the SchemaStore schemas). Like
//! tests/validators.rs, these fail rather than skip when the validators are
//! not installed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::{Migrator, Outcome, Source};
use serde_json::Value;
use tempfile::TempDir;

const INSTALL_HINT: &str =
    "run `scripts/install-tools.sh` (installs the pinned validators into .tools/venv)";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(service: &str, file: &str) -> String {
    fs::read_to_string(
        root()
            .join("fixtures")
            .join(service)
            .join(".github/workflows")
            .join(file),
    )
    .unwrap()
}

/// The fixture as `migrate` writes it today.
fn migrated(service: &str, file: &str) -> String {
    let text = fixture(service, file);
    let source = Source::from_bytes(Path::new(file), text.as_bytes()).unwrap();
    let migrator = Migrator::new(Pins::embedded(), Policy::default()).unwrap();
    match migrator.migrate(&source).unwrap() {
        Outcome::Migrated { text, .. } => text,
        other => panic!("{service}/{file} does not migrate: {other:?}"),
    }
}

/// A scratch repository with `files` under `.github/workflows/`.
fn repo(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(&wf).unwrap();
    for (name, text) in files {
        fs::write(wf.join(name), text).unwrap();
    }
    dir
}

/// `scangate ARGS` in `dir`, outside GitHub Actions unless `env` says so.
fn scangate(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::cargo_bin("scangate").unwrap();
    cmd.current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        out(o),
        err(o)
    )
}

/// The line (1-based) of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

// ---------------------------------------------------------------------------
// Exit codes and text
// ---------------------------------------------------------------------------

#[test]
fn exit_codes_are_0_clean_1_drift_2_error() {
    let clean = migrated("model-service", "release.yml");
    let dir = repo(&[("release.yml", &clean)]);
    let o = scangate(dir.path(), &["check"], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(out(&o).is_empty(), "{}", show(&o));
    assert!(err(&o).contains("no drift"), "{}", show(&o));

    let drifted = clean.replace("--exit-code 1", "--exit-code 0");
    let dir = repo(&[("release.yml", &drifted)]);
    let o = scangate(dir.path(), &["check", "."], &[]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let line = line_of(&drifted, "--exit-code 0");
    let col = drifted
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("--exit-code")
        .unwrap()
        + 1;
    let expect = format!("./.github/workflows/release.yml:{line}:{col}: gate-exit-code: ");
    assert!(out(&o).starts_with(&expect), "want {expect}\n{}", show(&o));
    assert!(out(&o).contains("\n  help: "), "{}", show(&o));

    // An error wins over drift, and the drift is still reported.
    let dir = repo(&[("release.yml", &drifted), ("broken.yml", "jobs:\n  a: [\n")]);
    let o = scangate(dir.path(), &["check"], &[]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(out(&o).contains("gate-exit-code"), "{}", show(&o));
    assert!(err(&o).contains("broken.yml"), "{}", show(&o));

    let o = scangate(dir.path(), &["check", "no/such/path"], &[]);
    assert_eq!(code(&o), 2, "{}", show(&o));
}

#[test]
fn json_is_versioned_and_complete() {
    let text = fixture("app-service", "release.yml");
    let dir = repo(&[("release.yml", &text)]);
    let o = scangate(dir.path(), &["check", "--format", "json"], &[]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["schema"], "scangate/v1");
    assert_eq!(v["command"], "check");
    assert_eq!(v["summary"]["exit_code"], 1);
    let findings = v["files"][0]["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        for key in ["rule", "message", "help"] {
            assert!(f[key].as_str().is_some_and(|s| !s.is_empty()), "{f}");
        }
        assert!(f["line"].as_u64().unwrap() >= 1, "{f}");
        assert!(f["column"].as_u64().unwrap() >= 1, "{f}");
    }
    assert_eq!(v["files"][0]["status"], "checked");
}

// ---------------------------------------------------------------------------
// GitHub annotations and the step summary
// ---------------------------------------------------------------------------

#[test]
fn github_format_is_automatic_in_actions_escaped_and_summarised() {
    let text = fixture("model-service", "release.yml");
    // A file name with every character a property must escape.
    let name = "rel,ease:50%.yml";
    let dir = repo(&[(name, &text)]);
    let summary = dir.path().join("summary.md");
    fs::write(&summary, "# before\n").unwrap();
    let o = scangate(
        dir.path(),
        &["check"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert_eq!(code(&o), 1, "{}", show(&o));
    let stdout = out(&o);
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert!(annotations.len() >= 2, "{}", show(&o));
    for a in &annotations {
        let prefix = "::error file=.github/workflows/rel%2Cease%3A50%25.yml,line=";
        assert!(a.starts_with(prefix), "{a}");
        let (props, message) = a["::error ".len()..].split_once("::").unwrap();
        let keys: Vec<&str> = props
            .split(',')
            .map(|p| p.split_once('=').unwrap().0)
            .collect();
        assert_eq!(keys, ["file", "line", "col", "title"], "{a}");
        assert!(message.contains("%0AFix: "), "{a}");
        assert!(!message.contains('\r'), "{a}");
    }
    // Every line is an annotation except the closing count.
    assert_eq!(annotations.len() + 1, stdout.lines().count(), "{stdout}");

    let md = fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("# before\n## scangate drift check"), "{md}");
    let rows = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| File") && !l.starts_with("| ---"))
        .count();
    assert_eq!(rows, annotations.len(), "{md}");
    // `|` in a cell cannot open a new column.
    for row in md.lines().filter(|l| l.starts_with("| ")) {
        assert_eq!(row.matches(" | ").count(), 4, "{row}");
    }
}

#[test]
fn github_escaping_follows_actions_core() {
    use scangate::check::output::github::{escape_data, escape_property};
    assert_eq!(escape_data("100%\r\ndone"), "100%25%0D%0Adone");
    assert_eq!(escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
    // `:` and `,` are fine in the message.
    assert_eq!(escape_data("a:b,c"), "a:b,c");
}

// ---------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------

fn str_at<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("{what} must be a non-empty string: {v}"))
}

/// The SARIF 2.1.0 requirements that code scanning relies on.
fn validate_sarif(v: &Value, files: &Path) {
    assert_eq!(v["version"], "2.1.0");
    assert!(str_at(&v["$schema"], "$schema").contains("sarif-2.1.0"));
    let runs = v["runs"].as_array().unwrap();
    assert!(!runs.is_empty());
    for run in runs {
        let driver = &run["tool"]["driver"];
        assert_eq!(str_at(&driver["name"], "driver.name"), "scangate");
        let rules = driver["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| str_at(&r["id"], "rule.id")).collect();
        assert_eq!(
            ids.iter().collect::<BTreeSet<_>>().len(),
            ids.len(),
            "rule ids are unique"
        );
        for r in rules {
            str_at(&r["shortDescription"]["text"], "shortDescription");
            str_at(&r["help"]["text"], "help");
            assert!(
                ["none", "note", "warning", "error"]
                    .contains(&r["defaultConfiguration"]["level"].as_str().unwrap())
            );
        }
        assert!(matches!(
            run["columnKind"].as_str(),
            None | Some("unicodeCodePoints" | "utf16CodeUnits")
        ));
        for result in run["results"].as_array().unwrap() {
            let id = str_at(&result["ruleId"], "ruleId");
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(ids[index], id, "ruleIndex points at the rule: {result}");
            str_at(&result["message"]["text"], "message.text");
            assert!(
                ["none", "note", "warning", "error"].contains(&result["level"].as_str().unwrap())
            );
            let locations = result["locations"].as_array().unwrap();
            assert!(!locations.is_empty());
            for loc in locations {
                let phys = &loc["physicalLocation"];
                let uri = str_at(&phys["artifactLocation"]["uri"], "uri");
                assert!(
                    !uri.starts_with('/') && !uri.starts_with("./") && !uri.contains('\\'),
                    "a relative, /-separated URI: {uri}"
                );
                let region = &phys["region"];
                let line = region["startLine"].as_u64().unwrap();
                let col = region["startColumn"].as_u64().unwrap();
                assert!(line >= 1 && col >= 1, "1-based region: {region}");
                let text = fs::read_to_string(files.join(uri)).unwrap();
                let l = text.lines().nth(line as usize - 1).unwrap();
                assert!(
                    col as usize <= l.chars().count(),
                    "column inside line {line}: {l}"
                );
            }
            let fp = result["partialFingerprints"].as_object().unwrap();
            assert!(!fp.is_empty());
        }
        let inv = &run["invocations"][0];
        assert!(inv["executionSuccessful"].is_boolean());
    }
}

#[test]
fn sarif_is_valid_2_1_0_with_consistent_rules() {
    let clean = migrated("model-service", "prerelease.yml");
    let broken = clean.replace("--exit-code 1", "--exit-code 0").replace(
        "needs: [prerelease-build, prerelease-scan]",
        "needs: [prerelease-build]",
    );
    let dir = repo(&[
        ("prerelease.yml", &broken),
        ("release.yml", &fixture("model-service", "release.yml")),
        ("invalid.yml", "jobs: {a: [\n"),
    ]);
    let o = scangate(dir.path(), &["check", "--format", "sarif", "."], &[]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    validate_sarif(&v, dir.path());
    let results = v["runs"][0]["results"].as_array().unwrap();
    let rules: BTreeSet<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(
        rules.is_superset(&["ungated-push", "migration-pending"].into()),
        "{rules:?}"
    );
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert!(
        inv["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("invalid.yml")
    );
    // Every rule is listed, fired or not: one per invariant.
    let listed = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(listed.len(), scangate::check::rules::ALL.len());
}

// ---------------------------------------------------------------------------
// init --drift-workflow, and action.yml
// ---------------------------------------------------------------------------

fn tool(name: &str) -> PathBuf {
    let path = root().join(".tools/venv/bin").join(name);
    assert!(
        path.is_file(),
        "validator `{name}` not found at {}: {INSTALL_HINT}",
        path.display()
    );
    path
}

fn run_tool(name: &str, args: &[&str], file: &Path) -> Output {
    std::process::Command::new(tool(name))
        .args(args)
        .arg(file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{name}`: {e}; {INSTALL_HINT}"))
}

/// actionlint (with ShellCheck), zizmor (every persona's findings) and the
/// SchemaStore schema `schema` must all accept `file` without a finding.
fn assert_validators_accept(file: &Path, schema: &str, actionlint: bool) {
    let mut problems = Vec::new();
    if actionlint {
        let shellcheck = format!("-shellcheck={}", tool("shellcheck").display());
        let o = run_tool(
            "actionlint",
            &["-no-color", "-pyflakes=", &shellcheck],
            file,
        );
        if !o.status.success() {
            problems.push(format!("actionlint:\n{}", show(&o)));
        }
    }
    let o = run_tool(
        "zizmor",
        &[
            "--offline",
            "--no-progress",
            "--persona",
            "pedantic",
            "--format",
            "json",
        ],
        file,
    );
    let findings: Value = serde_json::from_str(&out(&o))
        .unwrap_or_else(|e| panic!("zizmor gave no JSON ({e}):\n{}", show(&o)));
    if findings.as_array().is_none_or(|a| !a.is_empty()) {
        problems.push(format!("zizmor: {findings:#}"));
    }
    let o = run_tool("check-jsonschema", &["--builtin-schema", schema], file);
    if !o.status.success() {
        problems.push(format!("check-jsonschema:\n{}", show(&o)));
    }
    assert!(
        problems.is_empty(),
        "{}:\n{}\n\n{}",
        file.display(),
        problems.join("\n"),
        fs::read_to_string(file).unwrap()
    );
}

#[test]
fn the_drift_workflow_passes_the_validators() {
    for extra in [&[][..], &["--version", "v0.1.0"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let action = format!("acme/scangate@{SHA}");
        let mut args = vec!["init", "--drift-workflow", "--action", &action];
        args.extend_from_slice(extra);
        let o = scangate(dir.path(), &args, &[]);
        assert_eq!(code(&o), 0, "{}", show(&o));
        let file = dir.path().join(".github/workflows/scangate-drift.yml");
        let text = fs::read_to_string(&file).unwrap();
        assert!(text.contains(&format!("uses: {action}\n")), "{text}");
        for action in ["actions/checkout", "github/codeql-action/upload-sarif"] {
            assert!(
                text.contains(&format!("uses: {}\n", Pins::embedded().uses(action))),
                "{action} pinned from the table:\n{text}"
            );
        }
        let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        assert!(doc["on"]["schedule"].is_sequence(), "{text}");
        assert!(doc["on"].get("workflow_dispatch").is_some(), "{text}");
        assert_validators_accept(&file, "vendor.github-workflows", true);
        // scangate's own check passes on the workflow it writes.
        let o = scangate(dir.path(), &["check"], &[]);
        assert_eq!(code(&o), 0, "{}", show(&o));
    }
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".github/workflows/scangate-drift.yml");
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, "mine\n").unwrap();
    let action = format!("acme/scangate@{SHA}");
    let o = scangate(
        dir.path(),
        &["init", "--drift-workflow", "--action", &action],
        &[],
    );
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(err(&o).contains("--force"), "{}", show(&o));
    assert_eq!(fs::read_to_string(&file).unwrap(), "mine\n");
    let o = scangate(
        dir.path(),
        &["init", "--drift-workflow", "--action", &action, "--force"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        fs::read_to_string(&file)
            .unwrap()
            .contains("name: scangate drift check")
    );
}

#[test]
fn init_wants_a_commit_pinned_action() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["acme/scangate@v1", "acme/scangate", "scangate@0123"] {
        let o = scangate(
            dir.path(),
            &["init", "--drift-workflow", "--action", bad],
            &[],
        );
        assert_eq!(code(&o), 2, "{bad}: {}", show(&o));
    }
    assert!(!dir.path().join(".github").exists());
}

#[test]
fn action_yml_passes_the_validators() {
    assert_validators_accept(&root().join("action.yml"), "vendor.github-actions", false);
}

// ---------------------------------------------------------------------------
// Only the gate chain is judged
// ---------------------------------------------------------------------------

/// A release that needs a test job which builds its own throw-away image and
/// reports failures with a tag-pinned action: that job neither builds the
/// scanned image nor pushes, so its pins are the user's business (zizmor's),
/// not the gate's. Migrated, the file must pass `check`.
const TESTED_RELEASE: &str = r#"name: Release
on:
  push:
    tags: ['v*']
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - name: Build the test image
        run: docker build --tag app:test .
      - name: Test
        run: docker run --rm app:test /bin/true
      - name: Report the failure
        if: failure()
        uses: actions/github-script@v8
        with:
          script: core.notice('tests failed')
  release:
    needs: test
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - uses: docker/build-push-action@10e90e3645eae34f1e60eeb005ba3a3d33f178e8 # v6.19.2
        with:
          context: .
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}
"#;

#[test]
fn jobs_outside_the_gate_chain_are_not_judged() {
    let dir = repo(&[("release.yml", TESTED_RELEASE)]);
    let o = scangate(dir.path(), &["migrate", "--write", "."], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let o = scangate(dir.path(), &["check", "--format", "json", "."], &[]);
    assert!(
        !out(&o).contains("unpinned-action"),
        "a job outside the gate chain was judged:\n{}",
        show(&o)
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
}

#[test]
fn a_folder_of_workflows_is_checked_like_a_repository() {
    let clean = migrated("model-service", "release.yml");
    let dir = repo(&[
        ("release.yml", &clean),
        (
            "prerelease.yml",
            &fixture("model-service", "prerelease.yml"),
        ),
    ]);
    // The workflows folder itself, as zizmor and actionlint take it.
    let o = scangate(dir.path(), &["check", ".github/workflows"], &[]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(out(&o).contains("prerelease.yml"), "{}", show(&o));
    // The same findings as for the repository root.
    let root = scangate(dir.path(), &["check", "."], &[]);
    assert_eq!(
        out(&o).replace(".github/workflows/", ""),
        out(&root).replace("./.github/workflows/", "")
    );
    // A folder with no workflow at all is a usage error that says what to pass.
    let empty = tempfile::tempdir().unwrap();
    let o = scangate(empty.path(), &["check", "."], &[]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(err(&o).contains("no workflow files here"), "{}", show(&o));
}

/// A push scangate cannot read (`make` after a registry login) is said in
/// every format but SARIF, as `migrate` warns of it, and fails nothing.
#[test]
fn a_push_scangate_cannot_read_is_a_note_not_drift() {
    const MAKE: &str = "on: push\njobs:\n  images:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v5\n      - run: echo \"$T\" | docker login -u u --password-stdin ghcr.io\n      - run: make release\n";
    let dir = repo(&[("release.yml", MAKE)]);
    let text = scangate(dir.path(), &["check", "--format", "text", "."], &[]);
    assert_eq!(code(&text), 0, "{}", show(&text));
    assert!(out(&text).is_empty(), "{}", show(&text));
    assert!(
        err(&text).contains("release.yml:8:7: note: unseen-push: the job logs in"),
        "{}",
        show(&text)
    );
    assert!(err(&text).contains("(1 note of"), "{}", show(&text));
    let json = scangate(dir.path(), &["check", "--format", "json", "."], &[]);
    assert_eq!(code(&json), 0, "{}", show(&json));
    let v: Value = serde_json::from_str(&out(&json)).unwrap();
    assert_eq!(v["summary"]["findings"], 0);
    assert_eq!(v["summary"]["notes"], 1);
    assert_eq!(v["files"][0]["notes"][0]["rule"], "unseen-push");
    assert_eq!(v["files"][0]["notes"][0]["line"], 8);
    let github = scangate(dir.path(), &["check", "--format", "github", "."], &[]);
    assert_eq!(code(&github), 0, "{}", show(&github));
    assert!(
        out(&github).contains(
            "::notice file=.github/workflows/release.yml,line=8,col=7,title=scangate unseen-push::"
        ),
        "{}",
        show(&github)
    );
    let sarif = scangate(dir.path(), &["check", "--format", "sarif", "."], &[]);
    let v: Value = serde_json::from_str(&out(&sarif)).unwrap();
    assert_eq!(v["runs"][0]["results"].as_array().map(Vec::len), Some(0));
    // Clean files stay quiet: no note in the JSON of a clean migration.
    let clean = repo(&[("release.yml", &migrated("model-service", "release.yml"))]);
    let o = scangate(clean.path(), &["check", "--format", "json", "."], &[]);
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert!(v["summary"].get("notes").is_none(), "{}", show(&o));
    assert!(v["files"][0].get("notes").is_none(), "{}", show(&o));
}

/// A Trivy gate that runs before the build (set 37 a21: a scan of the base
/// image, then build-push-action pushing) never saw the pushed image: `check`
/// says so where the image is built, and `migrate` gates the push instead of
/// taking it for gated, after which `check` is clean of it.
#[test]
fn a_gate_before_the_build_does_not_gate_its_push() {
    const EARLY: &str = "on: push\njobs:\n  image:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: actions/checkout@v5\n      - name: Scan base image\n        uses: aquasecurity/trivy-action@v1\n        with:\n          image-ref: node:22-alpine\n          severity: CRITICAL,HIGH\n          exit-code: '1'\n      - name: Build and push\n        uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:latest\n";
    let dir = repo(&[("release.yml", EARLY)]);
    let o = scangate(dir.path(), &["check", "--format", "json", "."], &[]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    let rebuilds: Vec<&Value> = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "push-rebuilds")
        .collect();
    assert_eq!(rebuilds.len(), 1, "{}", show(&o));
    assert_eq!(rebuilds[0]["line"], 16, "{}", show(&o));
    assert!(
        str_at(&rebuilds[0]["message"], "message").contains("after the Trivy gate in step 2"),
        "{}",
        show(&o)
    );
    assert!(!out(&o).contains("ungated-push"), "{}", show(&o));
    let o = scangate(dir.path(), &["migrate", "--write", "."], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(err(&o).contains("`image-scan`"), "{}", show(&o));
    let o = scangate(dir.path(), &["check", "--format", "json", "."], &[]);
    assert!(!out(&o).contains("push-rebuilds"), "{}", show(&o));
    assert!(!out(&o).contains("ungated-push"), "{}", show(&o));
}
