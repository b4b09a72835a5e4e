"""The ko stand-in: `ko build` / `ko publish` (the alias) of one or more Go
import paths, without Go.

Faithful parts (sources read: ko-build/ko pkg/commands/options/publish.go,
pkg/publish/tarball.go, ko.build/reference/ko_build):
- flags: --bare, -B/--base-import-paths, -P/--preserve-import-paths,
  -t/--tags (comma-separated, repeatable; default `latest`), --platform,
  --push (default true), --tarball, -L/--local, --image-refs,
  --oci-layout-path, --insecure-registry; `--flag=value` and `--flag value`;
  the last of a repeated bool wins (cobra). Unknown flags fail as cobra does.
- naming (MakeNamer): KO_DOCKER_REPO + `<base of import path>-<md5 of the
  import path>` by default, `/<import path>` with -P, `/<base>` with -B,
  KO_DOCKER_REPO itself with --bare. A relative import path (`./cmd/app`)
  is the module's (go.mod) path joined with it; names are lower-cased.
- KO_DOCKER_REPO unset while pushing: "KO_DOCKER_REPO environment variable
  is unset".
- --tarball: a docker-load tarball (manifest.json with every `NAME:TAG` as
  RepoTags) of the images; "there's no way to write an index to a tarball",
  so several platforms fail. With --push (the default) every tag is pushed
  too; with --push=false and no --tarball nothing is written.
- several platforms (`--platform` comma-separated or repeated; the values
  add up): an OCI image index, one manifest per platform with its
  `platform`, pushed as a whole.
- --oci-layout-path (pkg/publish/layout.go): the layout is created when
  missing, and each import path's result appended to its index.json (the
  index of several platforms, else the image), unnamed; with --push=false
  alone ko prints `LAYOUT@DIGEST`.
- stdout: one reference per import path, `NAME@DIGEST` (`NAME:TAG@DIGEST`
  when one tag other than latest is given), as ko prints them.
Simplified: no Go build. The image is the fixture's FROM-scratch rootfs of
the build context named like the import path's base (`services/<base>` when
it exists, else the repository root, see services.py), plus ko's layer
`/ko-app/<base>`; linux/amd64 unless --platform names others (`all`, the
base image's platforms, is not implemented).
Pushes go through skopeo (ko uses go-containerregistry; the registry sees
the same kind of manifest)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .oci import OCI_INDEX, OCI_MANIFEST, Layout

BOOL_FLAGS = {"--bare": "bare", "-B": "base", "--base-import-paths": "base", "-P": "preserve",
              "--preserve-import-paths": "preserve", "-L": "local", "--local": "local", "--push": "push",
              "--insecure-registry": "insecure", "--debug": "debug", "--disable-optimizations": "noopt"}
VALUE_FLAGS = {"-t": "tags", "--tags": "tags", "--platform": "platform", "--tarball": "tarball",
               "--image-refs": "image_refs", "--oci-layout-path": "oci_layout", "--sbom": "sbom",
               "--sbom-dir": "sbom_dir", "--image-label": "label", "--image-annotation": "annotation",
               "--image-user": "user", "-j": "jobs", "--jobs": "jobs"}


class KoError(Exception):
    pass


def _truthy(value: str) -> bool:
    if value.lower() in ("1", "t", "true"):
        return True
    if value.lower() in ("0", "f", "false"):
        return False
    raise KoError(f'invalid argument "{value}": strconv.ParseBool: parsing "{value}": invalid syntax')


def parse(argv: list[str]) -> tuple[dict, list[str]]:
    opts: dict = {"push": True, "tags": [], "platform": []}
    paths: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            paths.append(arg)
            continue
        flag, eq, value = arg.partition("=")
        if flag in BOOL_FLAGS:
            opts[BOOL_FLAGS[flag]] = _truthy(value) if eq else True
        elif flag in VALUE_FLAGS:
            if not eq:
                if i >= len(argv):
                    raise KoError(f"flag needs an argument: {flag}")
                value = argv[i]
                i += 1
            key = VALUE_FLAGS[flag]
            if key in ("tags", "platform"):
                opts[key].extend(v for v in value.split(",") if v)
            else:
                opts[key] = value
        else:
            raise KoError(f"unknown flag: {flag}")
    return opts, paths or ["."]


def module_path(workdir: Path) -> str:
    gomod = workdir / "go.mod"
    if not gomod.exists():
        raise KoError("go.mod not found: ko builds Go modules (run it in the module's folder)")
    for line in gomod.read_text().splitlines():
        if line.startswith("module "):
            return line.split()[1]
    raise KoError("go.mod has no module line")


def import_path(path: str, workdir: Path) -> str:
    if path == "." or path.startswith("./") or path.startswith("../"):
        rel = os.path.normpath(path)
        module = module_path(workdir)
        return module if rel == "." else f"{module}/{rel}"
    return path


def name_of(repo: str, importpath: str, opts: dict) -> str:
    """MakeNamer: the first of -P, -B, --bare that is set, else base-md5."""
    importpath = importpath.lower()
    base = importpath.rstrip("/").rsplit("/", 1)[-1]
    if opts.get("preserve"):
        return f"{repo}/{importpath}"
    if opts.get("base"):
        return f"{repo}/{base}"
    if opts.get("bare"):
        return repo
    return f"{repo}/{base}-{hashlib.md5(importpath.encode()).hexdigest()}"


def _context_rootfs(workdir: Path, base: str, arch: str) -> Path:
    """The fixture rootfs standing in for the Go binary's image: the build
    context named like the import path's base, else the repository root's."""
    for context, name in ((f"services/{base}", f"services-{base}"), (".", "app")):
        folder = workdir / context / f"e2e-{name}" / arch
        if folder.is_dir():
            return folder
    raise KoError(f"no e2e rootfs for {base} ({arch}) under {workdir}")


def _layer(files: list[tuple[str, Path | bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, src, mode in files:
            data = src.read_bytes() if isinstance(src, Path) else src
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_image(workdir: Path, importpath: str, platform: str) -> tuple[bytes, list[bytes]]:
    """(config JSON, layer tars): the base rootfs, then ko's /ko-app layer."""
    os_, _, arch = platform.partition("/")
    arch = arch.split("/")[0] or "amd64"
    base = importpath.rstrip("/").rsplit("/", 1)[-1].lower()
    rootfs = _context_rootfs(workdir, base, arch)
    files = sorted(p for p in rootfs.rglob("*") if p.is_file())
    base_layer = _layer([(str(p.relative_to(rootfs)), p, p.stat().st_mode & 0o777) for p in files])
    app_layer = _layer([(f"ko-app/{base}", f"#!ko-app {importpath}\n".encode(), 0o755)])
    layers = [base_layer, app_layer]
    config = {
        "architecture": arch,
        "os": os_ or "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": [f"/ko-app/{base}"], "User": "65532",
                   "Env": ["PATH=/ko-app:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "KO_DATA_PATH=/var/run/ko"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "ko build " + importpath}],
    }
    return json.dumps(config, sort_keys=True).encode(), layers


def manifest_bytes(config: bytes, layers: list[bytes]) -> bytes:
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": len(l),
                    "digest": "sha256:" + hashlib.sha256(l).hexdigest()} for l in layers],
    }
    return json.dumps(manifest, sort_keys=True).encode()


