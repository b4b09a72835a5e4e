"""OCI image layouts, image references and a small registry client (the
distribution HTTP API v2), shared by the build-push-action, trivy and
cosign stand-ins."""

from __future__ import annotations

import hashlib
import io
import json
import os
import ssl
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)

#: containerd's image-name annotation (images.AnnotationImageName) and the
#: OCI ref-name annotation (ocispec.AnnotationRefName).
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"


class OciError(Exception):
    pass


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj) -> bytes:
    """Compact JSON, as Go's encoding/json writes manifests."""
    return json.dumps(obj, separators=(",", ":")).encode()


# --- references -------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A parsed image reference (github.com/distribution/reference rules:
    the first component is a registry when it has a '.' or ':' or is
    `localhost`; otherwise docker.io, and `library/` for one component)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, ref: str) -> "Reference":
        if not ref or ref != ref.strip() or any(c.isspace() for c in ref):
            raise OciError(f"invalid reference format: {ref!r}")
        name, digest = ref, None
        if "@" in ref:
            name, _, digest = ref.partition("@")
            if not digest.startswith("sha256:") or len(digest) != 71:
                raise OciError(f"invalid reference format: {ref!r}")
        tag = None
        last = name.rsplit("/", 1)[-1]
        if ":" in last:
            name, _, tag = name.rpartition(":")
            if not tag:
                raise OciError(f"invalid reference format: {ref!r}")
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            registry, repo = first, rest
        else:
            registry, repo = "docker.io", name
            if "/" not in repo:
                repo = "library/" + repo
        if repo != repo.lower() or not repo:
            raise OciError(f"invalid reference format: repository name must be lowercase: {ref!r}")
        return cls(registry, repo, tag, digest)

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def tagged(self) -> "Reference":
        """reference.TagNameOnly: a name without tag or digest gets :latest."""
        if self.tag or self.digest:
            return self
        return Reference(self.registry, self.repository, "latest")

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s


# --- layouts ----------------------------------------------------------------


