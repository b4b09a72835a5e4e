"""The workflows scangate writes, executed: every fixture workflow × layout (jobs,
steps) × signing (off; on for tag events) × the events it reacts to, then the
gate's own cases — a fixable CRITICAL injected, the image artifact replaced
between the jobs, a registry that refuses the first push and a re-run.

Every run must push exactly what the original workflow pushes (harness.EXPECTED_TAGS),
at the digest the scan saw, run the steps that followed the push, and publish
Trivy JSON and SARIF 2.1.0 reports that validate.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from harness import (
    SIGNATURE_TAG,
    SIGNS_ITSELF,
    Case,
    Harness,
    builds_nothing,
    check_after_push,
    check_platforms,
    event_id,
    fixture_workflows,
    seeded_repositories,
    workflow_events,
)
from runner import Event, Hooks, RunResult
from services import Finding

HERE = Path(__file__).resolve().parent
SARIF_SCHEMA = HERE / "data" / "sarif-schema-2.1.0-rtm.5.json"
#: Tags cosign writes next to an image (`sha256-HEX.sig`): signatures, not pushes of the workflow.

#: Migrations scangate refuses on purpose (exit 3 with this message): not a failure of the suite.
REFUSED = {
    ("shapes", "matrix-by-digest.yml", True): "with signing on, this build pushes by digest",
    ("shapes", "by-digest-tags.yml", True): "with signing on, this build pushes by digest",
    ("shapes", "by-digest-outputs.yml", True): "with signing on, this build pushes by digest",
}


def matrix_cases() -> list[Case]:
    cases = []
    for fixture, workflow in fixture_workflows():
        for event in workflow_events(fixture, workflow):
            for layout in ("jobs", "steps"):
                for sign in (False, True) if event_id(event) == "tag" else (False,):
                    cases.append(Case(fixture, workflow, event, layout, sign))
    return cases


CASES = matrix_cases()


# ---------------------------------------------------------------- reading a run


#: The name of the script shapes' record step (templates/script-save.yml): it
#: records the image id (a config digest), the action shapes a manifest digest.
SCRIPT_RECORD = "Save the image the scripts would have pushed"


def record_steps(run: RunResult) -> list[dict[str, str]]:
    """Outputs of scangate's record steps (id scangate-record*): digest and tags of
    each gated image, and `script` when the digest is a script shape's image id."""
    found = []
    for leg in run.legs():
        for step in leg.steps:
            if step.id.startswith("scangate-record") and step.outcome == "success" and step.outputs.get("digest"):
                # With several images, the name ends with the image's: "… (multi-api)".
                found.append({**step.outputs, "script": step.name.startswith(SCRIPT_RECORD)})
    return found


def push_steps(run: RunResult) -> list:
    """scangate's push steps (they check the digest, then copy to the registry)."""
    return [
        step
        for leg in run.legs()
        for step in leg.steps
        if step.id.startswith("scangate-push") or step.name.startswith("Push the scanned image")
    ]


def trivy_records(e2e: Harness, run: RunResult) -> list[dict]:
    """The trivy stand-in's calls in this run up to this attempt (a re-run keeps the earlier scans)."""
    return [r for r in e2e.records() if r.get("tool") == "trivy" and r.get("attempt", 1) <= run.attempt]


def scanned_digests(e2e: Harness, run: RunResult) -> set[str]:
    """Every digest the trivy stand-in says it scanned (manifest or config digests)."""
    digests: set[str] = set()
    for record in trivy_records(e2e, run):
        for key in ("digest", "manifest_digest", "config_digest", "image_digest"):
            if isinstance(record.get(key), str):
                digests.add(record[key])
        for key in ("digests", "manifest_digests", "config_digests"):
            digests.update(d for d in record.get(key) or [] if isinstance(d, str))
    return digests


