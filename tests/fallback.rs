#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! What `migrate` does with a job the three-job layout cannot split (one job
//! instead, said; or a refusal when the configuration forbids it), and with
//! a later step that reads the outputs of a step id nobody has (a warning at
//! that step; the migration goes on).

use std::fs;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn fixture(file: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    fs::read_to_string(root.join("fixtures/shapes/.github/workflows").join(file)).unwrap()
}

/// `scangate ARGS` in a scratch repository holding `text` as `w.yml`.
fn run(text: &str, config: Option<&str>, args: &[&str]) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(&wf).unwrap();
    fs::write(wf.join("w.yml"), text).unwrap();
    if let Some(config) = config {
        fs::write(dir.path().join("scangate.toml"), config).unwrap();
    }
    let out = Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .arg("migrate")
        .args(args)
        .arg(".")
        .output()
        .unwrap();
    let after = fs::read_to_string(wf.join("w.yml")).unwrap();
    (out, after)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_job_that_cannot_be_split_goes_in_one_job_and_says_why() {
    let text = fixture("ecr.yml");
    let (o, after) = run(&text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // One job: no build or scan job was added, and the gate stands in it.
    assert!(!after.contains("deploy-build:"), "{after}");
    assert!(!after.contains("deploy-scan:"), "{after}");
    assert!(after.contains("--exit-code 1"), "{after}");
    let err = stderr(&o);
    assert!(err.contains("note: job `deploy` stays one job"), "{err}");
    assert!(
        err.contains("`aws-actions/configure-aws-credentials` is pinned by tag"),
        "{err}"
    );
    // What would let it split is said too.
    assert!(
        err.contains(
            "help: to split it: pin `aws-actions/configure-aws-credentials` to a full commit SHA"
        ),
        "{err}"
    );

    let (o, _) = run(&text, None, &["--format", "json"]);
    let json: Value = serde_json::from_slice(&o.stdout).unwrap();
    let job = &json["files"][0]["jobs"][0];
    assert_eq!(job["layout"], "steps", "{json}");
    assert!(
        job["fallback"]
            .as_str()
            .unwrap()
            .contains("configure-aws-credentials"),
        "{json}"
    );
    assert!(
        job["fallback_fix"]
            .as_str()
            .unwrap()
            .starts_with("pin `aws-actions/configure-aws-credentials`"),
        "{json}"
    );
}

/// A script that logs in and pushes: a push job could not repeat the login,
/// one job keeps the credentials the script made; with the fallback
/// forbidden, a refusal at the script with the fix.
#[test]
fn a_login_inside_the_pushing_script_goes_in_one_job() {
    let text = fixture("script-login.yml");
    let (o, after) = run(&text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!after.contains("publish-build:"), "{after}");
    let login = after.find("docker login ghcr.io").unwrap();
    let gate = after.find("--exit-code 1").unwrap();
    let push = after.find("docker push \"$ref\"").unwrap();
    assert!(login < gate && gate < push, "{after}");
    let err = stderr(&o);
    assert!(err.contains("note: job `publish` stays one job"), "{err}");
    assert!(
        err.contains("login happens inside the pushing script"),
        "{err}"
    );

    let config = "[layout]\nfallback = \"refuse\"\n";
    let (o, after) = run(&text, Some(config), &["--write"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(after, text);
    assert!(
        stderr(&o).contains("w.yml:19:7: needs manual migration"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("log in to the registry in a step of its own"));
}

/// A matrix build whose `if:` reads the leg's own values (here `env`, set
/// by an earlier step): the scan and push jobs could not evaluate it, one
/// job follows the leg's record step. Reading only `needs`, it splits.
#[test]
fn a_matrix_build_conditioned_on_the_leg_goes_in_one_job() {
    let portable = fixture("matrix-build-if.yml");
    let own = portable.replace(
        "if: needs.prepare.outputs.push == 'true'",
        "if: env.PUSH == 'true'",
    );
    assert_ne!(own, portable);
    let (o, after) = run(&own, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!after.contains("legs-build:"), "{after}");
    assert!(
        after.contains("if: ${{ steps.scangate-record.outputs.pushed == 'true' }}"),
        "{after}"
    );
    let err = stderr(&o);
    assert!(err.contains("note: job `legs` stays one job"), "{err}");
    assert!(err.contains("`if:` reads `env`"), "{err}");

    let (o, after) = run(&portable, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(after.contains("legs-scan:\n"), "{after}");
    assert!(after.contains("needs: [legs-build, prepare]"), "{after}");
}

#[test]
fn the_configuration_can_forbid_the_fallback() {
    let text = fixture("ecr.yml");
    let config = "[layout]\nmode = \"jobs\"\nfallback = \"refuse\"\n";
    let (o, after) = run(&text, Some(config), &["--write"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(after, text, "a refused file is left as it was");
    assert!(stderr(&o).contains("pinned by tag"), "{}", stderr(&o));
    // A value that is neither is an error at its place in the file.
    let (o, _) = run(&text, Some("[layout]\nfallback = \"maybe\"\n"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("scangate.toml:2:"), "{}", stderr(&o));
}

#[test]
fn a_read_of_a_missing_step_id_is_a_warning_at_that_step() {
    let text = "on:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:1\n      - name: Show\n        env:\n          DIGEST: ${{ steps.docker_build.outputs.digest }}\n        run: echo \"$DIGEST\"\n";
    let (o, after) = run(text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(after.contains("build-scan:"), "{after}");
    let err = stderr(&o);
    // Line 15 is the reading step in the original.
    assert!(
        err.contains("w.yml:15:7: warning: job `build`: a step after the push reads `steps.docker_build.outputs.digest`"),
        "{err}"
    );
    let (o, _) = run(text, None, &["--format", "json"]);
    let json: Value = serde_json::from_slice(&o.stdout).unwrap();
    let w = &json["files"][0]["jobs"][0]["warnings"][0];
    assert_eq!(
        (w["at"]["line"].as_u64(), w["at"]["column"].as_u64()),
        (Some(15), Some(7)),
        "{json}"
    );
}

/// Attestations asked for (`provenance: mode=max`, `sbom: true`) are kept:
/// the build step keeps its inputs (no `provenance: false`), and the scan
/// reads the platforms from the exported index, attestation manifests aside.
#[test]
fn attestations_asked_for_are_kept() {
    let text = "on:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: docker/build-push-action@v7\n        with:\n          push: true\n          provenance: mode=max\n          sbom: true\n          tags: ghcr.io/acme/app:1\n";
    let (o, after) = run(text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        after.contains("          provenance: mode=max\n          sbom: true\n"),
        "{after}"
    );
    assert!(!after.contains("provenance: false"), "{after}");
    assert!(after.contains("targets.tsv"), "{after}");
    // Without them, none: not even buildx's default provenance.
    let plain = text.replace("          provenance: mode=max\n          sbom: true\n", "");
    let (o, after) = run(&plain, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(after.contains("provenance: false"), "{after}");
}

/// A build step with its own `if:` followed by a step that runs on every
/// event: a push job, skipped with the build, would skip that step too, so
/// the job stays one job (the step keeps running after the skipped gate).
#[test]
fn later_steps_under_other_conditions_keep_the_build_in_one_job() {
    let text = fixture("build-if-summary.yml");
    let (o, after) = run(&text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!after.contains("edge-scan:"), "{after}");
    assert!(
        after.contains("      - name: Summary\n        if: always()\n"),
        "{after}"
    );
    let err = stderr(&o);
    assert!(err.contains("note: job `edge` stays one job"), "{err}");
    assert!(
        err.contains("later steps run under other conditions"),
        "{err}"
    );
    let config = "[layout]\nmode = \"jobs\"\nfallback = \"refuse\"\n";
    let (o, after) = run(&text, Some(config), &["--write"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(after, text);
}

/// `push: ${{ … }}` followed by a step for the runs that do not push (a
/// smoke test of the image loaded on pull requests): in a push job skipped
/// with the push it would never run, so the job stays one job.
#[test]
fn a_step_for_the_runs_that_do_not_push_keeps_the_build_in_one_job() {
    let text = fixture("load-pull-request.yml");
    let (o, after) = run(&text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!after.contains("image-scan:"), "{after}");
    assert!(
        after.contains("load: ${{ github.event_name == 'pull_request' }}"),
        "{after}"
    );
    assert!(
        stderr(&o).contains("a later step has an `if:` of its own"),
        "{}",
        stderr(&o)
    );
    // A later step under the push's own condition runs with the push: split.
    let same = text.replace(
        "if: github.event_name == 'pull_request'\n        run: docker image",
        "if: ${{ github.event_name != 'pull_request' }}\n        run: docker image",
    );
    assert_ne!(same, text);
    let (o, after) = run(&same, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(after.contains("image-scan:"), "{after}");
}

/// A job on a retired runner image runs neither before nor after: said at
/// the job, and migrated all the same; the new jobs run on a current image
/// (and take no job key that sets nothing, like the original's bare `env:`).
#[test]
fn a_retired_runner_is_said() {
    let text = "on:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: ubuntu-20.04 # the old one\n    env:\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:1\n";
    let (o, after) = run(text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(after.contains("build-scan:"), "{after}");
    assert_eq!(
        after.matches("runs-on: ubuntu-20.04 # the old one").count(),
        1,
        "{after}"
    );
    assert_eq!(
        after
            .matches("runs-on: ubuntu-latest # the old one")
            .count(),
        2,
        "{after}"
    );
    assert_eq!(after.matches("\n    env:\n").count(), 1, "{after}");
    assert!(
        stderr(&o).contains("w.yml:5:3: warning: job `build`: `runs-on: ubuntu-20.04` is a runner image GitHub has retired"),
        "{}",
        stderr(&o)
    );
    let current = text.replace("ubuntu-20.04", "ubuntu-24.04");
    let (o, _) = run(&current, None, &["--write"]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

/// A script push under its own `if:` with steps after it: split, those
/// steps could not keep running when the push is skipped; in one job they
/// do, under their own conditions.
#[test]
fn a_guarded_script_push_before_other_steps_goes_in_one_job() {
    let text = "on:\n  push:\n    branches: [main]\n    tags: ['v*']\njobs:\n  image:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: actions/checkout@v5\n      - run: docker build -t ghcr.io/acme/app:latest .\n      - name: Push\n        if: startsWith(github.ref, 'refs/tags/')\n        run: docker push ghcr.io/acme/app:latest\n      - run: echo done\n";
    let (o, after) = run(text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!after.contains("image-scan:"), "{after}");
    assert!(after.contains("--exit-code 1"), "{after}");
    let err = stderr(&o);
    assert!(err.contains("note: job `image` stays one job"), "{err}");
    assert!(
        err.contains("has its own `if:` and steps follow it"),
        "{err}"
    );
    let (o, after) = run(
        text,
        Some("[layout]\nmode = \"jobs\"\nfallback = \"refuse\"\n"),
        &["--write"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(after, text);
}

/// A job that logs in to a registry and then runs a script scangate cannot
/// read may push there: the file is unchanged (nothing to gate that scangate
/// sees) and that is said at the step, in text and in JSON; exit 0.
#[test]
fn a_push_scangate_cannot_see_is_said() {
    let text = "on:\n  push:\n    tags: ['v*']\njobs:\n  release:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v5\n      - uses: docker/login-action@v4\n        with:\n          registry: ghcr.io\n          username: ${{ github.actor }}\n          password: ${{ secrets.GITHUB_TOKEN }}\n      - name: Build and push the images\n        run: bash ci/images.sh \"$GITHUB_REF_NAME\"\n";
    let (o, after) = run(text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(after, text);
    assert!(
        stderr(&o).contains("w.yml:14:7: warning: job `release`: the job logs in to a container registry, then runs `bash ci/images.sh \"$GITHUB_REF_NAME\"`"),
        "{}",
        stderr(&o)
    );
    let (o, _) = run(text, None, &["--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["status"], "unchanged", "{report}");
    assert_eq!(file["unseen"][0]["at"]["line"], 14, "{report}");
}

/// Beside a migrated job, another job that logs in and runs what scangate
/// cannot read is said too: the diff alone would suggest every push is gated.
#[test]
fn a_push_scangate_cannot_see_is_said_beside_a_migrated_job() {
    let text = "on:\n  push:\n    tags: ['v*']\njobs:\n  image:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:1\n  release:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: docker/login-action@v4\n        with:\n          registry: ghcr.io\n          username: ${{ github.actor }}\n          password: ${{ secrets.GITHUB_TOKEN }}\n      - run: make release\n";
    let (o, after) = run(text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(after.contains("image-scan:"), "{after}");
    assert!(
        stderr(&o).contains("w.yml:23:7: warning: job `release`: the job logs in to a container registry, then runs `make release`"),
        "{}",
        stderr(&o)
    );
    let (o, _) = run(text, None, &["--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["status"], "migrated", "{report}");
    assert_eq!(file["unseen"][0]["job"], "release", "{report}");
    assert_eq!(file["unseen"].as_array().map(Vec::len), Some(1), "{report}");
}

/// Every fixture, made reusable, migrates as it does without `workflow_call`,
/// and each job that names its call does so in one step before any upload
/// reads it (several images, builds with their own `if:`, scripts that
/// save several images: verification checks the steps around it).
#[test]
fn every_fixture_migrates_as_a_reusable_workflow_naming_each_call_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut tried = 0;
    for service in fs::read_dir(&root).unwrap() {
        let dir = service.unwrap().path().join(".github/workflows");
        for file in fs::read_dir(&dir).into_iter().flatten() {
            let path = file.unwrap().path();
            let text = fs::read_to_string(&path).unwrap();
            if !text.contains("\non:\n") || text.contains("workflow_call") {
                continue;
            }
            let reusable = text.replacen("\non:\n", "\non:\n  workflow_call:\n", 1);
            let (plain, _) = run(&text, None, &["--write"]);
            let (o, after) = run(&reusable, None, &["--write"]);
            let name = path.display();
            assert_eq!(
                o.status.code(),
                plain.status.code(),
                "{name}: {}",
                stderr(&o)
            );
            let named = after.matches("id: scangate-call\n").count();
            let handed_on = after
                .matches("scangate-call: ${{ steps.scangate-call.outputs.id }}")
                .count();
            assert_eq!(named, handed_on, "{name}:\n{after}");
            tried += 1;
        }
    }
    assert!(tried >= 30, "only {tried} fixtures tried");
}

/// A reusable workflow split in three jobs: its calls in one run share
/// the run's artifacts, so every name carries the call (a hash of its
/// inputs); in one job nothing is uploaded and nothing is named.
#[test]
fn a_reusable_workflow_split_in_jobs_names_its_artifacts_per_call() {
    let text = "on:\n  workflow_call:\n    inputs:\n      service:\n        type: string\n        required: true\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:1\n";
    let (o, after) = run(text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    assert!(
        after.contains("SCANGATE_INPUTS: ${{ toJSON(inputs) }}"),
        "{after}"
    );
    assert!(
        after.contains("name: scangate-build-image-${{ steps.scangate-call.outputs.id }}"),
        "{after}"
    );
    assert_eq!(
        after
            .matches("name: scangate-build-image-${{ needs.build-build.outputs.scangate-call }}")
            .count(),
        2,
        "{after}"
    );
    let (o, after) = run(text, None, &["--write", "--layout", "steps"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!after.contains("scangate-call"), "{after}");
}

/// A job on a runner label neither GitHub nor the repository declares
/// (self-hosted, larger, or a typo): the scan and push jobs would repeat it
/// and actionlint would report it once per job, so one job; declared in
/// `.github/actionlint.yaml`, the label is the repository's own and the job
/// splits. A label near a GitHub-hosted one is a warning too.
#[test]
fn a_runner_label_nobody_declares_keeps_the_build_in_one_job() {
    let text = "on:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: arc-runner-set\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: docker/build-push-action@v7\n        with:\n          push: true\n          tags: ghcr.io/acme/app:1\n";
    let (o, after) = run(text, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!after.contains("build-scan:"), "{after}");
    assert_eq!(
        after.matches("runs-on: arc-runner-set").count(),
        1,
        "{after}"
    );
    let err = stderr(&o);
    assert!(err.contains("note: job `build` stays one job"), "{err}");
    assert!(err.contains("runs on `arc-runner-set`"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(&wf).unwrap();
    fs::write(wf.join("w.yml"), text).unwrap();
    fs::write(
        dir.path().join(".github/actionlint.yaml"),
        "self-hosted-runner:\n  labels:\n    - arc-*\n",
    )
    .unwrap();
    // The repository's root or its workflows folder: the same config.
    for path in [".", ".github/workflows"] {
        fs::write(wf.join("w.yml"), text).unwrap();
        let o = Command::cargo_bin("scangate")
            .unwrap()
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["migrate", "--write", path])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let after = fs::read_to_string(wf.join("w.yml")).unwrap();
        assert!(after.contains("build-scan:"), "{path}: {after}");
        assert_eq!(
            after.matches("runs-on: arc-runner-set").count(),
            3,
            "{after}"
        );
    }

    let typo = text.replace("arc-runner-set", "ubuntu-lastest");
    let (o, after) = run(&typo, None, &["--write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!after.contains("build-scan:"), "{after}");
    let err = stderr(&o);
    assert!(
        err.contains(
            "w.yml:5:3: warning: job `build`: `ubuntu-lastest` is no runner label GitHub knows"
        ),
        "{err}"
    );
    assert!(err.contains("did you mean `ubuntu-latest`?"), "{err}");
}

/// An actionlint config that is not YAML is an error at its place (exit 2),
/// and nothing is written: scangate cannot tell which labels it declares.
#[test]
fn an_actionlint_config_that_is_not_yaml_is_an_error_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(&wf).unwrap();
    let text = fixture("docker-publish.yml");
    fs::write(wf.join("w.yml"), &text).unwrap();
    fs::write(
        dir.path().join(".github/actionlint.yml"),
        "self-hosted-runner:\n  labels: [docker\n",
    )
    .unwrap();
    let o = Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["migrate", "--write", "."])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(".github/actionlint.yml:"), "{err}");
    assert!(err.contains("self-hosted runner labels"), "{err}");
    assert_eq!(fs::read_to_string(wf.join("w.yml")).unwrap(), text);
}
