#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The `scangate migrate` command line, end to end: exit codes, what is
//! written and what is not, where messages point, and the file conventions
//! (line endings, BOM, final newline, encoding) that must survive.
//!
//! Every expectation here is computed from the input, independently of
//! scangate: line numbers are found in the workflow text, job ranges are
//! found by indentation, values are compared through an independent YAML
//! reading (`yaml_serde`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;
use yaml_serde::Value;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The six fixtures: (service, file, id of the job that builds and pushes).
const FIXTURES: &[(&str, &str, &str)] = &[
    ("model-service", "release.yml", "release"),
    ("model-service", "prerelease.yml", "prerelease"),
    ("app-frontend", "release.yml", "docker"),
    ("app-frontend", "prerelease.yml", "prerelease-image"),
    ("app-service", "release.yml", "build-and-push"),
    ("app-service", "prerelease.yml", "publish"),
];

fn fixture_path(service: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(service)
        .join(".github/workflows")
        .join(file)
}

fn fixture_bytes(service: &str, file: &str) -> Vec<u8> {
    fs::read(fixture_path(service, file)).expect("fixture exists")
}

/// `scangate ARGS…` run in `dir`.
fn scangate(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("scangate")
        .expect("the scangate binary is built")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("scangate runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("scangate exited, not killed")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Describes a run for assertion messages.
fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A scratch folder holding `name` with `bytes`.
fn scratch(name: &str, bytes: &[u8]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    fs::write(&path, bytes).expect("write scratch file");
    (dir, path)
}

/// The names in a folder, sorted (to see that nothing was left behind).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// 1-based (line, column) of the first line whose content starts with
/// `start` (after indentation); the column is where that content begins.
fn position(text: &str, start: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, l)| {
            let content = l.trim_start();
            content
                .starts_with(start)
                .then(|| (i + 1, l.len() - content.len() + 1))
        })
        .unwrap_or_else(|| panic!("no line starts with {start:?} in\n{text}"))
}

/// Every `path:LINE:COL` position that `stderr` reports for `path`.
fn reported_positions(stderr: &str, path: &str) -> Vec<(usize, usize)> {
    let prefix = format!("{path}:");
    let mut found = Vec::new();
    for line in stderr.lines() {
        let mut rest = line;
        while let Some(i) = rest.find(&prefix) {
            rest = &rest[i + prefix.len()..];
            let mut parts = rest.splitn(3, ':');
            let l = parts.next().and_then(|s| s.parse().ok());
            let c = parts.next().and_then(|s| s.parse().ok());
            if let (Some(l), Some(c)) = (l, c) {
                found.push((l, c));
            }
        }
    }
    found
}

fn parse(text: &str) -> Value {
    yaml_serde::from_str(text.trim_start_matches('\u{feff}'))
        .unwrap_or_else(|e| panic!("does not parse as YAML: {e}\n{text}"))
}

fn jobs_of(doc: &Value) -> &yaml_serde::Mapping {
    doc.get("jobs")
        .and_then(Value::as_mapping)
        .expect("a `jobs:` mapping")
}

fn job_ids(doc: &Value) -> Vec<String> {
    jobs_of(doc)
        .keys()
        .map(|k| k.as_str().expect("string job id").to_owned())
        .collect()
}

/// The 0-based line range of job `id` in a block-style workflow, found from
/// indentation alone: from its key line to its last line that is neither
/// blank nor a comment, before the next line at the job's indentation or
/// less.
fn job_line_range(text: &str, id: &str) -> std::ops::Range<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let is_content = |l: &str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    };
    let jobs = lines
        .iter()
        .position(|l| l.trim_end() == "jobs:")
        .expect("a block `jobs:` key at column 0");
    let key = (jobs + 1..lines.len())
        .find(|&i| {
            let l = lines[i];
            indent(l) > 0 && l.trim_start().strip_prefix(id) == Some(":")
        })
        .unwrap_or_else(|| panic!("job `{id}` key line not found"));
    let job_indent = indent(lines[key]);
    let mut last = key;
    for (i, l) in lines.iter().enumerate().skip(key + 1) {
        if !is_content(l) {
            continue;
        }
        if indent(l) <= job_indent {
            break;
        }
        last = i;
    }
    key..last + 1
}

// ---------------------------------------------------------------------------
// Dry run, --write, --check
// ---------------------------------------------------------------------------

#[test]
fn dry_run_writes_nothing_and_prints_a_unified_diff() {
    for (service, file, _) in FIXTURES {
        let original = fixture_bytes(service, file);
        let (dir, path) = scratch(file, &original);
        let before = listing(dir.path());
        let out = scangate(dir.path(), &["migrate", "--color", "never", file]);
        assert_eq!(code(&out), 0, "{service}/{file}: {}", show(&out));
        assert_eq!(
            fs::read(&path).unwrap(),
            original,
            "{service}/{file}: a dry run changed the file"
        );
        assert_eq!(
            listing(dir.path()),
            before,
            "{service}/{file}: a dry run left files behind"
        );
        let diff = stdout(&out);
        assert!(
            diff.starts_with(&format!("--- a/{file}\n+++ b/{file}\n@@ -")),
            "{service}/{file}: not a unified diff:\n{diff}"
        );
        assert!(
            diff.lines()
                .any(|l| l.starts_with('+') && !l.starts_with("+++"))
        );
        assert!(
            diff.lines()
                .any(|l| l.starts_with('-') && !l.starts_with("---"))
        );
    }
}

#[test]
fn check_reports_a_diff_and_writes_nothing_then_write_is_idempotent() {
    for (service, file, _) in FIXTURES {
        let original = fixture_bytes(service, file);
        let (dir, path) = scratch(file, &original);

        let check = scangate(dir.path(), &["migrate", "--check", file]);
        assert_eq!(code(&check), 1, "{service}/{file}: {}", show(&check));
        assert_eq!(fs::read(&path).unwrap(), original, "--check wrote");

        let write = scangate(dir.path(), &["migrate", "--write", file]);
        assert_eq!(code(&write), 0, "{service}/{file}: {}", show(&write));
        let migrated = fs::read(&path).unwrap();
        assert_ne!(
            migrated, original,
            "{service}/{file}: --write wrote nothing"
        );
        assert_eq!(listing(dir.path()), [file.to_string()], "temp file left");

        let again = scangate(dir.path(), &["migrate", "--check", file]);
        assert_eq!(code(&again), 0, "{service}/{file}: {}", show(&again));
        assert_eq!(fs::read(&path).unwrap(), migrated);

        let rewrite = scangate(dir.path(), &["migrate", "--write", file]);
        assert_eq!(code(&rewrite), 0, "{service}/{file}: {}", show(&rewrite));
        assert_eq!(
            fs::read(&path).unwrap(),
            migrated,
            "{service}/{file}: a second --write changed the file"
        );
        let dry = scangate(dir.path(), &["migrate", file]);
        assert_eq!(code(&dry), 0);
        assert_eq!(stdout(&dry), "", "{service}/{file}: diff after migration");
    }
}

