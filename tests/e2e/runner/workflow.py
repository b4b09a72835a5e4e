"""The workflow file: loading, events and `on:` filters, matrix expansion, the needs graph."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import yaml


class WorkflowError(Exception):
    """A workflow this runner cannot run (bad YAML, unsupported feature, cycle in needs)."""


@dataclass
class Event:
    """What triggered the run, shaped like GitHub's event payloads.

    Build it with `Event.tag("v1.2.3")`, `Event.branch("main")`,
    `Event.pull_request(7)`, `Event.dispatch(inputs)` or `Event.release("v1.2.3")`.
    """

    name: str
    ref: str
    head_ref: str = ""
    base_ref: str = ""
    number: int | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    message: str = "a commit"
    action: str | None = None

    @classmethod
    def tag(cls, tag: str) -> "Event":
        return cls("push", f"refs/tags/{tag}")

    @classmethod
    def branch(cls, branch: str, message: str = "a commit") -> "Event":
        return cls("push", f"refs/heads/{branch}", message=message)

    @classmethod
    def pull_request(cls, number: int, head: str = "feature", base: str = "main") -> "Event":
        return cls("pull_request", f"refs/pull/{number}/merge", head, base, number, action="opened")

    @classmethod
    def dispatch(cls, branch: str = "main", inputs: dict[str, str] | None = None) -> "Event":
        return cls("workflow_dispatch", f"refs/heads/{branch}", inputs=dict(inputs or {}))

    @classmethod
    def release(cls, tag: str) -> "Event":
        return cls("release", f"refs/tags/{tag}", action="published")

    @classmethod
    def parse(cls, spec: str) -> "Event":
        """`tag:v1.2.3`, `branch:main`, `pr:7` (CLI form)."""
        kind, _, value = spec.partition(":")
        makers = {"tag": cls.tag, "branch": cls.branch, "pr": lambda v: cls.pull_request(int(v))}
        if kind not in makers or not value:
            raise WorkflowError(f"event {spec!r}: expected tag:NAME, branch:NAME or pr:NUMBER")
        return makers[kind](value)

    @property
    def ref_type(self) -> str:
        return "tag" if self.ref.startswith("refs/tags/") else "branch"

    @property
    def ref_name(self) -> str:
        for prefix in ("refs/tags/", "refs/heads/", "refs/pull/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix) :]
        return self.ref

    def payload(self, repository: str, sha: str, actor: str) -> dict[str, Any]:
        owner = repository.split("/")[0]
        repo = {
            "full_name": repository,
            "name": repository.split("/")[-1],
            "owner": {"login": owner},
            "default_branch": "main",
        }
        body: dict[str, Any] = {"repository": repo, "sender": {"login": actor}}
        if self.name == "push":
            body.update(
                ref=self.ref,
                before="0" * 40,
                after=sha,
                head_commit={"id": sha, "message": self.message},
                pusher={"name": actor},
            )
        elif self.name == "pull_request":
            body.update(
                action=self.action,
                number=self.number,
                pull_request={
                    "number": self.number,
                    "head": {"ref": self.head_ref, "sha": sha},
                    "base": {"ref": self.base_ref},
                },
            )
        elif self.name == "workflow_dispatch":
            body.update(ref=self.ref, inputs=self.inputs)
        elif self.name == "release":
            body.update(action=self.action, release={"tag_name": self.ref_name})
        return body


# ---------------------------------------------------------------- filters


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """GitHub's filter pattern syntax: `*`, `**`, `?`, `+`, `[...]`."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append(".?" if not out else "?")
        elif ch == "+":
            out.append("+")
        elif ch == "[":
            end = pattern.find("]", i)
            out.append(pattern[i : end + 1] if end > 0 else re.escape(ch))
            i = end if end > 0 else i
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def matches_filters(name: str, patterns: list[str]) -> bool:
    """Apply a branches/tags list in order; a `!pattern` un-matches, as on GitHub."""
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _glob_regex(pattern[1:] if negated else pattern).match(name):
            matched = not negated
    return matched


def _triggers(doc: dict[str, Any]) -> dict[str, Any]:
    on = doc.get("on", doc.get(True))
    if on is None:
        raise WorkflowError("workflow has no `on:`")
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {name: {} for name in on}
    return {name: (cfg or {}) for name, cfg in on.items()}