def pushed_tags(e2e: Harness) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(image tags, signature tags) of the registry."""
    images, signatures = {}, {}
    for repo, tags in e2e.registry_tags().items():
        plain = sorted(t for t in tags if not SIGNATURE_TAG.match(t))
        sigs = sorted(t for t in tags if SIGNATURE_TAG.match(t))
        if plain:
            images[repo] = plain
        if sigs:
            signatures[repo] = sigs
    return images, signatures


# ---------------------------------------------------------------- the checks


def check_recorded_tags_at_scanned_digest(e2e: Harness, run: RunResult) -> None:
    """Each tag a record step names is in the registry at the recorded digest, and the scan saw that image.

    OCI shapes record the manifest (or index) digest: the registry's manifest digest
    must equal it, and every platform of an index must have been scanned. Script
    shapes (docker build) record the image id, the config digest: the pushed
    manifest's config must be it. A name without a tag (push by digest) must hold
    the digest.
    """
    host = e2e.registry.host
    scanned = scanned_digests(e2e, run)
    records = record_steps(run)
    assert records, f"no record step ran:\n{run.describe()}"
    for rec in records:
        digest = rec["digest"]
        for ref in rec["tags"].split("\n"):
            name = ref.removeprefix(f"{host}/")
            if ":" not in name.rsplit("/", 1)[-1]:
                name = f"{name}@{digest}"
            if rec["script"]:  # the image id
                assert e2e.registry.config_digest(name) == digest, (ref, digest)
                continue
            assert e2e.registry.manifest_digest(name) == digest, (ref, digest)
            _, manifest = e2e.registry.manifest(name)
            platforms = {
                m["digest"] for m in manifest.get("manifests", []) if m.get("platform", {}).get("os") != "unknown"
            }
            missing = (platforms or {digest}) - scanned
            assert not missing, f"{ref}: not scanned: {missing} (scanned: {sorted(scanned)})"


def check_reports(e2e: Harness, run: RunResult) -> None:
    """The reports artifacts hold Trivy JSON and SARIF 2.1.0 that validate."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    store = Path(e2e.env()["E2E_ARTIFACTS"])
    # The store holds NAME/files/... and NAME/meta.json (standins/artifacts.py).
    reports = [p for p in store.glob("*reports*/files/**/*") if p.is_file()]
    sarif = [p for p in reports if p.suffix == ".sarif"]
    # With signing, the scan also converts each report for the attestations:
    # `NAME.cosign-vuln.json` (cosign's vuln predicate), `NAME.cdx.json` (CycloneDX).
    predicates = [p for p in reports if p.name.endswith(".cosign-vuln.json")]
    boms = [p for p in reports if p.name.endswith(".cdx.json")]
    trivy = [p for p in reports if p.suffix == ".json" and p not in predicates and p not in boms]
    assert sarif and trivy, f"no reports in {store}: {sorted(str(p) for p in store.rglob('*'))}"
    for path in predicates:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert "scanner" in doc and "metadata" in doc, path
    for path in boms:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc.get("bomFormat") == "CycloneDX", path
    for path in sarif:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc.get("version") == "2.1.0", path
        jsonschema.validate(doc, schema)
    for path in trivy:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc.get("SchemaVersion") == 2 and "ArtifactName" in doc and "Results" in doc, path


def check_signatures(e2e: Harness, case: Case) -> None:
    """With signing on, every pushed image digest has a signature; without, none has,
    unless the workflow signs by itself: then its own signature is on every pushed
    digest (its signing step ran after the push, with the pushed digest)."""
    images, signatures = pushed_tags(e2e)
    # What another workflow pushed before (harness.SEEDS) is not this one's to sign.
    images = {repo: tags for repo, tags in images.items() if repo not in seeded_repositories(case)}
    if (case.fixture, case.workflow) in SIGNS_ITSELF:
        for repo, tags in images.items():
            for tag in tags:
                digest = e2e.registry.manifest_digest(f"{repo}:{tag}").replace(":", "-")
                assert {digest, f"{digest}.sig"} & set(signatures.get(repo, [])), \
                    f"{repo}:{tag} lacks the workflow's own signature: {signatures}"
    if not case.sign:
        if (case.fixture, case.workflow) not in SIGNS_ITSELF:
            assert signatures == {}, signatures
        return
    for repo, tags in images.items():
        for tag in tags:
            digest = e2e.registry.manifest_digest(f"{repo}:{tag}")
            want = f"{digest.replace(':', '-')}.sig"
            assert want in signatures.get(repo, []), f"{repo}:{tag} ({digest}) is not signed: {signatures}"