def manifest_digest(config: bytes, layers: list[bytes]) -> str:
    return "sha256:" + hashlib.sha256(manifest_bytes(config, layers)).hexdigest()


def add_image(layout: Layout, config: bytes, layers: list[bytes], **extra) -> dict:
    """The image's blobs in `layout`; its manifest's descriptor."""
    layout.add_blob(config, "application/vnd.oci.image.config.v1+json")
    for layer in layers:
        layout.add_blob(layer, "application/vnd.oci.image.layer.v1.tar")
    return layout.add_blob(manifest_bytes(config, layers), OCI_MANIFEST, **extra)


def add_index(layout: Layout, built: list[tuple[str, bytes, list[bytes]]]) -> dict:
    """An OCI index of one manifest per (platform, config, layers); its descriptor."""
    manifests = []
    for platform, config, layers in built:
        os_, _, arch = platform.partition("/")
        arch, _, variant = arch.partition("/")
        described = {"os": os_, "architecture": arch, **({"variant": variant} if variant else {})}
        manifests.append(add_image(layout, config, layers, platform=described))
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    return layout.add_blob(json.dumps(index, sort_keys=True).encode(), OCI_INDEX)


def append_to_layout(path: Path, built: list[tuple[str, bytes, list[bytes]]]) -> dict:
    """layout.go's writeResult: the layout created when missing, the result
    (an index for several platforms) appended to its index.json."""
    layout = Layout(path) if (path / "index.json").is_file() else Layout.create(path)
    manifests = layout.index()["manifests"] if (path / "index.json").is_file() else []
    if len(built) == 1:
        _, config, layers = built[0]
        desc = add_image(layout, config, layers)
    else:
        desc = add_index(layout, built)
    layout.write_index(manifests + [desc])
    return desc


