"""Each stand-in against the documented behaviour of the real tool (see the
docstrings of tests/e2e/standins/*.py for the sources)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

import services
from standin_kit import ACTOR, TOKEN, Job

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
#: Keys of a report and of a vulnerability in Trivy's integration golden
#: aquasecurity/trivy integration/testdata/alpine-310.json.golden@015e9a52
#: (+ ReportID of the newer secrets.json.golden).
GOLDEN_REPORT_KEYS = {"SchemaVersion", "CreatedAt", "ArtifactName", "ArtifactType", "Metadata", "Results", "ReportID"}
GOLDEN_VULN_KEYS = {"VulnerabilityID", "PkgID", "PkgName", "PkgIdentifier", "InstalledVersion", "FixedVersion", "Status",
                    "Layer", "SeveritySource", "PrimaryURL", "DataSource", "Title", "Description", "Severity", "CweIDs",
                    "CVSS", "References", "PublishedDate", "LastModifiedDate"}


@pytest.fixture
def reg(tmp_path):
    with services.Registry(tmp_path / "registry", auth=(ACTOR, TOKEN)) as r:
        yield r


@pytest.fixture
def repo(tmp_path):
    return services.prepare_repository(
        FIXTURES / "shapes", tmp_path / "repo",
        [services.Finding(context="services/api", arch="arm64"), services.Finding(context="toolbox", fixable=False)])


@pytest.fixture
def bare_job(tmp_path, reg, dockerd, repo):
    """A job after checkout, with buildx's default builder (docker driver)."""
    j = Job(tmp_path / "job", reg, dockerd, repo=repo)
    assert j.action("actions/checkout").code == 0
    return j


@pytest.fixture
def job(bare_job):
    """A job after checkout and setup-buildx-action, as the fixtures start."""
    assert bare_job.action("docker/setup-buildx-action").code == 0
    return bare_job


def login(job: Job, reg) -> None:
    r = job.action("docker/login-action", {"registry": reg.host, "username": ACTOR, "password": TOKEN})
    assert r.code == 0, r.stdout + r.stderr


