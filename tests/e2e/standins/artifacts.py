"""actions/upload-artifact and actions/download-artifact (v4 and later),
over a folder store ($E2E_ARTIFACTS/<name>/files + meta.json) shared by
every job and attempt of one workflow run.

Behaviour imitated (actions/upload-artifact README and src/shared/search.ts,
actions/download-artifact README and src/download-artifact.ts):
- upload: `name` defaults to `artifact`; `path` is one or more lines of
  globs, `!` lines exclude; the root of the uploaded tree is the least
  common ancestor of the search paths (a single file: its folder); hidden
  files and folders are left out unless `include-hidden-files: true` (v4.4+);
  `if-no-files-found` warn|error|ignore; an existing name in the same run
  fails with GitHub's 409 Conflict unless `overwrite: true` (then the old
  artifact is deleted first); compression is not imitated (bytes counted
  are the files' sizes).
- download: `name` → that artifact into `path` (missing → failure);
  without name, every artifact matching `pattern` (all when empty) into
  `path/<name>/`, or straight into `path` with `merge-multiple: true`;
  `path` defaults to $GITHUB_WORKSPACE.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
import shutil
from pathlib import Path

from . import action
from .action import ActionError

GLOB_CHARS = set("*?[")


def store() -> Path:
    path = os.environ.get("E2E_ARTIFACTS")
    if not path:
        raise ActionError("E2E_ARTIFACTS is not set: no artifact store for this run")
    Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path)


def _resolve(pattern: str, cwd: Path) -> str:
    pattern = os.path.expanduser(pattern)
    return pattern if os.path.isabs(pattern) else str(cwd / pattern)


def _search_path(pattern: str) -> str:
    """@actions/glob getSearchPaths: the pattern up to its first segment
    holding a glob character."""
    parts = Path(pattern).parts
    keep = []
    for part in parts:
        if GLOB_CHARS & set(part):
            break
        keep.append(part)
    return str(Path(*keep))


def _hidden(path: Path, search: Path) -> bool:
    """@actions/glob excludeHiddenFiles: the walk from the search path down
    skips every item whose basename starts with '.', the search path itself
    included (an explicitly named hidden file is left out too)."""
    try:
        rel = path.relative_to(search.parent)
    except ValueError:
        rel = path
    return any(p.startswith(".") for p in rel.parts)


def find_files(lines: list[str], cwd: Path, include_hidden: bool) -> tuple[list[Path], Path | None]:
    """(files, root directory) as upload-artifact's findFilesToUpload."""
    includes = [_resolve(l, cwd) for l in lines if not l.startswith("!")]
    excludes = [_resolve(l[1:], cwd) for l in lines if l.startswith("!")]
    search_paths = [_search_path(p) for p in includes]
    found: dict[str, Path] = {}
    for pattern, search in zip(includes, search_paths):
        for match in glob.glob(pattern, recursive=True, include_hidden=True):
            m = Path(match)
            candidates = [m] if m.is_file() else [p for p in m.rglob("*") if p.is_file()]
            for f in candidates:
                if not include_hidden and _hidden(f, Path(search)):
                    continue
                if any(fnmatch.fnmatch(str(f), e) or str(f).startswith(e.rstrip("/") + "/") for e in excludes):
                    continue
                found[str(f)] = f
    files = sorted(found.values())
    if not files:
        return [], None
    if len(files) == 1 and len(search_paths) == 1 and search_paths[0] == str(files[0]):
        return files, files[0].parent
    root = Path(os.path.commonpath(search_paths)) if len(search_paths) > 1 else Path(search_paths[0])
    if root.is_file():
        root = root.parent
    return files, root


