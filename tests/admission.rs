#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate policy kyverno|policy-controller`: the cluster manifests for
//! the fixture repositories, before and after migration.
//!
//! * snapshots of the manifests (reviewed by hand: one policy per image,
//!   keyless identity of each workflow that pushes it on a tag, the vuln
//!   attestation condition);
//! * every Kyverno manifest parses into typed structs with
//!   `deny_unknown_fields`, written here from Kyverno's documented
//!   `ClusterPolicy` / `verifyImages` fields (api/kyverno/v1
//!   image_verification_types.go), independent of how scangate writes them;
//! * every ClusterImagePolicy validates against the policy-controller CRD's
//!   own OpenAPI schema (`../shared/crds/`, next to the repository), made
//!   strict about unknown fields, which the API server would silently prune;
//! * `--output DIR`, exit codes and the errors a user sees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const SERVICES: [&str; 4] = ["model-service", "app-frontend", "app-service", "shapes"];

/// `scangate policy ARGS` in the crate root.
fn policy(args: &[&str]) -> Output {
    Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(root())
        .arg("policy")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The manifests for fixture `service` (as the repository acme/`service`).
fn manifests(verifier: &str, service: &str, extra: &[&str]) -> String {
    let dir = format!("fixtures/{service}");
    let repo = format!("acme/{service}");
    let mut args = vec![verifier, dir.as_str(), "--github-repo", repo.as_str()];
    args.extend(extra);
    let o = policy(&args);
    assert_eq!(
        o.status.code(),
        Some(expected_exit(service)),
        "{}",
        stderr(&o)
    );
    stdout(&o)
}

/// `shapes` holds a matrix job whose image names exist only at run time:
/// its policies are printed, and the exit code says some push is uncovered.
fn expected_exit(service: &str) -> i32 {
    if service == "shapes" { 3 } else { 0 }
}

/// The fixture repositories migrated with `--sign` in a scratch folder.
fn migrated_fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for service in SERVICES {
        copy_tree(
            &root().join("fixtures").join(service),
            &dir.path().join(service),
        );
        Command::cargo_bin("scangate")
            .unwrap()
            .args(["migrate", "--write", "--sign"])
            .arg(dir.path().join(service))
            .assert()
            // shapes' push-by-digest legs are refused with signing on (and
            // left as they were); everything else migrates.
            .code(if service == "shapes" { 3 } else { 0 });
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn documents(text: &str) -> Vec<&str> {
    text.split("---\n")
        .filter(|d| !d.trim().is_empty())
        .collect()
}

// ---------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------

#[test]
fn kyverno_snapshot() {
    insta::assert_snapshot!(
        "kyverno-app-service",
        manifests("kyverno", "app-service", &[])
    );
}

#[test]
fn kyverno_bundle_snapshot() {
    insta::assert_snapshot!(
        "kyverno-model-service-bundle",
        manifests(
            "kyverno",
            "model-service",
            &["--signature-format", "bundle"]
        )
    );
}

#[test]
fn policy_controller_snapshot() {
    insta::assert_snapshot!(
        "policy-controller-shapes",
        manifests("policy-controller", "shapes", &[])
    );
}

/// Migration keeps the images: the manifests of a migrated repository are
/// those of the original (the build job records the same references).
#[test]
fn the_same_policies_before_and_after_migration() {
    let migrated = migrated_fixtures();
    for service in SERVICES {
        for verifier in ["kyverno", "policy-controller"] {
            let dir = migrated.path().join(service);
            let repo = format!("acme/{service}");
            let o = policy(&[verifier, dir.to_str().unwrap(), "--github-repo", &repo]);
            assert_eq!(
                o.status.code(),
                Some(expected_exit(service)),
                "{service}: {}",
                stderr(&o)
            );
            assert_eq!(
                stdout(&o),
                manifests(verifier, service, &[]),
                "{service} {verifier}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Kyverno: typed reading with the documented fields
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClusterPolicy {
    api_version: String,
    kind: String,
    metadata: ObjectMeta,
    spec: PolicySpec,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields)]
struct ObjectMeta {
    name: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicySpec {
    background: Option<bool>,
    webhook_timeout_seconds: Option<u32>,
    validation_failure_action: Option<FailureAction>,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Rule {
    name: String,
    #[serde(rename = "match")]
    matches: MatchResources,
    verify_images: Vec<ImageVerification>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields)]
struct MatchResources {
    any: Option<Vec<ResourceFilter>>,
    all: Option<Vec<ResourceFilter>>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields)]
struct ResourceFilter {
    resources: ResourceDescription,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields)]
struct ResourceDescription {
    kinds: Vec<String>,
    namespaces: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum FailureAction {
    Audit,
    Enforce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum VerificationType {
    Cosign,
    SigstoreBundle,
    Notary,
}

/// `verifyImages[]` (kyverno api/kyverno/v1 ImageVerification, without the
/// deprecated `image`, `key`, `roots`, `subject`, `issuer`, `annotations`).
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ImageVerification {
    failure_action: Option<FailureAction>,
    #[serde(rename = "type")]
    kind: Option<VerificationType>,
    image_references: Vec<String>,
    skip_image_references: Option<Vec<String>>,
    attestors: Vec<AttestorSet>,
    #[serde(default)]
    attestations: Vec<Attestation>,
    repository: Option<String>,
    #[serde(rename = "cosignOCI11")]
    cosign_oci11: Option<bool>,
    mutate_digest: Option<bool>,
    verify_digest: Option<bool>,
    required: Option<bool>,
    use_cache: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields)]
struct AttestorSet {
    count: Option<usize>,
    entries: Vec<Attestor>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Attestor {
    keys: Option<Value>,
    certificates: Option<Value>,
    keyless: Option<KeylessAttestor>,
    attestor: Option<Value>,
    annotations: Option<BTreeMap<String, String>>,
    repository: Option<String>,
    signature_algorithm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KeylessAttestor {
    rekor: Option<Rekor>,
    ctlog: Option<Value>,
    issuer: Option<String>,
    issuer_reg_exp: Option<String>,
    subject: Option<String>,
    subject_reg_exp: Option<String>,
    roots: Option<String>,
    additional_extensions: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Rekor {
    url: String,
    pubkey: Option<String>,
    ignore_tlog: Option<bool>,
}

/// `attestations[]`, with `type` (the deprecated `predicateType` is refused).
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields)]
struct Attestation {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    attestors: Vec<AttestorSet>,
    #[serde(default)]
    conditions: Vec<AnyAllConditions>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields)]
struct AnyAllConditions {
    any: Option<Vec<Condition>>,
    all: Option<Vec<Condition>>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // fields are named to be accepted; the checks read some
#[serde(deny_unknown_fields)]
struct Condition {
    key: Value,
    operator: Operator,
    value: Value,
    message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum Operator {
    Equals,
    NotEquals,
    AnyIn,
    AllIn,
    AnyNotIn,
    AllNotIn,
    GreaterThanOrEquals,
    GreaterThan,
    LessThanOrEquals,
    LessThan,
    DurationGreaterThanOrEquals,
    DurationGreaterThan,
    DurationLessThanOrEquals,
    DurationLessThan,
}

/// What Kyverno's own validation (`Validate` in the types file) and this
/// feature require of one attestor set: entries, a count no larger than
/// them, keyless entries with an issuer, a tag-ref subject and Rekor.
fn check_attestors(sets: &[AttestorSet], repo: &str) {
    assert!(!sets.is_empty());
    for set in sets {
        assert!(!set.entries.is_empty());
        assert!(set.count.is_none_or(|c| c >= 1 && c <= set.entries.len()));
        for e in &set.entries {
            let k = e.keyless.as_ref().expect("keyless attestor");
            assert!(e.keys.is_none() && e.certificates.is_none() && e.attestor.is_none());
            assert_eq!(
                k.issuer.as_deref(),
                Some("https://token.actions.githubusercontent.com")
            );
            let subject = k.subject.as_deref().unwrap();
            assert!(
                subject.starts_with(&format!("https://github.com/{repo}/.github/workflows/"))
                    && subject.ends_with("@refs/tags/*"),
                "{subject}"
            );
            assert!(!k.rekor.as_ref().unwrap().url.is_empty());
        }
    }
}

fn read_kyverno(text: &str, repo: &str, bundle: bool) -> Vec<ClusterPolicy> {
    let policies: Vec<ClusterPolicy> = documents(text)
        .into_iter()
        .map(|d| yaml_serde::from_str(d).unwrap_or_else(|e| panic!("{e}\n{d}")))
        .collect();
    assert!(!policies.is_empty());
    for p in &policies {
        assert_eq!(
            (p.api_version.as_str(), p.kind.as_str()),
            ("kyverno.io/v1", "ClusterPolicy")
        );
        assert!(p.metadata.name.starts_with("scangate-") && p.metadata.name.len() <= 63);
        assert_eq!(p.spec.validation_failure_action, None, "deprecated field");
        for rule in &p.spec.rules {
            let kinds: Vec<&str> = rule
                .matches
                .any
                .iter()
                .flatten()
                .flat_map(|f| f.resources.kinds.iter().map(String::as_str))
                .collect();
            assert_eq!(kinds, ["Pod"]);
            for v in &rule.verify_images {
                assert_eq!(v.failure_action, Some(FailureAction::Enforce));
                let expected = if bundle {
                    VerificationType::SigstoreBundle
                } else {
                    VerificationType::Cosign
                };
                assert_eq!(v.kind, Some(expected));
                assert!(
                    v.image_references
                        .iter()
                        .all(|r| r.ends_with(":*") || r.ends_with("@*"))
                );
                check_attestors(&v.attestors, repo);
                let vuln: Vec<&Attestation> = v
                    .attestations
                    .iter()
                    .filter(|a| a.kind == "https://cosign.sigstore.dev/attestation/vuln/v1")
                    .collect();
                assert_eq!(vuln.len(), 1, "one vulnerability attestation check");
                check_attestors(&vuln[0].attestors, repo);
                let conditions: Vec<&Condition> = vuln[0]
                    .conditions
                    .iter()
                    .flat_map(|c| c.all.iter().flatten().chain(c.any.iter().flatten()))
                    .collect();
                assert!(conditions.iter().any(|c| {
                    c.key
                        .as_str()
                        .is_some_and(|k| k.contains("CRITICAL") && k.starts_with("{{"))
                }));
            }
        }
    }
    policies
}

#[test]
fn kyverno_manifests_have_only_documented_fields() {
    let migrated = migrated_fixtures();
    for service in SERVICES {
        let repo = format!("acme/{service}");
        for bundle in [false, true] {
            let format = if bundle { "bundle" } else { "legacy" };
            let text = manifests("kyverno", service, &["--signature-format", format]);
            read_kyverno(&text, &repo, bundle);
        }
        let dir = migrated.path().join(service);
        let o = policy(&["kyverno", dir.to_str().unwrap(), "--github-repo", &repo]);
        read_kyverno(&stdout(&o), &repo, false);
    }
}

#[test]
fn the_typed_reading_rejects_unknown_fields() {
    let text = manifests("kyverno", "app-service", &[]);
    let typo = text.replace("mutateDigest:", "mutateDigests:");
    assert!(yaml_serde::from_str::<ClusterPolicy>(documents(&typo)[0]).is_err());
    let old = text.replace("- type: https://cosign", "- predicateType: https://cosign");
    assert!(yaml_serde::from_str::<ClusterPolicy>(documents(&old)[0]).is_err());
}

// ---------------------------------------------------------------------------
// policy-controller: the CRD's OpenAPI schema
// ---------------------------------------------------------------------------

/// The CRD next to the repository (`/work/shared/crds` here; CI has it).
fn crd_path() -> PathBuf {
    root().join("../shared/crds/policy.sigstore.dev_clusterimagepolicies.yaml")
}

/// `schema` with `additionalProperties: false` on every object that lists
/// its properties: the API server prunes unknown fields without a word, so
/// a misspelt field would silently weaken the policy.
fn strict(schema: &mut Value) {
    if let Value::Object(map) = schema {
        if map.contains_key("properties") && !map.contains_key("additionalProperties") {
            map.insert("additionalProperties".into(), Value::Bool(false));
        }
        for v in map.values_mut() {
            strict(v);
        }
    } else if let Value::Array(items) = schema {
        items.iter_mut().for_each(strict);
    }
}

/// The strict OpenAPI schema of the CRD version `version`, as a JSON file.
fn schema_file(dir: &Path, version: &str) -> PathBuf {
    let text = std::fs::read_to_string(crd_path())
        .unwrap_or_else(|e| panic!("{}: {e} (the shared CRDs folder)", crd_path().display()));
    let crd: Value = yaml_serde::from_str(&text).unwrap();
    let mut schema = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap_or_else(|| panic!("no version {version} in the CRD"))["schema"]["openAPIV3Schema"]
        .clone();
    // Every object has these; CRD schemas leave them to the API server.
    for (key, kind) in [
        ("apiVersion", "string"),
        ("kind", "string"),
        ("metadata", "object"),
    ] {
        schema["properties"][key] = serde_json::json!({ "type": kind });
    }
    strict(&mut schema);
    let path = dir.join(format!("cip-{version}.json"));
    std::fs::write(&path, serde_json::to_vec(&schema).unwrap()).unwrap();
    path
}

/// check-jsonschema (pinned in .tools/venv) on each manifest; Err with its
/// output when one does not validate.
fn validate_cips(text: &str) -> Result<(), String> {
    let tool = root().join(".tools/venv/bin/check-jsonschema");
    assert!(tool.is_file(), "run scripts/install-tools.sh");
    let dir = tempfile::tempdir().unwrap();
    let mut problems = String::new();
    for (i, doc) in documents(text).into_iter().enumerate() {
        let manifest: Value = yaml_serde::from_str(doc).unwrap();
        let version = manifest["apiVersion"]
            .as_str()
            .unwrap()
            .strip_prefix("policy.sigstore.dev/")
            .unwrap()
            .to_owned();
        assert_eq!(manifest["kind"], "ClusterImagePolicy");
        let schema = schema_file(dir.path(), &version);
        let file = dir.path().join(format!("cip-{i}.yaml"));
        std::fs::write(&file, doc).unwrap();
        let out = std::process::Command::new(&tool)
            .arg("--schemafile")
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        if !out.status.success() {
            problems.push_str(&String::from_utf8_lossy(&out.stdout));
            problems.push_str(&String::from_utf8_lossy(&out.stderr));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[test]
fn cluster_image_policies_validate_against_the_crd() {
    for service in SERVICES {
        for format in ["legacy", "bundle"] {
            let text = manifests(
                "policy-controller",
                service,
                &["--signature-format", format],
            );
            validate_cips(&text).unwrap_or_else(|e| panic!("{service} ({format}): {e}\n{text}"));
            assert!(text.contains(&format!("signatureFormat: {format}")));
            assert!(text.contains("predicateType: vuln"));
        }
    }
}

#[test]
fn the_crd_schema_catches_a_misspelt_field() {
    let text = manifests("policy-controller", "app-service", &[]);
    assert!(validate_cips(&text.replace("subjectRegExp:", "subjectRegexp:")).is_err());
    assert!(
        validate_cips(&text.replace("signatureFormat: legacy", "signatureFormat: [legacy]"))
            .is_err()
    );
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

#[test]
fn output_writes_one_file_per_policy_and_replaces_them() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("policies");
    for _ in 0..2 {
        let o = policy(&[
            "kyverno",
            "fixtures/shapes",
            "--github-repo",
            "acme/shapes",
            "--output",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(expected_exit("shapes")),
            "{}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains("matrix-script.yml: job `services`"),
            "{}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty());
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "scangate-ghcr-io-acme-api.yaml",
            "scangate-ghcr-io-acme-app.yaml",
            "scangate-ghcr-io-acme-service.yaml",
            "scangate-ghcr-io-acme-shapes.yaml",
            "scangate-ghcr-io-acme-tool.yaml",
            "scangate-ghcr-io-acme-toolbox.yaml",
            "scangate-ghcr-io-acme-worker.yaml",
        ]
    );
    let printed = manifests("kyverno", "shapes", &[]);
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert!(printed.contains(&text), "{name}");
    }
}

/// `scangate policy kyverno` on a scratch repository (acme/app) holding
/// one workflow, `name` with `text`.
fn policy_on_workflow(name: &str, text: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(wf.join(name), text).unwrap();
    policy(&[
        "kyverno",
        dir.path().to_str().unwrap(),
        "--github-repo",
        "acme/app",
    ])
}

/// `scangate policy kyverno DIR` (no repository named), DIR a copy of the
/// app-service fixture prepared by `prepare`.
fn policy_on_copy(prepare: impl Fn(&Path)) -> Output {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("fixtures/app-service"), dir.path());
    prepare(dir.path());
    Command::cargo_bin("scangate")
        .unwrap()
        .args(["policy", "kyverno"])
        .arg(dir.path())
        .output()
        .unwrap()
}

#[test]
fn an_image_known_only_at_run_time_is_reported_with_exit_3() {
    let o = policy_on_workflow(
        "release.yml",
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          tags: |\n            ghcr.io/acme/app:1\n            ${{ vars.REGISTRY }}/app:1\n",
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stdout(&o).contains("ghcr.io/acme/app:*"));
    let err = stderr(&o);
    assert!(
        err.contains("release.yml: job `a` pushes `${{ vars.REGISTRY }}/app:1`"),
        "{err}"
    );
    assert!(err.contains("vars.REGISTRY"), "{err}");
}

#[test]
fn without_a_github_remote_the_repository_must_be_named() {
    let o = policy_on_copy(|_| {});
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--github-repo OWNER/NAME"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn the_origin_remote_names_the_repository() {
    let o = policy_on_copy(|dir| {
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&[
            "remote",
            "add",
            "origin",
            "git@github.com:acme/app-service.git",
        ]);
    });
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), manifests("kyverno", "app-service", &[]));
}

#[test]
fn no_pushed_image_is_an_error() {
    let o = policy_on_workflow(
        "ci.yml",
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no pushed image found"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------
// The vulnerability conditions, evaluated
// ---------------------------------------------------------------------------

/// Runs `script` with the pinned venv's Python (jmespath, regopy), `input`
/// on stdin as JSON; returns stdout parsed as JSON.
fn python(script: &str, input: &Value) -> Value {
    use std::io::Write;
    let py = root().join(".tools/venv/bin/python");
    assert!(py.is_file(), "run scripts/install-tools.sh");
    let mut child = std::process::Command::new(py)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The cosign-vuln predicate of a Trivy report with these vulnerabilities
/// (severity, status) in two results.
fn predicate(vulns: &[(&str, &str)]) -> Value {
    let vulns: Vec<Value> = vulns
        .iter()
        .map(|(s, st)| serde_json::json!({"VulnerabilityID": "CVE-1", "Severity": s, "Status": st}))
        .collect();
    serde_json::json!({
        "invocation": {"uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": "pkg:github/aquasecurity/trivy@v0.70.0",
            "version": "0.70.0",
            "result": {"SchemaVersion": 2, "Results": [
                {"Target": "alpine", "Class": "os-pkgs"},
                {"Target": "app", "Class": "lang-pkgs", "Vulnerabilities": vulns}
            ]}
        },
        "metadata": {"scanStartedOn": "2026-11-27T12:00:00Z", "scanFinishedOn": "2026-11-27T12:01:00Z"}
    })
}

/// What the gate (`--severity CRITICAL,HIGH --ignore-unfixed`) and the
/// cluster (CRITICAL with a fix) decide, per report.
const CASES: [(&[(&str, &str)], bool); 5] = [
    (&[], true),
    (&[("HIGH", "fixed"), ("MEDIUM", "affected")], true),
    (
        &[("CRITICAL", "affected"), ("CRITICAL", "will_not_fix")],
        true,
    ),
    (&[("CRITICAL", "fixed")], false),
    (&[("LOW", "fixed"), ("CRITICAL", "fixed")], false),
];

#[test]
fn the_kyverno_condition_admits_exactly_reports_without_fixable_critical() {
    let text = manifests("kyverno", "app-service", &[]);
    let policy: ClusterPolicy = yaml_serde::from_str(documents(&text)[0]).unwrap();
    let attestation = &policy.spec.rules[0].verify_images[0].attestations[0];
    let conditions: Vec<&Condition> = attestation
        .conditions
        .iter()
        .flat_map(|c| c.all.iter().flatten())
        .collect();
    assert_eq!(conditions.len(), 1);
    let c = conditions[0];
    assert_eq!((c.operator, &c.value), (Operator::Equals, &Value::from(0)));
    let key = c.key.as_str().unwrap();
    let expr = key
        .strip_prefix("{{")
        .unwrap()
        .strip_suffix("}}")
        .unwrap()
        .trim();
    let mut reports = vec![serde_json::json!({"scanner": {"result": {}}})];
    let mut expected = vec![true];
    for (vulns, admit) in CASES {
        reports.push(predicate(vulns));
        expected.push(admit);
    }
    let found = python(
        "import json, sys, jmespath\ne, docs = json.load(sys.stdin)\nprint(json.dumps([jmespath.search(e, d) for d in docs]))",
        &serde_json::json!([expr, reports]),
    );
    let admitted: Vec<bool> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64() == Some(0.0))
        .collect();
    assert_eq!(admitted, expected, "{found}");
}

#[test]
fn the_rego_policy_admits_exactly_reports_without_fixable_critical() {
    let text = manifests("policy-controller", "app-service", &[]);
    let cip: Value = yaml_serde::from_str(documents(&text)[0]).unwrap();
    let attestation = &cip["spec"]["authorities"][0]["attestations"][0];
    assert_eq!(attestation["predicateType"], "vuln");
    assert_eq!(attestation["policy"]["type"], "rego");
    let rego = attestation["policy"]["data"].as_str().unwrap();
    let statements: Vec<Value> = CASES
        .iter()
        .map(|(vulns, _)| {
            serde_json::json!({
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
                "predicate": predicate(vulns),
            })
        })
        .collect();
    let found = python(
        concat!(
            "import json, sys\nfrom regopy import Interpreter\n",
            "policy, inputs = json.load(sys.stdin)\nout = []\n",
            "for i in inputs:\n    r = Interpreter()\n    r.add_module('policy.rego', policy)\n",
            "    r.set_input_term(json.dumps(i))\n",
            "    out.append(json.loads(str(r.query('x = data.sigstore.isCompliant')))['bindings']['x'])\n",
            "print(json.dumps(out))",
        ),
        &serde_json::json!([rego, statements]),
    );
    let expected: Vec<Value> = CASES.iter().map(|(_, admit)| Value::from(*admit)).collect();
    assert_eq!(found.as_array().unwrap(), &expected);
}