def untar(archive: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    with tarfile.open(archive) as t:
        t.extractall(dest, filter="data")
    return dest


# --- docker/build-push-action ----------------------------------------------


def test_oci_export_has_one_descriptor_per_tag_and_skopeo_refuses_it(job, reg, tmp_path):
    r = job.action("docker/build-push-action", {
        "context": ".", "provenance": "false",
        "tags": f"{reg.host}/acme/app:1.2.3\n{reg.host}/acme/app:latest",
        "outputs": "type=oci,dest=out/image.tar", "cache-from": "type=gha", "cache-to": "type=gha,mode=max"})
    assert r.code == 0, r.stdout + r.stderr
    options = job.records("docker/build-push-action")[-1]["options"]
    assert (options["cache_from"], options["cache_to"]) == (["type=gha"], ["type=gha,mode=max"])  # recorded, ignored
    with tarfile.open(job.workspace / "out/image.tar") as t:
        names = t.getnames()
        assert names == sorted(names)  # containerd's writer sorts its records
        assert {"oci-layout", "index.json", "blobs", "blobs/sha256"} <= set(names)  # tarfile drops the folders' "/"
        assert t.getmember("index.json").mode == 0o644 and t.getmember("oci-layout").mode == 0o444
    layout = untar(job.workspace / "out/image.tar", tmp_path / "layout")
    manifests = json.loads((layout / "index.json").read_text())["manifests"]
    assert len(manifests) == 2
    assert {m["digest"] for m in manifests} == {r.outputs["digest"]}
    assert [m["annotations"] for m in manifests] == [
        {"io.containerd.image.name": f"{reg.host}/acme/app:1.2.3", "org.opencontainers.image.ref.name": "1.2.3"},
        {"io.containerd.image.name": f"{reg.host}/acme/app:latest", "org.opencontainers.image.ref.name": "latest"},
    ]
    assert manifests[0]["mediaType"] == "application/vnd.oci.image.manifest.v1+json"  # provenance off, 1 platform
    copy = job.run("skopeo", "copy", f"oci:{layout}", f"oci:{tmp_path / 'copy'}")
    assert copy.returncode != 0 and "more than one image" in copy.stderr
    named = job.run("skopeo", "copy", f"oci:{layout}:latest", f"oci:{tmp_path / 'copy'}:x")
    assert named.returncode == 0, named.stderr
    assert reg.repositories() == []  # an export pushes nothing


def test_default_provenance_makes_an_index_with_an_attestation_manifest(job, reg, tmp_path):
    r = job.action("docker/build-push-action", {"context": ".", "tags": f"{reg.host}/acme/app:1",
                                                "outputs": "type=oci,dest=o,tar=false"})
    assert r.code == 0, r.stdout + r.stderr
    index = json.loads((job.workspace / "o/index.json").read_text())["manifests"]
    assert len(index) == 1 and index[0]["mediaType"] == "application/vnd.oci.image.index.v1+json"
    top = json.loads((job.workspace / "o/blobs/sha256" / index[0]["digest"][7:]).read_text())
    platforms = [m["platform"] for m in top["manifests"]]
    assert platforms == [{"architecture": "amd64", "os": "linux"}, {"architecture": "unknown", "os": "unknown"}]
    att = top["manifests"][1]
    assert att["annotations"] == {"vnd.docker.reference.digest": top["manifests"][0]["digest"],
                                  "vnd.docker.reference.type": "attestation-manifest"}
    r2 = job.action("docker/build-push-action", {"context": ".", "tags": f"{reg.host}/acme/app:1",
                                                 "outputs": "type=oci,dest=p,tar=false"}, BUILDX_NO_DEFAULT_ATTESTATIONS="1")
    assert r2.code == 0
    assert json.loads((job.workspace / "p/index.json").read_text())["manifests"][0]["mediaType"].endswith("manifest.v1+json")


def test_versions_before_3_3_ignore_the_provenance_input(job, reg):
    """v2 (and v3 before 3.3.0) have no `provenance` input: buildx's default
    attestation stays unless BUILDX_NO_DEFAULT_ATTESTATIONS is set."""
    def top_media_type(dest: str, ref: str, **env: str) -> str:
        r = job.action("docker/build-push-action", {"context": ".", "tags": f"{reg.host}/acme/app:1", "provenance": "false",
                                                    "outputs": f"type=oci,dest={dest},tar=false"}, GITHUB_ACTION_REF=ref, **env)
        assert r.code == 0, r.stdout + r.stderr
        return json.loads((job.workspace / dest / "index.json").read_text())["manifests"][0]["mediaType"]

    assert top_media_type("v6", "v6").endswith("manifest.v1+json")
    assert top_media_type("v2", "v2").endswith("index.v1+json")
    assert top_media_type("v32", "v3.2.0").endswith("index.v1+json")
    assert top_media_type("v33", "v3.3.0").endswith("manifest.v1+json")
    assert top_media_type("v2env", "v2", BUILDX_NO_DEFAULT_ATTESTATIONS="1").endswith("manifest.v1+json")


def test_multi_platform_push_needs_login_and_pushes_an_index_to_every_tag(job, reg):
    inputs = {"context": ".", "file": "services/api/Dockerfile", "platforms": "linux/amd64,linux/arm64", "push": "true",
              "provenance": "false", "tags": f"{reg.host}/acme/api:1.2.3,{reg.host}/acme/api:latest"}
    denied = job.action("docker/build-push-action", inputs)
    assert denied.code == 1 and "401" in denied.stdout, denied.stdout
    login(job, reg)
    r = job.action("docker/build-push-action", inputs)
    assert r.code == 0, r.stdout + r.stderr
    assert reg.tags("acme/api") == ["1.2.3", "latest"]
    assert reg.manifest_digest("acme/api:1.2.3") == reg.manifest_digest("acme/api:latest") == r.outputs["digest"]
    _, index = reg.manifest("acme/api:latest")
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "arm64"]
    meta = json.loads(r.outputs["metadata"])
    assert meta["containerimage.digest"] == r.outputs["digest"]
    rec = job.records("docker/build-push-action")[-1]
    assert rec["manifests"]["linux/arm64"]["config"] == reg.config_digest("acme/api:latest", "linux/arm64")


def test_push_by_digest_pushes_no_tag(job, reg):
    login(job, reg)
    r = job.action("docker/build-push-action", {
        "context": ".", "platforms": "linux/arm64", "provenance": "false",
        "outputs": f"type=image,name={reg.host}/acme/api,push-by-digest=true,name-canonical=true,push=true"})
    assert r.code == 0, r.stdout + r.stderr
    assert reg.tags("acme/api") == []
    assert reg.manifest_digest(f"acme/api@{r.outputs['digest']}") == r.outputs["digest"]


def test_push_input_pushes_the_image_exporter_by_digest(job, reg):
    """`push: true` beside an image exporter sets that exporter's push (buildx
    adds no second exporter): named by `tags:`, pushed by digest, no tag."""
    login(job, reg)
    r = job.action("docker/build-push-action", {
        "context": ".", "platforms": "linux/arm64", "provenance": "false", "push": "true",
        "tags": f"{reg.host}/acme/api",
        "outputs": "type=image,push-by-digest=true,name-canonical=true,push=true"})
    assert r.code == 0, r.stdout + r.stderr
    assert reg.tags("acme/api") == []
    assert reg.manifest_digest(f"acme/api@{r.outputs['digest']}") == r.outputs["digest"]


def test_load_builds_in_the_docker_daemon_without_attestations(job, reg):
    r = job.action("docker/build-push-action", {"context": ".", "load": "true", "tags": "acme/app:local"})
    assert r.code == 0, r.stdout + r.stderr
    inspect = job.run("docker", "image", "inspect", "--format", "{{.Id}}", "acme/app:local")
    assert inspect.stdout.strip() == r.outputs["imageid"]
    assert job.records("docker/build-push-action")[-1]["attestations"] == []
    many = job.action("docker/build-push-action", {"context": ".", "load": "true", "platforms": "linux/amd64,linux/arm64"})
    assert many.code == 1 and "manifest lists" in many.stdout