def write_tarball(path: Path, images: list[tuple[list[str], bytes, list[bytes]]]) -> None:
    """go-containerregistry's tarball.MultiRefWrite: one manifest.json entry
    per image, its references as RepoTags."""
    entries = []
    with tarfile.open(path, "w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for refs, config, layers in images:
            config_name = f"sha256:{hashlib.sha256(config).hexdigest()}"
            add(config_name, config)
            names = []
            for layer in layers:
                names.append(f"{hashlib.sha256(layer).hexdigest()}.tar")
                add(names[-1], layer)
            entries.append({"Config": config_name, "RepoTags": refs, "Layers": names})
        add("manifest.json", json.dumps(entries).encode())


def push(built: list[tuple[str, bytes, list[bytes]]], refs: list[str], creds: str | None = None) -> str:
    """Pushes the image (an index of several platforms) under every
    reference (with `creds`, USER:PASSWORD, else the Docker config's);
    returns the manifest digest."""
    with tempfile.TemporaryDirectory() as tmp:
        if len(built) == 1:
            _, config, layers = built[0]
            archive = Path(tmp) / "image.tar"
            write_tarball(archive, [([], config, layers)])
            source, copy_all = f"docker-archive:{archive}", []
        else:
            append_to_layout(Path(tmp) / "layout", built)
            source, copy_all = f"oci:{Path(tmp) / 'layout'}", ["--all", "--preserve-digests"]
        digest = ""
        for ref in refs:
            digestfile = Path(tmp) / "digest"
            auth = ["--dest-creds", creds] if creds else []
            proc = subprocess.run(["skopeo", "copy", "--quiet", *copy_all, "--digestfile", str(digestfile), *auth,
                                   source, f"docker://{ref}"], capture_output=True, text=True)
            if proc.returncode != 0:
                raise KoError(f"pushing {ref}: {proc.stderr.strip()}")
            print(f"Published {ref}", file=sys.stderr)
            digest = digestfile.read_text().strip()
        return digest


def _record(**fields) -> None:
    path = os.environ.get("E2E_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"tool": "ko", "job": os.environ.get("GITHUB_JOB", ""), **fields}, sort_keys=True) + "\n")


def run(argv: list[str]) -> int:
    if not argv or argv[0] not in ("build", "publish"):
        raise KoError(f"the ko stand-in runs `ko build` and `ko publish` only, not {argv[:1]}")
    opts, paths = parse(argv[1:])
    if opts.get("local") or opts.get("image_refs"):
        raise KoError("the ko stand-in does not implement --local or --image-refs")
    repo = os.environ.get("KO_DOCKER_REPO", "")
    if not repo and opts["push"]:
        raise KoError("KO_DOCKER_REPO environment variable is unset")
    platforms = list(dict.fromkeys(opts["platform"])) or ["linux/amd64"]
    if "all" in platforms:
        raise KoError("the ko stand-in does not implement --platform=all")
    tags = opts["tags"] or ["latest"]
    workdir = Path.cwd()
    images = []
    for path in paths:
        importpath = import_path(path, workdir)
        name = name_of(repo, importpath, opts)
        if len(platforms) > 1 and opts.get("tarball"):
            raise KoError(f"failed to interpret {importpath} result as image: an index")
        built = [(p, *build_image(workdir, importpath, p)) for p in platforms]
        refs = [f"{name}:{tag}" for tag in tags]
        digest = ""
        if opts.get("oci_layout"):
            digest = append_to_layout(Path(opts["oci_layout"]), built)["digest"]
        if opts["push"]:
            digest = push(built, refs)
        if len(built) == 1:
            _, config, layers = built[0]
            images.append((refs, config, layers))
            digest = digest or manifest_digest(config, layers)
        if opts.get("oci_layout") and not opts["push"] and not opts.get("tarball"):
            shown = f"{opts['oci_layout']}@{digest}"
        elif len(tags) == 1 and tags[0] != "latest":
            shown = f"{name}:{tags[0]}@{digest}"
        else:
            shown = f"{name}@{digest}"
        _record(command=argv[0], importpath=importpath, refs=refs, push=opts["push"], tarball=opts.get("tarball", ""),
                oci_layout=opts.get("oci_layout", ""), platform=",".join(platforms), digest=digest)
        print(shown)
    if opts.get("tarball"):
        write_tarball(Path(opts["tarball"]), images)
    return 0


def main() -> int:
    try:
        return run(sys.argv[1:])
    except KoError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
