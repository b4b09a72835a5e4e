"""The docker/build-push-action stand-in: buildx + BuildKit's exporters,
imitated with buildah (one build per platform) and Docker's daemon (load).

What it reproduces, with the source read:
- input lists: docker/actions-toolkit src/util.ts getInputList (tags and
  platforms split on newlines and commas; build-args, labels, outputs,
  build-contexts, cache-* on newlines only);
- default provenance: docker/build-push-action src/context.ts adds
  `--provenance` (mode=min) unless `provenance` is set, the env
  BUILDX_NO_DEFAULT_ATTESTATIONS is set, or the exporter is docker
  (load: true / type=docker); an attestation manifest (platform
  unknown/unknown, annotations vnd.docker.reference.digest/.type) then
  joins each image in an image index — so a single-platform push with
  default provenance pushes an index;
- the OCI exporter: BuildKit's exporter/oci passes every name (the tags)
  to containerd's archive writer (containerd images/archive/exporter.go
  WithManifest(desc, names...)), which writes ONE index.json descriptor
  PER NAME, same digest, each with io.containerd.image.name (the full
  normalised name) and org.opencontainers.image.ref.name (the tag);
  `dest` is a tar unless `tar=false`;
- `rewrite-timestamp=true` with a SOURCE_DATE_EPOCH build-arg: the layers'
  file times (buildah --timestamp, which sets the created time too);
- `annotation-index.KEY=VALUE`: KEY on the image index (an error on a
  single-platform manifest, as BuildKit's);
- the tags name every image and OCI exporter over its own `name=`;
- `type=image,...,push=true` (and `push: true`, which sets push=true on an
  image exporter of `outputs:` or else adds type=registry): manifests
  pushed by digest, the top one under each tag, or only by digest with
  push-by-digest=true; credentials from the docker config, as buildx;
- outputs digest (containerimage.digest), imageid (the config digest, or
  the index digest for several platforms, as buildx's iidfile) and
  metadata (the buildx metadata file JSON).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from . import action
from .action import ActionError
from .oci import (
    ANNOTATION_IMAGE_NAME,
    ANNOTATION_REF_NAME,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Layout,
    OciError,
    Reference,
    push_tree,
    write_layout_tar,
)

IN_TOTO = "application/vnd.in-toto+json"
PROVENANCE_PREDICATE = "https://slsa.dev/provenance/v0.2"
SBOM_PREDICATE = "https://spdx.dev/Document"


def parse_output(spec: str) -> dict[str, str]:
    """buildx's CSV exporter spec (`type=oci,dest=f.tar`), quotes allowed."""
    attrs: dict[str, str] = {}
    for field in next(csv.reader([spec])):
        key, sep, value = field.partition("=")
        if not sep:
            raise ActionError(f"invalid value {field!r} in output {spec!r}: expected key=value")
        attrs[key.strip().lower()] = value.strip()
    if "type" not in attrs:
        # buildx: a bare path means type=local,dest=PATH
        raise ActionError(f"output {spec!r}: the stand-in supports only explicit type=oci|docker|image|registry")
    return attrs


def truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