# --- artifacts ---------------------------------------------------------------


def test_upload_artifact_root_hidden_files_and_409(job):
    d = job.workspace / "dist"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("a")
    (d / "sub" / "b.txt").write_text("bb")
    (d / ".hidden").write_text("secret")
    r = job.action("actions/upload-artifact", {"name": "dist", "path": "dist/**/*.txt\ndist/.hidden"})
    assert r.code == 0, r.stdout
    stored = job.env["E2E_ARTIFACTS"] + "/dist/files"
    assert sorted(str(p.relative_to(stored)) for p in Path(stored).rglob("*") if p.is_file()) == ["a.txt", "sub/b.txt"]
    again = job.action("actions/upload-artifact", {"name": "dist", "path": "dist"})
    assert again.code == 1 and "(409) Conflict" in again.stdout
    hidden = job.action("actions/upload-artifact", {"name": "dist", "path": "dist", "overwrite": "true", "include-hidden-files": "true"})
    assert hidden.code == 0
    assert (Path(stored) / ".hidden").exists()
    none = job.action("actions/upload-artifact", {"name": "x", "path": "nothing/*", "if-no-files-found": "error"})
    assert none.code == 1 and "No files were found" in none.stdout
    assert job.records("actions/upload-artifact")[0]["bytes_up"] == 3


def test_download_artifact_by_name_pattern_and_merge(job, tmp_path):
    for leg in ("amd64", "arm64"):
        (job.temp / leg).mkdir()
        (job.temp / leg / f"sha-{leg}").write_text(leg)
        assert job.action("actions/upload-artifact", {"name": f"digests-{leg}", "path": f"{job.temp}/{leg}/*"}).code == 0
    merged = job.action("actions/download-artifact", {"path": f"{job.temp}/all", "pattern": "digests-*", "merge-multiple": "true"})
    assert merged.code == 0
    assert sorted(p.name for p in (job.temp / "all").iterdir()) == ["sha-amd64", "sha-arm64"]
    split = job.action("actions/download-artifact", {"path": f"{job.temp}/split", "pattern": "digests-*"})
    assert split.code == 0 and (job.temp / "split/digests-arm64/sha-arm64").exists()
    one = job.action("actions/download-artifact", {"name": "digests-amd64", "path": f"{job.temp}/one"})
    assert one.code == 0 and (job.temp / "one/sha-amd64").read_text() == "amd64"
    missing = job.action("actions/download-artifact", {"name": "nope"})
    assert missing.code == 1 and "Artifact not found for name: nope" in missing.stdout


# --- trivy -------------------------------------------------------------------


def install_trivy(job: Job, version: str = "v0.70.0") -> None:
    assert job.run("sh", "-c", "command -v trivy").returncode != 0  # not on a fresh runner
    r = job.action("aquasecurity/setup-trivy", {"version": version})
    assert r.code == 0, r.stdout + r.stderr


def test_setup_trivy_refuses_latest(job):
    r = job.action("aquasecurity/setup-trivy", {})
    assert r.code == 1 and "latest" in r.stdout


def test_trivy_rejects_unknown_flags_as_cobra_does(job):
    install_trivy(job)
    r = job.run("trivy", "image", "--no-such-flag", "--input", "x")
    assert r.returncode == 1 and r.stderr.strip() == "Error: unknown flag: --no-such-flag"
    conv = job.run("trivy", "convert", "--ignore-unfixed", "--format", "sarif", "r.json")
    assert conv.returncode == 1 and "unknown flag: --ignore-unfixed" in conv.stderr
    assert job.run("trivy", "--version").stdout.startswith("Version: 0.70.0")


def test_trivy_scans_the_first_platform_of_a_layout_and_each_platform_after_skopeo(job, reg, tmp_path):
    install_trivy(job)
    r = job.action("docker/build-push-action", {
        "context": ".", "file": "services/api/Dockerfile", "platforms": "linux/amd64,linux/arm64", "provenance": "false",
        "tags": f"{reg.host}/acme/api:1\n{reg.host}/acme/api:2", "outputs": "type=oci,dest=img.tar"})
    assert r.code == 0, r.stdout + r.stderr
    layout = untar(job.workspace / "img.tar", tmp_path / "l")
    first_run = job.run("trivy", "image", "--input", str(layout), "--skip-db-update", "--format", "json")
    assert first_run.returncode == 1 and "--skip-db-update cannot be specified on the first run" in first_run.stderr
    whole = job.run("trivy", "image", "--input", str(layout), "--severity", "CRITICAL", "--exit-code", "1", "--format", "json",
                    "--output", str(tmp_path / "whole.json"))
    assert whole.returncode == 0, whole.stderr  # the first descriptor → its first manifest: amd64, clean
    rec = job.records("trivy")[-1]
    assert rec["platform"] == "linux/amd64"
    for arch, code in (("amd64", 0), ("arm64", 1)):
        one = tmp_path / arch
        cp = job.run("skopeo", "copy", "--override-os", "linux", "--override-arch", arch, f"oci:{layout}:1", f"oci:{one}")
        assert cp.returncode == 0, cp.stderr
        scan = job.run("trivy", "image", "--input", str(one), "--severity", "CRITICAL,HIGH", "--ignore-unfixed",
                       "--exit-code", "1", "--skip-db-update", "--format", "json", "--output", str(tmp_path / f"{arch}.json"))
        assert scan.returncode == code, scan.stderr
        rec = job.records("trivy")[-1]
        assert rec["platform"] == f"linux/{arch}" and rec["manifest_digest"] and rec["config_digest"].startswith("sha256:")
    report = json.loads((tmp_path / "arm64.json").read_text())
    assert set(report) <= GOLDEN_REPORT_KEYS and report["ArtifactType"] == "container_image"
    assert report["Metadata"]["OS"] == {"Family": "alpine", "Name": "3.20.3"}
    assert report["Metadata"]["ImageID"] == job.records("trivy")[-1]["config_digest"]
    vuln = report["Results"][0]["Vulnerabilities"][0]
    assert set(vuln) <= GOLDEN_VULN_KEYS
    assert (vuln["VulnerabilityID"], vuln["Severity"], vuln["Status"]) == ("CVE-2024-5535", "CRITICAL", "fixed")
    tar_input = job.run("trivy", "image", "--input", str(job.workspace / "img.tar"), "--skip-db-update")
    assert tar_input.returncode == 1 and "index.json: not a directory" in tar_input.stderr


