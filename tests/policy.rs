#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! What each `scangate.toml` knob does to a migration, pinned as insta
//! snapshots. Each snapshot is the diff between the fixture migrated with
//! the defaults and migrated with the knob changed, so it shows the knob's
//! effect and nothing else; an empty effect fails the test (a knob that
//! changes nothing is a bug). Every migration here is verified by scangate's
//! own verify stage; `tests/validators.rs` runs the independent validators
//! on the one-job layout and on a config with every knob changed.

use std::path::Path;

use scangate::config::Config;
use scangate::render::Overrides;
use scangate::{Migrator, Outcome, files, report};

fn fixture(rel: &str) -> scangate::Source {
    files::read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel),
    )
    .unwrap()
}

/// `rel` migrated under the config `toml`.
fn migrated(toml: &str, rel: &str) -> String {
    let config = Config::parse(Path::new("scangate.toml"), toml).unwrap();
    let migrator =
        Migrator::with_templates(config.pins(), config.policy(), Overrides::default()).unwrap();
    match migrator.migrate(&fixture(rel)).unwrap() {
        Outcome::Migrated { text, .. } => text,
        other => panic!("{rel} under\n{toml}\nwas not migrated: {other:?}"),
    }
}

/// The knob's effect: default migration → migration with `toml`.
fn effect(toml: &str, rel: &str) -> String {
    let diff = report::unified_diff(rel, &migrated("", rel), &migrated(toml, rel), false);
    assert!(!diff.is_empty(), "`{toml}` changes nothing in {rel}");
    diff
}

const ACTION: &str = "app-service/.github/workflows/release.yml";
const SCRIPT: &str = "shapes/.github/workflows/script-push.yml";

macro_rules! knobs {
    ($($name:ident: $fixture:expr => $toml:expr;)*) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(effect($toml, $fixture));
            }
        )*
    };
}

knobs! {
    severity: ACTION => "[policy]\nseverity = [\"CRITICAL\"]\n";
    ignore_unfixed: ACTION => "[policy]\nignore-unfixed = false\n";
    scanners: ACTION => "[policy]\nscanners = [\"vuln\"]\n";
    pkg_types: ACTION => "[policy]\npkg-types = [\"library\"]\n";
    trivyignore: ACTION => "[policy]\ntrivyignore = \"security/trivyignore\"\n";
    fail_on_misconfig: ACTION => "[policy]\nfail-on-misconfig = true\n";
    fail_on_eol: ACTION => "[policy]\nfail-on-eol = true\n";
    trivy_version: ACTION => "[trivy]\nversion = \"v0.69.3\"\n";
    db_repositories: ACTION => "[trivy]\ndb-repositories = [\"registry.example.com/trivy-db:2\"]\njava-db-repositories = [\"registry.example.com/trivy-java-db:1\"]\n";
    trivy_cache: ACTION => "[trivy]\ncache = true\n";
    artifact_name: ACTION => "[reports]\nartifact-name = \"trivy-{job}\"\n";
    retention_days: ACTION => "[reports]\nretention-days = 7\n";
    sarif_off: ACTION => "[reports]\nsarif = false\n";
    category_prefix: ACTION => "[reports]\ncategory-prefix = \"security/trivy\"\n";
    job_suffixes: ACTION => "[layout]\nbuild-suffix = \"-image\"\nscan-suffix = \"-trivy\"\n";
    steps_layout_action: ACTION => "[layout]\nmode = \"steps\"\n";
    steps_layout_script: SCRIPT => "[layout]\nmode = \"steps\"\n";
    pins: ACTION => "[pins.\"aquasecurity/setup-trivy\"]\nversion = \"v0.9.9\"\nsha = \"0123456789abcdef0123456789abcdef01234567\"\n";
}

/// The one-job layout adds no job and moves nothing: every job of the
/// original is still there under its id, and no other job appears.
#[test]
fn the_steps_layout_keeps_the_jobs() {
    let jobs = |text: &str| -> Vec<String> {
        let doc: yaml_serde::Value = yaml_serde::from_str(text).unwrap();
        doc["jobs"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect()
    };
    for rel in [ACTION, SCRIPT] {
        let original = fixture(rel).text;
        assert_eq!(
            jobs(&migrated("[layout]\nmode = \"steps\"\n", rel)),
            jobs(&original),
            "{rel}"
        );
    }
}

/// A stricter threshold than an existing gate: the gate no longer counts,
/// and the push is migrated again with the policy's severities.
#[test]
fn a_gate_below_the_policy_is_no_gate() {
    let gated = migrated("[policy]\nseverity = [\"CRITICAL\"]\n", ACTION);
    let source = scangate::Source::from_bytes(Path::new("release.yml"), gated.as_bytes()).unwrap();
    let stricter = Config::parse(Path::new("x"), "").unwrap();
    let migrator =
        Migrator::with_templates(stricter.pins(), stricter.policy(), Overrides::default()).unwrap();
    let again = migrator.migrate(&source).unwrap();
    assert!(
        !matches!(again, Outcome::Unchanged),
        "a CRITICAL-only gate passed as a CRITICAL,HIGH gate"
    );
}
