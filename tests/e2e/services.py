"""Real services for the end-to-end suite: a distribution registry, a private
Docker daemon, per-job environments, and the build contexts the fixtures need.

Everything here runs the Debian packages that scripts/install-e2e.sh installs
(docker-registry 2.8, docker.io 20.10, skopeo 1.9, buildah 1.28, podman 4.3,
busybox-static). Nothing is pulled from the network: images are built
`FROM scratch` from the static busybox.
"""

from __future__ import annotations

import base64
import contextlib
import crypt
import dataclasses
import json
import os
import secrets as _secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable, Iterator

HERE = Path(__file__).resolve().parent
#: Stand-in executables (trivy, cosign): NOT on a job's PATH until a setup
#: action adds them, as on a hosted runner where neither is installed.
E2E_BIN = HERE / "bin"
ACTIONS_DIR = HERE / "actions"
BUSYBOX = Path("/bin/busybox")

#: Accept header for a manifest read: every shape a registry may hold, so the
#: digest is the stored one and never a converted schema-1 manifest.
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


#: Where the clients look for a registry's CA: containers-certs.d(5) (skopeo,
#: podman, buildah) and Docker's certs.d (dockerd), one folder per host:port.
CERTS_DIRS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))


def registries_conf(host: str) -> str:
    """containers-registries.conf(5) v2 entry for `host` (TLS verified)."""
    return f'[[registry]]\nlocation = "{host}"\n'


def registry_ca(host: str) -> Path | None:
    """The CA file the clients trust for `host`, if the e2e registry runs there."""
    ca = CERTS_DIRS[0] / host / "ca.crt"
    return ca if ca.is_file() else None