#[test]
fn write_changes_only_the_migrated_job() {
    for (service, file, job) in FIXTURES {
        let original = String::from_utf8(fixture_bytes(service, file)).unwrap();
        let (dir, path) = scratch(file, original.as_bytes());
        let out = scangate(dir.path(), &["migrate", "--write", file]);
        assert_eq!(code(&out), 0, "{service}/{file}: {}", show(&out));
        let migrated = fs::read_to_string(&path).unwrap();

        // Text: every line before the job's key and after its last line is
        // there, unchanged, at the start and the end of the new file.
        let range = job_line_range(&original, job);
        let old: Vec<&str> = original.lines().collect();
        let new: Vec<&str> = migrated.lines().collect();
        let (head, tail) = (&old[..range.start], &old[range.end..]);
        assert!(
            new.len() >= head.len() + tail.len() && new.starts_with(head),
            "{service}/{file}: lines before job `{job}` changed"
        );
        assert!(
            new.ends_with(tail),
            "{service}/{file}: lines after job `{job}` changed:\n{}",
            tail.join("\n")
        );
        assert_eq!(
            original.ends_with('\n'),
            migrated.ends_with('\n'),
            "final newline"
        );

        // Meaning: every other top-level key and every other job is the same
        // value; the migrated job became three, in its place.
        let (a, b) = (parse(&original), parse(&migrated));
        for (key, value) in a.as_mapping().unwrap() {
            if key.as_str() != Some("jobs") {
                assert_eq!(b.get(key), Some(value), "{service}/{file}: {key:?}");
            }
        }
        assert_eq!(a.as_mapping().unwrap().len(), b.as_mapping().unwrap().len());
        for (id, value) in jobs_of(&a) {
            if id.as_str() != Some(job) {
                assert_eq!(
                    jobs_of(&b).get(id),
                    Some(value),
                    "{service}/{file}: job {id:?} changed"
                );
            }
        }
        let expected: Vec<String> = job_ids(&a)
            .into_iter()
            .flat_map(|id| {
                if id == *job {
                    vec![format!("{id}-build"), format!("{id}-scan"), id]
                } else {
                    vec![id]
                }
            })
            .collect();
        assert_eq!(job_ids(&b), expected, "{service}/{file}: job order");
    }
}

// ---------------------------------------------------------------------------
// JSON and repository roots
// ---------------------------------------------------------------------------

const SINGLE_JOB: &str = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - uses: docker/setup-buildx-action@v4
      - name: Build and push
        uses: docker/build-push-action@v7
        with:
          context: .
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}
"#;

const NO_PUSH: &str = r#"name: CI
on:
  pull_request:

jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v4
      - name: Build (never pushed from PRs)
        uses: docker/build-push-action@v7
        with:
          context: .
          push: false
          tags: ghcr.io/acme/app:pr-${{ github.event.number }}
"#;

const DEPENDABOT: &str = r#"version: 2
updates:
  - package-ecosystem: github-actions
    directory: /
    schedule:
      interval: weekly
"#;

/// Pushes from a script and then runs a deploy in the same step: splitting
/// would run the deploy before the scan, so scangate must refuse.
const SCRIPT_PUSH_THEN_DEPLOY: &str = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Build, push and deploy
        run: |
          docker build -t "ghcr.io/acme/app:${GITHUB_REF_NAME}" .
          docker push "ghcr.io/acme/app:${GITHUB_REF_NAME}"
          ./scripts/deploy.sh "${GITHUB_REF_NAME}"
"#;

const MISINDENTED: &str = r#"name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
       - run: make test
"#;

/// A repository whose workflows cover every status.
fn mixed_repository() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(&wf).unwrap();
    for (name, text) in [
        ("a-release.yml", SINGLE_JOB),
        ("b-ci.yaml", NO_PUSH),
        ("c-dependabot.yml", DEPENDABOT),
        ("d-script.yml", SCRIPT_PUSH_THEN_DEPLOY),
        ("e-broken.yml", MISINDENTED),
    ] {
        fs::write(wf.join(name), text).unwrap();
    }
    dir
}

fn json_files(out: &Output) -> Vec<serde_json::Value> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", show(out)));
    assert_eq!(report["schema"], "scangate/v1", "{report:#}");
    report["files"].as_array().expect("`files` array").clone()
}

