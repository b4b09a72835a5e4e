"""Fixtures of the end-to-end suite: the real services (services.py), and a harness
that prepares a fixture repository, migrates it with scangate, and runs one
workflow with the runner (runner/).

Services are context managers held by fixtures, so pytest stops them after the
last test even when a test fails. Each case gets its own registry (so "the
registry stays empty" means something); the Docker daemon is shared and pruned
at the start of every job (services.new_job_environment).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pytest
import yaml

import services
from runner import Event, Hooks, RunResult, rerun_failed, run_workflow
from runner.workflow import triggered

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = ROOT / "fixtures"
TARGET = ROOT / "target"
SCANGATE = Path(os.environ.get("SCANGATE_BIN", TARGET / "debug" / "scangate"))

#: The registry's only user: the workflows log in as github.actor with the GITHUB_TOKEN secret.
ACTOR = "octocat"
TOKEN = "ghs_e2eRegistryToken0123456789"

#: Candidate events; each workflow runs for the first tag, the first branch and
#: the pull request its `on:` reacts to.
TAG_EVENTS = (Event.tag("v1.2.3"), Event.tag("v1.2.3-rc.1"))
BRANCH_EVENTS = (Event.branch("main"), Event.branch("develop"), Event.branch("release/1.2"))
PR_EVENTS = (Event.pull_request(7),)


def fixture_workflows() -> list[tuple[str, str]]:
    """(fixture repository, workflow file name) for every fixture workflow."""
    found = []
    for path in sorted(FIXTURES.glob("*/.github/workflows/*.yml")):
        found.append((path.parents[2].name, path.name))
    return found


def workflow_events(fixture: str, workflow: str) -> list[Event]:
    """The events a fixture workflow reacts to: one tag, one branch, one pull request at most."""
    with open(FIXTURES / fixture / ".github" / "workflows" / workflow, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    events = []
    for candidates in (TAG_EVENTS, BRANCH_EVENTS, PR_EVENTS):
        hit = next((e for e in candidates if triggered(doc, e)), None)
        if hit is not None:
            events.append(hit)
    return events


def event_id(event: Event) -> str:
    return {"push": event.ref_type, "pull_request": "pr"}.get(event.name, event.name)


@dataclass
class Migration:
    code: int
    output: str


@dataclass
class Case:
    """One fixture workflow, rewritten (layout jobs/steps) or not (None), for one event."""

    fixture: str
    workflow: str
    event: Event
    layout: str | None = None
    sign: bool = False
    findings: list[services.Finding] = field(default_factory=list)

    @property
    def id(self) -> str:
        parts = [self.fixture, self.workflow.removesuffix(".yml"), self.layout or "unmigrated"]
        parts += ["signed"] if self.sign else []
        parts += [event_id(self.event)]
        parts += ["critical" if f.kind == "vuln" else f.kind for f in self.findings[:1]]
        return "/".join(parts)


class Harness:
    """Prepares and runs cases in one test's temporary folder."""

    def __init__(self, tmp: Path, dockerd: services.Dockerd, registry: services.Registry, report: "Report"):
        self.tmp, self.dockerd, self.registry, self.report = tmp, dockerd, registry, report
        self.repo: Path | None = None
        self.migration: Migration | None = None

    # -- preparing the repository

    def prepare(self, case: Case) -> Migration:
        """Copy the fixture, migrate the workflow (if the case has a layout), point
        ghcr.io at the local registry, and add the build contexts (services.py)."""
        staging = self.tmp / "staging"
        shutil.copytree(FIXTURES / case.fixture, staging)
        workflow = staging / ".github" / "workflows" / case.workflow
        migration = Migration(0, "")
        if case.layout is not None:
            migration = migrate(workflow, case.layout, case.sign)
        for path in (staging / ".github" / "workflows").glob("*.yml"):
            path.write_text(path.read_text(encoding="utf-8").replace("ghcr.io", self.registry.host), encoding="utf-8")
        self.repo = services.prepare_repository(staging, self.tmp / "repo", case.findings)
        self.migration = migration
        return migration

    @property
    def log_path(self) -> Path:
        return self.tmp / "e2e-log.jsonl"

    def env(self) -> dict[str, str]:
        assert self.repo is not None
        return {
            "E2E_REPO": str(self.repo),
            "E2E_ARTIFACTS": str(self.tmp / "artifacts"),
            "E2E_LOG": str(self.log_path),
            "E2E_BIN": str(services.E2E_BIN),
            "E2E_REGISTRY": self.registry.host,
            "DOCKER_HOST": self.dockerd.host,
        }

    def job_environment(self, job_dir: str) -> dict[str, str]:
        return services.new_job_environment(Path(job_dir), registry=self.registry, dockerd=self.dockerd)

    # -- running

    def run(self, case: Case, hooks: Hooks | None = None) -> RunResult:
        assert self.repo is not None, "prepare() first"
        result = run_workflow(
            str(self.repo / ".github" / "workflows" / case.workflow),
            case.event,
            repo_dir=str(self.repo),
            env=self.env(),
            secrets={"GITHUB_TOKEN": TOKEN},
            actions_dir=str(services.ACTIONS_DIR),
            work_dir=str(self.tmp / "work"),
            job_env_factory=self.job_environment,
            hooks=hooks,
            repository=f"acme/{case.fixture}",
            actor=ACTOR,
        )
        self.report.add(case, result, self)
        return result

    def rerun(self, case: Case, run: RunResult, hooks: Hooks | None = None) -> RunResult:
        result = rerun_failed(run, hooks=hooks)
        self.report.add(case, result, self)
        return result

    # -- reading what happened

    def records(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        with open(self.log_path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def registry_tags(self) -> dict[str, list[str]]:
        """Every repository of the registry with its tags."""
        return {repo: self.registry.tags(repo) for repo in self.registry.repositories()}


def migrate(workflow: Path, layout: str, sign: bool) -> Migration:
    """`scangate migrate --write` on one workflow file; the exit code is the caller's to judge."""
    if not SCANGATE.is_file():
        pytest.fail(f"{SCANGATE} not found: run `cargo build` first (or set SCANGATE_BIN)")
    argv = [str(SCANGATE), "migrate", "--write"]
    argv += ["--layout", "steps"] if layout == "steps" else []
    argv += ["--sign"] if sign else []
    proc = subprocess.run([*argv, str(workflow)], capture_output=True, text=True, cwd=workflow.parents[2])
    return Migration(proc.returncode, proc.stdout + proc.stderr)


class Report:
    """One summary line per run and the bytes each run moved, written at the end of the session."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.bytes: list[dict[str, Any]] = []

    def add(self, case: Case, run: RunResult, harness: Harness) -> None:
        failed = [f"{leg.name}: {leg.result}" for leg in run.legs() if leg.result not in ("success", "skipped")]
        self.lines.append(
            f"{case.id} attempt {run.attempt}: {run.conclusion}" + (f" ({'; '.join(failed)})" if failed else "")
        )
        records = [r for r in harness.records() if int(r.get("attempt", run.attempt)) == run.attempt]
        self.bytes.append(
            {
                "case": case.id,
                "attempt": run.attempt,
                "conclusion": run.conclusion,
                "artifact_bytes_uploaded": _sum(records, "bytes_uploaded"),
                "artifact_bytes_downloaded": _sum(records, "bytes_downloaded"),
                "registry_bytes_stored": harness.registry.bytes_stored(),
            }
        )

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "e2e-bytes.json").write_text(json.dumps(self.bytes, indent=2) + "\n", encoding="utf-8")
        (folder / "e2e-summary.txt").write_text("".join(f"{line}\n" for line in self.lines), encoding="utf-8")


def _sum(records: Iterable[dict[str, Any]], key: str) -> int:
    return sum(int(r.get(key) or 0) for r in records)


_REPORT = Report()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _REPORT.lines:
        _REPORT.write(TARGET)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _REPORT.lines:
        terminalreporter.section("end-to-end runs")
        for line in _REPORT.lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def dockerd():
    with services.Dockerd() as daemon:
        yield daemon


@pytest.fixture
def registry(tmp_path):
    with services.Registry(tmp_path / "registry", auth=(ACTOR, TOKEN)) as reg:
        yield reg


@pytest.fixture
def e2e(tmp_path, dockerd, registry) -> Harness:
    return Harness(tmp_path, dockerd, registry, _REPORT)
