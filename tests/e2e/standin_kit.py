"""Running one stand-in action or executable outside a workflow, the way the
runner does (INPUT_* variables, GITHUB_* files, the job environment of
services.py): used by test_standins.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import services

ACTOR = "octo"
TOKEN = "tok-e2e-standins"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    env: dict[str, str]
    path: list[str]

    @property
    def errors(self) -> list[str]:
        return re.findall(r"^::error::(.*)$", self.stdout, re.M)


def parse_file_commands(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `k=v` lines and `k<<DELIM` heredocs."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "<<" in line:
            key, delim = line.split("<<", 1)
            value = []
            while lines[i] != delim:
                value.append(lines[i])
                i += 1
            i += 1
            out[key] = "\n".join(value)
        elif "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


class Job:
    """A job's environment (fresh HOME, docker config, storage) and files."""

    def __init__(self, root: Path, registry: services.Registry, dockerd: services.Dockerd, *,
                 repo: Path | None = None, artifacts: Path | None = None, name: str = "job", attempt: int = 1,
                 event: dict | None = None, ref: str = "refs/tags/v1.2.3"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.workspace = self.root / "workspace"
        self.temp = self.root / "temp"
        for d in (self.workspace, self.temp):
            d.mkdir(exist_ok=True)
        self.log = self.root.parent / "e2e-log.jsonl"
        self.extra_path: list[str] = []
        event_path = self.root / "event.json"
        event_path.write_text(json.dumps(event or {}))
        self.env = {
            **os.environ,
            **services.new_job_environment(self.root / "env", registry=registry, dockerd=dockerd),
            "GITHUB_WORKSPACE": str(self.workspace), "RUNNER_TEMP": str(self.temp), "GITHUB_JOB": name,
            "GITHUB_RUN_ID": "100", "GITHUB_RUN_NUMBER": "7", "GITHUB_RUN_ATTEMPT": str(attempt),
            "GITHUB_REPOSITORY": "acme/app", "GITHUB_REPOSITORY_OWNER": "acme", "GITHUB_ACTOR": ACTOR,
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REF": ref, "GITHUB_REF_NAME": ref.split("/", 2)[-1],
            "GITHUB_REF_TYPE": "tag" if ref.startswith("refs/tags/") else "branch",
            "GITHUB_EVENT_NAME": "pull_request" if ref.startswith("refs/pull/") else "push",
            "GITHUB_EVENT_PATH": str(event_path), "E2E_LOG": str(self.log),
            "E2E_ARTIFACTS": str(artifacts or self.root.parent / "artifacts"),
        }
        if repo is not None:
            self.env["E2E_REPO"] = str(repo)
            self.env["GITHUB_SHA"] = services.head_sha(repo)

    def action(self, uses: str, inputs: dict[str, str] | None = None, **env: str) -> Result:
        folder = services.ACTIONS_DIR / uses.lower()
        defaults = _defaults(folder / "action.yml")
        files = {k: self.root / f"{k.lower()}-{len(list(self.root.glob('*.cmd')))}.cmd"
                 for k in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
        for f in files.values():
            f.write_text("")
        run_env = {**self.env, **{k: str(v) for k, v in files.items()}, **env}
        run_env["PATH"] = os.pathsep.join(self.extra_path + [run_env["PATH"]])
        for name, value in {**defaults, **(inputs or {})}.items():
            run_env["INPUT_" + name.replace(" ", "_").upper()] = value
        proc = subprocess.run([str(folder / "main")], cwd=self.workspace, env=run_env, capture_output=True, text=True)
        new_env = parse_file_commands(files["GITHUB_ENV"].read_text())
        self.env.update(new_env)
        new_path = [p for p in files["GITHUB_PATH"].read_text().splitlines() if p]
        self.extra_path = new_path + self.extra_path
        return Result(proc.returncode, proc.stdout, proc.stderr, parse_file_commands(files["GITHUB_OUTPUT"].read_text()),
                      new_env, new_path)

    def run(self, *cmd: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        env = dict(self.env)
        env["PATH"] = os.pathsep.join(self.extra_path + [env["PATH"]])
        return subprocess.run(list(cmd), cwd=cwd or self.workspace, env=env, capture_output=True, text=True, input=stdin)

    def records(self, tool: str) -> list[dict]:
        if not self.log.exists():
            return []
        return [r for r in map(json.loads, self.log.read_text().splitlines()) if r["tool"] == tool]


def _defaults(action_yml: Path) -> dict[str, str]:
    """Input defaults of a stand-in's action.yml (literal ones; the tests
    pass expression defaults themselves)."""
    defaults, name = {}, None
    for line in action_yml.read_text().splitlines():
        m = re.match(r"^  ([\w-]+):$", line)
        if m:
            name = m.group(1)
        m = re.match(r"^    default: '(.*)'$", line)
        if m and name and "${{" not in m.group(1):
            defaults[name] = m.group(1).replace("''", "'")
    return defaults