def test_trivy_convert_gates_on_severity_and_ignore_unfixed_is_scan_time_only(job, reg, tmp_path):
    install_trivy(job)
    login(job, reg)
    r = job.action("docker/build-push-action", {"context": "toolbox", "provenance": "false", "load": "true", "tags": "t:1"})
    assert r.code == 0, r.stdout + r.stderr
    save = job.run("docker", "save", "-o", str(tmp_path / "t.tar"), "t:1")
    assert save.returncode == 0, save.stderr
    full = job.run("trivy", "image", "--input", str(tmp_path / "t.tar"), "--format", "json", "--output", str(tmp_path / "r.json"))
    assert full.returncode == 0, full.stderr
    assert job.records("trivy")[-1]["config_digest"] == r.outputs["imageid"]
    gate = job.run("trivy", "convert", "--severity", "HIGH", "--exit-code", "1", "--format", "table", str(tmp_path / "r.json"))
    assert gate.returncode == 1  # the unfixed HIGH
    fixed_only = job.run("trivy", "image", "--input", str(tmp_path / "t.tar"), "--severity", "HIGH", "--ignore-unfixed",
                         "--exit-code", "1", "--skip-db-update")
    assert fixed_only.returncode == 0, fixed_only.stderr
    sarif = job.run("trivy", "convert", "--format", "sarif", "--output", str(tmp_path / "r.sarif"), str(tmp_path / "r.json"))
    assert sarif.returncode == 0
    doc = json.loads((tmp_path / "r.sarif").read_text())
    assert doc["version"] == "2.1.0" and doc["runs"][0]["tool"]["driver"]["name"] == "Trivy"
    config = job.run("trivy", "config", "--misconfig-scanners", "dockerfile", "--severity", "HIGH", "--exit-code", "1",
                     "--format", "json", "--output", str(tmp_path / "c.json"), "toolbox")
    ids = [m["ID"] for res in json.loads((tmp_path / "c.json").read_text())["Results"] for m in res.get("Misconfigurations", [])]
    assert (config.returncode, ids) == (0, [])  # the Dockerfile has a USER


def test_trivy_finds_an_aws_key(job, tmp_path, reg, dockerd):
    repo = services.prepare_repository(FIXTURES / "shapes", tmp_path / "secret-repo", [services.Finding(kind="secret")])
    j = Job(tmp_path / "job2", reg, dockerd, repo=repo)
    assert j.action("actions/checkout").code == 0
    assert j.action("docker/setup-buildx-action").code == 0
    install_trivy(j)
    assert j.action("docker/build-push-action", {"context": ".", "provenance": "false",
                                                 "outputs": "type=oci,dest=o,tar=false"}).code == 0
    r = j.run("trivy", "image", "--input", str(j.workspace / "o"), "--scanners", "secret", "--exit-code", "3", "--format", "json")
    assert r.returncode == 3
    secrets = [s for res in json.loads(r.stdout)["Results"] for s in res.get("Secrets", [])]
    assert [s["RuleID"] for s in secrets] == ["aws-access-key-id"] and "AKIA" not in secrets[0]["Match"]


# --- cosign --------------------------------------------------------------------