def _push_triggered(cfg: dict[str, Any], event: Event) -> bool:
    name = event.ref_name
    if event.ref_type == "tag":
        keys = ("tags", "tags-ignore")
        other = ("branches", "branches-ignore")
    else:
        keys = ("branches", "branches-ignore")
        other = ("tags", "tags-ignore")
    if keys[0] in cfg:
        return matches_filters(name, [str(p) for p in cfg[keys[0]]])
    if keys[1] in cfg:
        return not matches_filters(name, [str(p) for p in cfg[keys[1]]])
    # Only the other kind is filtered: this kind of ref does not trigger.
    return not any(k in cfg for k in other)


def triggered(doc: dict[str, Any], event: Event) -> bool:
    """Does `on:` react to this event? (paths filters are ignored: every file changed.)"""
    triggers = _triggers(doc)
    if event.name not in triggers:
        return False
    cfg = triggers[event.name]
    if event.name == "push":
        return _push_triggered(cfg, event)
    if event.name in ("pull_request", "pull_request_target"):
        types = cfg.get("types", ["opened", "synchronize", "reopened"])
        if event.action not in types:
            return False
        if "branches" in cfg:
            return matches_filters(event.base_ref, [str(p) for p in cfg["branches"]])
        if "branches-ignore" in cfg:
            return not matches_filters(event.base_ref, [str(p) for p in cfg["branches-ignore"]])
        return True
    if event.name == "release":
        return event.action in cfg.get("types", [event.action])
    return True


# ---------------------------------------------------------------- matrix


def expand_matrix(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The combinations of `strategy.matrix`, in GitHub's order, include/exclude applied."""
    matrix = dict(matrix)
    include = matrix.pop("include", []) or []
    exclude = matrix.pop("exclude", []) or []
    keys = list(matrix)
    for key in keys:
        if not isinstance(matrix[key], list):
            raise WorkflowError(f"matrix.{key} must be a list")
    combos = [dict(zip(keys, values)) for values in itertools.product(*(matrix[k] for k in keys))] if keys else []
    combos = [c for c in combos if not any(all(c.get(k) == v for k, v in ex.items()) for ex in exclude)]
    originals = [dict(c) for c in combos]
    created: list[dict[str, Any]] = []
    for extra in include:
        added = False
        for combo, original in zip(combos, originals):
            # An include entry extends every combination whose original values it does not overwrite.
            if all(original.get(k, v) == v for k, v in extra.items() if k in original):
                combo.update({k: v for k, v in extra.items() if k not in original})
                added = True
        if not added:
            created.append(dict(extra))
    return combos + created


# ---------------------------------------------------------------- the file


_UNSUPPORTED_JOB_KEYS = ("container", "services", "uses")


@dataclass
class Workflow:
    path: str
    doc: dict[str, Any]

    @classmethod
    def load(cls, path: str) -> "Workflow":
        try:
            with open(path, encoding="utf-8") as handle:
                doc = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as err:
            raise WorkflowError(f"{path}: {err}") from err
        if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
            raise WorkflowError(f"{path}: not a workflow (no `jobs:` mapping)")
        for job_id, job in doc["jobs"].items():
            for key in _UNSUPPORTED_JOB_KEYS:
                if key in job:
                    raise WorkflowError(f"{path}: jobs.{job_id}.{key} is not supported by the e2e runner")
        return cls(path, doc)

    @property
    def name(self) -> str:
        return str(self.doc.get("name", self.path))

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return self.doc["jobs"]

    def needs(self, job_id: str) -> list[str]:
        needs = self.jobs[job_id].get("needs", [])
        needs = [needs] if isinstance(needs, str) else list(needs)
        for need in needs:
            if need not in self.jobs:
                raise WorkflowError(f"{self.path}: jobs.{job_id} needs unknown job {need!r}")
        return needs

    def ancestors(self, job_id: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.needs(job_id))
        while todo:
            need = todo.pop()
            if need not in seen:
                seen.add(need)
                todo.extend(self.needs(need))
        return seen

    def order(self) -> list[str]:
        """Jobs in dependency order, ties in file order (GitHub starts independent jobs together)."""
        done: list[str] = []
        pending = list(self.jobs)
        while pending:
            ready = [j for j in pending if all(n in done for n in self.needs(j))]
            if not ready:
                raise WorkflowError(f"{self.path}: cycle in needs among {pending}")
            done.append(ready[0])
            pending.remove(ready[0])
        return done