@dataclasses.dataclass
class Options:
    """What buildx is asked: by the action's inputs or `docker buildx build`."""

    context: str = ""
    file: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    platforms: list[str] = dataclasses.field(default_factory=list)
    build_args: list[str] = dataclasses.field(default_factory=list)
    labels: list[str] = dataclasses.field(default_factory=list)
    outputs: list[str] = dataclasses.field(default_factory=list)
    build_contexts: list[str] = dataclasses.field(default_factory=list)
    target: str = ""
    push: bool = False
    load: bool = False
    provenance: str = ""
    sbom: str = ""
    #: accepted and recorded; `cache-to: type=local,dest=DIR` writes DIR
    #: (an OCI layout, as BuildKit's local cache exporter does), the rest is
    #: not imitated (no BuildKit cache here)
    cache_from: list[str] = dataclasses.field(default_factory=list)
    cache_to: list[str] = dataclasses.field(default_factory=list)
    #: docker-container (a builder from setup-buildx-action) or docker (the
    #: default builder: the daemon's own BuildKit, classic image store)
    driver: str = "docker-container"

    @classmethod
    def from_inputs(cls) -> "Options":
        return cls(
            context=action.get_input("context"), file=action.get_input("file"), tags=action.get_list("tags"),
            platforms=action.get_list("platforms"), build_args=action.get_list("build-args", ignore_comma=True),
            labels=action.get_list("labels", ignore_comma=True), outputs=action.get_list("outputs", ignore_comma=True),
            build_contexts=action.get_list("build-contexts", ignore_comma=True), target=action.get_input("target"),
            push=action.get_bool("push"), load=action.get_bool("load"),
            provenance=action.get_input("provenance") if has_attestation_inputs() else "",
            sbom=action.get_input("sbom") if has_attestation_inputs() else "", driver=builder_driver(action.get_input("builder")),
            cache_from=action.get_list("cache-from", ignore_comma=True), cache_to=action.get_list("cache-to", ignore_comma=True))


def has_attestation_inputs(ref: str | None = None) -> bool:
    """Whether the action's version reads `provenance` and `sbom`: added in
    v3.3.0 (docker/build-push-action#746). Older versions ignore them (GitHub
    warns of an unexpected input), while buildx >= 0.10 still adds its
    default provenance unless BUILDX_NO_DEFAULT_ATTESTATIONS is set."""
    ref = os.environ.get("GITHUB_ACTION_REF", "") if ref is None else ref
    parts = ref.removeprefix("v").split(".")
    if not parts[0].isdigit():
        return True  # a branch or a SHA: taken as a current version
    numbers = [int(p) for p in parts[:2] if p.isdigit()]
    major, minor = numbers[0], (numbers[1] if len(numbers) > 1 else None)
    return major > 3 or (major == 3 and (minor is None or minor >= 3))


def builder_driver(name: str = "") -> str:
    """The driver of the builder a build uses: `name` (the `builder` input,
    `--builder`), else $BUILDX_BUILDER, else the one `docker buildx use`
    (setup-buildx-action's `use: true`) recorded in ~/.docker/buildx/current;
    none of them → the default builder, docker driver. Builders live in
    ~/.docker/buildx/instances/NAME, where buildx keeps them."""
    buildx = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "buildx"
    name = name or os.environ.get("BUILDX_BUILDER", "")
    if not name and (buildx / "current").is_file():
        name = json.loads((buildx / "current").read_text()).get("Name", "")
    if not name or name == "default":
        return "docker"
    instance = buildx / "instances" / name
    if not instance.is_file():
        raise ActionError(f'no builder "{name}" found')
    return json.loads(instance.read_text()).get("Driver", "docker-container")