def prepare_or_refused(e2e: Harness, case: Case) -> bool:
    """Migrate; True when scangate refused the case on purpose (then the refusal is the result)."""
    migration = e2e.prepare(case)
    refusal = REFUSED.get((case.fixture, case.workflow, case.sign))
    if refusal is not None:
        assert migration.code == 3 and refusal in migration.output, migration.output
        return True
    assert migration.code == 0, f"scangate migrate exited {migration.code}:\n{migration.output}"
    return False


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_migrated_workflow(e2e, case):
    if prepare_or_refused(e2e, case):
        return
    run = e2e.run(case)
    assert run.triggered
    detail = run.describe() + "\n" + "\n".join(leg.log() for leg in run.legs() if leg.result == "failure")
    assert run.conclusion == "success", detail
    images, _ = pushed_tags(e2e)
    want = e2e.expected_tags(case, run)
    assert images == want, f"registry holds {images}, the original workflow pushes {want}\n{detail}"
    if builds_nothing(case):
        assert not trivy_records(e2e, run) and not record_steps(run), "nothing was built, yet something was scanned"
        return
    assert trivy_records(e2e, run), "the scan did not run"
    check_reports(e2e, run)
    if event_id(case.event) == "pr":
        assert all(step.outcome == "skipped" for step in push_steps(run)), [s.name for s in push_steps(run)]
        return
    check_recorded_tags_at_scanned_digest(e2e, run)
    check_platforms(e2e, case)
    check_after_push(e2e, case, run)
    check_signatures(e2e, case)


# ---------------------------------------------------------------- the bytes a reproducible build pushes


def image_manifests(harness: Harness, tag: str) -> set[str]:
    """The image manifests `tag` names: its own, or its index's (without attestation manifests)."""
    _, top = harness.registry.manifest(tag)
    if "manifests" not in top:
        return {harness.registry.manifest_digest(tag)}
    return {m["digest"] for m in top["manifests"] if m.get("platform", {}).get("os") != "unknown"}


def original_then_migrated(e2e_pair, workflow: str, event: Event, tag: str) -> tuple[set[str], RunResult]:
    """Runs a shapes workflow as written, then migrated (three jobs), on one registry: the image
    manifests `tag` names after the original's run, and the migrated run."""
    original, migrated = e2e_pair
    case = Case("shapes", workflow, event)
    original.prepare(case)
    first = original.run(case)
    assert first.conclusion == "success", first.describe()
    built = image_manifests(original, tag)
    case = Case("shapes", workflow, event, "jobs")
    assert not prepare_or_refused(migrated, case)
    second = migrated.run(case)
    assert second.conclusion == "success", second.describe()
    return built, second


def test_a_reproducible_build_pushes_the_bytes_the_original_pushes(e2e_pair):
    """matrix-by-digest builds reproducibly (`rewrite-timestamp=true` with SOURCE_DATE_EPOCH): run as
    written, then migrated, on one registry, both tag an index of the same image manifests. The export
    for the scan must carry the exporter's attributes: without `rewrite-timestamp` its layers would hold
    the build's own file times, and every digest would differ. (The original's index also lists buildx's
    default provenance manifests, which the export turns off: README, run-time decisions.)"""
    tag = "acme/api:v1.2.3"
    built, run = original_then_migrated(e2e_pair, "matrix-by-digest.yml", Event.tag("v1.2.3"), tag)
    assert len(built) == 2, built
    recorded = {rec["digest"] for rec in record_steps(run)}
    assert recorded == built, f"the migrated legs are {recorded}, the original pushed {built}"
    assert image_manifests(e2e_pair[1], tag) == built


def test_an_exporter_that_pushes_to_the_tags_pushes_the_bytes_the_original_pushes(e2e_pair):
    """outputs-tags pushes with `outputs: type=image,rewrite-timestamp=true,push=…` and no `push:`:
    the export for the scan carries `rewrite-timestamp`, so the migrated push job pushes the image
    manifest the original pushes (the original's index also holds buildx's default provenance)."""
    tag = "acme/exported:latest"
    built, _ = original_then_migrated(e2e_pair, "outputs-tags.yml", Event.tag("v1.2.3"), tag)
    assert len(built) == 1, built
    assert image_manifests(e2e_pair[1], tag) == built


