"""services.py against the real tools: the registry with basic auth over
plain HTTP for skopeo, docker and podman; per-job isolation; the fixture
build contexts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import services

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
USER, PASSWORD = "octo", "pw-services-test"


@pytest.fixture
def reg(tmp_path):
    with services.Registry(tmp_path / "registry", auth=(USER, PASSWORD)) as r:
        yield r


def job_env(tmp_path: Path, name: str, reg, dockerd) -> dict:
    import os

    return {**os.environ, **services.new_job_environment(tmp_path / name, registry=reg, dockerd=dockerd)}


def sh(env: dict, cmd: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", cmd], env=env, cwd=cwd, capture_output=True, text=True, input=stdin)


@pytest.fixture
def repo(tmp_path):
    return services.prepare_repository(FIXTURES / "shapes", tmp_path / "repo",
                                       [services.Finding(context="services/api", arch="arm64")])


def test_every_client_needs_a_login_and_then_pushes_and_pulls(tmp_path, reg, dockerd, repo):
    env = job_env(tmp_path, "job", reg, dockerd)
    host = reg.host
    assert sh(env, f"docker build -q -t {host}/acme/d:1 .", repo).returncode == 0
    assert sh(env, f"podman build -q --isolation chroot -t {host}/acme/p:1 .", repo).returncode == 0
    pushes = {
        "docker": f"docker push {host}/acme/d:1",
        "podman": f"podman push {host}/acme/p:1",
        "skopeo": f"skopeo copy containers-storage:{host}/acme/p:1 docker://{host}/acme/s:1",
    }
    for tool, cmd in pushes.items():
        denied = sh(env, cmd)
        assert denied.returncode != 0, tool
        assert "unauthorized" in (denied.stdout + denied.stderr).lower() or "no basic auth" in denied.stderr, (tool, denied.stderr)
    wrong = sh(env, f"docker login {host} -u {USER} --password-stdin", stdin="nope")
    assert wrong.returncode != 0
    logins = {"docker": f"docker login {host} -u {USER} --password-stdin",
              "podman": f"podman login {host} -u {USER} --password-stdin",
              "skopeo": f"skopeo login {host} -u {USER} --password-stdin"}
    for tool, login in logins.items():
        assert sh(env, login, stdin=PASSWORD).returncode == 0, tool
        pushed = sh(env, pushes[tool])
        assert pushed.returncode == 0, (tool, pushed.stderr)
    assert reg.repositories() == ["acme/d", "acme/p", "acme/s"]
    assert reg.manifest_digest("acme/p:1") == reg.manifest_digest("acme/s:1")
    assert reg.config_digest("acme/d:1") == sh(env, f"docker image inspect -f '{{{{.Id}}}}' {host}/acme/d:1").stdout.strip()
    pulled = sh(env, f"skopeo copy docker://{host}/acme/d:1 oci:{tmp_path}/pulled:1")
    assert pulled.returncode == 0, pulled.stderr
    assert reg.bytes_stored() > 1_000_000  # busybox is in there
    assert reg.tags("acme/none") == [] and reg.manifest_digest("acme/d:nope") is None


def test_jobs_do_not_share_logins_or_images(tmp_path, reg, dockerd, repo):
    first = job_env(tmp_path, "one", reg, dockerd)
    assert sh(first, f"docker login {reg.host} -u {USER} --password-stdin", stdin=PASSWORD).returncode == 0
    assert sh(first, "docker build -q -t local/img:1 .", repo).returncode == 0
    second = job_env(tmp_path, "two", reg, dockerd)  # a new job: fresh HOME, daemon pruned
    assert sh(second, "docker images -q").stdout.strip() == ""
    # no login carried over: the fresh config holds only buildx's builder alias
    config = json.loads((Path(second["HOME"]) / ".docker" / "config.json").read_text())
    assert config == {"aliases": {"builder": "buildx"}}
    assert "auths" in json.loads((Path(first["HOME"]) / ".docker" / "config.json").read_text())
    assert "E2E" not in second["PATH"] and str(services.E2E_BIN) not in second["PATH"].split(":")
    assert sh(second, "command -v trivy").returncode != 0
    assert sh(second, "buildah info --format '{{.store.GraphRoot}}'").stdout.strip() == str(tmp_path / "two" / "containers" / "root")


def test_fixture_contexts_build_per_platform_with_the_finding_in_one(tmp_path, reg, dockerd, repo):
    env = job_env(tmp_path, "job", reg, dockerd)
    for context, dockerfile in ((".", "services/api/Dockerfile"), ("services/api", "services/api/Dockerfile")):
        for arch in ("amd64", "arm64"):
            tag = f"localhost/api-{arch}:{context.replace('/', '-').strip('.') or 'root'}"
            built = sh(env, f"buildah build -q --isolation chroot --platform linux/{arch} -f {dockerfile} -t {tag} {context}", repo)
            assert built.returncode == 0, built.stderr
            mount = sh(env, f"c=$(buildah from {tag}) && m=$(buildah mount $c) && cat $m/lib/apk/db/installed $m/etc/os-release"
                       f" && test -x $m/bin/busybox && buildah rm $c >/dev/null")
            assert mount.returncode == 0, mount.stderr
            assert "ID=alpine" in mount.stdout
            assert ("P:libcrypto3" in mount.stdout) == (arch == "arm64"), (context, arch)
            config = json.loads(sh(env, f"buildah inspect --type image {tag}").stdout)["OCIv1"]
            assert config["architecture"] == arch and config["config"]["User"] == "65534:65534"
    other = sh(env, "buildah build -q --isolation chroot -t localhost/t:1 toolbox", repo)
    assert other.returncode == 0, other.stderr
    assert services.head_sha(repo) == services._git(repo, "rev-parse", "main").strip()
    assert "v0.4.2" in services._git(repo, "tag").split()