class Layout:
    """An OCI image layout directory (image-spec image-layout.md)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def create(cls, root: Path) -> "Layout":
        layout = cls(root)
        (layout.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (layout.root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        return layout

    def blob_path(self, digest: str) -> Path:
        algo, _, hexd = digest.partition(":")
        return self.root / "blobs" / algo / hexd

    def blob(self, digest: str) -> bytes:
        path = self.blob_path(digest)
        if not path.is_file():
            raise OciError(f"blob {digest} missing from {self.root}")
        data = path.read_bytes()
        if digest_of(data) != digest:
            raise OciError(f"blob {digest} in {self.root} does not match its digest")
        return data

    def json_blob(self, digest: str) -> dict:
        return json.loads(self.blob(digest))

    def add_blob(self, data: bytes, media_type: str, **extra) -> dict:
        digest = digest_of(data)
        path = self.blob_path(digest)
        if not path.exists():
            path.write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def add_json(self, obj, media_type: str, **extra) -> dict:
        return self.add_blob(canonical_json(obj), media_type, **extra)

    def copy_blob_from(self, other: "Layout", digest: str) -> None:
        dest = self.blob_path(digest)
        if not dest.exists():
            dest.write_bytes(other.blob(digest))

    def index(self) -> dict:
        path = self.root / "index.json"
        if not path.is_file():
            raise OciError(f"{path}: no such file (not an OCI layout)")
        return json.loads(path.read_text())

    def write_index(self, manifests: list[dict]) -> None:
        (self.root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": manifests}, separators=(",", ":")))

    def walk(self, desc: dict) -> list[dict]:
        """Every descriptor under `desc` (itself included), children first."""
        out: list[dict] = []
        media = desc.get("mediaType")
        if media in INDEX_TYPES:
            for child in self.json_blob(desc["digest"])["manifests"]:
                out.extend(self.walk(child))
        elif media in MANIFEST_TYPES:
            m = self.json_blob(desc["digest"])
            out.append(m["config"])
            out.extend(m["layers"])
        out.append(desc)
        return out

    def copy_tree_from(self, other: "Layout", desc: dict) -> None:
        for d in other.walk(desc):
            self.copy_blob_from(other, d["digest"])


def write_layout_tar(layout: Layout, dest: Path) -> None:
    """The layout as one tar, entries as containerd's archive writer orders
    them (images/archive/exporter.go writeTar: records sorted by name;
    blobs 0444, index.json 0644, oci-layout 0444, folders 0755)."""
    records: list[tuple[str, bytes | None, int]] = [
        ("blobs/", None, 0o755),
        ("blobs/sha256/", None, 0o755),
        ("index.json", (layout.root / "index.json").read_bytes(), 0o644),
        ("oci-layout", (layout.root / "oci-layout").read_bytes(), 0o444),
    ]
    for blob in (layout.root / "blobs" / "sha256").iterdir():
        records.append((f"blobs/sha256/{blob.name}", blob.read_bytes(), 0o444))
    records.sort(key=lambda r: r[0])
    tmp = dest.with_name(dest.name + ".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in records:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, dest)


# --- registry client ------------------------------------------------------


def _auth_files() -> list[Path]:
    """Where docker and containers/image keep credentials: $DOCKER_CONFIG or
    ~/.docker config.json (docker login, login-action, buildx), then
    containers-auth.json ($XDG_RUNTIME_DIR/containers/auth.json)."""
    files = []
    docker_config = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    files.append(Path(docker_config) / "config.json")
    if os.environ.get("XDG_RUNTIME_DIR"):
        files.append(Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    return files


def credentials(registry: str) -> str | None:
    """The base64 `user:password` stored for `registry`, if any."""
    for path in _auth_files():
        try:
            auths = json.loads(path.read_text()).get("auths", {})
        except (OSError, ValueError):
            continue
        for key in (registry, f"http://{registry}", f"https://{registry}"):
            if auths.get(key, {}).get("auth"):
                return auths[key]["auth"]
    return None


class RegistryError(OciError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Registry:
    """The distribution API v2 over HTTPS, with the basic credentials
    `docker login` stored (as BuildKit and cosign use them)."""

    def __init__(self, host: str):
        self.host = host
        self.auth = credentials(host)
        # the CA the containers tools trust for this host (containers-certs.d)
        ca = Path("/etc/containers/certs.d") / host / "ca.crt"
        self.tls = ssl.create_default_context(cafile=str(ca) if ca.is_file() else None)

    def _request(self, method: str, path: str, *, data: bytes | None = None, headers: dict | None = None):
        url = path if path.startswith("http") else f"https://{self.host}{path}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if self.auth:
            req.add_header("Authorization", f"Basic {self.auth}")
        try:
            return urllib.request.urlopen(req, timeout=60, context=self.tls)
        except urllib.error.HTTPError as err:
            body = err.read().decode(errors="replace")
            try:
                detail = "; ".join(e.get("message", "") for e in json.loads(body).get("errors", []))
            except ValueError:
                detail = body.strip()
            raise RegistryError(f"{method} {url}: {err.code} {detail or err.reason}", err.code) from None
        except OSError as err:
            raise RegistryError(f"{method} {url}: {err}") from None

    def has_blob(self, repo: str, digest: str) -> bool:
        try:
            with self._request("HEAD", f"/v2/{repo}/blobs/{digest}"):
                return True
        except RegistryError as err:
            if err.status == 404:
                return False
            raise

    def push_blob(self, repo: str, digest: str, data: bytes) -> int:
        """Monolithic upload (POST then PUT ?digest=); returns bytes sent."""
        if self.has_blob(repo, digest):
            return 0
        with self._request("POST", f"/v2/{repo}/blobs/uploads/") as resp:
            location = resp.headers["Location"]
        sep = "&" if "?" in location else "?"
        url = location if location.startswith("http") else f"https://{self.host}{location}"
        with self._request("PUT", f"{url}{sep}digest={digest}", data=data, headers={"Content-Type": "application/octet-stream"}):
            return len(data)

    def put_manifest(self, repo: str, ref: str, data: bytes, media_type: str) -> str:
        with self._request("PUT", f"/v2/{repo}/manifests/{ref}", data=data, headers={"Content-Type": media_type}) as resp:
            return resp.headers.get("Docker-Content-Digest", digest_of(data))

    def get_manifest(self, repo: str, ref: str) -> tuple[str, bytes, str]:
        """(digest, bytes, media type) of a manifest, by tag or digest."""
        with self._request("GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT}) as resp:
            data = resp.read()
            return resp.headers.get("Docker-Content-Digest", digest_of(data)), data, resp.headers.get("Content-Type", "")

    def get_blob(self, repo: str, digest: str) -> bytes:
        with self._request("GET", f"/v2/{repo}/blobs/{digest}") as resp:
            return resp.read()


def push_tree(layout: Layout, desc: dict, refs: list[Reference]) -> int:
    """Push `desc` and everything under it from `layout`: blobs, child
    manifests by digest, then the top manifest under every ref's tag (or
    only by digest for a ref without tag: push-by-digest). Returns the bytes
    uploaded."""
    sent = 0
    for ref in refs:
        reg = Registry(ref.registry)
        for d in layout.walk(desc):
            data = layout.blob(d["digest"])
            if d["mediaType"] in INDEX_TYPES + MANIFEST_TYPES:
                target = ref.tag if (d is desc and ref.tag) else d["digest"]
                reg.put_manifest(ref.repository, target, data, d["mediaType"])
                sent += len(data)
            else:
                sent += reg.push_blob(ref.repository, d["digest"], data)
    return sent

