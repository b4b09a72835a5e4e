"""The small stand-ins: checkout, login, setup-* actions, upload-sarif,
gh-release and the attest actions. Each does what the real one does to
the job (files, PATH, credentials, outputs) as far as this machine allows,
and records its call in E2E_LOG."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from . import action
from .action import ActionError
from .oci import OciError, Reference, Registry

E2E_BIN = Path(__file__).resolve().parents[1] / "bin"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise ActionError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


# --- actions/checkout --------------------------------------------------------


def checkout() -> None:
    """Clone E2E_REPO (the repository of this run) into the workspace at
    GITHUB_SHA: history depth `fetch-depth` (1 by default; 0 = all history
    and tags, as actions/checkout), the branch checked out on a branch
    event, detached otherwise. `origin` is E2E_REPO, so `git push origin`
    works. persist-credentials has nothing to persist here (recorded)."""
    repo = _env("E2E_REPO")
    if not repo:
        raise ActionError("E2E_REPO is not set: no repository to check out")
    workspace = Path(_env("GITHUB_WORKSPACE", os.getcwd()))
    dest = workspace / action.get_input("path") if action.get_input("path") else workspace
    depth = int(action.get_input("fetch-depth") or "1")
    sha = action.get_input("ref") or _env("GITHUB_SHA") or "HEAD"
    dest.mkdir(parents=True, exist_ok=True)
    clone = ["git", "clone", "--quiet", "--no-checkout"]
    if depth > 0:
        clone += ["--depth", str(depth), "--no-tags"]
    _run([*clone, f"file://{Path(repo).resolve()}", str(dest)])
    if depth > 0 and action.get_bool("fetch-tags"):
        _run(["git", "-C", str(dest), "fetch", "--quiet", "--tags", "origin"])
    ref = _env("GITHUB_REF")
    if ref.startswith("refs/heads/") and not action.get_input("ref"):
        _run(["git", "-C", str(dest), "checkout", "--quiet", "-B", ref[len("refs/heads/"):], sha])
    else:
        _run(["git", "-C", str(dest), "checkout", "--quiet", "--detach", sha])
    commit = _run(["git", "-C", str(dest), "rev-parse", "HEAD"]).stdout.strip()
    action.set_output("ref", ref)
    action.set_output("commit", commit)
    action.record("actions/checkout", path=str(dest), commit=commit, fetch_depth=depth,
                  persist_credentials=action.get_input("persist-credentials"))


# --- docker/login-action -----------------------------------------------------


def login() -> None:
    """`docker login --password-stdin --username U REGISTRY`, as login-action
    runs it (src/docker.ts loginStandard); the credentials land in
    $DOCKER_CONFIG/config.json, which buildx, skopeo and podman read too."""
    registry = action.get_input("registry")
    username = action.get_input("username")
    password = action.get_input("password")
    if not username or not password:
        raise ActionError("Username and password required")
    cmd = ["docker", "login", "--password-stdin", "--username", username]
    if registry:
        cmd.append(registry)
    proc = subprocess.run(cmd, input=password, capture_output=True, text=True)
    action.record("docker/login-action", registry=registry, username=username, ok=proc.returncode == 0)
    if proc.returncode != 0:
        raise ActionError(proc.stderr.strip())
    action.info("Login Succeeded!")


# --- docker/setup-buildx-action, docker/setup-qemu-action -------------------


def setup_buildx() -> None:
    """Creates the builder's record (docker-container driver) and, with
    `use: true`, makes it the current one for later `docker buildx` calls and
    build-push-action, as the real action does. No BuildKit runs: the
    build stand-ins build with buildah."""
    name = action.get_input("name") or f"builder-{_env('GITHUB_RUN_ID', '0')}-{_env('GITHUB_JOB')}"
    driver = action.get_input("driver") or "docker-container"
    platforms = action.get_input("platforms") or "linux/amd64,linux/amd64/v2,linux/amd64/v3,linux/386"
    for key, value in {"name": name, "driver": driver, "platforms": platforms, "status": "running",
                       "endpoint": f"unix://{_env('DOCKER_HOST').removeprefix('unix://')}",
                       "nodes": json.dumps([{"name": f"{name}0", "status": "running", "platforms": platforms}]),
                       "flags": "--allow-insecure-entitlement security.insecure --allow-insecure-entitlement network.host"}.items():
        action.set_output(key, value)
    buildx = Path(_env("DOCKER_CONFIG") or Path.home() / ".docker") / "buildx"
    (buildx / "instances").mkdir(parents=True, exist_ok=True)
    (buildx / "instances" / name).write_text(json.dumps({"Name": name, "Driver": driver, "Nodes": [{"Name": f"{name}0"}]}))
    if action.get_bool("use"):
        # what `docker buildx use NAME` writes: later buildx calls use it
        (buildx / "current").write_text(json.dumps({"Key": _env("DOCKER_HOST"), "Name": name, "Global": False}))
    action.record("docker/setup-buildx-action", name=name, driver=driver, use=action.get_input("use"),
                  install=action.get_input("install"))


def setup_qemu() -> None:
    """No emulation is needed: the stand-in builds never RUN a foreign
    binary (FROM scratch + COPY), so every platform builds natively."""
    platforms = "linux/amd64,linux/arm64,linux/riscv64,linux/ppc64le,linux/s390x,linux/386,linux/arm/v7,linux/arm/v6"
    action.set_output("platforms", platforms)
    action.record("docker/setup-qemu-action", platforms=action.get_input("platforms"))


# --- installers: setup-trivy, cosign-installer ------------------------------


def _install(tool: str, folder: str) -> Path:
    """Link the stand-in `tool` into `folder` and put it on PATH (for the
    next steps, through GITHUB_PATH), as the real installers do."""
    dest = Path(os.path.expandvars(folder))
    dest.mkdir(parents=True, exist_ok=True)
    link = dest / tool
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(E2E_BIN / tool)
    action.add_path(dest)
    return link


def setup_trivy() -> None:
    """aquasecurity/setup-trivy installs the asked Trivy release. The
    stand-in refuses `latest` (a gate must pin its scanner: the March 2026
    tag hijack of trivy-action) and makes `trivy --version` report the pin."""
    version = action.get_input("version") or "latest"
    action.record("aquasecurity/setup-trivy", version=version, cache=action.get_input("cache"))
    if version == "latest":
        raise ActionError("setup-trivy stand-in: version `latest` is refused; pin a release (vX.Y.Z)")
    if not version.startswith("v"):
        raise ActionError(f"setup-trivy: version {version!r} must look like vX.Y.Z")
    _install("trivy", action.get_input("path") or "$HOME/.local/bin/trivy-bin")
    action.export_variable("E2E_TRIVY_VERSION", version.removeprefix("v"))


def setup_ko() -> None:
    """ko-build/setup-ko installs ko and, when KO_DOCKER_REPO is set, passes
    it on to later steps (GITHUB_ENV); when it is unset the real action logs
    in to ghcr.io with the job token and sets ghcr.io/OWNER/REPO, which the
    stand-in refuses (action.yml, v0.9)."""
    version = action.get_input("version") or "latest-release"
    _install("ko", "$HOME/.local/bin/ko-bin")
    repo = _env("KO_DOCKER_REPO")
    if not repo:
        # The login with the job token is not emulated (the stand-in has no
        # github.token): the fixtures set KO_DOCKER_REPO and log in themselves.
        raise ActionError("setup-ko stand-in: set KO_DOCKER_REPO; the implicit ghcr.io login is not emulated")
    action.export_variable("KO_DOCKER_REPO", repo)
    action.record("ko-build/setup-ko", version=version, ko_docker_repo=repo)


def setup_go() -> None:
    """Nothing is downloaded (the ko stand-in builds no Go): the asked
    version is recorded; like the real action, a `go-version-file` must
    exist."""
    wanted = action.get_input("go-version")
    version_file = action.get_input("go-version-file")
    if version_file:
        path = Path(_env("GITHUB_WORKSPACE", os.getcwd())) / version_file
        if not path.exists():
            raise ActionError(f"The specified go version file at: {path} does not exist")
        wanted = next((l.split()[1] for l in path.read_text().splitlines() if l.startswith("go ")), wanted)
    action.set_output("go-version", wanted or "")
    action.set_output("cache-hit", "false")
    action.record("actions/setup-go", requested=wanted)


def cosign_installer() -> None:
    release = action.get_input("cosign-release")
    _install("cosign", action.get_input("install-dir") or "$HOME/.cosign")
    action.record("sigstore/cosign-installer", release=release)


# --- github/codeql-action/upload-sarif ---------------------------------------


def _validate_sarif(path: Path) -> list[dict]:
    """The SARIF 2.1.0 shape code scanning needs; returns the runs."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ActionError(f"Invalid SARIF. JSON syntax error: {path}: {err}") from None
    if doc.get("version") != "2.1.0":
        raise ActionError(f"Invalid SARIF. Version {doc.get('version')!r} in {path}: only 2.1.0 is supported")
    runs = doc.get("runs")
    if not isinstance(runs, list) or not runs:
        raise ActionError(f"Invalid SARIF. {path}: `runs` must be a non-empty array")
    for i, run in enumerate(runs):
        driver = (run.get("tool") or {}).get("driver") or {}
        if not driver.get("name"):
            raise ActionError(f"Invalid SARIF. {path}: runs[{i}].tool.driver.name is required")
        for j, result in enumerate(run.get("results") or []):
            if not (result.get("message") or {}).get("text") and not (result.get("message") or {}).get("id"):
                raise ActionError(f"Invalid SARIF. {path}: runs[{i}].results[{j}].message requires text or id")
    return runs