def test_push_input_on_an_image_exporter_pushes_its_annotated_index(e2e_pair):
    """outputs-push-input sets `push:` beside `outputs: type=image,name=target,rewrite-timestamp=true,
    annotation-index.…=…` (set 42 a18): buildx turns the exporter's push on and names it by the tags.
    The migrated push job pushes the same image manifests to the tag, under an index that still
    carries the description; without the carry the index would have no annotation."""
    tag = "acme/annotated:latest"
    migrated = e2e_pair[1]
    built, _ = original_then_migrated(e2e_pair, "outputs-push-input.yml", Event.tag("v1.2.3"), tag)
    assert len(built) == 2, built
    assert image_manifests(migrated, tag) == built
    _, top = migrated.registry.manifest(tag)
    assert top.get("annotations") == {"org.opencontainers.image.description": "Annotated for the index"}, top


def test_a_buildx_exporter_s_attributes_reach_the_pushed_bytes(e2e_pair):
    """buildx-attributes pushes from a script with `--output "type=registry,rewrite-timestamp=true"`:
    the stand-in's export takes the attribute too (`--scan-export-attributes`), so the migrated push
    job pushes the image manifest the original pushes; without it the layers would hold the build's own
    file times and the digests would differ."""
    tag = "acme/stamped:latest"
    built, _ = original_then_migrated(e2e_pair, "buildx-attributes.yml", Event.tag("v1.2.3"), tag)
    assert len(built) == 1, built
    assert image_manifests(e2e_pair[1], tag) == built


# ---------------------------------------------------------------- a CRITICAL the gate must stop