def upload() -> None:
    name = action.get_input("name") or "artifact"
    lines = [l.strip() for l in action.get_input("path", required=True).splitlines() if l.strip()]
    if_none = action.get_input("if-no-files-found") or "warn"
    overwrite = action.get_bool("overwrite")
    include_hidden = action.get_bool("include-hidden-files")
    cwd = Path(os.getcwd())
    files, root = find_files(lines, cwd, include_hidden)
    record = {"name": name, "paths": lines, "files": len(files), "bytes_up": 0,
              "retention_days": action.get_input("retention-days"), "compression_level": action.get_input("compression-level"),
              "overwrite": overwrite}
    try:
        if not files:
            message = f"No files were found with the provided path: {' '.join(lines)}. No artifacts will be uploaded."
            if if_none == "error":
                raise ActionError(message)
            if if_none == "warn":
                action.warning(message)
            else:
                action.info(message)
            return
        dest = store() / name
        if dest.exists():
            if not overwrite:
                raise ActionError(
                    "Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: "
                    "an artifact with this name already exists on the workflow run")
            shutil.rmtree(dest)
            record["replaced"] = True
        files_dir = dest / "files"
        digest = hashlib.sha256()
        for f in files:
            rel = f.relative_to(root)
            target = files_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            record["bytes_up"] += f.stat().st_size
            digest.update(str(rel).encode() + b"\0" + f.read_bytes())
        artifact_id = _next_id()
        meta = {"id": artifact_id, "name": name, "job": os.environ.get("GITHUB_JOB", ""),
                "attempt": int(os.environ.get("GITHUB_RUN_ATTEMPT", "1") or 1), "size": record["bytes_up"]}
        (dest / "meta.json").write_text(json.dumps(meta))
        record["artifact_id"] = artifact_id
        action.set_output("artifact-id", str(artifact_id))
        action.set_output("artifact-url", f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/"
                          f"{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{os.environ.get('GITHUB_RUN_ID', '')}/artifacts/{artifact_id}")
        action.set_output("artifact-digest", digest.hexdigest())
        action.info(f"Artifact {name} has been successfully uploaded! Final size is {record['bytes_up']} bytes. Artifact ID is {artifact_id}")
    finally:
        action.record("actions/upload-artifact", **record)


def _next_id() -> int:
    counter = store().parent / (store().name + ".ids")
    n = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(n))
    return n


def _artifacts() -> dict[str, Path]:
    return {p.name: p for p in store().iterdir() if (p / "meta.json").is_file()}


def download() -> None:
    name = action.get_input("name")
    pattern = action.get_input("pattern")
    merge = action.get_bool("merge-multiple")
    workspace = Path(os.environ.get("GITHUB_WORKSPACE", os.getcwd()))
    path = Path(_resolve(action.get_input("path"), workspace)) if action.get_input("path") else workspace
    record = {"name": name, "pattern": pattern, "merge_multiple": merge, "path": str(path), "bytes_down": 0, "artifacts": []}
    try:
        available = _artifacts()
        if name:
            if name not in available:
                raise ActionError(f"Unable to download artifact(s): Artifact not found for name: {name}\n"
                                  "Please ensure that your artifact is not expired and the artifact was uploaded using a compatible version of toolkit/upload-artifact.\n"
                                  "For more information, visit the GitHub Artifacts FAQ: https://github.com/actions/toolkit/blob/main/packages/artifact/docs/faq.md")
            chosen, single = [name], True
        else:
            chosen = sorted(n for n in available if not pattern or fnmatch.fnmatchcase(n, pattern))
            single = False
            if not chosen:
                action.info(f"No artifacts found matching pattern {pattern!r}" if pattern else "No artifacts found")
        for n in chosen:
            dest = path if (single or merge) else path / n
            src = available[n] / "files"
            for f in sorted(p for p in src.rglob("*") if p.is_file()):
                target = dest / f.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, target)
                record["bytes_down"] += f.stat().st_size
            record["artifacts"].append(n)
        path.mkdir(parents=True, exist_ok=True)
        action.set_output("download-path", str(path))
        action.info(f"Total of {len(chosen)} artifact(s) downloaded")
    finally:
        action.record("actions/download-artifact", **record)