def upload_sarif() -> None:
    """Validate the SARIF file(s) and register the upload under its
    category. One run of a workflow may not upload two SARIF files with the
    same tool and category (codeql-action src/upload-lib.ts: "only one run
    of the codeql/analyze or codeql/upload-sarif actions is allowed per job
    per tool/category"); a re-run attempt may upload again."""
    workspace = Path(_env("GITHUB_WORKSPACE", os.getcwd()))
    target = workspace / action.get_input("sarif_file")
    files = sorted(target.rglob("*.sarif")) if target.is_dir() else [target]
    if not files or not files[0].exists():
        raise ActionError(f"Path does not exist: {target}")
    category = action.get_input("category")
    seen_dir = Path(_env("E2E_ARTIFACTS", str(workspace))).with_name(Path(_env("E2E_ARTIFACTS", "run")).name + ".code-scanning")
    seen_dir.mkdir(parents=True, exist_ok=True)
    attempt = int(_env("GITHUB_RUN_ATTEMPT", "1") or 1)
    uploads = []
    try:
        for f in files:
            for run in _validate_sarif(f):
                cat = (run.get("automationDetails") or {}).get("id") or category or f".github/workflows:{_env('GITHUB_JOB')}"
                tool = run["tool"]["driver"]["name"]
                key = seen_dir / (f"{tool}-{cat}".replace("/", "_") + ".json")
                if key.exists() and json.loads(key.read_text())["attempt"] == attempt:
                    raise ActionError(
                        "Aborting upload: only one run of the codeql/analyze or codeql/upload-sarif actions is allowed per job "
                        "per tool/category. The easiest fix is to specify a unique value for the `category` input. "
                        f"Category: ({cat}) Tool: ({tool})")
                key.write_text(json.dumps({"attempt": attempt, "job": _env("GITHUB_JOB"), "file": str(f)}))
                uploads.append({"category": cat, "tool": tool, "results": len(run.get("results") or [])})
        action.set_output("sarif-id", f"e2e-{_env('GITHUB_RUN_ID')}-{_env('GITHUB_JOB')}-{len(uploads)}")
    finally:
        action.record("github/codeql-action/upload-sarif", files=[str(f) for f in files], uploads=uploads,
                      categories=[u["category"] for u in uploads])