class Build:
    """One build: buildx with the given options."""

    def __init__(self, opts: Options):
        self.opts = opts
        self.workspace = Path(os.environ.get("GITHUB_WORKSPACE", os.getcwd()))
        self.tags = opts.tags
        self.platforms = opts.platforms or ["linux/amd64"]
        self.build_args = opts.build_args
        self.labels = opts.labels
        self.outputs = opts.outputs
        self.build_contexts = opts.build_contexts
        self.target = opts.target
        self.push = opts.push
        self.load = opts.load
        self.provenance = opts.provenance
        self.sbom = opts.sbom
        self.tmp = Path(tempfile.mkdtemp(prefix="bpa-", dir=os.environ.get("RUNNER_TEMP")))
        self.record: dict = {"options": dataclasses.asdict(opts), "platforms": self.platforms, "tags": self.tags}

    # --- what to export --------------------------------------------------

    def exporters(self) -> list[dict[str, str]]:
        exporters = [parse_output(o) for o in self.outputs]
        if self.push:
            # buildx (commands/build.go): `--push` sets push=true on each image
            # exporter of `--output`, and adds one only when there is none.
            images = [e for e in exporters if e["type"] == "image"]
            for e in images:
                e["push"] = "true"
            if not images:
                exporters.append({"type": "registry"})
        if self.load or (not exporters and self.opts.driver == "docker"):
            exporters.append({"type": "docker"})
        for e in exporters:
            if e["type"] == "registry":
                e["type"], e["push"] = "image", "true"
            if e["type"] not in ("oci", "docker", "image"):
                raise ActionError(f"exporter type={e['type']} is not imitated by the stand-in")
        if self.opts.driver == "docker":
            if len(self.platforms) > 1:
                raise ActionError("Multi-platform build is not supported for the docker driver.\n"
                                  "Switch to a different driver, or turn on the containerd image store, and try again.")
            if any(e["type"] == "oci" for e in exporters):
                raise ActionError("OCI exporter is not supported for the docker driver.\n"
                                  "Switch to a different driver, or turn on the containerd image store, and try again.")
        return exporters

    def attestations(self, exporters: list[dict]) -> list[str]:
        """Predicate types of the attestation manifests BuildKit adds (none
        with the docker exporter or driver: the classic store holds none)."""
        if any(e["type"] == "docker" for e in exporters) or self.opts.driver == "docker":
            return []
        kinds = []
        if self.provenance:
            if not self.provenance.lower().startswith("false") and "disabled=true" not in self.provenance:
                kinds.append(PROVENANCE_PREDICATE)
        elif not os.environ.get("BUILDX_NO_DEFAULT_ATTESTATIONS"):
            kinds.append(PROVENANCE_PREDICATE)
        if self.sbom and not self.sbom.lower().startswith("false"):
            kinds.append(SBOM_PREDICATE)
        return kinds

    def names(self, exporter: dict) -> list[Reference]:
        """buildx (build/build.go, "fill in image exporter names from tags"):
        the tags name every image, oci and docker exporter, over its own
        `name=`; without tags, `name=` does."""
        raw = exporter.get("name")
        if self.tags:
            names = list(self.tags)
        else:
            names = [n.strip() for n in raw.split(",") if n.strip()] if raw else []
        try:
            return [Reference.parse(n).tagged() for n in names]
        except OciError as err:
            raise ActionError(f"invalid tag: {err}") from None

    # --- building ----------------------------------------------------------

    def context(self) -> Path:
        """The `context` input, or buildx's default Git context: the
        repository at GITHUB_SHA, not the workspace (local changes are not
        seen), fetched here from E2E_REPO."""
        value = self.opts.context
        if value:
            return (self.workspace / value).resolve()
        dest = self.tmp / "git-context"
        repo, sha = os.environ.get("E2E_REPO"), os.environ.get("GITHUB_SHA", "HEAD")
        if not repo:
            raise ActionError("no context input and no E2E_REPO for the default Git context")
        subprocess.run(["git", "clone", "--quiet", repo, str(dest)], check=True, capture_output=True)
        subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", "--detach", sha], check=True, capture_output=True)
        return dest

    def dockerfile(self, context: Path) -> Path:
        value = self.opts.file
        return (self.workspace / value).resolve() if value else context / "Dockerfile"

    def build_flags(self, *, contexts: bool = True) -> list[str]:
        """The build's flags; Docker's legacy builder has no --build-context."""
        flags: list[str] = []
        for arg in self.build_args:
            flags += ["--build-arg", arg]
        for label in self.labels:
            flags += ["--label", label]
        if self.target:
            flags += ["--target", self.target]
        if self.build_contexts and not contexts:
            raise ActionError("build-contexts need BuildKit: the docker (load) path of the stand-in cannot build them")
        for bc in self.build_contexts:
            flags += ["--build-context", bc]
        return flags

    def timestamp_flags(self, exporters: list[dict]) -> list[str]:
        """`rewrite-timestamp=true`: BuildKit rewrites the layers' file times
        to SOURCE_DATE_EPOCH (the build-arg, else buildx's own environment
        variable), per exporter; without an epoch it changes nothing. buildah's
        --timestamp sets the file times and the created time, so one build
        serves every exporter only when they agree. (SOURCE_DATE_EPOCH alone,
        which sets only the created time in BuildKit, is not imitated.)"""
        rewrite = {truthy(e.get("rewrite-timestamp")) for e in exporters if e["type"] in ("oci", "image")}
        if len(rewrite) > 1:
            raise ActionError("the stand-in builds once: its exporters must agree on rewrite-timestamp")
        args = dict(a.partition("=")[::2] for a in self.build_args)
        epoch = args.get("SOURCE_DATE_EPOCH") or os.environ.get("SOURCE_DATE_EPOCH", "")
        if rewrite != {True} or not epoch:
            return []
        self.record["rewrite_timestamp"] = epoch
        return ["--timestamp", epoch]

    def buildah_layout(self, context: Path, dockerfile: Path, exporters: list[dict]) -> tuple[Layout, list[dict]]:
        """Build every platform with buildah; return a layout holding them
        and their manifest descriptors (with platform)."""
        layout = Layout.create(self.tmp / "layout")
        descs = []
        timestamp = self.timestamp_flags(exporters)
        for platform in self.platforms:
            os_, _, arch = platform.partition("/")
            arch, _, variant = arch.partition("/")
            image = f"localhost/e2e-bpa-{uuid.uuid4().hex[:12]}:{arch}"
            run(["buildah", "build", "--quiet", "--isolation", "chroot", "--platform", platform, *timestamp,
                 "--file", str(dockerfile), *self.build_flags(), "--tag", image, str(context)])
            one = Layout(self.tmp / f"one-{arch}{variant}")
            run(["buildah", "push", "--quiet", image, f"oci:{one.root}"])
            run(["buildah", "rmi", image])
            desc = one.index()["manifests"][0]
            layout.copy_tree_from(one, desc)
            shutil.rmtree(one.root)
            plat = {"architecture": arch, "os": os_}
            if variant:
                plat["variant"] = variant
            descs.append({"mediaType": OCI_MANIFEST, "digest": desc["digest"], "size": desc["size"], "platform": plat})
        return layout, descs

    def attestation(self, layout: Layout, image: dict, kinds: list[str], names: list[Reference]) -> dict:
        """An attestation manifest for `image`, as BuildKit attaches it."""
        plat = image["platform"]
        purl_plat = "%2F".join([plat["os"], plat["architecture"]] + ([plat["variant"]] if "variant" in plat else []))
        subjects = [
            {"name": f"pkg:docker/{n.name}@{n.tag or 'latest'}?platform={purl_plat}", "digest": {"sha256": image["digest"][7:]}}
            for n in names
        ] or [{"name": "_", "digest": {"sha256": image["digest"][7:]}}]
        layers = []
        for kind in kinds:
            statement = {"_type": "https://in-toto.io/Statement/v0.1", "predicateType": kind, "subject": subjects,
                         "predicate": {"buildType": "https://mobyproject.org/buildkit@v1"} if kind == PROVENANCE_PREDICATE else {"spdxVersion": "SPDX-2.3"}}
            layers.append(layout.add_json(statement, IN_TOTO, annotations={"in-toto.io/predicate-type": kind}))
        config = layout.add_json({"architecture": "unknown", "os": "unknown", "config": {},
                                  "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}, OCI_CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": layers}
        return layout.add_json(manifest, OCI_MANIFEST, annotations={
            "vnd.docker.reference.digest": image["digest"], "vnd.docker.reference.type": "attestation-manifest"},
            platform={"architecture": "unknown", "os": "unknown"})

    def top(self, layout: Layout, images: list[dict], kinds: list[str], names: list[Reference]) -> dict:
        """The descriptor exporters write: the manifest itself for one
        platform without attestations, else an image index."""
        annotations = self.index_annotations()
        if len(images) == 1 and not kinds:
            if annotations:
                raise ActionError("index annotations not supported for single platform export")
            return {k: v for k, v in images[0].items() if k != "platform"}
        manifests = list(images)
        if kinds:
            manifests += [self.attestation(layout, img, kinds, names) for img in images]
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
        if annotations:
            index["annotations"] = annotations
        return layout.add_json(index, OCI_INDEX)

    def index_annotations(self) -> dict[str, str]:
        """`annotation-index.KEY=VALUE` of the image and OCI exporters: BuildKit
        writes KEY on the image index, and rejects it when the export is one
        platform's manifest (exporter/containerimage: "index annotations not
        supported for single platform export"). The stand-in builds once, so
        its exporters must agree on them."""
        found = {
            tuple(sorted((k.removeprefix("annotation-index."), v) for k, v in e.items() if k.startswith("annotation-index.")))
            for e in self.exporters() if e["type"] in ("oci", "image")
        }
        if len(found) > 1:
            raise ActionError("the stand-in builds once: its exporters must agree on annotation-index")
        return dict(found.pop()) if found else {}

    # --- exporting -----------------------------------------------------------

    def export_oci(self, layout: Layout, top: dict, exporter: dict) -> None:
        dest = exporter.get("dest")
        if not dest:
            raise ActionError("type=oci: dest is required (the stand-in does not write to stdout)")
        names = self.names(exporter)
        manifests = [
            {**top, "annotations": {ANNOTATION_IMAGE_NAME: str(n), ANNOTATION_REF_NAME: n.tag}} for n in names
        ] or [top]
        out = Layout.create(self.tmp / "export")
        out.copy_tree_from(layout, top)
        out.write_index(manifests)
        path = (self.workspace / dest).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        if exporter.get("tar", "true").lower() == "false":
            shutil.rmtree(path, ignore_errors=True)
            shutil.copytree(out.root, path)
        else:
            write_layout_tar(out, path)
        shutil.rmtree(out.root)
        self.record.setdefault("exports", []).append({"type": "oci", "dest": str(path), "descriptors": len(manifests)})

    def export_image(self, layout: Layout, top: dict, exporter: dict) -> None:
        names = self.names(exporter)
        if not names:
            raise ActionError("tag is needed when pushing to registry")
        if not truthy(exporter.get("push")):
            self.record.setdefault("exports", []).append({"type": "image", "pushed": []})
            return
        by_digest = truthy(exporter.get("push-by-digest"))
        refs = [Reference(n.registry, n.repository) if by_digest else n for n in names]
        try:
            sent = push_tree(layout, top, refs)
        except OciError as err:
            raise ActionError(f"failed to push {', '.join(map(str, refs))}: {err}") from None
        pushed = [f"{r.name}@{top['digest']}" if by_digest else str(r) for r in refs]
        self.record["bytes_pushed"] = self.record.get("bytes_pushed", 0) + sent
        self.record.setdefault("exports", []).append({"type": "image", "pushed": pushed})
        self.names_out = ",".join(r.name if by_digest else str(r) for r in refs)

    def export_docker(self, context: Path, dockerfile: Path, exporter: dict) -> str:
        """load / type=docker: the Docker daemon builds it (legacy builder),
        so the image lands in its store as with buildx's docker driver.
        Returns the image ID (config digest)."""
        if len(self.platforms) > 1:
            raise ActionError("docker exporter does not currently support exporting manifest lists")
        if exporter.get("dest"):
            raise ActionError("type=docker,dest=… is not imitated by the stand-in")
        tags = []
        for n in self.names(exporter):
            tags += ["--tag", str(n).removeprefix("docker.io/library/")]
        iid = self.tmp / "iid"
        run(["docker", "--config", str(self.legacy_config()), "build", "--quiet", "--iidfile", str(iid),
             "--file", str(dockerfile), *self.build_flags(contexts=False), *tags, str(context)])
        image_id = iid.read_text().strip()
        self.record.setdefault("exports", []).append({"type": "docker", "image_id": image_id})
        return image_id

    def legacy_config(self) -> Path:
        """The job's Docker config (credentials too) without the builder alias
        (services.new_job_environment: `docker build` is buildx's, as on hosted
        runners), so that this build is the daemon's own and not this stand-in
        again."""
        folder = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
        config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
        config.get("aliases", {}).pop("builder", None)
        legacy = self.tmp / "docker-config"
        legacy.mkdir(exist_ok=True)
        (legacy / "config.json").write_text(json.dumps(config))
        return legacy

    def export_local_caches(self) -> None:
        """`cache-to: type=local,dest=DIR`: BuildKit writes the cache to DIR
        as an OCI layout (index.json, blobs); here an empty one, so that
        steps that move the directory afterwards find it."""
        for spec in self.opts.cache_to:
            dest = _local_cache_dest(spec)
            if dest:
                path = Path(dest)
                (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
                (path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": []}))

    def run(self) -> dict:
        """Build and export; returns imageid, digest and buildx's metadata."""
        exporters = self.exporters()
        kinds = self.attestations(exporters)
        context = self.context()
        dockerfile = self.dockerfile(context)
        if not dockerfile.is_file():
            raise ActionError(f"failed to read dockerfile: open {dockerfile}: no such file or directory")
        started = time.monotonic()
        image_id = digest = ""
        metadata: dict = {"buildx.build.ref": f"builder/builder0/{uuid.uuid4().hex[:25]}"}
        self.names_out = ",".join(self.tags)
        needs_buildah = any(e["type"] != "docker" for e in exporters) or not exporters
        if needs_buildah:
            layout, images = self.buildah_layout(context, dockerfile, exporters)
            names = self.names(exporters[0]) if exporters else []
            top = self.top(layout, images, kinds, names)
            digest = top["digest"]
            self.record["manifests"] = {
                "/".join(filter(None, [i["platform"]["os"], i["platform"]["architecture"], i["platform"].get("variant")])): {
                    "digest": i["digest"], "config": layout.json_blob(i["digest"])["config"]["digest"]}
                for i in images
            }
            if len(images) == 1:
                image_id = layout.json_blob(images[0]["digest"])["config"]["digest"]
                metadata["containerimage.config.digest"] = image_id
            else:
                image_id = digest
            metadata["containerimage.descriptor"] = {k: top[k] for k in ("mediaType", "digest", "size")}
            metadata["containerimage.digest"] = digest
            for e in exporters:
                if e["type"] == "oci":
                    self.export_oci(layout, top, e)
                elif e["type"] == "image":
                    self.export_image(layout, top, e)
            if not exporters:
                action.warning("No output specified with docker-container driver. Build result will only remain in the build cache. To push result image into registry use --push or to load image into docker use --load")
        for e in exporters:
            if e["type"] == "docker":
                image_id = self.export_docker(context, dockerfile, e)
                metadata["containerimage.config.digest"] = image_id
        if self.names_out and exporters:
            metadata["image.name"] = self.names_out
        self.export_local_caches()
        self.record.update(digest=digest, imageid=image_id, attestations=kinds, driver=self.opts.driver,
                           build_seconds=round(time.monotonic() - started, 2))
        return {"imageid": image_id, "digest": digest, "metadata": metadata}


def _local_cache_dest(spec: str) -> str | None:
    attrs = dict(f.partition("=")[::2] for f in next(csv.reader([spec])))
    return attrs.get("dest") if attrs.get("type") == "local" else None


def run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ActionError(f"{' '.join(cmd[:2])} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    return proc.stdout


def execute(opts: Options, tool: str) -> dict:
    """Run one build, always recording it in E2E_LOG."""
    build = Build(opts)
    try:
        return build.run()
    finally:
        action.record(tool, **build.record)
        shutil.rmtree(build.tmp, ignore_errors=True)


def main() -> None:
    """docker/build-push-action: outputs imageid, digest, metadata."""
    result = execute(Options.from_inputs(), "docker/build-push-action")
    action.set_output("imageid", result["imageid"])
    action.set_output("digest", result["digest"])
    action.set_output("metadata", json.dumps(result["metadata"], indent=2))
    action.info(f"digest: {result['digest']}\nimageid: {result['imageid']}")
