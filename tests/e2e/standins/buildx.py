"""The `docker buildx` CLI plugin stand-in (hosted runners ship buildx as
a docker CLI plugin; services.new_job_environment links this one into
~/.docker/cli-plugins). `buildx build` shares standins/build.py with
build-push-action; `buildx imagetools create` merges manifests into an
index and pushes it, `imagetools inspect --raw` prints a manifest.

Flags of `docker buildx build` as documented (docs.docker.com reference
docker_buildx_build): -t/--tag, -f/--file, --platform, --push, --load,
-o/--output, --build-arg, --label, --target, --build-context, --provenance,
--sbom, --attest, --metadata-file, --iidfile, --cache-from, --cache-to,
--pull, --no-cache, -q/--quiet, --progress, --builder. An unknown flag
fails as cobra does. The driver is that of the builder named by
--builder / $BUILDX_BUILDER or chosen by `docker buildx use`
(setup-buildx-action's stand-in records both as buildx does); otherwise
the default builder's docker driver.
"""

from __future__ import annotations

import json
import os
import sys

from . import action
from .action import ActionError
from .build import Options, builder_driver, execute
from .oci import (DOCKER_LIST, DOCKER_MANIFEST, INDEX_TYPES, OCI_INDEX, OciError, Reference, Registry,
                  canonical_json, digest_of)

VERSION = "github.com/docker/buildx v0.29.1 (e2e stand-in)"
METADATA = {"SchemaVersion": "0.1.0", "Vendor": "Docker Inc.", "Version": "v0.29.1", "ShortDescription": "Docker Buildx"}

# flag: takes a value (True), boolean (False), optional value (None)
BUILD_FLAGS = {"tag": True, "t": True, "file": True, "f": True, "platform": True, "push": False, "load": False,
               "output": True, "o": True, "build-arg": True, "label": True, "target": True, "build-context": True,
               "provenance": None, "sbom": None, "attest": True, "metadata-file": True, "iidfile": True,
               "cache-from": True, "cache-to": True, "pull": False, "no-cache": False, "quiet": False, "q": False,
               "progress": True, "builder": True, "secret": True, "ssh": True, "network": True, "add-host": True,
               "annotation": True, "allow": True, "shm-size": True, "ulimit": True}
ALIASES = {"t": "tag", "f": "file", "o": "output", "q": "quiet"}


def parse_flags(argv: list[str], known: dict) -> tuple[dict[str, list[str]], list[str]]:
    flags: dict[str, list[str]] = {}
    args: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            args.append(arg)
            continue
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
        else:
            name, value = arg[1:2], arg[2:].removeprefix("=")
            eq = "=" if value else ""
        if name not in known:
            raise ActionError(f"unknown flag: {arg.split('=')[0]}" if arg.startswith("--")
                              else f"unknown shorthand flag: '{name}' in {arg}")
        kind = known[name]
        if kind is True and not eq:
            if i >= len(argv):
                raise ActionError(f"flag needs an argument: {arg}")
            value, i = argv[i], i + 1
        elif kind is not True and not eq:
            value = "true"
        flags.setdefault(ALIASES.get(name, name), []).append(value)
    return flags, args


def build(argv: list[str]) -> None:
    flags, args = parse_flags(argv, BUILD_FLAGS)
    if len(args) != 1:
        raise ActionError(f'"docker buildx build" requires exactly 1 argument.\nSee \'docker buildx build --help\'.')
    one = lambda k: (flags.get(k) or [""])[-1]  # noqa: E731
    truthy = lambda k: one(k).lower() in ("true", "1")  # noqa: E731
    attests = flags.get("attest", [])
    provenance = one("provenance") or next((a for a in attests if "type=provenance" in a), "")
    sbom = one("sbom") or next((a for a in attests if "type=sbom" in a), "")
    # The CLI reads PATH and --file from the current folder (the action's
    # inputs, from the workspace: Options' base).
    here = lambda p: p if not p or p == "-" or "://" in p else os.path.abspath(p)  # noqa: E731
    opts = Options(
        context=here(args[0]), file=here(one("file")), tags=flags.get("tag", []),
        platforms=[p for v in flags.get("platform", []) for p in v.split(",") if p],
        build_args=flags.get("build-arg", []), labels=flags.get("label", []), outputs=flags.get("output", []),
        build_contexts=flags.get("build-context", []), target=one("target"), push=truthy("push"), load=truthy("load"),
        provenance=provenance, sbom=sbom, driver=builder_driver(one("builder")),
        cache_from=flags.get("cache-from", []), cache_to=flags.get("cache-to", []))
    result = execute(opts, "docker buildx build")
    if one("metadata-file"):
        with open(one("metadata-file"), "w") as f:
            json.dump(result["metadata"], f, indent=2)
    if one("iidfile"):
        with open(one("iidfile"), "w") as f:
            f.write(result["imageid"])
    if truthy("quiet"):
        print(result["imageid"])