# --- softprops/action-gh-release ---------------------------------------------


def gh_release() -> None:
    """Records the release it would create. Like the real action, it needs
    a tag: `tag_name`, or the pushed tag of the event."""
    tag = action.get_input("tag_name") or (_env("GITHUB_REF_NAME") if _env("GITHUB_REF_TYPE") == "tag" else "")
    fields = {k: action.get_input(k) for k in ("name", "draft", "prerelease", "generate_release_notes", "files", "make_latest")}
    action.record("softprops/action-gh-release", tag_name=tag, **fields)
    if not tag:
        raise ActionError("⚠️ GitHub Releases requires a tag")
    url = f"{_env('GITHUB_SERVER_URL', 'https://github.com')}/{_env('GITHUB_REPOSITORY')}/releases/tag/{tag}"
    action.set_output("url", url)
    action.set_output("id", "1")
    action.set_output("upload_url", url.replace("/releases/tag/", "/releases/") + "/assets{?name,label}")
    action.set_output("assets", "[]")


# --- actions/attest, attest-build-provenance, attest-sbom --------------------


def attest() -> None:
    _attest("actions/attest")


def attest_build_provenance() -> None:
    _attest("actions/attest-build-provenance")


def attest_sbom() -> None:
    _attest("actions/attest-sbom")


