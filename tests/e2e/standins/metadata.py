"""docker/metadata-action: tags and labels from the event (README "tags
input", src/meta.ts). Imitated tag types: semver, ref (branch, tag, pr),
raw, sha, edge; attributes enable, priority, prefix, suffix, value,
pattern; flavor latest (auto|true|false), prefix, suffix.

Rules kept from the real action:
- no `tags` input = type=schedule, type=ref,event=branch,
  type=ref,event=tag, type=ref,event=pr;
- rules are processed by priority (semver 900, ref 600, edge 700,
  raw 200, sha 100); the first value is the `version` output, the others
  partial tags; `latest` comes last;
- semver needs a tag event with a valid semver (a leading `v` is dropped);
  a pre-release only produces {{version}} patterns; `latest=auto` adds
  `latest` for a non-pre-release semver or a ref,event=tag;
- on a pull request a semver/tag rule yields nothing, so `tags` may be empty.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import re

from . import action

PRIORITY = {"schedule": 1000, "semver": 900, "pep440": 900, "match": 800, "edge": 700, "ref": 600, "raw": 200, "sha": 100}
SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
DEFAULT_TAGS = ["type=schedule", "type=ref,event=branch", "type=ref,event=tag", "type=ref,event=pr"]


def _attrs(line: str) -> dict[str, str]:
    out = {}
    for field in next(csv.reader([line])):
        key, _, value = field.partition("=")
        out[key.strip().lower()] = value.strip()
    return out


def _event() -> dict:
    path = os.environ.get("GITHUB_EVENT_PATH")
    try:
        return json.loads(open(path).read()) if path else {}
    except (OSError, ValueError):
        return {}


def sanitize(tag: str) -> str:
    """src/meta.ts sanitizeTag: characters a tag cannot hold become '-'."""
    return re.sub(r"[^a-zA-Z0-9._-]+", "-", tag)


class Meta:
    def __init__(self):
        self.ref = os.environ.get("GITHUB_REF", "")
        self.event_name = os.environ.get("GITHUB_EVENT_NAME", "")
        self.sha = os.environ.get("GITHUB_SHA", "")
        self.event = _event()
        flavor = {}
        for line in action.get_list("flavor", ignore_comma=True):
            flavor.update(_attrs(line))
        self.latest_mode = flavor.get("latest", "auto")
        self.prefix, self.suffix = flavor.get("prefix", ""), flavor.get("suffix", "")
        self.latest = False

    def rule_value(self, kind: str, attrs: dict) -> list[str]:
        """The tag values one rule yields (empty when it does not apply)."""
        if kind == "raw":
            return [attrs.get("value", "")] if attrs.get("value") else []
        if kind == "sha":
            short = self.sha[:7] if attrs.get("format", "short") == "short" else self.sha
            return [attrs.get("prefix", "sha-") + short + attrs.get("suffix", "")] if self.sha else []
        if kind == "ref":
            event = attrs.get("event")
            if event == "branch" and self.ref.startswith("refs/heads/"):
                return [sanitize(self.ref[len("refs/heads/"):])]
            if event == "tag" and self.ref.startswith("refs/tags/"):
                if self.latest_mode == "auto":
                    self.latest = True
                return [sanitize(self.ref[len("refs/tags/"):])]
            if event == "pr" and self.event_name in ("pull_request", "pull_request_target"):
                number = (self.event.get("pull_request") or {}).get("number") or self.event.get("number")
                return [f"pr-{number}"] if number else []
            return []
        if kind == "edge":
            branch = attrs.get("branch") or (self.event.get("repository") or {}).get("default_branch", "main")
            return ["edge"] if self.ref == f"refs/heads/{branch}" else []
        if kind == "semver":
            raw = attrs.get("value") or (self.ref[len("refs/tags/"):] if self.ref.startswith("refs/tags/") else "")
            m = SEMVER.match(raw)
            if not m:
                return []
            pattern = attrs.get("pattern", "{{version}}")
            if m["pre"] and "{{version}}" not in pattern and "{{raw}}" not in pattern:
                return []
            version = f"{m['major']}.{m['minor']}.{m['patch']}" + (f"-{m['pre']}" if m["pre"] else "")
            if self.latest_mode == "auto" and not m["pre"]:
                self.latest = True
            out = (pattern.replace("{{version}}", version).replace("{{raw}}", raw).replace("{{major}}", m["major"])
                   .replace("{{minor}}", m["minor"]).replace("{{patch}}", m["patch"]))
            return [out]
        return []  # schedule (no schedule events here), match, pep440: not imitated

    def versions(self) -> list[str]:
        rules = []
        for i, line in enumerate(action.get_list("tags", ignore_comma=True) or DEFAULT_TAGS):
            attrs = _attrs(line)
            kind = attrs.get("type", "raw")
            if attrs.get("enable", "true").lower() != "true":
                continue
            rules.append((-int(attrs.get("priority", PRIORITY.get(kind, 0))), i, kind, attrs))
        values: list[str] = []
        for _, _, kind, attrs in sorted(rules):
            for v in self.rule_value(kind, attrs):
                if kind not in ("sha",):
                    v = attrs.get("prefix", "") + v + attrs.get("suffix", "")
                v = self.prefix + v + self.suffix
                if v not in values:
                    values.append(v)
        if self.latest_mode == "true" or (self.latest and self.latest_mode == "auto"):
            if "latest" not in values:
                values.append("latest")
        return values


def main() -> None:
    meta = Meta()
    # image names are lower-cased (README "Handle image name and tag sanitization")
    images = [i.split(",")[0].removeprefix("name=").lower() for i in action.get_list("images", ignore_comma=True)]
    values = meta.versions()
    version = next((v for v in values if v != "latest"), values[0] if values else "")
    tags = [f"{img}:{v}" for img in images for v in values] if images else values
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    url = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{repo}"
    labels = {
        "org.opencontainers.image.created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "org.opencontainers.image.description": (meta.event.get("repository") or {}).get("description") or "",
        "org.opencontainers.image.licenses": "",
        "org.opencontainers.image.revision": meta.sha,
        "org.opencontainers.image.source": url,
        "org.opencontainers.image.title": repo.split("/")[-1],
        "org.opencontainers.image.url": url,
        "org.opencontainers.image.version": version,
    }
    for line in action.get_list("labels", ignore_comma=True):
        k, _, v = line.partition("=")
        labels[k] = v
    label_lines = [f"{k}={v}" for k, v in labels.items()]
    annotations = [f"manifest:{line}" for line in label_lines]
    sep = action.get_input("sep-tags") or "\n"
    action.set_output("version", version)
    action.set_output("tags", sep.join(tags))
    action.set_output("tag-names", sep.join(values))
    action.set_output("labels", (action.get_input("sep-labels") or "\n").join(label_lines))
    action.set_output("annotations", (action.get_input("sep-annotations") or "\n").join(annotations))
    action.set_output("json", json.dumps({"tags": tags, "labels": labels, "annotations": annotations}, indent=2))
    action.record("docker/metadata-action", images=images, tags=tags, version=version)
