#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! Invariant 5, signing after the gate: `signed-before-gate` (always) and
//! `unsigned-push` (when `[signing]` is configured), on the fixtures migrated
//! with and without signing and on hand edits of them.

use std::path::{Path, PathBuf};

use scangate::check::finding::Finding;
use scangate::check::{Checked, Checker, Options};
use scangate::pins::Pins;
use scangate::policy::Policy;
use scangate::signing::Signing;
use scangate::{Migrator, Outcome, Source};

fn fixture(service: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(service)
        .join(".github/workflows")
        .join(file)
}

const FIXTURES: [(&str, &str); 5] = [
    ("model-service", "release.yml"),
    ("app-service", "release.yml"),
    ("shapes", "script-push.yml"),
    ("shapes", "buildx-script.yml"),
    ("shapes", "matrix-by-digest.yml"),
];

fn signing_policy(on: bool) -> Policy {
    Policy {
        signing: on.then(Signing::default),
        ..Policy::default()
    }
}

fn migrated(service: &str, file: &str, sign: bool) -> String {
    let path = fixture(service, file);
    let source = Source::from_bytes(&path, &std::fs::read(&path).unwrap()).unwrap();
    match Migrator::new(Pins::embedded(), signing_policy(sign))
        .unwrap()
        .migrate(&source)
        .unwrap()
    {
        Outcome::Migrated { text, .. } => text,
        other => panic!("{service}/{file}: {other:?}"),
    }
}

fn check(text: &str, signing: bool) -> Vec<Finding> {
    let source = Source::from_bytes(Path::new("w.yml"), text.as_bytes()).unwrap();
    let checker = Checker::new(
        signing_policy(signing),
        Pins::embedded(),
        Options::default(),
    );
    match checker.check(&source).unwrap() {
        Checked::Findings { findings, .. } => findings,
        Checked::NotAWorkflow(why) => panic!("{why}"),
    }
}

fn rules(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule).collect()
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn signed_migrations_pass_with_and_without_the_signing_policy() {
    // Push-by-digest legs are refused with signing on (the index another
    // job creates could not be signed): tests/snapshots.rs.
    for (service, file) in FIXTURES
        .iter()
        .filter(|(_, f)| *f != "matrix-by-digest.yml")
    {
        let text = migrated(service, file, true);
        assert!(check(&text, false).is_empty(), "{service}/{file}");
        let f = check(&text, true);
        assert!(f.is_empty(), "{service}/{file}: {f:?}");
    }
}

#[test]
fn an_unsigned_push_is_reported_only_when_signing_is_configured() {
    for (service, file) in FIXTURES {
        let text = migrated(service, file, false);
        assert!(check(&text, false).is_empty(), "{service}/{file}");
        let f = check(&text, true);
        assert!(f.iter().all(|f| f.rule == "unsigned-push"), "{f:?}");
        let push = line_of(&text, "- name: Push the scanned image");
        assert!(
            f.iter().any(|f| f.at.line == push),
            "{service}/{file}: {f:?}"
        );
    }
}

#[test]
fn removing_the_signature_step_is_drift() {
    let text = migrated("model-service", "release.yml", true);
    let dropped = text.replace("cosign sign --yes", "echo not signing");
    assert_eq!(rules(&check(&dropped, true)), ["unsigned-push"]);
}

#[test]
fn signing_in_the_build_job_is_signing_before_the_gate() {
    let text = migrated("model-service", "release.yml", true);
    // Sign right after the record step of the build job, before any scan.
    let anchor = "      - name: Record the image digest and tags\n";
    assert!(text.contains(anchor));
    let early = text.replacen(
        anchor,
        "      - name: Sign early\n        run: cosign sign --yes \"ghcr.io/acme/x@${DIGEST}\"\n\n      - name: Record the image digest and tags\n",
        1,
    );
    let f = check(&early, false);
    assert_eq!(rules(&f), ["signed-before-gate"], "{f:?}");
    assert_eq!(f[0].at.line, line_of(&early, "- name: Sign early"));
    assert_eq!(f[0].job.as_deref(), Some("release-build"));
}

#[test]
fn a_signature_in_an_ungated_pushing_job_is_reported_with_the_push() {
    let text = "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - run: docker build -t ghcr.io/acme/x:1 .\n      - run: docker push ghcr.io/acme/x:1\n      - run: cosign sign --yes ghcr.io/acme/x:1\n      - uses: actions/attest@v4\n        with: {subject-path: dist/app.tar}\n";
    let f = check(text, false);
    let found = rules(&f);
    assert!(found.contains(&"ungated-push"), "{f:?}");
    let signed: Vec<&Finding> = f
        .iter()
        .filter(|f| f.rule == "signed-before-gate")
        .collect();
    assert_eq!(
        signed.len(),
        1,
        "the file attestation is not an image: {f:?}"
    );
    assert_eq!(signed[0].at.line, 8);
}