def _platform(reg: Registry, repo: str, desc: dict) -> dict:
    config = json.loads(reg.get_blob(repo, json.loads(reg.get_manifest(repo, desc["digest"])[1])["config"]["digest"]))
    plat = {"architecture": config.get("architecture", ""), "os": config.get("os", "")}
    if config.get("variant"):
        plat["variant"] = config["variant"]
    return plat


def imagetools_create(argv: list[str]) -> None:
    """Merge the sources' manifests into one index under every tag. As
    documented (docs.docker.com, `docker buildx imagetools create`): with one
    source that is an index or manifest list, a carbon copy; with one single
    manifest, a new list holding it (a Docker manifest list for a Docker
    manifest) unless `--prefer-index=false`, which copies it as it is."""
    flags, sources = parse_flags(argv, {"tag": True, "t": True, "dry-run": False, "append": False,
                                        "annotation": True, "file": True, "f": True, "builder": True, "progress": True,
                                        "prefer-index": None})
    tags = [Reference.parse(t) for t in flags.get("tag", [])]
    if not tags or not sources:
        raise ActionError("imagetools create needs --tag and at least one source")
    prefer_index = (flags.get("prefer-index") or ["true"])[-1].lower() in ("true", "1")
    manifests, copied = [], 0
    tops = []
    for src in sources:
        ref = Reference.parse(src)
        reg = Registry(ref.registry)
        digest, data, media = reg.get_manifest(ref.repository, ref.digest or ref.tag or "latest")
        doc = json.loads(data)
        media = media or doc.get("mediaType")
        tops.append((ref, {"mediaType": media, "digest": digest, "size": len(data)}, data))
        descs = doc["manifests"] if media in INDEX_TYPES or "manifests" in doc else [
            {"mediaType": media, "digest": digest, "size": len(data)}]
        for d in descs:
            d = dict(d)
            d.setdefault("platform", _platform(reg, ref.repository, d))
            manifests.append((ref, d))
    single = tops[0] if len(tops) == 1 and not flags.get("annotation") else None
    if single and (single[1]["mediaType"] in INDEX_TYPES or not prefer_index):
        # a carbon copy: the source's own bytes (its manifests come along below)
        index, index_type = single[2], single[1]["mediaType"]
    else:
        docker = all(d["mediaType"] == DOCKER_MANIFEST for _, d in manifests)
        index_type = DOCKER_LIST if docker else OCI_INDEX
        index = canonical_json({"schemaVersion": 2, "mediaType": index_type, "manifests": [d for _, d in manifests]})
    for tag in tags:
        dest = Registry(tag.registry)
        for ref, d in manifests:
            if (ref.registry, ref.repository) != (tag.registry, tag.repository):
                copied += _copy_manifest(Registry(ref.registry), ref.repository, dest, tag.repository, d)
        if "true" not in flags.get("dry-run", []):
            dest.put_manifest(tag.repository, tag.tag or "latest", index, index_type)
    action.record("docker buildx imagetools create", sources=sources, tags=[str(t) for t in tags],
                  digest=digest_of(index), bytes_pushed=copied + len(index))


def _copy_manifest(src: Registry, src_repo: str, dest: Registry, dest_repo: str, desc: dict) -> int:
    _, data, media = src.get_manifest(src_repo, desc["digest"])
    doc = json.loads(data)
    sent = 0
    for blob in [doc["config"], *doc["layers"]]:
        sent += dest.push_blob(dest_repo, blob["digest"], src.get_blob(src_repo, blob["digest"]))
    dest.put_manifest(dest_repo, desc["digest"], data, media or doc["mediaType"])
    return sent + len(data)


def imagetools_inspect(argv: list[str]) -> None:
    flags, args = parse_flags(argv, {"raw": False, "format": True, "builder": True})
    ref = Reference.parse(args[0])
    digest, data, media = Registry(ref.registry).get_manifest(ref.repository, ref.digest or ref.tag or "latest")
    if flags.get("raw"):
        sys.stdout.write(data.decode())
    else:
        print(f"Name:      {ref}\nMediaType: {media}\nDigest:    {digest}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["docker-cli-plugin-metadata"]:
        print(json.dumps(METADATA))
        return 0
    if argv[:1] == ["buildx"]:  # the docker CLI passes the plugin's name first
        argv = argv[1:]
    try:
        if argv[:1] == ["build"] or argv[:1] == ["b"]:
            build(argv[1:])
        elif argv[:2] == ["imagetools", "create"]:
            imagetools_create(argv[2:])
        elif argv[:2] == ["imagetools", "inspect"]:
            imagetools_inspect(argv[2:])
        elif argv[:1] == ["version"]:
            print(VERSION)
        else:
            raise ActionError(f"the buildx stand-in does not imitate `docker buildx {' '.join(argv[:2])}`")
        return 0
    except (ActionError, OciError) as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