def test_cosign_signs_by_digest_only_and_attests_vuln_predicates(job, reg, tmp_path):
    login(job, reg)
    r = job.action("docker/build-push-action", {"context": ".", "push": "true", "provenance": "false", "tags": f"{reg.host}/acme/app:1"})
    assert r.code == 0, r.stdout + r.stderr
    assert job.action("sigstore/cosign-installer", {}).code == 0
    digest = r.outputs["digest"]
    by_tag = job.run("cosign", "sign", "--yes", f"{reg.host}/acme/app:1")
    assert by_tag.returncode == 1 and "by digest only" in by_tag.stderr
    unknown = job.run("cosign", "sign", "--yes", f"{reg.host}/acme/app@sha256:{'0' * 64}")
    assert unknown.returncode == 1
    legacy = ["--new-bundle-format=false", "--use-signing-config=false"]
    ok = job.run("cosign", "sign", "--yes", *legacy, f"{reg.host}/acme/app@{digest}")
    assert ok.returncode == 0, ok.stderr
    sig_tag = digest.replace(":", "-") + ".sig"
    assert sig_tag in reg.tags("acme/app")
    (tmp_path / "bad.json").write_text("{}")
    bad = job.run("cosign", "attest", "--yes", *legacy, "--type", "vuln", "--predicate", str(tmp_path / "bad.json"), f"{reg.host}/acme/app@{digest}")
    assert bad.returncode == 1 and "not a cosign vuln predicate" in bad.stderr
    install_trivy(job)
    (tmp_path / "r.json").write_text(json.dumps({"SchemaVersion": 2, "ArtifactName": "x", "Results": []}))
    assert job.run("trivy", "convert", "--format", "cosign-vuln", "--output", str(tmp_path / "v.json"), str(tmp_path / "r.json")).returncode == 0
    att = job.run("cosign", "attest", "--yes", *legacy, "--type", "vuln", "--predicate", str(tmp_path / "v.json"), f"{reg.host}/acme/app@{digest}")
    assert att.returncode == 0, att.stderr
    assert digest.replace(":", "-") + ".att" in reg.tags("acme/app")
    bundle = job.run("cosign", "sign", "--yes", f"{reg.host}/acme/app@{digest}")
    assert bundle.returncode == 0 and digest.replace(":", "-") in reg.tags("acme/app")


# --- the small actions ---------------------------------------------------------


def test_metadata_action_tag_rules(tmp_path, reg, dockerd):
    tags = "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}\ntype=sha"
    release = Job(tmp_path / "tag", reg, dockerd, ref="refs/tags/v1.2.3")
    release.env["GITHUB_SHA"] = "0123456789abcdef0123456789abcdef01234567"
    r = release.action("docker/metadata-action", {"images": "ghcr.io/Acme/API", "tags": tags})
    assert r.code == 0, r.stdout + r.stderr
    assert r.outputs["tags"].split("\n") == ["ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api:1.2", "ghcr.io/acme/api:sha-0123456",
                                             "ghcr.io/acme/api:latest"]
    assert r.outputs["version"] == "1.2.3"
    rc = Job(tmp_path / "rc", reg, dockerd, ref="refs/tags/v1.2.3-rc.1").action(
        "docker/metadata-action", {"images": "img", "tags": "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}"})
    assert rc.outputs["tags"] == "img:1.2.3-rc.1"
    pr = Job(tmp_path / "pr", reg, dockerd, ref="refs/pull/7/merge", event={"pull_request": {"number": 7}}).action(
        "docker/metadata-action", {"images": "img", "tags": "type=semver,pattern={{version}}"})
    assert pr.code == 0 and pr.outputs["tags"] == "" and pr.outputs["version"] == ""
    default = Job(tmp_path / "pr2", reg, dockerd, ref="refs/pull/7/merge", event={"pull_request": {"number": 7}}).action(
        "docker/metadata-action", {"images": "img"})
    assert default.outputs["tags"] == "img:pr-7"