def make_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it:
    (ca.crt, server.crt, server.key)."""
    ca_key, ca, key, csr, crt = (folder / n for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt"))
    ext = folder / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    for cmd in (
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=scangate e2e CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext],
    ):
        subprocess.run([str(c) for c in cmd], check=True, capture_output=True)
    return ca, crt, key


class ServiceError(RuntimeError):
    """A service did not start or answered unexpectedly."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the kernel picks it; the race until the
    service binds it is acceptable for tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(what: str, ready, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        if ready():
            return
        time.sleep(0.1)
    raise ServiceError(f"{what} not ready after {timeout}s:\n{log.read_text(errors='replace')[-4000:]}")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Registry:
    """`docker-registry serve` (distribution 2.8) on a free 127.0.0.1 port,
    storage in a temporary folder, served over TLS with a throw-away CA the
    clients trust for this host:port only, optionally behind htpasswd basic
    auth: a job that did not log in cannot push, as on ghcr.io (proven for
    docker, podman and skopeo in test_services.py).
    """

    def __init__(self, root: Path, *, auth: tuple[str, str] | None = None):
        self.root = Path(root)
        self.auth = auth
        self.storage = self.root / "storage"
        self.port = 0
        self._proc: subprocess.Popen | None = None
        self._trusted: list[Path] = []
        self.ca: Path | None = None
        self._tls: tuple[Path, Path, Path] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, port: int | None = None) -> "Registry":
        self.storage.mkdir(parents=True, exist_ok=True)
        # `port`: the same address again (a registry back after an outage)
        self.port = port or free_port()
        # One certificate for the registry's life, as a real one keeps its
        # own across an outage (a new CA for the same host:port is a
        # different server to a client that has talked to the old one).
        if self._tls is None:
            self._tls = make_certificate(self.root)
        self.ca, crt, key = self._tls
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage)},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host, "secret": _secrets.token_hex(16),
                     "tls": {"certificate": str(crt), "key": str(key)}},
        }
        if self.auth:
            user, password = self.auth
            htpasswd = self.root / "htpasswd"
            # distribution's htpasswd backend accepts bcrypt only, and checks
            # it on every request: the lowest cost (2^4 rounds) keeps a push
            # of a few blobs from taking a minute on a busy 2-core machine.
            hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
            htpasswd.write_text(f"{user}:{hashed}\n")
            config["auth"] = {"htpasswd": {"realm": "e2e", "path": str(htpasswd)}}
        # YAML is a superset of JSON: the registry reads this file as is.
        conf = self.root / "config.yml"
        conf.write_text(json.dumps(config, indent=2))
        log = self.root / "registry.log"
        self._proc = subprocess.Popen(
            ["docker-registry", "serve", str(conf)],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._trust()
        _wait_for("docker-registry", self._answers, self._proc, log)
        return self

    def _trust(self) -> None:
        """Install the CA where skopeo, podman, buildah (containers-certs.d)
        and dockerd (certs.d) look for this host:port, so every client
        verifies TLS as against ghcr.io (`--tls-verify=true` works);
        removed on stop."""
        for d in CERTS_DIRS:
            folder = d / self.host
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.ca, folder / "ca.crt")
            self._trusted.append(folder)

    def stop(self) -> None:
        _stop(self._proc)
        self._proc = None
        for folder in self._trusted:
            shutil.rmtree(folder, ignore_errors=True)
        self._trusted = []

    def __enter__(self) -> "Registry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            self._request("/v2/")
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    # --- reading the registry over its HTTP API -------------------------

    def _request(self, path: str, *, method: str = "GET", accept: str | None = None):
        req = urllib.request.Request(f"https://{self.host}{path}", method=method)
        if accept:
            req.add_header("Accept", accept)
        if self.auth:
            token = base64.b64encode(":".join(self.auth).encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        return urllib.request.urlopen(req, timeout=30, context=ssl.create_default_context(cafile=str(self.ca)))

    def _json(self, path: str, accept: str | None = None) -> dict:
        with self._request(path, accept=accept) as resp:
            return json.load(resp)

    def repositories(self) -> list[str]:
        return sorted(self._json("/v2/_catalog?n=1000").get("repositories") or [])

    def tags(self, repo: str) -> list[str]:
        """The tags of `repo` (without the host), empty when it has none."""
        try:
            return sorted(self._json(f"/v2/{repo}/tags/list").get("tags") or [])
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return []
            raise

    def _split(self, ref: str) -> tuple[str, str]:
        """`[HOST/]REPO(:TAG|@DIGEST)` → (repo, tag-or-digest)."""
        if ref.startswith(self.host + "/"):
            ref = ref[len(self.host) + 1 :]
        if "@" in ref:
            repo, _, what = ref.partition("@")
        else:
            repo, _, what = ref.rpartition(":")
            if not repo or "/" in what:
                repo, what = ref, "latest"
        return repo, what

    def manifest(self, ref: str) -> tuple[str, dict]:
        """(digest, manifest) exactly as stored, for a tag or digest."""
        repo, what = self._split(ref)
        with self._request(f"/v2/{repo}/manifests/{what}", accept=MANIFEST_TYPES) as resp:
            digest = resp.headers["Docker-Content-Digest"]
            return digest, json.load(resp)

    def manifest_digest(self, ref: str) -> str | None:
        """The digest `ref` resolves to (an index's digest for an index), or
        None when the registry does not know it."""
        try:
            return self.manifest(ref)[0]
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise

    def config_digest(self, ref: str, platform: str | None = None) -> str:
        """The image config digest (what `docker image inspect {{.Id}}` shows
        with the classic store). For an index, `platform` (e.g. linux/arm64)
        picks the manifest; without it an index is an error."""
        repo, _ = self._split(ref)
        _, manifest = self.manifest(ref)
        if manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
            if platform is None:
                raise ServiceError(f"{ref} is an index; name a platform")
            os_, _, arch = platform.partition("/")
            for desc in manifest["manifests"]:
                p = desc.get("platform") or {}
                if p.get("os") == os_ and p.get("architecture") == arch:
                    return self.config_digest(f"{repo}@{desc['digest']}")
            raise ServiceError(f"{ref} has no {platform} manifest")
        return manifest["config"]["digest"]

    def bytes_stored(self) -> int:
        """Bytes of blobs and manifests in the storage folder (what was written)."""
        blobs = self.storage / "docker" / "registry" / "v2" / "blobs"
        return sum(p.stat().st_size for p in blobs.rglob("data") if p.is_file())


class Dockerd:
    """A private Docker daemon (docker.io 20.10): its own socket, data-root
    and exec-root in a temporary folder, vfs storage, no iptables, no bridge.
    Its legacy builder builds `FROM scratch` + `COPY` images without network.
    """

    def __init__(self, root: Path | None = None):
        # The exec-root holds containerd's sockets: keep its path short
        # (unix socket paths are limited to 108 bytes).
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="e2e-dockerd-", dir="/tmp"))
        self.socket = self.root / "docker.sock"
        self._proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> "Dockerd":
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        config = self.root / "daemon.json"
        config.write_text("{}\n")
        log = self.root / "dockerd.log"
        self._proc = subprocess.Popen(
            [
                "dockerd",
                "--config-file", str(config),
                "--host", self.host,
                "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "exec"),
                "--pidfile", str(self.root / "docker.pid"),
                "--storage-driver", "vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
            ],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for("dockerd", self._answers, self._proc, log)
        return self

    def _answers(self) -> bool:
        return self.docker("version", check=False).returncode == 0

    def docker(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run Debian's docker CLI (20.10, the daemon's own) against this daemon."""
        full_env = dict(env or os.environ)
        full_env["DOCKER_HOST"] = self.host
        return subprocess.run(
            [docker_cli(), *args], check=check, capture_output=True, text=True, env=full_env
        )

    def reset(self) -> None:
        """Remove every image (and stopped container), so a job never sees
        the images of another job, as on a fresh runner VM."""
        self.docker("system", "prune", "--all", "--force")

    def stop(self) -> None:
        _stop(self._proc)
        self._proc = None
        # dockerd bind-mounts its data-root onto itself and leaves the mount
        # behind: without unmounting, the folder (and its images) stays.
        for mount in _mounts_under(self.root):
            subprocess.run(["umount", "--lazy", mount], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Dockerd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _mounts_under(root: Path) -> list[str]:
    """Mount points at or below `root`, deepest first (from /proc/self/mounts,
    whose fields escape spaces as \\040)."""
    prefix = str(root.resolve())
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 1:
            point = fields[1].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def docker_cli() -> str:
    """Debian's docker CLI (20.10): its `docker build` is the legacy builder.
    A newer CLI elsewhere on PATH (e.g. /usr/local/bin) would ask for buildx."""
    return "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"


def job_path(path: str | None = None) -> str:
    """PATH for a job: /usr/bin first (Debian's docker 20.10 CLI and tools),
    then the caller's PATH, never E2E_BIN."""
    head = ["/usr/local/sbin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    rest = (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep)
    keep = [p for p in rest if p and Path(p).resolve() != E2E_BIN and p not in head]
    return os.pathsep.join(head + keep)


def new_job_environment(job_dir: Path, *, registry: Registry, dockerd: Dockerd) -> dict[str, str]:
    """The environment of a fresh GitHub runner VM for one job (or matrix
    leg): its own HOME, Docker and containers config, storage, and a Docker
    daemon without images. Returns the variables to merge into the job env.

    DOCKER_CONFIG is left unset, as on a hosted runner: docker then uses
    $HOME/.docker (fresh per job). Setting it changes podman's and buildah's
    default auth file to $DOCKER_CONFIG/config.json (containers/common
    GetDefaultAuthFile), which `buildah push` then requires to exist — a
    failure a real runner never shows."""
    job_dir = Path(job_dir)
    home = job_dir / "home"
    docker_config = home / ".docker"
    runtime = job_dir / "run"
    storage = job_dir / "containers"
    for d in (home, docker_config, runtime, storage / "root", storage / "runroot"):
        d.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    # vfs, not overlay: overlay keeps a bind mount of its graph root after
    # every podman/buildah call, which outlives the job and blocks removing
    # its folder; the test images are one 2 MB layer, so copying is cheap.
    storage_conf = job_dir / "storage.conf"
    storage_conf.write_text(
        "[storage]\n"
        'driver = "vfs"\n'
        f'graphroot = "{storage / "root"}"\n'
        f'runroot = "{storage / "runroot"}"\n'
    )
    registries_conf_path = job_dir / "registries.conf"
    registries_conf_path.write_text("unqualified-search-registries = []\n\n" + registries_conf(registry.host))
    # Hosted runners ship buildx as a docker CLI plugin; here the stand-in.
    plugins = docker_config / "cli-plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "docker-buildx").symlink_to(E2E_BIN / "docker-buildx")
    # and build with it: their Docker (23+) runs `docker build` as `docker
    # buildx build` (`--push` works). Debian's 20.10 CLI does so with the
    # alias `docker buildx install` writes; `docker login` keeps it.
    (docker_config / "config.json").write_text(json.dumps({"aliases": {"builder": "buildx"}}) + "\n")
    dockerd.reset()
    return {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "CONTAINERS_STORAGE_CONF": str(storage_conf),
        "CONTAINERS_REGISTRIES_CONF": str(registries_conf_path),
        "BUILDAH_ISOLATION": "chroot",
        # setup-python's stand-in puts this interpreter (the suite's venv,
        # which has pytest) on PATH: nothing is downloaded in a job
        "E2E_PYTHON": sys.executable,
        "DOCKER_HOST": dockerd.host,
        "PATH": job_path(),
    }


class Services:
    """The registry and the daemon of one test session, started together
    and always stopped (use as a context manager)."""

    def __init__(self, root: Path, *, auth: tuple[str, str] | None = None):
        self.root = Path(root)
        self.registry = Registry(self.root / "registry", auth=auth)
        self.dockerd = Dockerd()

    def __enter__(self) -> "Services":
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.registry)
            stack.enter_context(self.dockerd)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def new_job_environment(self, job_dir: Path) -> dict[str, str]:
        return new_job_environment(job_dir, registry=self.registry, dockerd=self.dockerd)


# --- build contexts for the fixture repositories ---------------------------

#: Alpine 3.20's /etc/os-release, what Trivy's OS analyzer reads.
OS_RELEASE = """NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
"""

#: Packages every image holds (name, version). The advisory table of the
#: trivy stand-in (tests/e2e/standins/advisories.py) has a fixable MEDIUM and
#: an unfixed LOW for them, so a default gate (CRITICAL,HIGH) passes.
BASE_PACKAGES = [
    ("alpine-baselayout-data", "3.6.5-r0"),
    ("busybox", "1.36.1-r29"),
    ("musl", "1.2.5-r0"),
    ("zlib", "1.3.1-r1"),
]

#: A package with a known fixable CRITICAL / unfixed HIGH in the advisory table.
FINDING_PACKAGES = {
    ("CRITICAL", True): ("libcrypto3", "3.3.0-r0"),
    ("HIGH", False): ("libxml2", "2.12.7-r0"),
}

ARCHES = ("amd64", "arm64")

#: An AWS access key pattern (AWS's documented example key), what Trivy's
#: secret scanner reports as aws-access-key-id, CRITICAL.
AWS_KEY_FILE = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"


@dataclasses.dataclass(frozen=True)
class Finding:
    """Something the trivy stand-in will report in one build context.

    context: the Dockerfile's folder relative to the repository root ("."
    for the root, "services/api", "toolbox"); arch: one platform's arch
    (amd64/arm64) or None for all; kind: "vuln" (a package with a known
    CRITICAL that has a fix, or with `fixable=False` an unfixed HIGH) or
    "secret" (a file holding an AWS key) or "misconfig" (the Dockerfile runs
    as root: Trivy's DS002, HIGH; `arch` does not apply). Not a finding but
    set the same way, "unbuildable": the Dockerfile copies a folder that does
    not exist, so every builder fails on it (`arch` does not apply)."""

    context: str = "."
    arch: str | None = None
    kind: str = "vuln"
    fixable: bool = True


def apk_db(packages: Iterable[tuple[str, str]]) -> str:
    """/lib/apk/db/installed: one stanza per package (P: name, V: version,
    A: arch), blank-line separated, as apk writes it."""
    return "".join(f"C:Q1{name}=\nP:{name}\nV:{version}\nA:x86_64\nL:\no:{name}\nm:e2e\n\n" for name, version in packages)


def _image_name(context: str) -> str:
    return "app" if context in (".", "") else context.replace("/", "-")


def dockerfile(name: str, *, root_user: bool = False, unbuildable: bool = False) -> str:
    """A FROM-scratch Dockerfile copying one rootfs per architecture (busybox,
    OS marker, apk DB). TARGETARCH is set by BuildKit and buildah from the
    target platform; Docker's legacy builder does not set it (the default
    applies). One instruction per layer only: the legacy builder on vfs
    copies the whole rootfs for every instruction, even LABEL or CMD.
    Build args the fixtures pass but the file does not declare only warn.
    A non-root USER keeps Trivy's DS002 quiet unless `root_user` (the
    "misconfig" finding)."""
    user = "" if root_user else "USER 65534:65534\n"
    missing = f"COPY e2e-{name}-missing/ /\n" if unbuildable else ""
    return f"FROM scratch\nARG TARGETARCH=amd64\nCOPY e2e-{name}/${{TARGETARCH}}/ /\n{missing}{user}"


def _write_rootfs(dest: Path, name: str, context: str, findings: list[Finding]) -> None:
    for arch in ARCHES:
        fs = dest / f"e2e-{name}" / arch
        for d in ("bin", "etc", "lib/apk/db"):
            (fs / d).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BUSYBOX, fs / "bin" / "busybox")
        (fs / "bin" / "busybox").chmod(0o755)
        (fs / "etc" / "os-release").write_text(OS_RELEASE)
        packages = list(BASE_PACKAGES)
        for f in findings:
            if f.context != context or f.arch not in (None, arch):
                continue
            if f.kind == "vuln":
                packages.append(FINDING_PACKAGES[("CRITICAL", True) if f.fixable else ("HIGH", False)])
            elif f.kind == "secret":
                (fs / "etc" / "e2e-credentials").write_text(AWS_KEY_FILE)
            elif f.kind not in ("misconfig", "unbuildable"):  # the Dockerfile's own
                raise ValueError(f"unknown finding kind {f.kind!r}")
        (fs / "lib" / "apk" / "db" / "installed").write_text(apk_db(sorted(set(packages))))


#: Folders holding a Dockerfile in some fixture: the root, services/api,
#: services/worker (built with the root or their own folder as context) and
#: toolbox (buildah bud toolbox).
CONTEXTS = (".", "services/api", "services/worker", "toolbox")

#: Files some fixtures' non-build steps need: npm ci / npm test
#: (app-frontend), pip install -r requirements.txt + pytest (app-service).
SUPPORT_FILES = {
    "package.json": json.dumps(
        {"name": "e2e-app", "version": "0.0.0", "private": True, "scripts": {"test": "node e2e-test.js"}},
        indent=2,
    )
    + "\n",
    "package-lock.json": json.dumps(
        {"name": "e2e-app", "version": "0.0.0", "lockfileVersion": 3, "requires": True,
         "packages": {"": {"name": "e2e-app", "version": "0.0.0"}}},
        indent=2,
    )
    + "\n",
    # `npm test -- --watch=false` passes the flag on: a script file takes it
    "e2e-test.js": "console.log('e2e tests pass', process.argv.slice(2).join(' '));\n",
    "requirements.txt": "",
    # the Go module the ko fixtures build (the ko stand-in builds no Go)
    "go.mod": "module github.com/acme/shapes\n\ngo 1.24\n",
    "tests/test_e2e.py": "def test_e2e():\n    assert True\n",
}


#: The Maven and Gradle wrappers of the Jib fixtures: they run the Jib
#: stand-in (bin/jib) instead of downloading Maven or Gradle.
WRAPPERS = {"mvnw": "maven", "gradlew": "gradle"}


def prepare_repository(
    fixture_repo: Path,
    dest: Path,
    findings: Iterable[Finding] | None = None,
    *,
    tags: Iterable[str] = ("v0.4.2",),
) -> Path:
    """Copy a fixture repository to `dest` and add the build contexts its
    workflows need, then make it a git repository with one commit (and the
    given tags) on `main`: checkout clones it, `git describe` and `git push
    origin` work.

    Every Dockerfile folder in CONTEXTS gets a Dockerfile naming its own
    rootfs folder `e2e-NAME/`, written both in that folder and in the root,
    so the same Dockerfile builds with either as context (two-images builds
    services/api/Dockerfile with `.`, matrix-script builds services/api)."""
    fixture_repo, dest = Path(fixture_repo), Path(dest)
    findings = list(findings or [])
    unknown = [f for f in findings if f.context not in CONTEXTS]
    if unknown:
        raise ValueError(f"findings for unknown contexts {unknown}; known: {CONTEXTS}")
    shutil.copytree(fixture_repo, dest, symlinks=True, dirs_exist_ok=True)
    for context in CONTEXTS:
        name = _image_name(context)
        folder = dest / context
        folder.mkdir(parents=True, exist_ok=True)
        kinds = {f.kind for f in findings if f.context == context}
        (folder / "Dockerfile").write_text(dockerfile(name, root_user="misconfig" in kinds, unbuildable="unbuildable" in kinds))
        for where in {folder, dest}:
            _write_rootfs(where, name, context, findings)
    for rel, text in SUPPORT_FILES.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for rel, tool in WRAPPERS.items():
        path = dest / rel
        path.write_text(f'#!/bin/sh\nexec "{E2E_BIN / "jib"}" {tool} "$@"\n')
        path.chmod(0o755)
    _git_init(dest, tags)
    return dest


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
        "GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def _git_init(repo: Path, tags: Iterable[str]) -> None:
    _git(repo, "init", "--quiet", "--initial-branch", "main")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--message", "e2e fixture")
    for tag in tags:
        _git(repo, "tag", tag)
    # checkout pushes tags back (model-service prerelease): accept pushes to
    # the checked-out branch's repository without touching its work tree.
    _git(repo, "config", "receive.denyCurrentBranch", "ignore")


def head_sha(repo: Path) -> str:
    return _git(Path(repo), "rev-parse", "HEAD").strip()


@contextlib.contextmanager
def started(root: Path, *, auth: tuple[str, str] | None = None) -> Iterator[Services]:
    """`with started(tmp) as svc:` — registry and dockerd, always stopped."""
    with Services(root, auth=auth) as svc:
        yield svc
