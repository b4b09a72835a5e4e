#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `scangate policy kyverno|policy-controller`: the cluster manifests for
//! the fixture repositories, before and after migration.
//!
//! * snapshots of the manifests (reviewed by hand: one policy per image,
//!   keyless identity of each workflow that pushes it at the refs its
//!   triggers run for, the vuln attestation conditions);
//! * the identities per `--admit` mode, checked with the certificate
//!   subjects Fulcio gives each trigger's runs;
//! * the conditions (Kyverno's JMESPath, policy-controller's Rego)
//!   evaluated on cosign-vuln predicates built from Trivy's own reports,
//!   fresh and stale, under two severity policies;
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
/// them, keyless entries with an issuer, an anchored subject regexp of the
/// repository's workflows at a tag (the default `--admit releases`), Rekor.
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
            assert_eq!(k.subject, None);
            let subject = k.subject_reg_exp.as_deref().unwrap();
            let prefix = format!(
                "^https://github\\.com/{}/\\.github/workflows/",
                regex::escape(repo)
            );
            assert!(
                subject.starts_with(&prefix)
                    && subject.contains("@refs/tags/")
                    && subject.ends_with('$'),
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
        // Pushed only from `main`: under `--admit releases`, no policy.
        assert!(
            stderr(&o).contains("ghcr.io/acme/service: no workflow that pushes it signs on a run --admit releases accepts"),
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
            "scangate-ghcr-io-acme-alt.yaml",
            "scangate-ghcr-io-acme-annotated.yaml",
            "scangate-ghcr-io-acme-api.yaml",
            "scangate-ghcr-io-acme-app.yaml",
            "scangate-ghcr-io-acme-attested-api.yaml",
            "scangate-ghcr-io-acme-attested-worker.yaml",
            "scangate-ghcr-io-acme-cached.yaml",
            "scangate-ghcr-io-acme-candidates-app.yaml",
            "scangate-ghcr-io-acme-candidates-tool.yaml",
            "scangate-ghcr-io-acme-defaults.yaml",
            "scangate-ghcr-io-acme-docker-build.yaml",
            "scangate-ghcr-io-acme-exported.yaml",
            "scangate-ghcr-io-acme-imageid-app.yaml",
            "scangate-ghcr-io-acme-jib-api.yaml",
            "scangate-ghcr-io-acme-jib-app.yaml",
            "scangate-ghcr-io-acme-jib-auth.yaml",
            "scangate-ghcr-io-acme-jib-worker.yaml",
            "scangate-ghcr-io-acme-legacy.yaml",
            "scangate-ghcr-io-acme-legs.yaml",
            "scangate-ghcr-io-acme-loaded.yaml",
            "scangate-ghcr-io-acme-mirror-edge.yaml",
            "scangate-ghcr-io-acme-mirror.yaml",
            "scangate-ghcr-io-acme-multi-api.yaml",
            "scangate-ghcr-io-acme-multi-worker.yaml",
            "scangate-ghcr-io-acme-nightly.yaml",
            "scangate-ghcr-io-acme-podman-multi.yaml",
            "scangate-ghcr-io-acme-redhat-app.yaml",
            "scangate-ghcr-io-acme-redhat-edge.yaml",
            "scangate-ghcr-io-acme-redhat-tools.yaml",
            "scangate-ghcr-io-acme-released-app.yaml",
            "scangate-ghcr-io-acme-released-tool.yaml",
            "scangate-ghcr-io-acme-scripted.yaml",
            "scangate-ghcr-io-acme-secret-gated.yaml",
            "scangate-ghcr-io-acme-shapes.yaml",
            "scangate-ghcr-io-acme-stamped.yaml",
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
// Identities: which runs' signatures each mode admits
// ---------------------------------------------------------------------------

/// `(workflow file, ref pattern)` of every keyless identity in the Kyverno
/// policies of `service` under `--admit admit`, read back from the
/// anchored subject regexps (`\.` and `\-` unescaped).
fn kyverno_identities(service: &str, admit: &str) -> Vec<(String, String)> {
    let text = manifests("kyverno", service, &["--admit", admit]);
    let shape = regex::Regex::new(r"/\\\.github/workflows/(.+)@(refs/.+)\$$").unwrap();
    let mut found: Vec<(String, String)> = read_kyverno_any(&text)
        .iter()
        .flat_map(|p| &p.spec.rules)
        .flat_map(|r| &r.verify_images)
        .flat_map(|v| &v.attestors)
        .flat_map(|set| &set.entries)
        .map(|e| {
            let re = e.keyless.as_ref().unwrap().subject_reg_exp.clone().unwrap();
            let c = shape.captures(&re).unwrap_or_else(|| panic!("{re}"));
            let plain = |s: &str| s.replace("\\.", ".").replace("\\-", "-");
            (plain(&c[1]), plain(&c[2]))
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The Kyverno policies of `text`, typed, without the per-mode checks.
fn read_kyverno_any(text: &str) -> Vec<ClusterPolicy> {
    documents(text)
        .into_iter()
        .map(|d| yaml_serde::from_str(d).unwrap_or_else(|e| panic!("{e}\n{d}")))
        .collect()
}

#[test]
fn releases_lists_only_tag_identities_and_all_adds_the_branches() {
    let id = |w: &str, r: &str| (w.to_owned(), r.to_owned());
    let expected = [
        (
            "model-service",
            vec![id("release.yml", "refs/tags/v[^/]*")],
            vec![
                id("prerelease.yml", "refs/heads/main"),
                id("release.yml", "refs/tags/v[^/]*"),
            ],
        ),
        (
            "app-frontend",
            vec![
                id("prerelease.yml", "refs/tags/v[^/]*-rc[^/]*"),
                id("release.yml", "refs/tags/v[^/]*"),
            ],
            vec![
                id("prerelease.yml", "refs/tags/v[^/]*-rc[^/]*"),
                id("release.yml", "refs/tags/v[^/]*"),
            ],
        ),
        (
            "app-service",
            vec![id("release.yml", "refs/tags/v[^/]*")],
            vec![
                id("prerelease.yml", "refs/heads/develop"),
                id("prerelease.yml", "refs/heads/release/.*"),
                id("release.yml", "refs/tags/v[^/]*"),
            ],
        ),
    ];
    for (service, releases, all) in expected {
        assert_eq!(
            kyverno_identities(service, "releases"),
            releases,
            "{service}"
        );
        assert_eq!(kyverno_identities(service, "all"), all, "{service}");
    }
}

#[test]
fn a_workflow_never_admitted_in_the_mode_is_said() {
    let o = policy(&[
        "kyverno",
        "fixtures/app-service",
        "--github-repo",
        "acme/app-service",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("prerelease.yml: runs only at refs/heads/develop, refs/heads/release/**; under --admit releases the cluster refuses the images it pushes"),
        "{err}"
    );
    let all = policy(&[
        "kyverno",
        "fixtures/app-service",
        "--github-repo",
        "acme/app-service",
        "--admit",
        "all",
    ]);
    assert!(!stderr(&all).contains("runs only at"), "{}", stderr(&all));
}

/// Whether Kyverno glob `pattern` (`*` anything, `?` one character)
/// matches `text`, as Kyverno's `wildcard.Match` does.
fn glob(pattern: &str, text: &str) -> bool {
    let re = regex::escape(pattern)
        .replace("\\*", ".*")
        .replace("\\?", ".");
    regex::Regex::new(&format!("^{re}$"))
        .unwrap()
        .is_match(text)
}

/// Whether a keyless identity list accepts a certificate: issuer equal,
/// subject matching one subject regexp (RE2 in the verifiers; the `regex`
/// crate reads these expressions the same way).
fn accepts(identities: &[(String, String)], issuer: &str, subject: &str) -> bool {
    identities
        .iter()
        .any(|(i, re)| i == issuer && regex::Regex::new(re).unwrap().is_match(subject))
}

fn keyless(sets: &[AttestorSet]) -> Vec<(String, String)> {
    sets.iter()
        .flat_map(|s| &s.entries)
        .filter_map(|e| e.keyless.as_ref())
        .map(|k| {
            (
                k.issuer.clone().unwrap(),
                k.subject_reg_exp.clone().unwrap(),
            )
        })
        .collect()
}

/// Whether Kyverno admits `image` signed (and its scan attested) by a
/// certificate for `subject`: the policy whose `imageReferences` match
/// must accept the signature and the vulnerability attestation.
fn kyverno_admits(text: &str, image: &str, subject: &str) -> bool {
    let issuer = "https://token.actions.githubusercontent.com";
    let mut matched = false;
    for p in read_kyverno_any(text) {
        for v in p.spec.rules.iter().flat_map(|r| &r.verify_images) {
            if !v.image_references.iter().any(|r| glob(r, image)) {
                continue;
            }
            matched = true;
            let signed = accepts(&keyless(&v.attestors), issuer, subject);
            let attested = v
                .attestations
                .iter()
                .all(|a| accepts(&keyless(&a.attestors), issuer, subject));
            if !(signed && attested) {
                return false;
            }
        }
    }
    matched
}

/// Whether policy-controller admits `image` signed by `subject`: one
/// authority of the matching ClusterImagePolicy accepts it.
fn policy_controller_admits(text: &str, image: &str, subject: &str) -> bool {
    let issuer = "https://token.actions.githubusercontent.com";
    documents(text).into_iter().any(|d| {
        let cip: Value = yaml_serde::from_str(d).unwrap();
        let covers = cip["spec"]["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| glob(i["glob"].as_str().unwrap(), image));
        covers
            && cip["spec"]["authorities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| {
                    let ids: Vec<(String, String)> = a["keyless"]["identities"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| {
                            (
                                i["issuer"].as_str().unwrap().to_owned(),
                                i["subjectRegExp"].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect();
                    accepts(&ids, issuer, subject)
                })
    })
}

/// Each image the service workflows push, signed on one run of each of
/// their triggers, with the subject Fulcio writes into the certificate
/// (`https://github.com/OWNER/REPO/.github/workflows/FILE@REF`, REF the
/// run's `GITHUB_REF`), and whether `--admit releases` / `all` admit it.
/// The last rows are runs that must never pass.
const RUNS: [(&str, &str, &str, bool, bool); 12] = [
    (
        "model-service",
        "release.yml",
        "refs/tags/v1.4.0",
        true,
        true,
    ),
    // push to main, and workflow_dispatch from the default branch
    (
        "model-service",
        "prerelease.yml",
        "refs/heads/main",
        false,
        true,
    ),
    (
        "app-frontend",
        "release.yml",
        "refs/tags/v2.0.0",
        true,
        true,
    ),
    (
        "app-frontend",
        "prerelease.yml",
        "refs/tags/v2.1.0-rc1",
        true,
        true,
    ),
    ("app-service", "release.yml", "refs/tags/v3.1.0", true, true),
    (
        "app-service",
        "prerelease.yml",
        "refs/heads/develop",
        false,
        true,
    ),
    (
        "app-service",
        "prerelease.yml",
        "refs/heads/release/3.2",
        false,
        true,
    ),
    // never: a branch the triggers do not name, a pull request's ref, a
    // release workflow run from a branch, a tag under a branch workflow
    (
        "app-service",
        "prerelease.yml",
        "refs/heads/feature/x",
        false,
        false,
    ),
    (
        "app-frontend",
        "prerelease.yml",
        "refs/pull/7/merge",
        false,
        false,
    ),
    (
        "model-service",
        "release.yml",
        "refs/heads/main",
        false,
        false,
    ),
    (
        "app-service",
        "prerelease.yml",
        "refs/tags/v3.1.0",
        false,
        false,
    ),
    (
        "app-service",
        "release.yml",
        "refs/tags/v3/evil",
        false,
        false,
    ),
];

#[test]
fn each_pushed_image_is_admitted_exactly_in_the_modes_that_should_admit_it() {
    for verifier in ["kyverno", "policy-controller"] {
        for (mode, column) in [("releases", 0), ("all", 1)] {
            for (service, workflow, git_ref, releases, all) in RUNS {
                let text = manifests(verifier, service, &["--admit", mode]);
                let image = format!("ghcr.io/acme/{service}:1.0.0");
                let subject = format!(
                    "https://github.com/acme/{service}/.github/workflows/{workflow}@{git_ref}"
                );
                let admits = |subject: &str| {
                    if verifier == "kyverno" {
                        kyverno_admits(&text, &image, subject)
                    } else {
                        policy_controller_admits(&text, &image, subject)
                    }
                };
                let expected = [releases, all][column];
                assert_eq!(
                    admits(&subject),
                    expected,
                    "{verifier} --admit {mode}: {subject}"
                );
                // Another repository's workflow of the same name never passes.
                assert!(!admits(&subject.replace("/acme/", "/evil/")));
            }
        }
    }
}

#[test]
fn dispatch_branches_come_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scangate.toml");
    std::fs::write(
        &config,
        "[admission]\ndispatch-branches = [\"hotfix/**\"]\n",
    )
    .unwrap();
    let text = manifests(
        "kyverno",
        "model-service",
        &["--admit", "all", "--config", config.to_str().unwrap()],
    );
    let image = "ghcr.io/acme/model-service:1";
    let subject = |r: &str| {
        format!("https://github.com/acme/model-service/.github/workflows/prerelease.yml@{r}")
    };
    assert!(kyverno_admits(
        &text,
        image,
        &subject("refs/heads/hotfix/1.2")
    ));
    // Still: prerelease.yml's push to main.
    assert!(kyverno_admits(&text, image, &subject("refs/heads/main")));
    assert!(!kyverno_admits(
        &text,
        image,
        &subject("refs/heads/develop")
    ));
}

// ---------------------------------------------------------------------------
// The vulnerability conditions, evaluated on cosign-vuln predicates
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

/// A Trivy JSON report from `../shared/trivy-samples/` (Trivy's own
/// integration-test goldens).
fn trivy_sample(name: &str) -> Value {
    let path = root().join(format!("../shared/trivy-samples/{name}.json.golden"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the shared samples folder)", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// `alpine-310` (four MEDIUM vulnerabilities with a fix) with its first
/// vulnerability raised to HIGH: with its fix, or as Trivy reports one
/// without a fix (`Status: affected`, no `FixedVersion`, as
/// debian-buster's bash CVE).
fn alpine_with_high(fixed: bool) -> Value {
    let mut report = trivy_sample("alpine-310");
    let v = &mut report["Results"][0]["Vulnerabilities"][0];
    v["Severity"] = "HIGH".into();
    if !fixed {
        v["Status"] = "affected".into();
        v.as_object_mut().unwrap().remove("FixedVersion");
    }
    report
}

/// RFC 3339 in UTC with nanoseconds and `Z`, as Go marshals a UTC
/// `time.Time` (what Trivy writes on a GitHub runner).
fn rfc3339(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap();
    let secs = d.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        d.subsec_nanos()
    )
}

#[test]
fn rfc3339_is_the_civil_date() {
    use std::time::{Duration, UNIX_EPOCH};
    assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
    let t = UNIX_EPOCH + Duration::new(1_795_780_860, 5);
    assert_eq!(rfc3339(t), "2026-11-27T12:01:00.000000005Z");
    let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000000Z");
}

/// What `trivy convert --format cosign-vuln` writes for `report` whose scan
/// finished `age` ago: Trivy's CosignVulnPredicate (`invocation`,
/// `scanner{uri, version, db, result}` with the whole JSON report as
/// `result`, `metadata{scanStartedOn, scanFinishedOn}`), the shape of
/// cosign's vuln attestation spec, as Trivy's docs show it.
fn cosign_vuln(report: &Value, age: std::time::Duration) -> Value {
    let finished = std::time::SystemTime::now() - age;
    let started = finished - std::time::Duration::from_secs(40);
    serde_json::json!({
        "invocation": {"parameters": null, "uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": "pkg:github/aquasecurity/trivy@v0.70.0",
            "version": "v0.70.0",
            "db": {"uri": "", "version": ""},
            "result": report,
        },
        "metadata": {"scanStartedOn": rfc3339(started), "scanFinishedOn": rfc3339(finished)},
    })
}

/// Kyverno's evaluation of `verifyImages[].attestations[].conditions`
/// (all of `all`) on each predicate: JMESPath (the reference Python
/// implementation) with Kyverno's `time_since` (pkg/engine/jmespath: layout
/// '' is RFC 3339, an empty second time is now, the result is Go's
/// `Duration.String()`), then the operator: `Equals` on numbers,
/// `LessThanOrEquals` on Go durations when both sides are durations.
const KYVERNO: &str = r#"
import json, re, sys, datetime, jmespath
from jmespath import functions

def parse_time(s):
    s = re.sub(r'(\.\d{6})\d+', r'\1', s)
    return datetime.datetime.fromisoformat(s.replace('Z', '+00:00'))

def go_duration(seconds):
    sign = '-' if seconds < 0 else ''
    seconds = abs(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{int(h)}h{int(m)}m{s:.9f}s"

def parse_duration(s):
    if not isinstance(s, str):
        return None
    m = re.fullmatch(r'(-?)((?:[0-9.]+(?:ns|us|ms|s|m|h))+)', s)
    if not m:
        return None
    units = {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1, 'm': 60, 'h': 3600}
    total = sum(float(n) * units[u] for n, u in re.findall(r'([0-9.]+)(ns|us|ms|s|m|h)', m.group(2)))
    return -total if m.group(1) else total

class Kyverno(functions.Functions):
    @functions.signature({'types': ['string']}, {'types': ['string']}, {'types': ['string']})
    def _func_time_since(self, layout, t1, t2):
        assert layout == ''
        end = parse_time(t2) if t2 else datetime.datetime.now(datetime.timezone.utc)
        return go_duration((end - parse_time(t1)).total_seconds())

def holds(c, doc):
    key = c['key'].strip()
    assert key.startswith('{{') and key.endswith('}}'), key
    got = jmespath.search(key[2:-2].strip(), doc, options=jmespath.Options(custom_functions=Kyverno()))
    op, want = c['operator'], c['value']
    if op == 'Equals':
        return got == want
    if op == 'LessThanOrEquals':
        a, b = parse_duration(got), parse_duration(want)
        if a is not None and b is not None:
            return a <= b
        return float(got) <= float(want)
    raise Exception('operator ' + op)

conditions, docs = json.load(sys.stdin)
print(json.dumps([all(holds(c, d) for c in conditions) for d in docs]))
"#;

/// policy-controller's evaluation: the Rego policy (rego-cpp) on the
/// in-toto statement; `data.sigstore.isCompliant`.
const REGO: &str = r#"
import json, sys
from regopy import Interpreter
policy, inputs = json.load(sys.stdin)
out = []
for i in inputs:
    r = Interpreter()
    r.add_module('policy.rego', policy)
    r.set_input_term(json.dumps(i))
    out.append(json.loads(str(r.query('x = data.sigstore.isCompliant')))['bindings']['x'])
print(json.dumps(out))
"#;

/// Whether Kyverno's and policy-controller's policies for app-service,
/// written with `extra` arguments, admit each predicate: `[kyverno, rego]`.
fn verdicts(extra: &[&str], predicates: &[Value]) -> Vec<[bool; 2]> {
    let text = manifests("kyverno", "app-service", extra);
    let p: ClusterPolicy = yaml_serde::from_str(documents(&text)[0]).unwrap();
    let attestation = &p.spec.rules[0].verify_images[0].attestations[0];
    let conditions: Vec<Value> = attestation
        .conditions
        .iter()
        .flat_map(|c| c.all.iter().flatten())
        .map(|c| serde_json::json!({"key": c.key, "operator": format!("{:?}", c.operator), "value": c.value}))
        .collect();
    let kyverno = python(KYVERNO, &serde_json::json!([conditions, predicates]));

    let text = manifests("policy-controller", "app-service", extra);
    let cip: Value = yaml_serde::from_str(documents(&text)[0]).unwrap();
    let rego = cip["spec"]["authorities"][0]["attestations"][0]["policy"]["data"]
        .as_str()
        .unwrap()
        .to_owned();
    let statements: Vec<Value> = predicates
        .iter()
        .map(|p| {
            serde_json::json!({
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
                "subject": [{"name": "ghcr.io/acme/app-service", "digest": {"sha256": "0".repeat(64)}}],
                "predicate": p,
            })
        })
        .collect();
    let rego = python(REGO, &serde_json::json!([rego, statements]));
    let as_bools = |v: &Value| -> Vec<bool> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_bool().unwrap())
            .collect()
    };
    as_bools(&kyverno)
        .into_iter()
        .zip(as_bools(&rego))
        .map(|(k, r)| [k, r])
        .collect()
}

/// `scangate.toml` with `text` in a scratch folder, as `--config PATH` args.
fn config(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("scangate.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_cluster_judges_severities_as_the_gate_policy_does() {
    let hour = std::time::Duration::from_secs(3600);
    let mut clean = trivy_sample("alpine-310");
    clean["Results"][0]
        .as_object_mut()
        .unwrap()
        .remove("Vulnerabilities");
    let predicates = [
        clean,
        trivy_sample("alpine-310"),
        alpine_with_high(true),
        alpine_with_high(false),
        trivy_sample("debian-buster"),
    ]
    .map(|r| cosign_vuln(&r, hour));
    // Admitted (both verifiers) under `CRITICAL,HIGH` / under `CRITICAL`.
    let expected = [
        (true, true),   // no vulnerability
        (true, true),   // MEDIUM only
        (false, true),  // a HIGH with a fix
        (true, true),   // a HIGH without a fix: ignore-unfixed
        (false, false), // a CRITICAL with a fix
    ];
    let dir = tempfile::tempdir().unwrap();
    let critical = config(&dir, "[policy]\nseverity = [\"CRITICAL\"]\n");
    let default = verdicts(&[], &predicates);
    let only_critical = verdicts(&["--config", &critical], &predicates);
    for (i, (high, crit)) in expected.into_iter().enumerate() {
        assert_eq!(default[i], [high; 2], "CRITICAL,HIGH, predicate {i}");
        assert_eq!(only_critical[i], [crit; 2], "CRITICAL, predicate {i}");
    }
    // Without ignore-unfixed, the unfixed HIGH refuses too.
    let all = config(&dir, "[policy]\nignore-unfixed = false\n");
    assert_eq!(
        verdicts(&["--config", &all], &predicates[3..4]),
        [[false; 2]]
    );
}

#[test]
fn a_stale_scan_is_refused_when_max_scan_age_is_set() {
    let hour = std::time::Duration::from_secs(3600);
    let clean = trivy_sample("alpine-310");
    let predicates = [
        cosign_vuln(&clean, hour),
        cosign_vuln(&clean, 167 * hour),
        cosign_vuln(&clean, 169 * hour),
        cosign_vuln(&clean, 30 * 24 * hour),
        cosign_vuln(&trivy_sample("debian-buster"), hour),
    ];
    let dir = tempfile::tempdir().unwrap();
    let week = config(&dir, "[admission]\nmax-scan-age = \"7d\"\n");
    assert_eq!(
        verdicts(&["--config", &week], &predicates),
        [[true; 2], [true; 2], [false; 2], [false; 2], [false; 2]]
    );
    // Without it, any age passes (the scan's findings still count).
    assert_eq!(
        verdicts(&[], &predicates),
        [[true; 2], [true; 2], [true; 2], [true; 2], [false; 2]]
    );
}

#[test]
fn a_bad_max_scan_age_is_an_error_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = config(&dir, "[admission]\nmax-scan-age = \"1 week\"\n");
    let o = policy(&[
        "kyverno",
        "fixtures/app-service",
        "--github-repo",
        "acme/app-service",
        "--config",
        &bad,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("scangate.toml:2:"), "{err}");
    assert!(err.contains("`7d`"), "{err}");
}