def test_upload_sarif_validates_and_refuses_a_second_upload_of_a_category(job, tmp_path):
    sarif = job.workspace / "r.sarif"
    sarif.write_text(json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy"}}, "results": []}]}))
    assert job.action("github/codeql-action/upload-sarif", {"sarif_file": "r.sarif", "category": "img-amd64"}).code == 0
    again = job.action("github/codeql-action/upload-sarif", {"sarif_file": "r.sarif", "category": "img-amd64"})
    assert again.code == 1 and "only one run" in again.stdout
    assert job.action("github/codeql-action/upload-sarif", {"sarif_file": "r.sarif", "category": "img-arm64"}).code == 0
    (job.workspace / "bad.sarif").write_text(json.dumps({"version": "2.0.0", "runs": []}))
    assert job.action("github/codeql-action/upload-sarif", {"sarif_file": "bad.sarif", "category": "c"}).code == 1


def test_checkout_clones_at_the_sha_and_pushes_back_tags(job, repo):
    assert job.run("git", "rev-parse", "HEAD").stdout.strip() == services.head_sha(repo)
    assert job.run("git", "-c", "user.name=x", "-c", "user.email=x@x", "tag", "v9.9.9").returncode == 0
    push = job.run("git", "push", "origin", "v9.9.9")
    assert push.returncode == 0, push.stderr
    assert "v9.9.9" in services._git(repo, "tag").split()


def test_attest_needs_the_subject_in_the_registry(job, reg):
    missing = job.action("actions/attest-build-provenance", {"subject-name": f"{reg.host}/acme/app", "subject-digest": "sha256:" + "1" * 64})
    assert missing.code == 1 and "not in the registry" in missing.stdout
    login(job, reg)
    r = job.action("docker/build-push-action", {"context": ".", "push": "true", "provenance": "false", "tags": f"{reg.host}/acme/app:1"})
    ok = job.action("actions/attest-build-provenance", {"subject-name": f"{reg.host}/acme/app", "subject-digest": r.outputs["digest"],
                                                        "push-to-registry": "true"})
    assert ok.code == 0, ok.stdout


def test_setup_node_cache_needs_a_lock_file(job):
    assert job.action("actions/setup-node", {"node-version": "22", "cache": "npm"}).code == 0
    (job.workspace / "package-lock.json").unlink()
    r = job.action("actions/setup-node", {"node-version": "22", "cache": "npm"})
    assert r.code == 1 and "lock file is not found" in r.stdout


# --- docker buildx (CLI plugin) ----------------------------------------------------


def test_buildx_cli_follows_the_current_builder(bare_job, reg):
    job = bare_job
    login(job, reg)
    image = f"{reg.host}/acme/shapes"
    multi = ["docker", "buildx", "build", "--platform", "linux/amd64,linux/arm64", "--tag", f"{image}:1", "--push", "."]
    default = job.run(*multi)
    assert default.returncode == 1 and "not supported for the docker driver" in default.stderr
    oci = job.run("docker", "buildx", "build", "--output", "type=oci,dest=x.tar", ".")
    assert oci.returncode == 1 and "OCI exporter is not supported for the docker driver" in oci.stderr
    loaded = job.run("docker", "buildx", "build", "-t", "acme/local:1", ".")  # docker driver: into the daemon
    assert loaded.returncode == 0, loaded.stderr
    assert job.run("docker", "image", "inspect", "acme/local:1").returncode == 0
    assert job.action("docker/setup-buildx-action").code == 0
    pushed = job.run(*multi, "--metadata-file", "meta.json")
    assert pushed.returncode == 0, pushed.stderr
    digest = json.loads((job.workspace / "meta.json").read_text())["containerimage.digest"]
    assert reg.manifest_digest(f"acme/shapes:1") == digest
    bad = job.run("docker", "buildx", "build", "--tag=x", "--no-such", ".")
    assert bad.returncode == 1 and "unknown flag: --no-such" in bad.stderr


def test_imagetools_create_merges_pushed_by_digest_legs(job, reg):
    login(job, reg)
    digests = []
    for platform in ("linux/amd64", "linux/arm64"):
        r = job.action("docker/build-push-action", {
            "context": ".", "platforms": platform, "provenance": "false",
            "outputs": f"type=image,name={reg.host}/acme/api,push-by-digest=true,name-canonical=true,push=true"})
        assert r.code == 0, r.stdout + r.stderr
        digests.append(r.outputs["digest"])
    merge = job.run("docker", "buildx", "imagetools", "create", "-t", f"{reg.host}/acme/api:v1",
                    *[f"{reg.host}/acme/api@{d}" for d in digests])
    assert merge.returncode == 0, merge.stderr
    _, index = reg.manifest("acme/api:v1")
    assert [(m["digest"], m["platform"]["architecture"]) for m in index["manifests"]] == list(zip(digests, ["amd64", "arm64"]))


def test_imagetools_create_copies_one_source_as_documented(job, reg):
    """One index: a carbon copy (same digest, in another repository too). One
    single manifest: listed in a new manifest list, unless --prefer-index=false."""
    login(job, reg)
    multi = job.action("docker/build-push-action", {
        "context": ".", "platforms": "linux/amd64,linux/arm64", "push": "true", "tags": f"{reg.host}/acme/rc:1"})
    assert multi.code == 0, multi.stdout + multi.stderr
    copy = job.run("docker", "buildx", "imagetools", "create", "-t", f"{reg.host}/acme/final:1", f"{reg.host}/acme/rc:1")
    assert copy.returncode == 0, copy.stderr
    assert reg.manifest_digest("acme/final:1") == reg.manifest_digest("acme/rc:1")
    one = job.action("docker/build-push-action", {
        "context": ".", "provenance": "false", "push": "true", "tags": f"{reg.host}/acme/one:1"})
    assert one.code == 0, one.stdout + one.stderr
    source = reg.manifest_digest("acme/one:1")
    wrap = job.run("docker", "buildx", "imagetools", "create", "--tag", f"{reg.host}/acme/one:2", f"{reg.host}/acme/one:1")
    assert wrap.returncode == 0, wrap.stderr
    _, listed = reg.manifest("acme/one:2")
    assert [m["digest"] for m in listed["manifests"]] == [source], listed
    same = job.run("docker", "buildx", "imagetools", "create", "--prefer-index=false", "-t", f"{reg.host}/acme/one:3",
                   f"{reg.host}/acme/one:1")
    assert same.returncode == 0, same.stderr
    assert reg.manifest_digest("acme/one:3") == source


def test_a_named_builder_is_used_without_becoming_current(bare_job, reg):
    job = bare_job
    setup = job.action("docker/setup-buildx-action", {"use": "false", "name": "scangate-e2e"})
    assert setup.code == 0 and setup.outputs["name"] == "scangate-e2e"
    export = {"context": ".", "provenance": "false", "outputs": "type=oci,dest=o.tar"}
    assert job.action("docker/build-push-action", export).code == 1  # still the docker driver by default
    assert job.action("docker/build-push-action", {**export, "builder": "scangate-e2e"}).code == 0
    cli = job.run("docker", "buildx", "build", "--builder", "scangate-e2e", "--output", "type=oci,dest=c.tar", ".")
    assert cli.returncode == 0, cli.stderr
    unknown = job.action("docker/build-push-action", {**export, "builder": "nope"})
    assert unknown.code == 1 and 'no builder "nope" found' in unknown.stdout


# --- redhat-actions/buildah-build, redhat-actions/push-to-registry ------------


def test_buildah_build_tags_and_push_to_registry_pushes_as_the_actions_do(job, reg):
    """buildah-build names the image IMAGE:TAG for each tag; push-to-registry
    pushes IMAGE:TAG to REGISTRY/IMAGE:TAG (full-name tags as they are),
    logging in with its own credentials, and outputs what it pushed."""
    built = job.action("redhat-actions/buildah-build", {"image": "App", "tags": "latest V1", "containerfiles": "./Dockerfile"})
    assert built.code == 0, built.stdout + built.stderr
    assert built.outputs["image-with-tag"] == "app:latest"
    assert job.run("podman", "image", "exists", "app:v1").returncode == 0
    no_creds = job.action("redhat-actions/push-to-registry", {"image": "app", "tags": "latest v1", "registry": f"{reg.host}/acme"})
    assert no_creds.code != 0 and reg.tags("acme/app") == []
    pushed = job.action("redhat-actions/push-to-registry", {
        "image": built.outputs["image"], "tags": built.outputs["tags"], "registry": f"{reg.host}/acme/",
        "username": ACTOR, "password": TOKEN})
    assert pushed.code == 0, pushed.stdout + pushed.stderr
    assert sorted(reg.tags("acme/app")) == ["latest", "v1"]
    assert json.loads(pushed.outputs["registry-paths"]) == [f"{reg.host}/acme/app:latest", f"{reg.host}/acme/app:v1"]
    assert pushed.outputs["digest"] == reg.manifest_digest("acme/app:v1")
    mixed = job.action("redhat-actions/push-to-registry", {"tags": f"{reg.host}/acme/app:x latest"})
    assert mixed.code != 0 and "mix of full name" in mixed.stdout + mixed.stderr


def test_ko_names_images_as_ko_does_and_its_tarball_holds_every_tag(tmp_path, monkeypatch):
    """ko's namers (pkg/commands/options/publish.go) and tarball
    (pkg/publish/tarball.go): every `NAME:TAG` is a RepoTag of one image."""
    import hashlib

    from standins import ko

    opts, paths = ko.parse(["--bare", "-t", "v1,latest", "--push=false", "--tarball", "x.tar", "./cmd/app"])
    assert (opts["bare"], opts["push"], opts["tags"], opts["tarball"], paths) == (True, False, ["v1", "latest"], "x.tar", ["./cmd/app"])
    # the last of a repeated bool wins, as with cobra
    assert ko.parse(["--push=false", "--push=true"])[0]["push"] is True
    with pytest.raises(ko.KoError, match="unknown flag: --nope"):
        ko.parse(["--nope"])
    (tmp_path / "go.mod").write_text("module github.com/Acme/shapes\n\ngo 1.24\n")
    path = ko.import_path("./cmd/App", tmp_path)
    assert path == "github.com/Acme/shapes/cmd/App"
    repo = "ghcr.io/acme"
    md5 = hashlib.md5(path.lower().encode()).hexdigest()
    assert ko.name_of(repo, path, {}) == f"ghcr.io/acme/app-{md5}"
    assert ko.name_of(repo, path, {"base": True}) == "ghcr.io/acme/app"
    assert ko.name_of(repo, path, {"preserve": True}) == "ghcr.io/acme/github.com/acme/shapes/cmd/app"
    assert ko.name_of(repo, path, {"bare": True}) == "ghcr.io/acme"
    rootfs = tmp_path / "e2e-app" / "amd64" / "bin"
    rootfs.mkdir(parents=True)
    (rootfs / "busybox").write_bytes(b"busybox")
    tarball = tmp_path / "image.tar"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KO_DOCKER_REPO", repo)
    monkeypatch.delenv("E2E_LOG", raising=False)
    assert ko.run(["build", "--bare", "--tags", "v1,latest", "--push=false", f"--tarball={tarball}", "./cmd/app"]) == 0
    with pytest.raises(ko.KoError, match="failed to interpret"):
        ko.run(["build", "--push=false", "--platform=linux/amd64,linux/arm64", f"--tarball={tarball}", "."])
    # Several platforms: an index, appended unnamed to an OCI layout (layout.go).
    arm = tmp_path / "e2e-app" / "arm64" / "bin"
    arm.mkdir(parents=True)
    (arm / "busybox").write_bytes(b"busybox-arm")
    layout = tmp_path / "layout"
    assert ko.run(["build", "--bare", "--push=false", "--platform=linux/amd64", "--platform", "linux/arm64",
                   f"--oci-layout-path={layout}", "."]) == 0
    top = json.loads((layout / "index.json").read_text())["manifests"]
    assert [m["mediaType"] for m in top] == ["application/vnd.oci.image.index.v1+json"]
    index = json.loads((layout / "blobs" / "sha256" / top[0]["digest"].split(":")[1]).read_text())
    assert [m["platform"] for m in index["manifests"]] == [{"os": "linux", "architecture": "amd64"},
                                                           {"os": "linux", "architecture": "arm64"}]
    assert ko.run(["build", "--push=false", f"--oci-layout-path={layout}", "."]) == 0
    assert [m["mediaType"] for m in json.loads((layout / "index.json").read_text())["manifests"]] == [
        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"]
    monkeypatch.delenv("KO_DOCKER_REPO")
    with pytest.raises(ko.KoError, match="KO_DOCKER_REPO environment variable is unset"):
        ko.run(["build", "."])
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert [m["RepoTags"] for m in manifest] == [["ghcr.io/acme:v1", "ghcr.io/acme:latest"]]


def test_jib_reads_goals_and_properties_as_its_plugins_do_and_its_tarball_holds_every_tag(tmp_path, monkeypatch):
    """Jib's goals and tasks, `jib.to.image` (`:latest` when untagged) and
    `jib.to.tags`, and the tarball of `buildTar` (every reference a RepoTag
    since jib#2054) in the build tool's output folder of the module."""

    from standins import jib

    props, builds = jib.parse("gradle", ["--no-daemon", ":services:api:jib", "-Djib.to.tags=a,b", "--image=ghcr.io/x/api"])
    assert builds == [("services/api", True)]
    assert jib.references(props) == ["ghcr.io/x/api:latest", "ghcr.io/x/api:a", "ghcr.io/x/api:b"]
    props, builds = jib.parse("maven", ["-B", "package", "com.google.cloud.tools:jib-maven-plugin:3.4.6:buildTar",
                                        "-Djib.to.image=localhost:5000/x:v1"])
    assert builds == [(".", False)] and jib.references(props) == ["localhost:5000/x:v1"]
    with pytest.raises(jib.JibError, match="Could not find goal 'push'"):
        jib.parse("maven", ["jib:push"])
    with pytest.raises(jib.JibError, match="Missing target image"):
        jib.references({})
    rootfs = tmp_path / "e2e-app" / "amd64" / "bin"
    rootfs.mkdir(parents=True)
    (rootfs / "busybox").write_bytes(b"busybox")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("E2E_LOG", raising=False)
    assert jib.run("maven", ["jib:buildTar", "-Djib.to.image=ghcr.io/x/app:v1", "-Djib.to.tags=latest"]) == 0
    with tarfile.open(tmp_path / "target" / "jib-image.tar") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert [m["RepoTags"] for m in manifest] == [["ghcr.io/x/app:v1", "ghcr.io/x/app:latest"]]
    with pytest.raises(jib.JibError, match="Project 'nope' not found"):
        jib.run("gradle", [":nope:jibBuildTar", "--image=ghcr.io/x/app"])


def test_jib_reads_the_target_and_credentials_of_the_build_file_under_the_command_line(tmp_path, monkeypatch):
    """`jib.to` of build.gradle (strings, `System.getenv`) and of pom.xml
    (`${env.NAME}`); an unset variable leaves the credential unset; the
    command line's properties win."""
    from standins import jib

    (tmp_path / "build.gradle").write_text(
        "plugins { id 'com.google.cloud.tools.jib' }\n"
        "jib {\n  to {\n    image = 'ghcr.io/acme/from-file'\n"
        "    auth {\n      username = System.getenv('USERNAME')\n      password = System.getenv(\"PASSWORD\")\n    }\n  }\n}\n"
    )
    monkeypatch.setenv("USERNAME", "octocat")
    monkeypatch.delenv("PASSWORD", raising=False)
    assert jib.build_file(tmp_path, "gradle") == {"jib.to.image": "ghcr.io/acme/from-file", "jib.to.auth.username": "octocat"}
    monkeypatch.setenv("PASSWORD", "s3cret")
    assert jib.build_file(tmp_path, "gradle")["jib.to.auth.password"] == "s3cret"
    (tmp_path / "pom.xml").write_text(
        "<plugin><configuration><to><image>quay.io/acme/m</image>"
        "<auth><username>${env.USERNAME}</username><password>${env.NOPE}</password></auth></to></configuration></plugin>"
    )
    assert jib.build_file(tmp_path, "maven") == {"jib.to.image": "quay.io/acme/m", "jib.to.auth.username": "octocat"}
    assert jib.build_file(tmp_path / "none", "maven") == {}
    rootfs = tmp_path / "e2e-app" / "amd64" / "bin"
    rootfs.mkdir(parents=True)
    (rootfs / "busybox").write_bytes(b"busybox")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("E2E_LOG", raising=False)
    assert jib.run("gradle", ["jibBuildTar", "--image=ghcr.io/acme/cli:v2"]) == 0
    with tarfile.open(tmp_path / "build" / "jib-image.tar") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert [m["RepoTags"] for m in manifest] == [["ghcr.io/acme/cli:v2"]]