#[test]
fn json_report_has_one_entry_per_file_with_its_status() {
    let repo = mixed_repository();
    let out = scangate(repo.path(), &["migrate", "--format", "json", "."]);
    assert_eq!(code(&out), 2, "an error wins over the rest: {}", show(&out));
    let files = json_files(&out);
    let statuses: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let path = f["path"].as_str().expect("path").to_owned();
            let status = f["status"].as_str().expect("status").to_owned();
            assert!(
                ["migrated", "unchanged", "skipped", "refused", "error"].contains(&status.as_str()),
                "unknown status {status}"
            );
            (
                Path::new(&path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                status,
            )
        })
        .collect();
    let expected = [
        ("a-release.yml", "migrated"),
        ("b-ci.yaml", "unchanged"),
        ("c-dependabot.yml", "skipped"),
        ("d-script.yml", "refused"),
        ("e-broken.yml", "error"),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(statuses, expected);
    let migrated = &files[0];
    assert!(
        migrated["diff"]
            .as_str()
            .is_some_and(|d| d.starts_with("--- a/"))
    );
    assert_eq!(migrated["written"], false);
    assert_eq!(migrated["jobs"][0]["job"], "release");
    assert!(
        files[3]["refusals"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    // Nothing was written by a JSON dry run.
    let wf = repo.path().join(".github/workflows");
    assert_eq!(
        fs::read_to_string(wf.join("a-release.yml")).unwrap(),
        SINGLE_JOB
    );

    // Without the broken file, the refusal decides the exit code.
    fs::remove_file(wf.join("e-broken.yml")).unwrap();
    let out = scangate(repo.path(), &["migrate", "--format", "json", "."]);
    assert_eq!(code(&out), 3, "{}", show(&out));
    assert_eq!(json_files(&out).len(), 4);
}

#[test]
fn a_repository_root_means_its_workflow_files() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(wf.join("nested")).unwrap();
    fs::write(wf.join("release.yml"), SINGLE_JOB).unwrap();
    fs::write(wf.join("publish.yaml"), SINGLE_JOB).unwrap();
    fs::write(wf.join("notes.md"), "# not a workflow\n").unwrap();
    fs::write(wf.join("release.yml.orig"), SINGLE_JOB).unwrap();
    // GitHub reads neither of these; neither may scangate.
    fs::write(wf.join("nested/inner.yml"), SINGLE_JOB).unwrap();
    fs::write(dir.path().join("release.yml"), SINGLE_JOB).unwrap();

    let out = scangate(dir.path(), &["migrate", "--format", "json", "."]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let mut names: Vec<String> = json_files(&out)
        .iter()
        .map(|f| {
            let p = PathBuf::from(f["path"].as_str().unwrap());
            assert_eq!(f["status"], "migrated", "{f:#}");
            p.strip_prefix(".")
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".github/workflows/publish.yaml",
            ".github/workflows/release.yml"
        ]
    );

    // The same from outside the repository, in text mode.
    let parent = dir.path().parent().unwrap();
    let root = dir.path().file_name().unwrap().to_str().unwrap();
    let out = scangate(parent, &["migrate", "--color", "never", root]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let diff = stdout(&out);
    for name in ["publish.yaml", "release.yml"] {
        let header = format!("--- a/{root}/.github/workflows/{name}\n");
        assert!(diff.contains(&header), "no diff for {name}:\n{diff}");
    }
    assert_eq!(diff.matches("\n+++ b/").count(), 2, "{diff}");
}

// ---------------------------------------------------------------------------
// Inputs that are left alone
// ---------------------------------------------------------------------------

fn assert_error_at(name: &str, text: &str, line: usize) {
    let (dir, path) = scratch(name, text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", name]);
    assert_eq!(code(&out), 2, "{name}: {}", show(&out));
    let at = reported_positions(&stderr(&out), name);
    assert!(
        at.iter().any(|&(l, c)| l == line && c >= 1),
        "{name}: expected {name}:{line}:COL, got {at:?}: {}",
        show(&out)
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text, "{name} changed");
}

#[test]
fn invalid_yaml_is_an_error_at_its_line() {
    // A step item indented one column too far.
    let line = position(MISINDENTED, "- run: make test").0;
    assert_error_at("misindented.yml", MISINDENTED, line);

    // A tab used for indentation.
    let tab = "name: CI\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n\t- run: make test\n";
    assert_error_at("tab.yml", tab, 7);

    // An unclosed flow sequence: the parser notices on the next key.
    let unclosed = r#"name: Release
on:
  push:
    tags: ['v*'
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: make
"#;
    assert_error_at("unclosed.yml", unclosed, position(unclosed, "jobs:").0);
}

/// `run: echo "digest: …"` unquoted: the second `: ` starts a mapping. The
/// parser's words do not say so; the message does.
#[test]
fn a_colon_in_an_unquoted_value_is_explained() {
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"Image digest: x\"\n";
    assert_error_at("colon.yml", text, 6);
    let (dir, _) = scratch("colon.yml", text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "colon.yml"]);
    assert!(
        stderr(&out).contains("a `: ` inside an unquoted value starts a mapping"),
        "{}",
        show(&out)
    );
}

/// GitHub reads anchors and aliases; steps shared by two jobs cannot be
/// edited for one of them.
#[test]
fn steps_shared_through_an_alias_are_refused_with_the_cause() {
    let text = r#"on: push
jobs:
  api:
    runs-on: ubuntu-latest
    steps: &release
      - run: docker build -t ghcr.io/acme/app:1 . && docker push ghcr.io/acme/app:1
  web:
    runs-on: ubuntu-latest
    steps: *release
"#;
    let (dir, path) = scratch("anchors.yml", text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "anchors.yml"]);
    assert_eq!(code(&out), 3, "{}", show(&out));
    assert!(
        stderr(&out).contains("is a YAML anchor or alias (`&release`)"),
        "{}",
        show(&out)
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn a_duplicate_key_is_an_error_at_the_duplicate() {
    let text = r#"name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    runs-on: ubuntu-24.04
    steps:
      - run: make test
"#;
    assert_error_at("duplicate-key.yml", text, 6);
    // What to do: one key, not two.
    let (dir, _) = scratch(
        "duplicate-on.yml",
        b"on: workflow_dispatch\non:\n  push:\njobs: {}\n",
    );
    let out = scangate(dir.path(), &["migrate", "duplicate-on.yml"]);
    assert!(
        stderr(&out).contains("merge the two into one"),
        "{}",
        show(&out)
    );
}

#[test]
fn a_file_that_is_not_a_workflow_is_skipped() {
    let (dir, path) = scratch("dependabot.yml", DEPENDABOT.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "dependabot.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(stderr(&out).contains("skipped"), "{}", show(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(fs::read_to_string(&path).unwrap(), DEPENDABOT);
}

#[test]
fn a_build_that_does_not_push_is_left_alone() {
    let (dir, path) = scratch("ci.yml", NO_PUSH.as_bytes());
    for args in [
        &["migrate", "ci.yml"][..],
        &["migrate", "--check", "ci.yml"],
        &["migrate", "--write", "ci.yml"],
    ] {
        let out = scangate(dir.path(), args);
        assert_eq!(code(&out), 0, "{args:?}: {}", show(&out));
        assert_eq!(stdout(&out), "", "{args:?}");
        assert_eq!(fs::read_to_string(&path).unwrap(), NO_PUSH);
    }
}

#[test]
fn a_push_behind_a_trivy_gate_is_left_alone() {
    let text = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v4
      - name: Build
        uses: docker/build-push-action@v7
        with:
          context: .
          load: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}
      - name: Scan
        run: |
          trivy image --exit-code 1 --severity CRITICAL,HIGH \
            "ghcr.io/acme/app:${GITHUB_REF_NAME}"
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Push
        run: docker push "ghcr.io/acme/app:${GITHUB_REF_NAME}"
"#;
    let (dir, path) = scratch("release.yml", text.as_bytes());
    for args in [
        &["migrate", "--check", "release.yml"][..],
        &["migrate", "--write", "release.yml"],
    ] {
        let out = scangate(dir.path(), args);
        assert_eq!(code(&out), 0, "{args:?}: {}", show(&out));
        assert_eq!(stdout(&out), "");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }

    // Pushed by building again (from cache, but bytes nobody scanned, and
    // platforms the scan never saw): not gated by the scan before it.
    let rebuilt = text.replacen(
        "        run: docker push \"ghcr.io/acme/app:${GITHUB_REF_NAME}\"\n",
        "        uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:${{ github.ref_name }}\n",
        1,
    );
    assert_ne!(rebuilt, text);
    let (dir, _) = scratch("release.yml", rebuilt.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--check", "release.yml"]);
    assert_eq!(code(&out), 1, "a rebuild after the scan: {}", show(&out));

    // Control: the same workflow with the gate after the push is not gated.
    let late = text.replacen("--exit-code 1", "--exit-code 0", 1);
    let (dir, _) = scratch("release.yml", late.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--check", "release.yml"]);
    assert_ne!(
        code(&out),
        0,
        "a scan that never fails is no gate: {}",
        show(&out)
    );
}

// ---------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------

/// `--write` on `text` must refuse (exit 3), leave the file as it was, and
/// report one of `at` (1-based line, column) with a reason containing one of
/// `reasons`.
fn assert_refused(name: &str, text: &str, at: &[(usize, usize)], reasons: &[&str]) {
    let (dir, path) = scratch(name, text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", name]);
    assert_eq!(code(&out), 3, "{name}: {}", show(&out));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        text,
        "{name} was changed"
    );
    assert_eq!(listing(dir.path()), [name.to_string()]);
    let err = stderr(&out);
    let reported = reported_positions(&err, name);
    assert!(
        reported.iter().any(|p| at.contains(p)),
        "{name}: expected one of {at:?}, reported {reported:?}:\n{err}"
    );
    assert!(
        reasons.iter().any(|r| err.contains(r)),
        "{name}: no reason mentioning any of {reasons:?}:\n{err}"
    );
    // The dry run agrees.
    let out = scangate(dir.path(), &["migrate", name]);
    assert_eq!(code(&out), 3, "{name} (dry run): {}", show(&out));
    assert_eq!(stdout(&out), "", "{name}: a refused file has no diff");
}

/// A workflow with one build-and-push job; `job_extra` goes under the job's
/// `runs-on:`, `with_extra` at the end of the build step's `with:`.
fn build_and_push(job_extra: &str, with_extra: &str) -> String {
    format!(
        r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  release:
    runs-on: ubuntu-latest
{job_extra}    steps:
      - uses: actions/checkout@v5
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{{{ github.actor }}}}
          password: ${{{{ secrets.GITHUB_TOKEN }}}}
      - uses: docker/setup-buildx-action@v4
      - name: Build and push
        id: build
        uses: docker/build-push-action@v7
        with:
          context: .
          push: true
          tags: ghcr.io/acme/app:${{{{ github.ref_name }}}}
{with_extra}"#
    )
}

#[test]
fn refuses_a_push_from_a_run_script() {
    // `docker push`, then a command that would now run before the scan.
    let text = SCRIPT_PUSH_THEN_DEPLOY;
    let at = position(text, "- name: Build, push and deploy");
    assert_refused("deploy.yml", text, &[at], &["deploy.sh"]);

    // The same on one line.
    let text = &SCRIPT_PUSH_THEN_DEPLOY.replace(
        "}\"\n          ./scripts/deploy.sh",
        "}\" && ./scripts/deploy.sh",
    );
    assert_ne!(text, SCRIPT_PUSH_THEN_DEPLOY);
    let at = position(text, "- name: Build, push and deploy");
    assert_refused("same-line.yml", text, &[at], &["deploy.sh", "same line"]);
    // (A login inside the pushing script is not refused: tests/fallback.rs.)
}

#[test]
fn refuses_a_build_that_reads_the_image_an_earlier_step_pushes() {
    // The app is built FROM the base the step before pushed: after the split
    // the base is pushed only after the scan, so the app would get the old one.
    let text = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  images:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v4
      - name: Build and push the base
        uses: docker/build-push-action@v7
        with:
          context: base
          push: true
          tags: ghcr.io/acme/base:${{ github.ref_name }}
      - name: Build and push the app
        uses: docker/build-push-action@v7
        with:
          context: app
          build-contexts: base=docker-image://ghcr.io/acme/base:${{ github.ref_name }}
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}
"#;
    let at = position(text, "- name: Build and push the app");
    assert_refused(
        "base.yml",
        text,
        &[at],
        &["reads `ghcr.io/acme/base`, the image step 3 pushes"],
    );
    // Without the named context the two images are independent: migrated.
    let independent = text.replace(
        "          build-contexts: base=docker-image://ghcr.io/acme/base:${{ github.ref_name }}\n",
        "",
    );
    assert_ne!(independent, text);
    let (dir, path) = scratch("independent.yml", independent.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "independent.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let doc = parse(&fs::read_to_string(&path).unwrap());
    assert_eq!(job_ids(&doc), ["images-build", "images-scan", "images"]);
    let push_steps = doc["jobs"]["images"]["steps"].as_sequence().unwrap();
    let downloads: Vec<&str> = push_steps
        .iter()
        .filter_map(|s| s["with"]["name"].as_str())
        .collect();
    assert_eq!(
        downloads,
        ["scangate-images-image-1", "scangate-images-image-2"]
    );
}

#[test]
fn a_test_build_before_the_pushing_build_stays_as_it_is() {
    // Verification used to compare the pushing build with the first
    // docker/build-push-action step of the job, here the test build.
    let text = r#"name: Release
on:
  push:
    tags: ['v*']
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v4
      - name: Build for the tests
        uses: docker/build-push-action@v7
        with:
          context: .
          load: true
          tags: app:test
      - run: docker run --rm app:test make test
      - name: Build and push
        uses: docker/build-push-action@v7
        with:
          context: .
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}
"#;
    let (dir, path) = scratch("test-build.yml", text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "test-build.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let doc = parse(&fs::read_to_string(&path).unwrap());
    let original = parse(text);
    let build = &doc["jobs"]["release-build"]["steps"];
    assert_eq!(build[2], original["jobs"]["release"]["steps"][2]);
    assert_eq!(
        build[4]["with"]["outputs"]
            .as_str()
            .map(|o| o.starts_with("type=oci,")),
        Some(true)
    );
}

#[test]
fn refuses_pushes_it_cannot_split_with_a_precise_reason() {
    let head = "on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v5\n";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "bake.yml",
            "      - uses: docker/bake-action@v6\n        with:\n          push: true\n          set: '*.platform=linux/amd64'\n",
            "docker/bake-action pushes every target of a bake file in one step",
            "- uses: docker/bake-action",
        ),
        (
            "publish.yml",
            "      - uses: elgohr/Publish-Docker-Github-Action@v5\n        with:\n          name: acme/app\n",
            "`elgohr/publish-docker-github-action` builds and pushes in one step",
            "- uses: elgohr",
        ),
        (
            "crane.yml",
            "      - run: docker save -o app.tar app\n      - run: crane push app.tar ghcr.io/acme/app:1\n",
            "pushed with `crane push`; scangate rewrites only",
            "- run: crane",
        ),
        (
            // Docker's default builder builds FROM the loaded image; the
            // builder the export needs would not see it.
            "daemon-image.yml",
            "      - run: docker load --input base.tar\n      - run: docker buildx build -t ghcr.io/acme/app:1 --push .\n",
            "this step puts an image into the Docker daemon, and the build after it uses Docker's default builder",
            "- run: docker load",
        ),
        (
            "mixed.yml",
            "      - uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:1\n      - run: docker push ghcr.io/acme/tool:1\n",
            "both with a `run:` script (`docker push`) and with docker/build-push-action, step 2;",
            "- run: docker push",
        ),
        (
            // Several images are told apart by their literal names: one
            // more, named by a variable, could be any of them or another.
            "two-script-images.yml",
            "      - run: |\n          docker build -t ghcr.io/acme/api:1 api\n          docker push ghcr.io/acme/api:1\n      - run: docker build -t ghcr.io/acme/worker:1 worker && docker push \"ghcr.io/acme/worker:1\"\n      - run: docker push \"$EXTRA_IMAGE\"\n",
            "push different images (`api`, `worker`) and some push names its image with a shell variable",
            "- run: |",
        ),
    ];
    for (name, steps, reason, step) in cases {
        let text = format!("{head}{steps}");
        let at = position(&text, step);
        assert_refused(name, &text, &[at], &[reason]);
    }
}

#[test]
fn expressions_of_a_rewritten_script_become_variables_of_its_step() {
    let text = r#"name: Release
on:
  workflow_dispatch:
    inputs:
      tag:
        required: true

jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - run: |
          docker build -t "ghcr.io/acme/app:${{ inputs.tag }}" .
          docker push "ghcr.io/acme/app:${{ inputs.tag }}"
      - name: Announce
        run: echo 'released ${{ inputs.tag }}'
"#;
    let (dir, path) = scratch("release.yml", text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "release.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let migrated = fs::read_to_string(&path).unwrap();
    // The new `env:` follows `run:`, the first key on the step's `- ` line.
    assert!(
        migrated.contains(
            "      - run: |\n          docker build -t \"ghcr.io/acme/app:${INPUTS_TAG}\" .\n          scangate-record-push \"ghcr.io/acme/app:${INPUTS_TAG}\"\n        env:\n          INPUTS_TAG: ${{ inputs.tag }}\n"
        ),
        "{migrated}"
    );
    // A step scangate does not rewrite keeps its expressions.
    assert!(
        migrated.contains("run: echo 'released ${{ inputs.tag }}'"),
        "{migrated}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("reads `${{ inputs.tag }}` as `${INPUTS_TAG}`"),
        "{err}"
    );
    // Inside single quotes a variable would not expand: nothing moves.
    let quoted = text.replace(
        "docker push \"ghcr.io/acme/app:${{ inputs.tag }}\"",
        "docker push 'ghcr.io/acme/app:${{ inputs.tag }}'",
    );
    let (dir, path) = scratch("release.yml", quoted.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "release.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let migrated = fs::read_to_string(&path).unwrap();
    assert!(
        migrated.contains("scangate-record-push 'ghcr.io/acme/app:${{ inputs.tag }}'")
            && !migrated.contains("INPUTS_TAG"),
        "{migrated}"
    );
}

#[test]
fn a_workflow_run_workflow_finds_the_stand_ins_without_writing_github_path() {
    let text = r#"on:
  workflow_run:
    workflows: [ci]
    types: [completed]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - run: docker build -t ghcr.io/acme/app:1 .
      - run: docker push ghcr.io/acme/app:1
"#;
    let (dir, path) = scratch("publish.yml", text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "publish.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let migrated = fs::read_to_string(&path).unwrap();
    assert!(!migrated.contains("GITHUB_PATH"), "{migrated}");
    assert!(
        migrated.contains(
            "      - run: PATH=\"${RUNNER_TEMP}/scangate/bin:${PATH}\"; scangate-record-push ghcr.io/acme/app:1\n"
        ),
        "{migrated}"
    );
    // A quoted script cannot take that line: refused, with where and why.
    let quoted = text.replace(
        "run: docker push ghcr.io/acme/app:1",
        "run: \"docker push ghcr.io/acme/app:1\"",
    );
    let (dir, path) = scratch("publish.yml", quoted.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "publish.yml"]);
    assert_eq!(code(&out), 3, "{}", show(&out));
    assert!(
        stderr(&out).contains("publish.yml:10:7: needs manual migration")
            && stderr(&out).contains("quoted scalar"),
        "{}",
        show(&out)
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), quoted);
}

#[test]
fn a_matrix_job_whose_script_may_skip_the_push_stays_one_job() {
    let text = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  images:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        service: [api, worker]
    steps:
      - uses: actions/checkout@v5
      - name: Build and push ${{ matrix.service }}
        env:
          SERVICE: ${{ matrix.service }}
        run: |
          docker build -t "ghcr.io/acme/$SERVICE:latest" "./$SERVICE"
          if [ "$GITHUB_REF_NAME" = main ]; then
            docker push "ghcr.io/acme/$SERVICE:latest"
          fi
"#;
    // Split, the scan and push jobs could not tell which legs pushed (a
    // matrix job's outputs come from one leg): one job, where each leg
    // reads its own record step.
    let (dir, path) = scratch("matrix.yml", text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "matrix.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let migrated = fs::read_to_string(&path).unwrap();
    assert!(!migrated.contains("images-build:"), "{migrated}");
    assert!(
        migrated.contains("if: ${{ steps.scangate-record.outputs.pushed == 'true' }}"),
        "{migrated}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("note: job `images` stays one job")
            && err.contains("matrix job, this push may be skipped"),
        "{err}"
    );
    // A team that forbids the fallback gets the refusal, at the step.
    let (dir, path) = scratch("matrix.yml", text.as_bytes());
    fs::write(
        dir.path().join("scangate.toml"),
        "[layout]\nfallback = \"refuse\"\n",
    )
    .unwrap();
    let out = scangate(dir.path(), &["migrate", "--write", "matrix.yml"]);
    assert_eq!(code(&out), 3, "{}", show(&out));
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    let (line, col) = position(text, "- name: Build and push");
    assert!(
        stderr(&out).contains(&format!("matrix.yml:{line}:{col}: needs manual migration")),
        "{}",
        show(&out)
    );

    // Every leg pushing: each leg gets its own artifact and SARIF category.
    let every_leg = text
        .replace("          if [ \"$GITHUB_REF_NAME\" = main ]; then\n", "")
        .replace("            docker push", "          docker push")
        .replace("          fi\n", "");
    let (dir, path) = scratch("every-leg.yml", every_leg.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "every-leg.yml"]);
    assert_eq!(code(&out), 0, "{}\n{every_leg}", show(&out));
    let migrated = fs::read_to_string(&path).unwrap();
    assert!(migrated.contains("name: scangate-images-image-${{ strategy.job-index }}"));
    assert!(
        migrated.contains("category: scangate/every-leg/images/image-${{ strategy.job-index }}")
    );
    let doc = parse(&migrated);
    for job in ["images-scan", "images"] {
        assert_eq!(
            doc["jobs"][job]["strategy"], doc["jobs"]["images-build"]["strategy"],
            "{job} runs the build's legs"
        );
    }
    // The build job's outputs come from one leg: they cannot guard the scan.
    assert!(
        !migrated.contains("outputs.scangate-pushed =="),
        "{migrated}"
    );
}

#[test]
fn migrates_a_matrix_job_leg_by_leg() {
    let text = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  image:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        platform: [linux/amd64, linux/arm64]
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v4
      - uses: docker/setup-buildx-action@v4
      - name: Build and push
        uses: docker/build-push-action@v7
        with:
          context: .
          push: true
          platforms: ${{ matrix.platform }}
          tags: ghcr.io/acme/app:${{ github.ref_name }}
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("matrix.yml");
    fs::write(&file, text).unwrap();
    let run = scangate(dir.path(), &["migrate", "--write", "matrix.yml"]);
    assert_eq!(code(&run), 0, "{}", show(&run));
    let out: Value = yaml_serde::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    let jobs = out.get("jobs").unwrap();
    for id in ["image-build", "image-scan", "image"] {
        let job = jobs.get(id).unwrap_or_else(|| panic!("job {id} missing"));
        assert_eq!(
            job.get("strategy"),
            text_job_strategy(text).as_ref(),
            "{id} runs the same matrix"
        );
    }
    let migrated = fs::read_to_string(&file).unwrap();
    assert!(
        migrated.contains("name: scangate-image-image-${{ strategy.job-index }}"),
        "{migrated}"
    );
    let check = scangate(dir.path(), &["migrate", "--check", "matrix.yml"]);
    assert_eq!(code(&check), 0, "{}", show(&check));
}

/// The `strategy` of the only job of `text`, read independently of scangate.
fn text_job_strategy(text: &str) -> Option<Value> {
    let doc: Value = yaml_serde::from_str(text).unwrap();
    doc.get("jobs")?
        .as_mapping()?
        .values()
        .next()?
        .get("strategy")
        .cloned()
}

#[test]
fn platforms_from_an_expression_are_read_at_run_time() {
    // From an input of a reusable workflow: known only when it runs, so the
    // scan job reads them from the exported image and scans each.
    let input = r#"name: Publish
on:
  workflow_call:
    inputs:
      platforms:
        type: string
        default: linux/amd64

jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v4
      - name: Build and push
        uses: docker/build-push-action@v7
        with:
          context: .
          push: true
          platforms: ${{ inputs.platforms }}
          tags: ghcr.io/acme/app:${{ github.sha }}
"#;
    let (dir, path) = scratch("input-platform.yml", input.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "input-platform.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let migrated = fs::read_to_string(&path).unwrap();
    assert!(migrated.contains("targets.tsv"), "{migrated}");
    assert!(
        migrated.contains("platforms: ${{ inputs.platforms }}"),
        "{migrated}"
    );
    let out = scangate(dir.path(), &["migrate", "--check", "input-platform.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));

    // With SBOM attestations, one attest step per platform must be written
    // ahead: refused at the build step.
    let (dir, path) = scratch("input-platform.yml", input.as_bytes());
    fs::write(dir.path().join("scangate.toml"), "[signing]\nsbom = true\n").unwrap();
    let out = scangate(dir.path(), &["migrate", "--write", "input-platform.yml"]);
    assert_eq!(code(&out), 3, "{}", show(&out));
    assert!(show(&out).contains("SBOM"), "{}", show(&out));
    assert_eq!(fs::read_to_string(&path).unwrap(), input);
}

#[test]
fn refuses_a_build_step_with_outputs_of_its_own() {
    let text = build_and_push("", "          outputs: type=tar,dest=image.tar\n");
    let step = position(&text, "- name: Build and push");
    assert_refused("outputs.yml", &text, &[step], &["`outputs:`"]);
}

/// scangate's gate steps need a Linux runner: a job on Windows or macOS
/// (hosted or self-hosted labels) is refused at the job.
#[test]
fn refuses_a_job_on_windows_or_macos() {
    for runner in ["windows-2022", "macos-14", "[self-hosted, Windows, X64]"] {
        let text =
            build_and_push("", "").replace("runs-on: ubuntu-latest", &format!("runs-on: {runner}"));
        let job = position(&text, "release:");
        assert_refused("os.yml", &text, &[job], &["runs on Windows or macOS"]);
    }
}

/// The push job takes `continue-on-error` over (the scan job never does),
/// and needs what the original job needed, so the setting may read them.
#[test]
fn continue_on_error_may_read_needs() {
    let text = build_and_push(
        "    continue-on-error: ${{ needs.prepare.outputs.optional == 'true' }}\n",
        "",
    )
    .replace(
        "jobs:\n",
        "jobs:\n  prepare:\n    runs-on: ubuntu-latest\n    outputs:\n      optional: 'true'\n    steps:\n      - run: echo ok\n",
    )
    .replace("    runs-on: ubuntu-latest\n    continue", "    needs: prepare\n    runs-on: ubuntu-latest\n    continue");
    let (dir, path) = scratch("coe.yml", text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "coe.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let after = fs::read_to_string(&path).unwrap();
    let push_job = after.split("\n  release:\n").nth(1).unwrap();
    assert!(
        push_job.contains("needs: [prepare, release-build, release-scan]")
            && push_job.contains("continue-on-error: ${{ needs.prepare.outputs.optional"),
        "{after}"
    );
    let scan_job = after.split("\n  release-scan:\n").nth(1).unwrap();
    let scan_job = scan_job.split("\n  release:\n").next().unwrap();
    assert!(!scan_job.contains("continue-on-error: ${{"), "{after}");
}

#[test]
fn refuses_a_job_that_defines_an_anchor() {
    let text = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  release:
    runs-on: ubuntu-latest
    env: &registry
      REGISTRY: ghcr.io
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v4
      - name: Build and push
        uses: docker/build-push-action@v7
        with:
          context: .
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}

  notify:
    needs: release
    runs-on: ubuntu-latest
    env: *registry
    steps:
      - run: echo "pushed to $REGISTRY"
"#;
    let anchor = position(text, "env: &registry");
    let job = position(text, "release:");
    assert_refused("anchor.yml", text, &[anchor, job], &["anchor"]);
}

#[test]
fn refuses_a_job_that_uses_an_alias() {
    let text = r#"name: Release
on:
  push:
    tags: ['v*']

x-registry: &ghcr
  registry: ghcr.io
  username: ${{ github.actor }}
  password: ${{ secrets.GITHUB_TOKEN }}

jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Log in
        uses: docker/login-action@v4
        with: *ghcr
      - uses: docker/setup-buildx-action@v4
      - name: Build and push
        uses: docker/build-push-action@v7
        with:
          context: .
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}
"#;
    let alias = position(text, "with: *ghcr");
    let step = position(text, "- name: Log in");
    assert_refused("alias.yml", text, &[alias, step], &["anchor", "alias"]);
}

#[test]
fn refuses_duplicate_step_ids_at_the_duplicate() {
    let text = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Compute version
        id: build
        run: echo "version=${GITHUB_REF_NAME#v}" >> "$GITHUB_OUTPUT"
      - uses: docker/setup-buildx-action@v4
      - name: Build and push
        id: build
        uses: docker/build-push-action@v7
        with:
          context: .
          push: true
          tags: ghcr.io/acme/app:${{ steps.build.outputs.version }}
"#;
    let first = position(text, "- name: Compute version");
    let second = position(text, "- name: Build and push");
    assert_refused("dup-id.yml", text, &[first, second], &["same `id:`", "id"]);
}

#[test]
fn refuses_what_github_rejects_a_step_key_out_of_place_and_a_need_of_no_job() {
    // `logout:` belongs under `with:`; as a step key GitHub rejects the
    // workflow, and a copy in the push job would repeat the error.
    let text = build_and_push("", "").replace(
        "      - uses: docker/setup-buildx-action@v4\n",
        "        logout: true\n      - uses: docker/setup-buildx-action@v4\n",
    );
    let login = position(&text, "- uses: docker/login-action@v4");
    assert_refused("step-key.yml", &text, &[login], &["`logout`"]);

    let text = build_and_push("    needs: [test]\n", "");
    let job = position(&text, "release:");
    assert_refused("needs.yml", &text, &[job], &["needs `test`"]);
}

#[test]
fn refuses_a_flow_style_job() {
    let text = r#"name: Release
on:
  push:
    tags: ['v*']

jobs:
  build: {runs-on: ubuntu-latest, steps: [{uses: actions/checkout@v5}, {uses: docker/build-push-action@v7, with: {push: true, tags: 'ghcr.io/acme/app:latest'}}]}
"#;
    let job = position(text, "build:");
    assert_refused("flow.yml", text, &[job], &["inline", "flow"]);
}

#[test]
fn refuses_mixed_line_endings() {
    let lf = String::from_utf8(fixture_bytes("app-service", "release.yml")).unwrap();
    let mixed = lf.replacen("\n", "\r\n", 3);
    let (dir, path) = scratch("mixed.yml", mixed.as_bytes());
    let out = scangate(dir.path(), &["migrate", "--write", "mixed.yml"]);
    assert_eq!(code(&out), 3, "{}", show(&out));
    assert!(stderr(&out).contains("CRLF"), "{}", show(&out));
    assert_eq!(fs::read(&path).unwrap(), mixed.as_bytes());
}

// ---------------------------------------------------------------------------
// Line endings, BOM, final newline, encoding
// ---------------------------------------------------------------------------

/// Runs `--write` on `bytes` and returns the new bytes.
fn migrate_bytes(bytes: &[u8]) -> Vec<u8> {
    let (dir, path) = scratch("release.yml", bytes);
    let out = scangate(dir.path(), &["migrate", "--write", "release.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let migrated = fs::read(&path).unwrap();
    assert_ne!(migrated, bytes, "nothing was written");
    let check = scangate(dir.path(), &["migrate", "--check", "release.yml"]);
    assert_eq!(code(&check), 0, "not idempotent: {}", show(&check));
    migrated
}

fn bare_lf_count(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
        .count()
}

#[test]
fn crlf_bom_and_missing_final_newline_are_kept() {
    for (service, file, _) in FIXTURES {
        let lf = fixture_bytes(service, file);
        let lf_text = String::from_utf8(lf.clone()).unwrap();
        let reference = String::from_utf8(migrate_bytes(&lf)).unwrap();
        let expected = parse(&reference);

        // CRLF in, CRLF on every line out.
        let crlf = lf_text.replace('\n', "\r\n");
        let out = migrate_bytes(crlf.as_bytes());
        assert_eq!(
            bare_lf_count(&out),
            0,
            "{service}/{file}: bare LF in CRLF output"
        );
        assert!(out.ends_with(b"\r\n"));
        let out = String::from_utf8(out).unwrap();
        assert!(!out.replace("\r\n", "").contains('\r'), "stray CR");
        assert_eq!(out.replace("\r\n", "\n"), reference, "{service}/{file}");
        assert_eq!(parse(&out), expected);

        // A BOM stays, once.
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(&lf);
        let out = migrate_bytes(&bom);
        assert!(
            out.starts_with(b"\xEF\xBB\xBF"),
            "{service}/{file}: BOM lost"
        );
        assert!(!out[3..].starts_with(b"\xEF\xBB\xBF"), "BOM doubled");
        assert_eq!(&out[3..], reference.as_bytes());

        // No final newline stays so. (Its value is the LF migration's without
        // the final line break: a block scalar on the last line loses it.)
        let bare = lf_text.strip_suffix('\n').unwrap();
        let expected_bare = parse(reference.strip_suffix('\n').unwrap());
        let out = String::from_utf8(migrate_bytes(bare.as_bytes())).unwrap();
        assert!(
            !out.ends_with('\n'),
            "{service}/{file}: final newline added"
        );
        assert_eq!(format!("{out}\n"), reference);
        assert_eq!(parse(&out), expected_bare);

        // All three at once.
        let mut all = b"\xEF\xBB\xBF".to_vec();
        all.extend_from_slice(bare.replace('\n', "\r\n").as_bytes());
        let out = migrate_bytes(&all);
        assert!(out.starts_with(b"\xEF\xBB\xBF") && !out.ends_with(b"\n"));
        assert_eq!(bare_lf_count(&out), 0);
        let out = String::from_utf8(out[3..].to_vec()).unwrap();
        assert_eq!(out.replace("\r\n", "\n") + "\n", reference);
        assert_eq!(parse(&out), expected_bare);
    }
}

#[test]
fn latin1_is_an_error_naming_the_byte_offset() {
    let text = SINGLE_JOB.replace("name: Release", "name: Release caf\u{e9}");
    let mut bytes = text.into_bytes();
    // Re-encode the é as Latin-1: one byte 0xE9.
    let at = bytes
        .windows(2)
        .position(|w| w == "é".as_bytes())
        .expect("é in text");
    bytes.splice(at..at + 2, [0xE9]);
    for (name, bytes, offset) in [
        ("latin1.yml", bytes.clone(), at),
        (
            "bom-latin1.yml",
            [b"\xEF\xBB\xBF".as_slice(), &bytes].concat(),
            at + 3,
        ),
    ] {
        let (dir, path) = scratch(name, &bytes);
        let out = scangate(dir.path(), &["migrate", "--write", name]);
        assert_eq!(code(&out), 2, "{name}: {}", show(&out));
        let err = stderr(&out);
        assert!(err.contains(name), "{err}");
        assert!(
            err.contains(&format!("byte {offset}")),
            "{name}: offset {offset} not named:\n{err}"
        );
        assert_eq!(fs::read(&path).unwrap(), bytes);
    }
}

#[test]
fn a_nul_byte_is_an_error() {
    let mut bytes = SINGLE_JOB.as_bytes().to_vec();
    let at = SINGLE_JOB.find("jobs:").unwrap();
    bytes.insert(at, 0);
    let (dir, path) = scratch("nul.yml", &bytes);
    let out = scangate(dir.path(), &["migrate", "--write", "nul.yml"]);
    assert_eq!(code(&out), 2, "{}", show(&out));
    let err = stderr(&out);
    assert!(err.contains("NUL"), "{err}");
    assert!(err.contains(&format!("byte {at}")), "offset {at}:\n{err}");
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_nul_byte_offset_counts_the_bom() {
    // Offsets are file offsets, as for invalid UTF-8 (which counts the BOM).
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(SINGLE_JOB.as_bytes());
    let at = 3 + SINGLE_JOB.find("jobs:").unwrap();
    bytes.insert(at, 0);
    let (dir, _) = scratch("bom-nul.yml", &bytes);
    let out = scangate(dir.path(), &["migrate", "bom-nul.yml"]);
    assert_eq!(code(&out), 2, "{}", show(&out));
    assert!(
        stderr(&out).contains(&format!("byte {at}")),
        "expected file offset {at}: {}",
        show(&out)
    );
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    for (name, text) in [
        ("empty.yml", ""),
        (
            "comments.yml",
            "# release workflow: coming soon\n#\n# jobs:\n",
        ),
    ] {
        let (dir, path) = scratch(name, text.as_bytes());
        let out = scangate(dir.path(), &["migrate", "--write", name]);
        assert_eq!(code(&out), 0, "{name}: {}", show(&out));
        assert_eq!(stdout(&out), "");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        if text.is_empty() {
            assert!(stderr(&out).contains("skipped"), "{}", show(&out));
        }
    }
}

// ---------------------------------------------------------------------------
// Files that must not be written
// ---------------------------------------------------------------------------

/// Whether the operating system refuses this process a write to `path`
/// (false when running as root, which ignores permission bits).
#[cfg(unix)]
fn write_refused(path: &Path) -> bool {
    fs::OpenOptions::new().append(true).open(path).is_err()
}

#[cfg(unix)]
#[test]
fn a_read_only_workflow_is_not_written() {
    use std::os::unix::fs::PermissionsExt;

    let original = fixture_bytes("model-service", "release.yml");
    let (dir, path) = scratch("release.yml", &original);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    if write_refused(&path) {
        let out = scangate(dir.path(), &["migrate", "--write", "release.yml"]);
        assert_eq!(code(&out), 2, "read-only file: {}", show(&out));
        assert_eq!(
            fs::read(&path).unwrap(),
            original,
            "read-only file replaced"
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o444
        );
        assert_eq!(listing(dir.path()), ["release.yml"]);
    } else {
        eprintln!(
            "note: writing to a read-only file is not refused here (running as root?); \
             the read-only file sub-case is skipped"
        );
    }

    // A read-only folder: the atomic replace cannot create its temp file.
    let (dir, path) = scratch("release.yml", &original);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let probe = dir.path().join("probe");
    let refused = fs::write(&probe, b"").is_err();
    let _ = fs::remove_file(&probe);
    if refused {
        let out = scangate(dir.path(), &["migrate", "--write", "release.yml"]);
        let written = fs::read(&path).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(code(&out), 2, "read-only folder: {}", show(&out));
        assert_eq!(written, original, "file in a read-only folder replaced");
        assert!(stderr(&out).contains("release.yml"), "{}", show(&out));
    } else {
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!(
            "note: creating files in a read-only folder is not refused here (running as root?); \
             the read-only folder sub-case is skipped"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_symlinked_workflow_is_not_written_through() {
    let original = fixture_bytes("model-service", "release.yml");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("shared-release.yml");
    fs::write(&target, &original).unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(&wf).unwrap();
    std::os::unix::fs::symlink("../../shared-release.yml", wf.join("release.yml")).unwrap();

    for arg in [".github/workflows/release.yml", "."] {
        let out = scangate(dir.path(), &["migrate", "--write", arg]);
        assert_eq!(code(&out), 2, "{arg}: {}", show(&out));
        assert!(stderr(&out).contains("release.yml"), "{}", show(&out));
        assert_eq!(fs::read(&target).unwrap(), original, "target written");
        let link = fs::symlink_metadata(wf.join("release.yml")).unwrap();
        assert!(link.file_type().is_symlink(), "the link was replaced");
    }
}

// ---------------------------------------------------------------------------
// What a dry run says on stderr
// ---------------------------------------------------------------------------

fn would_migrate_lines(err: &str) -> Vec<&str> {
    err.lines()
        .filter(|l| l.starts_with("would migrate "))
        .collect()
}

#[test]
fn a_dry_run_says_would_migrate_once_per_job() {
    for (service, file, job) in FIXTURES {
        let (dir, _) = scratch(file, &fixture_bytes(service, file));
        let out = scangate(dir.path(), &["migrate", "--color", "never", file]);
        assert_eq!(code(&out), 0, "{}", show(&out));
        let err = stderr(&out);
        let lines = would_migrate_lines(&err);
        assert_eq!(lines.len(), 1, "{service}/{file}:\n{err}");
        assert!(
            lines[0].starts_with(&format!("would migrate {file}: job `{job}`")),
            "{}",
            lines[0]
        );
        // stderr is a summary: no diff, no secrets, no workflow text.
        assert!(!err.contains("secrets."), "{err}");
        assert!(!err.contains("\n+"), "{err}");
        assert!(!stdout(&out).is_empty());
    }
}

#[test]
fn a_workflow_with_two_pushing_jobs_migrates_both() {
    let text = r#"name: Release images
on:
  push:
    tags: ['v*']

permissions:
  contents: read
  packages: write

jobs:
  api:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - uses: docker/setup-buildx-action@v4
      - name: Build and push api
        uses: docker/build-push-action@v7
        with:
          context: ./api
          push: true
          tags: ghcr.io/acme/api:${{ github.ref_name }}

  worker:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - uses: docker/setup-buildx-action@v4
      - name: Build and push worker
        uses: docker/build-push-action@v7
        with:
          context: ./worker
          push: true
          tags: ghcr.io/acme/worker:${{ github.ref_name }}
"#;
    let (dir, path) = scratch("images.yml", text.as_bytes());
    let out = scangate(dir.path(), &["migrate", "images.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let err = stderr(&out);
    let lines = would_migrate_lines(&err);
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].contains("job `api`"), "{err}");
    assert!(lines[1].contains("job `worker`"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);

    let out = scangate(dir.path(), &["migrate", "--write", "images.yml"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let doc = parse(&fs::read_to_string(&path).unwrap());
    assert_eq!(
        job_ids(&doc),
        [
            "api-build",
            "api-scan",
            "api",
            "worker-build",
            "worker-scan",
            "worker"
        ]
    );
}

/// A step between two pushes of one job that each get their own stand-in
/// (buildx, ko) stays where it was: verification counts each stand-in
/// before its own push, not after the previous one.
#[test]
fn a_step_between_two_stand_in_pushes_is_kept_in_place() {
    let text = "on: push\njobs:\n  p:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: docker buildx build -t ghcr.io/acme/base:1 --push base\n      - run: echo between\n      - id: app\n        run: docker buildx build -t ghcr.io/acme/app:1 --push app\n";
    for layout in ["jobs", "steps"] {
        let (dir, path) = scratch("between.yml", text.as_bytes());
        let path = path.to_str().expect("UTF-8 path");
        let out = scangate(
            dir.path(),
            &["migrate", "--write", "--layout", layout, path],
        );
        assert_eq!(code(&out), 0, "{layout}: {}", show(&out));
        let out = scangate(
            dir.path(),
            &["migrate", "--check", "--layout", layout, path],
        );
        assert_eq!(code(&out), 0, "{layout}: {}", show(&out));
    }
}

/// A build step whose `builder:` reads a step id no step has (empty at run
/// time: the default builder, set 36 a01) gets the builder scangate sets up
/// in its place; a builder that exists elsewhere is refused at its step.
#[test]
fn a_builder_that_names_none_is_replaced_and_one_that_names_another_is_refused() {
    let job = |builder: &str| {
        format!(
            "on: push\njobs:\n  p:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          builder: {builder}\n          push: true\n          tags: ghcr.io/acme/app:1\n"
        )
    };
    for layout in ["jobs", "steps"] {
        let text = job("${{ steps.buildx.outputs.name }}");
        let (dir, path) = scratch("builder.yml", text.as_bytes());
        let path = path.to_str().expect("UTF-8 path");
        let out = scangate(
            dir.path(),
            &["migrate", "--write", "--layout", layout, path],
        );
        assert_eq!(code(&out), 0, "{layout}: {}", show(&out));
        let after = fs::read_to_string(path).expect("written");
        assert!(!after.contains("steps.buildx."), "{after}");
        assert_eq!(
            after
                .matches("builder: ${{ steps.scangate-buildx.outputs.name }}")
                .count(),
            1,
            "{after}"
        );
        let out = scangate(
            dir.path(),
            &["migrate", "--check", "--layout", layout, path],
        );
        assert_eq!(code(&out), 0, "{layout}: {}", show(&out));
    }
    let text = job("my-builder");
    let (dir, path) = scratch("named.yml", text.as_bytes());
    let out = scangate(
        dir.path(),
        &["migrate", "--write", path.to_str().expect("UTF-8 path")],
    );
    assert_eq!(code(&out), 3, "{}", show(&out));
    let (line, col) = position(&text, "- uses: docker/build-push-action");
    assert!(
        stderr(&out).contains(&format!("named.yml:{line}:{}", col)),
        "{}",
        show(&out)
    );
    assert!(
        stderr(&out).contains("names the builder `my-builder`"),
        "{}",
        show(&out)
    );
    assert_eq!(fs::read_to_string(&path).expect("kept"), text);
}