INJECTED = [
    # one platform of a multi-platform build
    (Case("model-service", "release.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".", "arm64")]), "acme/model-service"),
    (Case("model-service", "release.yml", Event.tag("v1.2.3"), "steps", findings=[Finding(".", "arm64")]), "acme/model-service"),
    # one image of a job that builds several
    (Case("shapes", "two-images.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/api")]), "acme/api"),
    (Case("shapes", "two-images.yml", Event.tag("v1.2.3"), "steps", findings=[Finding("services/api")]), "acme/api"),
    # the second of two buildx pushes of one job
    (Case("shapes", "buildx-two.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/worker")]), "acme/worker"),
    # one platform of a buildx push whose `--platform` hides in a step output
    (Case("shapes", "buildx-output.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/api", "arm64")]), "acme/gateway"),
    # one platform of platforms known only at run time (`platforms: ${{ env.PLATFORMS }}`)
    (Case("shapes", "platforms-expression.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/api", "arm64")]), "acme/api"),
    (Case("shapes", "platforms-expression.yml", Event.tag("v1.2.3"), "steps", findings=[Finding("services/api", "arm64")]), "acme/api"),
    # one platform of a build that keeps its SBOM and provenance attestations
    (Case("shapes", "attestations.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/api", "arm64")]), "acme/attested-api"),
    # a buildx push with its own `if:`, on the branch that pushes
    (Case("shapes", "buildx-script-if.yml", Event.branch("main"), "jobs", findings=[Finding(".")]), "acme/web"),
    # a workflow_run workflow, whose scripts find the stand-ins on their own PATH
    (Case("shapes", "after-ci.yml", Event.branch("main"), "jobs", findings=[Finding(".")]), "acme/feed"),
    # one matrix leg
    (Case("shapes", "matrix-script.yml", Event.branch("main"), "jobs", findings=[Finding("services/api")]), "acme/api"),
    (Case("shapes", "matrix-by-digest.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".", "arm64")]), "acme/api"),
    # the one leg that pushes, of a matrix whose other leg pushes nothing (in one job)
    (Case("shapes", "matrix-script-skip.yml", Event.branch("main"), "jobs", findings=[Finding("services/api")]), "acme/api"),
    # ko build: the image ko would have pushed; the second of two ko steps of one job
    (Case("shapes", "ko.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".")]), "acme/app"),
    # the one of two alternative ko steps that ran (a tag: the release step)
    (Case("shapes", "ko-alternatives.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".")]), "acme/app"),
    (Case("shapes", "ko.yml", Event.tag("v1.2.3"), "steps", findings=[Finding(".")]), "acme/app"),
    (Case("shapes", "ko-steps.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/worker")]), "acme/worker"),
    # Jib: the second of two Gradle subprojects; a Maven build guarded by its own `if:`
    (Case("shapes", "jib.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/worker")]), "acme/jib-worker"),
    (Case("shapes", "jib-maven.yml", Event.tag("v1.2.3"), "steps", findings=[Finding(".")]), "acme/jib-app"),
    (Case("shapes", "jib-auth.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".")]), "acme/jib-auth"),
    (Case("shapes", "jib-env.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".")]), "acme/jib-env"),
    (Case("shapes", "docker-build-push.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".")]), "acme/docker-build"),
    # one platform of a podman manifest list
    (Case("shapes", "podman-manifest.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".", "arm64")]), "acme/podman-multi"),
    # push-to-registry: both jobs built from "." (one split in three jobs, one
    # in one job as its step logs in itself); neither image is pushed
    (Case("shapes", "push-to-registry.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".")]), "acme/redhat-tools"),
    # a build with its own `if:` kept in one job (a later step runs on every event)
    (Case("shapes", "build-if-summary.yml", Event.branch("main"), "jobs", findings=[Finding(".")]), "acme/edge-summary"),
    # one leg of a matrix read from a first job's output (the scan job needs that job too)
    (Case("shapes", "matrix-from-needs.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/worker")]), "acme/worker-svc"),
    # `defaults: run:` (sh, a subfolder): scangate's own steps still run bash from the workspace
    (Case("shapes", "run-defaults.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/api")]), "acme/defaults"),
    # a job with `continue-on-error`: its scan job does not continue, and fails the run
    (Case("shapes", "continue-on-error.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".", "arm64")]), "acme/nightly"),
    # one of two images pushed by the scripts of one job
    (Case("shapes", "script-images.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/worker")]), "acme/multi-worker"),
    (Case("shapes", "script-images.yml", Event.tag("v1.2.3"), "steps", findings=[Finding("services/worker")]), "acme/multi-worker"),
    # builds with their own `if:` among several: a guarded multi-platform image, the one of two alternatives that ran
    (Case("shapes", "guarded-builds.yml", Event.branch("main"), "jobs", findings=[Finding("services/worker", "arm64")]), "acme/mirror-edge"),
    (Case("shapes", "guarded-builds.yml", Event.branch("main"), "steps", findings=[Finding("services/worker", "arm64")]), "acme/mirror-edge"),
    (Case("shapes", "guarded-builds.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("services/api")]), "acme/alt"),
    # a promotion of a candidate another workflow pushed: one platform of an index, a single manifest
    (Case("shapes", "promote.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".", "arm64")]), "acme/released-app"),
    (Case("shapes", "promote.yml", Event.tag("v1.2.3"), "steps", findings=[Finding(".", "arm64")]), "acme/released-app"),
    (Case("shapes", "promote.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding("toolbox")]), "acme/released-tool"),
    # a reusable workflow (run on its own tag): both images name the call
    (Case("shapes", "reusable.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".")]), "acme/reusable-app"),
    # a single image, script shape
    (Case("shapes", "script-push.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".")]), "acme/shapes"),
    (Case("app-service", "release.yml", Event.tag("v1.2.3"), "steps", findings=[Finding(".")]), "acme/app-service"),
]


@pytest.mark.parametrize("case, image", INJECTED, ids=[c.id for c, _ in INJECTED])
def test_critical_is_never_pushed(e2e, case, image):
    assert not prepare_or_refused(e2e, case)
    run = e2e.run(case)
    assert run.conclusion == "failure", run.describe()
    images, _ = pushed_tags(e2e)
    assert image not in images, f"{image} was pushed with a fixable CRITICAL: {images}"
    assert trivy_records(e2e, run), "the scan did not run"
    gated = [rec for rec in record_steps(run) if any(f"/{image}:" in ref for ref in rec["tags"].split("\n"))]
    ran = [s for s in push_steps(run) if s.outcome != "skipped" and any(
        rec["digest"] in s.log for rec in gated)]
    assert not ran, f"a push step ran for the gated image: {[s.name for s in ran]}"
    check_reports(e2e, run)
    # The other images and legs: reported, judged against the policy in the README's Decisions.
    others = {repo: tags for repo, tags in images.items() if repo != image}
    e2e.report.lines.append(f"{case.id}: with {image} gated, the other images pushed: {others or 'none'}")


# ---------------------------------------------------------------- a job that continues on error

QUIET = [
    # A broken build stays as quiet as in the original: nothing scanned, pushed or failed.
    Case("shapes", "continue-on-error.yml", Event.tag("v1.2.3"), None, findings=[Finding(".", kind="unbuildable")]),
    Case("shapes", "continue-on-error.yml", Event.tag("v1.2.3"), "jobs", findings=[Finding(".", kind="unbuildable")]),
    Case("shapes", "continue-on-error.yml", Event.tag("v1.2.3"), "steps", findings=[Finding(".", kind="unbuildable")]),
    # In one job, `continue-on-error` covers the gate: the push is stopped, the run succeeds.
    Case("shapes", "continue-on-error.yml", Event.tag("v1.2.3"), "steps", findings=[Finding(".", "arm64")]),
]


@pytest.mark.parametrize("case", QUIET, ids=[c.id for c in QUIET])
def test_a_job_that_continues_on_error_fails_quietly_and_pushes_nothing(e2e, case):
    assert not prepare_or_refused(e2e, case)
    run = e2e.run(case)
    assert run.conclusion == "success", run.describe()
    assert [leg.outcome for leg in run.legs() if leg.outcome] == ["failure"], run.describe()
    images, _ = pushed_tags(e2e)
    assert images == {}, f"pushed: {images}\n{run.describe()}"
    scanned = bool(trivy_records(e2e, run))
    assert scanned == (case.findings[0].kind == "vuln"), run.describe()
    if case.layout == "jobs":
        assert run.result("nightly-scan") == "skipped" and run.result("nightly") == "skipped", run.describe()


# ---------------------------------------------------------------- the artifact replaced between the jobs

TAMPERED = [
    Case("app-service", "release.yml", Event.tag("v1.2.3"), "jobs"),
    Case("model-service", "release.yml", Event.tag("v1.2.3"), "jobs"),
    Case("shapes", "script-push.yml", Event.tag("v1.2.3"), "jobs"),
]


def image_artifacts(e2e: Harness) -> list[Path]:
    store = Path(e2e.env()["E2E_ARTIFACTS"])
    return sorted(p for p in store.rglob("image.tar") if p.is_file())


@pytest.mark.parametrize("with_digest", [False, True], ids=["image", "image+digest"])
@pytest.mark.parametrize("case", TAMPERED, ids=[c.id for c in TAMPERED])
def test_replaced_artifact_fails_the_push_job(e2e, case, with_digest):
    """After the scan job, the image artifact is replaced by another build (and, in
    the second variant, its digest file too, as someone who can write artifacts
    could): the push job must fail before pushing anything."""
    assert not prepare_or_refused(e2e, case)
    other = Case(case.fixture, case.workflow, case.event, case.layout, findings=[Finding(".")])
    decoy = Harness(e2e.tmp / "decoy", e2e.dockerd, e2e.registry, e2e.report, e2e.hook)
    (e2e.tmp / "decoy").mkdir()
    decoy.prepare(other)
    decoy_run = decoy.run(other)
    decoy_tars = image_artifacts(decoy)
    assert decoy_tars and decoy_run.jobs, decoy_run.describe()
    tampered = []

    def replace(job_id: str, result) -> None:
        if not job_id.endswith("-scan") or tampered:
            return
        for tar in image_artifacts(e2e):
            shutil.copyfile(decoy_tars[0], tar)
            if with_digest:
                shutil.copyfile(decoy_tars[0].parent / "digest", tar.parent / "digest")
            tampered.append(tar)

    run = e2e.run(case, Hooks(after_job=replace))
    assert tampered, "no image artifact to replace"
    assert run.conclusion == "failure", run.describe()
    images, _ = pushed_tags(e2e)
    assert images == {}, f"pushed after the artifact was replaced: {images}"
    # It failed because the digest check caught it, not for another reason.
    failed = [s for s in push_steps(run) if s.outcome == "failure"]
    assert failed and "not the scanned" in failed[0].log, run.describe() + "\n" + "\n".join(s.log for s in failed)


# ---------------------------------------------------------------- re-running failed jobs


def test_rerun_failed_jobs_after_the_registry_was_down(e2e):
    """First attempt: the registry is down when the push job starts, so the push
    job fails. Re-run the failed jobs once it is back (same port): the push
    succeeds with the artifacts of the first attempt, and the jobs that upload
    artifacts again under the same names do not conflict."""
    case = Case("app-service", "release.yml", Event.tag("v1.2.3"), "jobs")
    assert not prepare_or_refused(e2e, case)

    def registry_down(job_id: str, _matrix) -> None:
        if job_id == "build-and-push":
            e2e.registry.stop()

    first = e2e.run(case, Hooks(before_job=registry_down))
    assert first.conclusion == "failure", first.describe()
    assert (first.result("build-and-push-build"), first.result("build-and-push-scan")) == ("success", "success")
    assert first.result("build-and-push") == "failure"
    assert first.result("announce") == "skipped"
    e2e.registry.start(e2e.registry.port)
    assert e2e.registry_tags() == {}
    # No hooks on the re-run: the first run's hook would stop the registry again.
    second = e2e.rerun(case, first, Hooks())
    assert (second.run_id, second.attempt) == (first.run_id, 2)
    assert second.jobs["build-and-push-scan"] is first.jobs["build-and-push-scan"]
    assert second.conclusion == "success", second.describe() + "\n" + second.job("build-and-push").log()
    images, _ = pushed_tags(e2e)
    assert images == e2e.expected_tags(case, second)
    check_recorded_tags_at_scanned_digest(e2e, second)
    check_after_push(e2e, case, second)


# ---------------------------------------------------------------- two calls of a reusable workflow in one run


def test_two_calls_of_a_reusable_workflow_in_one_run_push_each_its_own_scanned_image(e2e):
    """A reusable workflow (two images) called twice in one run, once per variant:
    the calls share the run's artifacts. The second call runs whole while the
    first waits between its build and scan jobs (its image is uploaded, not
    yet scanned): each call's scan and push jobs must read its own image, so
    both push (with shared names, the first call's digest check would stop
    its push)."""
    calls = [
        Case("shapes", "reusable.yml", Event("workflow_call", "refs/tags/v1.2.3", inputs={"variant": v}), "jobs")
        for v in ("api", "worker")
    ]
    assert not prepare_or_refused(e2e, calls[0])
    inner = []

    def the_other_call(job_id: str, _matrix) -> None:
        if job_id == "image-scan" and not inner:
            inner.append(e2e.run(calls[1]))

    run = e2e.run(calls[0], Hooks(before_job=the_other_call))
    assert inner and inner[0].conclusion == "success", inner[0].describe() if inner else "no second call"
    assert run.conclusion == "success", run.describe() + "\n" + run.job("image").log()
    images, _ = pushed_tags(e2e)
    want = {f"acme/reusable-{v}{debug}": ["v1.2.3"] for v in ("api", "worker") for debug in ("", "-debug")}
    assert images == want, images
    assert len(image_artifacts(e2e)) == 4
    for call in (run, inner[0]):
        check_recorded_tags_at_scanned_digest(e2e, call)
    # Code scanning takes one upload per category in a run: each call's
    # results are its own category, and every upload went through.
    uploads = [r for r in e2e.records() if r["tool"] == "github/codeql-action/upload-sarif"]
    categories = [c for r in uploads for c in r["categories"]]
    sarif_steps = [s for call in (run, inner[0]) for leg in call.legs() for s in leg.steps if "code scanning" in s.name]
    assert sarif_steps and all(s.outcome == "success" for s in sarif_steps), [(s.name, s.outcome) for s in sarif_steps]
    assert len(categories) == len(sarif_steps) == len(set(categories)), categories
