"""Stand-ins for redhat-actions/buildah-build and redhat-actions/push-to-registry:
real buildah and podman, run as the actions run them (their src/index.ts),
so that what they build and push lands in the job's containers storage and
the local registry. Only the inputs the tests use are imitated; the others
are refused rather than ignored."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from . import action
from .action import ActionError


def _tags(text: str) -> list[str]:
    """Tags split on whitespace and lower-cased (both actions); `latest` when none."""
    return [t.lower() for t in text.split()] or ["latest"]


def _full_name(image: str, tag: str) -> str:
    """util.ts getFullImageName: a tag with a colon is a full name already."""
    return tag if tag.find(":") > 0 else f"{image}:{tag}"


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise ActionError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _refuse_unimitated(*names: str) -> None:
    for name in names:
        if action.get_input(name):
            raise ActionError(f"input `{name}` is not imitated by the stand-in")


def buildah_build() -> None:
    """doBuildUsingContainerFiles: `buildah bud -f FILE… --format oci|docker
    --tag IMAGE:FIRST CONTEXT` in the workspace, then the other tags added
    (`buildah tag`); outputs image, tags (as given), image-with-tag."""
    _refuse_unimitated("archs", "platforms", "extra-args", "build-args", "labels")
    image = action.get_input("image").lower()
    tags_input = action.get_input("tags") or "latest"
    tags = _tags(tags_input)
    if not image and any(t.find(":") <= 0 for t in tags):
        raise ActionError('Input "image" must be provided when not using full image name tags')
    files = [f.strip() for f in action.get_input("containerfiles").splitlines() if f.strip()]
    if not files:
        raise ActionError("the stand-in imitates builds from containerfiles only")
    workspace = Path(os.environ.get("GITHUB_WORKSPACE", os.getcwd()))
    first = _full_name(image, tags[0])
    cmd = ["buildah", "bud"]
    for f in files:
        cmd += ["-f", str(workspace / f)]
    cmd += ["--format", "oci" if action.get_bool("oci") else "docker", "--tag", first,
            str(workspace / (action.get_input("context") or "."))]
    _run(cmd)
    for tag in tags[1:]:
        _run(["buildah", "tag", first, _full_name(image, tag)])
    action.record("redhat-actions/buildah-build", image=image, tags=tags)
    action.set_output("image", image)
    action.set_output("tags", tags_input)
    action.set_output("image-with-tag", first)


def push_to_registry() -> None:
    """run(): source IMAGE:TAG (or the full-name tag) from containers storage
    to REGISTRY/IMAGE:TAG (or the tag itself): `podman push --quiet
    --digestfile F SRC DEST [--tls-verify=X] [--creds=U:P]`; outputs digest,
    registry-path, registry-paths (JSON). `extra-args` are split over lines,
    then spaces, trimmed, and passed before the source, as the action does.
    The Docker-storage fallback and manifest pushes are not imitated."""
    _refuse_unimitated("digestfile")
    extra = [a.strip() for line in action.get_input("extra-args").splitlines() for a in line.split(" ") if a.strip()]
    image = action.get_input("image").lower()
    tags = _tags(action.get_input("tags"))
    registry = action.get_input("registry").rstrip("/")
    full = tags[0].find(":") > 0
    if any((t.find(":") > 0) != full for t in tags):
        raise ActionError('Input "tags" cannot have a mix of full name and non full name tags')
    if full:
        sources, destinations = tags, tags
    else:
        if not image or not registry:
            raise ActionError('Input "image" and "registry" must be provided when using non full name tags')
        sources = [f"{image}:{t}" for t in tags]
        destinations = [f"{registry}/{image}:{t}" for t in tags]
    username, password = action.get_input("username"), action.get_input("password")
    tls = action.get_input("tls-verify")
    digest_file = Path(os.environ.get("RUNNER_TEMP", ".")) / "push-to-registry-digest.txt"
    pushed = []
    for src, dest in zip(sources, destinations):
        if subprocess.run(["podman", "image", "exists", src]).returncode != 0:
            raise ActionError(f'All tags were not found in either Podman image storage, or Docker image storage. Tag "{src}" not found')
        cmd = ["podman", "push", "--quiet", "--digestfile", str(digest_file), *extra, src, dest]
        if tls:
            cmd.append(f"--tls-verify={tls}")
        if username and password:
            cmd.append(f"--creds={username}:{password}")
        _run(cmd)
        pushed.append(dest)
        action.set_output("digest", digest_file.read_text().strip())
    action.record("redhat-actions/push-to-registry", pushed=pushed)
    action.set_output("registry-path", pushed[0])
    action.set_output("registry-paths", json.dumps(pushed))