def _attest(uses: str) -> None:
    """An attestation for an image: subject-name + subject-digest must name
    a manifest that exists in the registry (the real action fails to push
    to, or link, an unknown subject). The attestation itself is recorded,
    not signed (no Sigstore here)."""
    name = action.get_input("subject-name")
    digest = action.get_input("subject-digest")
    path = action.get_input("subject-path")
    record = {"subject_name": name, "subject_digest": digest, "subject_path": path,
              "push_to_registry": action.get_input("push-to-registry"), "predicate_type": action.get_input("predicate-type")}
    try:
        if not (path or (name and digest)):
            raise ActionError("One of subject-path, subject-digest or subject-checksums must be provided")
        if name and digest:
            try:
                ref = Reference.parse(f"{name}@{digest}")
                Registry(ref.registry).get_manifest(ref.repository, digest)
            except OciError as err:
                raise ActionError(f"subject {name}@{digest} is not in the registry: {err}") from None
            record["verified"] = True
        bundle = Path(_env("RUNNER_TEMP", "/tmp")) / f"attestation-{digest[7:19] or 'file'}.jsonl"
        bundle.write_text(json.dumps({"subject": record}) + "\n")
        action.set_output("bundle-path", str(bundle))
        action.set_output("attestation-id", "1")
        action.set_output("attestation-url", f"{_env('GITHUB_SERVER_URL', 'https://github.com')}/{_env('GITHUB_REPOSITORY')}/attestations/1")
    finally:
        action.record(uses, **record)


# --- actions/setup-python, actions/setup-node --------------------------------


def setup_python() -> None:
    """Puts the test suite's own Python (E2E_PYTHON, its venv holds pytest)
    first on PATH: nothing is downloaded, so `python-version` is recorded
    but not honoured — the output says which version is really there."""
    python = Path(_env("E2E_PYTHON") or sys.executable)
    version = _run([str(python), "-c", "import platform; print(platform.python_version())"]).stdout.strip()
    action.add_path(python.parent)
    action.set_output("python-version", version)
    action.set_output("python-path", str(python))
    action.set_output("cache-hit", "false")
    action.record("actions/setup-python", requested=action.get_input("python-version"), actual=version)


def setup_node() -> None:
    """Uses the machine's node; like the real action, `cache: npm` needs a
    lock file ("Dependencies lock file is not found")."""
    cache = action.get_input("cache")
    workspace = Path(_env("GITHUB_WORKSPACE", os.getcwd()))
    locks = {"npm": ["package-lock.json", "npm-shrinkwrap.json"], "yarn": ["yarn.lock"], "pnpm": ["pnpm-lock.yaml"]}
    if cache:
        if cache not in locks:
            raise ActionError(f"Caching for '{cache}' is not supported")
        if not any((workspace / f).exists() for f in locks[cache]):
            raise ActionError(f"Dependencies lock file is not found in {workspace}. Supported file patterns: {','.join(locks[cache])}")
    version = _run(["node", "--version"]).stdout.strip()
    action.set_output("node-version", version)
    action.set_output("cache-hit", "false")
    action.record("actions/setup-node", requested=action.get_input("node-version"), actual=version, cache=cache)


# --- aws-actions/configure-aws-credentials, aws-actions/amazon-ecr-login ----


def configure_aws_credentials() -> None:
    """Exports the variables the real action exports after assuming the role
    (aws-actions/configure-aws-credentials README, "Environment variables"):
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
    AWS_DEFAULT_REGION. No AWS is reached; the values are throw-away."""
    region = action.get_input("aws-region", required=True)
    role = action.get_input("role-to-assume")
    for name, value in {"AWS_ACCESS_KEY_ID": "ASIAE2ESTANDIN000000", "AWS_SECRET_ACCESS_KEY": "e2e-secret",
                        "AWS_SESSION_TOKEN": "e2e-session", "AWS_REGION": region, "AWS_DEFAULT_REGION": region}.items():
        action.export_variable(name, value)
    action.record("aws-actions/configure-aws-credentials", region=region, role=role)


def amazon_ecr_login() -> None:
    """What amazon-ecr-login does (its README): with the job's AWS credentials,
    fetch a registry token and `docker login` to the account's registry, output
    `registry`. Without credentials it fails, as the real action does. Here
    the token is the local registry's own credentials (E2E_REGISTRY_AUTH) and
    the account's registry is the local one."""
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        raise ActionError("Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers")
    registry = _env("E2E_REGISTRY")
    user, _, password = _env("E2E_REGISTRY_AUTH").partition(":")
    proc = subprocess.run(["docker", "login", "--password-stdin", "--username", user, registry],
                          input=password, capture_output=True, text=True)
    action.record("aws-actions/amazon-ecr-login", registry=registry, ok=proc.returncode == 0)
    if proc.returncode != 0:
        raise ActionError(proc.stderr.strip())
    action.set_output("registry", registry)
