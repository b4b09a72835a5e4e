"""Preparing and running one end-to-end case: copy a fixture repository, migrate
one workflow with scangate (or not), point ghcr.io at the local registry, add the
build contexts (services.py) and run the workflow with the runner. Used by
conftest.py (the pytest fixtures) and by `python3 -m runner --fixture` (one case
by hand)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

import services
from runner import Event, Hooks, RunResult, rerun_failed, run_workflow
from runner.workflow import triggered


class HarnessError(Exception):
    """The case cannot be prepared (scangate binary missing)."""


HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = ROOT / "fixtures"
TARGET = ROOT / "target"
SCANGATE = Path(os.environ.get("SCANGATE_BIN", TARGET / "debug" / "scangate"))

#: The registry's only user: the workflows log in as github.actor or github.repository_owner
#: (ghcr.io takes any user name with a GITHUB_TOKEN; htpasswd takes one), so both are "acme".
ACTOR = "acme"
TOKEN = "ghs_e2eRegistryToken0123456789"

#: Candidate events; each workflow runs for the first tag, the first branch and
#: the pull request its `on:` reacts to.
TAG_EVENTS = (Event.tag("v1.2.3"), Event.tag("v1.2.3-rc.1"))
BRANCH_EVENTS = (Event.branch("main"), Event.branch("develop"), Event.branch("release/1.2"))
PR_EVENTS = (Event.pull_request(7),)


#: What each fixture workflow pushes, per kind of event (`tag`, `branch`, `pr`):
#: repository → tags. `{sha7}` is the commit's short sha, `{run}` the run number.
#: The migrated workflows must push exactly what the originals push.
EXPECTED_TAGS: dict[tuple[str, str, str], dict[str, list[str]]] = {
    ("app-service", "release.yml", "tag"): {"acme/app-service": ["1.2.3", "latest"]},
    ("app-service", "prerelease.yml", "branch"): {"acme/app-service": ["develop-{sha7}", "prerelease"]},
    ("app-frontend", "release.yml", "tag"): {"acme/app-frontend": ["1.2", "1.2.3", "latest"]},
    ("app-frontend", "prerelease.yml", "tag"): {"acme/app-frontend": ["1.2.3-rc.1", "prerelease"]},
    ("app-frontend", "prerelease.yml", "pr"): {},
    ("model-service", "release.yml", "tag"): {"acme/model-service": ["1.2.3", "latest"]},
    ("model-service", "prerelease.yml", "branch"): {"acme/model-service": ["0.4.2-pre.{run}", "prerelease"]},
    ("shapes", "podman.yml", "tag"): {"acme/app": ["latest", "v1.2.3"], "acme/toolbox": ["v1.2.3"]},
    ("shapes", "buildx-script.yml", "tag"): {"acme/shapes": ["1.2.3", "latest"]},
    # the pushing step's own `if:` skips it on a pull request
    ("shapes", "buildx-script-if.yml", "branch"): {"acme/web": ["edge", "{sha7}"]},
    ("shapes", "buildx-script-if.yml", "pr"): {},
    # a workflow_run workflow (no $GITHUB_PATH): run on its push trigger
    ("shapes", "after-ci.yml", "branch"): {"acme/feed": ["0.9.{run}", "latest"]},
    # metadata-action's `latest=auto` adds latest for a semver tag that is not a pre-release
    ("shapes", "two-images.yml", "tag"): {"acme/api": ["1.2.3", "latest", "sha-{sha7}"], "acme/worker": ["1.2.3", "latest"]},
    ("shapes", "two-images.yml", "pr"): {},
    ("shapes", "script-push.yml", "tag"): {"acme/shapes": ["1.2.3", "1.latest", "latest"]},
    ("shapes", "several-steps.yml", "branch"): {"acme/service": ["edge", "sha-{sha7}"]},
    ("shapes", "matrix-script.yml", "branch"): {
        "acme/api": ["edge", "{sha7}"],
        "acme/worker": ["edge", "{sha7}"],
        "acme/bundle": ["edge-amd64", "edge-arm64"],
    },
    # the worker leg pushes nothing on a branch; a pull request only builds
    ("shapes", "matrix-script-skip.yml", "branch"): {"acme/api": ["{sha7}"]},
    ("shapes", "matrix-script-skip.yml", "pr"): {},
    # ko --bare: KO_DOCKER_REPO itself, tagged with the ref and latest; pull requests publish nothing
    ("shapes", "ko.yml", "tag"): {"acme/app": ["latest", "v1.2.3"]},
    ("shapes", "ko.yml", "branch"): {"acme/app": ["latest", "main"]},
    ("shapes", "ko.yml", "pr"): {},
    # one of two guarded ko steps runs: edge from main, a release from a tag
    ("shapes", "ko-alternatives.yml", "branch"): {"acme/app": ["edge"]},
    ("shapes", "ko-alternatives.yml", "tag"): {"acme/app": ["latest", "v1.2.3"]},
    # ko -B: KO_DOCKER_REPO/<base of the import path>, two steps, two images
    ("shapes", "ko-steps.yml", "tag"): {"acme/api": ["{sha7}"], "acme/worker": ["{sha7}"]},
    ("shapes", "ko-steps.yml", "branch"): {"acme/api": ["{sha7}"], "acme/worker": ["{sha7}"]},
    # Jib: jib.to.image (latest when untagged) and jib.to.tags; Gradle's --image
    ("shapes", "jib.yml", "tag"): {"acme/jib-api": ["latest", "{sha7}"], "acme/jib-worker": ["v1.2.3"]},
    ("shapes", "jib.yml", "branch"): {"acme/jib-api": ["latest", "{sha7}"], "acme/jib-worker": ["main"]},
    # the Jib step's own `if:` builds releases only
    ("shapes", "jib-maven.yml", "tag"): {"acme/jib-app": ["latest", "v1.2.3"]},
    ("shapes", "jib-maven.yml", "branch"): {},
    # Jib's own credentials (-Djib.to.auth.*), no docker login in the job
    ("shapes", "jib-auth.yml", "tag"): {"acme/jib-auth": ["latest", "v1.2.3"]},
    ("shapes", "jib-auth.yml", "branch"): {"acme/jib-auth": ["latest", "main"]},
    # the build file names the image and reads Jib's credentials from the step's env
    ("shapes", "jib-env.yml", "tag"): {"acme/jib-env": ["latest", "v1.2.3"]},
    ("shapes", "jib-env.yml", "branch"): {"acme/jib-env": ["latest", "main"]},
    # `docker build --push` (buildx's since Docker 23)
    ("shapes", "docker-build-push.yml", "tag"): {"acme/docker-build": ["latest", "v1.2.3"]},
    ("shapes", "docker-build-push.yml", "branch"): {"acme/docker-build": ["latest", "main"]},
    # podman build --manifest for two platforms, then `podman manifest push --all LIST`
    ("shapes", "podman-manifest.yml", "tag"): {"acme/podman-multi": ["latest", "v1.2.3"]},
    ("shapes", "podman-manifest.yml", "branch"): {"acme/podman-multi": ["latest", "main"]},
    ("shapes", "matrix-by-digest.yml", "tag"): {"acme/api": ["v1.2.3"]},
    ("shapes", "no-builder.yml", "tag"): {"acme/tool": ["v1.2.3"]},
    ("shapes", "ecr.yml", "tag"): {"shop-api": ["v1.2.3"]},
    ("shapes", "script-login.yml", "tag"): {"acme/scripted": ["v1.2.3"]},
    ("shapes", "legacy-action.yml", "tag"): {"acme/legacy": ["v1.2.3"]},
    ("shapes", "build-if.yml", "branch"): {"acme/edge": ["edge"]},
    ("shapes", "build-if.yml", "pr"): {},
    ("shapes", "local-cache.yml", "tag"): {"acme/cached": ["v1.2.3"]},
    ("shapes", "continue-on-error.yml", "tag"): {"acme/nightly": ["latest", "v1.2.3"]},
    ("shapes", "run-defaults.yml", "tag"): {"acme/defaults": ["v1.2.3"]},
    ("shapes", "script-images.yml", "tag"): {"acme/multi-api": ["latest", "v1.2.3"], "acme/multi-worker": ["v1.2.3"]},
    ("shapes", "matrix-from-needs.yml", "tag"): {"acme/api-svc": ["v1.2.3"], "acme/worker-svc": ["v1.2.3"]},
    ("shapes", "attestations.yml", "tag"): {"acme/attested-api": ["v1.2.3"], "acme/attested-worker": ["v1.2.3"]},
    # metadata-action's defaults: the git tag, and latest for it (latest=auto)
    ("shapes", "docker-publish.yml", "tag"): {"acme/shapes": ["latest", "v1.2.3"]},
    ("shapes", "docker-publish.yml", "pr"): {},
    ("shapes", "load-pull-request.yml", "tag"): {"acme/loaded": ["latest"]},
    ("shapes", "load-pull-request.yml", "pr"): {},
    ("shapes", "build-if-summary.yml", "branch"): {"acme/edge-summary": ["edge"]},
    ("shapes", "build-if-summary.yml", "pr"): {},
    ("shapes", "imageid.yml", "tag"): {"acme/imageid-app": ["v1.2.3"]},
    # pushed where the token is set (`push:` reads secrets): on the tag, not on a pull request
    ("shapes", "push-secret.yml", "tag"): {"acme/secret-gated": ["latest"]},
    ("shapes", "push-secret.yml", "pr"): {},
    # buildah manifest push under the step's own `if:`: from main, not from a pull request
    ("shapes", "manifest-if.yml", "branch"): {"acme/buildah-multi": ["edge"]},
    ("shapes", "manifest-if.yml", "pr"): {},
    ("shapes", "buildx-two.yml", "tag"): {"acme/api": ["1.2.3"], "acme/worker": ["1.2.3"]},
    ("shapes", "buildx-output.yml", "tag"): {"acme/gateway": ["1.2.3", "latest"], "acme/worker": ["1.2.3"]},
    ("shapes", "buildx-attributes.yml", "tag"): {"acme/stamped": ["latest"]},
    ("shapes", "by-digest-tags.yml", "tag"): {"acme/api": ["v1.2.3"]},
    ("shapes", "by-digest-tags.yml", "pr"): {},
    ("shapes", "by-digest-outputs.yml", "tag"): {"acme/api": ["v1.2.3"]},
    ("shapes", "by-digest-outputs.yml", "pr"): {},
    # no `push:`: the image exporter pushes to the tags, except on pull requests
    ("shapes", "outputs-tags.yml", "tag"): {"acme/exported": ["latest"]},
    ("shapes", "outputs-tags.yml", "pr"): {},
    ("shapes", "outputs-push-input.yml", "tag"): {"acme/annotated": ["latest"]},
    ("shapes", "outputs-push-input.yml", "pr"): {},
    ("shapes", "matrix-build-if.yml", "tag"): {"acme/legs": ["v1.2.3-amd64", "v1.2.3-arm64"]},
    ("shapes", "matrix-build-if.yml", "pr"): {},
    ("shapes", "platforms-expression.yml", "tag"): {"acme/api": ["v1.2.3"], "acme/worker": ["v1.2.3"]},
    ("shapes", "push-to-registry.yml", "tag"): {"acme/redhat-app": ["latest", "v1.2.3"], "acme/redhat-tools": ["v1.2.3"], "acme/redhat-edge": ["v1.2.3"]},
    # builds with their own `if:`: the run's image always, the release or edge image by ref
    ("shapes", "reusable.yml", "tag"): {"acme/reusable-app": ["v1.2.3"], "acme/reusable-app-debug": ["v1.2.3"]},
    ("shapes", "guarded-builds.yml", "tag"): {"acme/mirror": ["run-{run}", "v1.2.3"], "acme/alt": ["stable", "v1.2.3"]},
    ("shapes", "guarded-builds.yml", "branch"): {"acme/mirror": ["run-{run}"], "acme/mirror-edge": ["latest"],
                                                 "acme/alt": ["edge"]},
    ("shapes", "promote-seed.yml", "tag"): {"acme/candidates/app": ["rc"], "acme/candidates/tool": ["rc"]},
    # promote-seed.yml's candidates (pushed first, see SEEDS), under release tags in other repositories
    ("shapes", "promote.yml", "tag"): {"acme/candidates/app": ["rc"], "acme/candidates/tool": ["rc"],
                                       "acme/released-app": ["latest", "v1.2.3"], "acme/released-tool": ["v1.2.3"]},
}

#: Workflows that promote what another workflow pushed: that workflow runs first,
#: as written (unmigrated, so nothing gates what it pushes), for the same event;
#: with the repositories it pushes, which are not the promoting workflow's.
SEEDS = {("shapes", "promote.yml"): ("promote-seed.yml", {"acme/candidates/app", "acme/candidates/tool"})}


def seeded_repositories(case: "Case") -> set[str]:
    return SEEDS.get((case.fixture, case.workflow), ("", set()))[1]

#: Workflows that sign what they push themselves (a `cosign sign` step after
#: the push): every pushed digest carries their signature, migrated or not.
SIGNS_ITSELF = {("shapes", "docker-publish.yml")}

#: cosign's tags: `sha256-HEX.sig|.att|.sbom` (legacy format) and the
#: referrers tag schema fallback `sha256-HEX` (bundle format, on a registry
#: without the referrers API). Signatures of an image, not images.
SIGNATURE_TAG = re.compile(r"^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$")


#: Cases whose original builds nothing (the build step's own `if:` is false),
#: or builds and pushes nothing (the push step's): the migrated workflow must
#: then neither scan nor record an image.
NOT_BUILT = {("shapes", "build-if.yml", "pr"), ("shapes", "build-if-summary.yml", "pr"), ("shapes", "matrix-build-if.yml", "pr"),
             ("shapes", "matrix-script-skip.yml", "pr"), ("shapes", "buildx-script-if.yml", "pr"), ("shapes", "ko.yml", "pr"),
             ("shapes", "jib-maven.yml", "branch"), ("shapes", "manifest-if.yml", "pr")}


def builds_nothing(case: Case) -> bool:
    return (case.fixture, case.workflow, event_id(case.event)) in NOT_BUILT


#: Repositories whose images hold several platforms (an index in the registry).
MULTI_PLATFORM = {("model-service", "release.yml"): {"acme/model-service"}, ("shapes", "buildx-script.yml"): {"acme/shapes"},
                  ("shapes", "two-images.yml"): {"acme/api"}, ("shapes", "buildx-two.yml"): {"acme/api"},
                  ("shapes", "buildx-output.yml"): {"acme/gateway"}, ("shapes", "attestations.yml"): {"acme/attested-api"}, ("shapes", "matrix-by-digest.yml"): {"acme/api"},
                  ("shapes", "by-digest-tags.yml"): {"acme/api"}, ("shapes", "by-digest-outputs.yml"): {"acme/api"}, ("shapes", "outputs-push-input.yml"): {"acme/annotated"}, ("shapes", "platforms-expression.yml"): {"acme/api"},
                  ("shapes", "continue-on-error.yml"): {"acme/nightly"},
                  ("shapes", "promote-seed.yml"): {"acme/candidates/app"},
                  ("shapes", "guarded-builds.yml"): {"acme/mirror-edge"},
                  ("shapes", "promote.yml"): {"acme/candidates/app", "acme/released-app"},
                  ("shapes", "podman-manifest.yml"): {"acme/podman-multi"}, ("shapes", "manifest-if.yml"): {"acme/buildah-multi"}, ("shapes", "ko.yml"): {"acme/app"},
                  ("shapes", "ko-steps.yml"): {"acme/worker"}}


class HookServer:
    """A deploy hook on 127.0.0.1 recording each POST body (several-steps notifies one after the push)."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                bodies.append(self.rfile.read(length).decode("utf-8", "replace"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/deploy"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "HookServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


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

    def __init__(self, tmp: Path, dockerd: services.Dockerd, registry: services.Registry, report: "Report", hook: HookServer):
        self.tmp, self.dockerd, self.registry, self.report, self.hook = tmp, dockerd, registry, report, hook
        self.repo: Path | None = None
        self.migration: Migration | None = None

    # -- preparing the repository

    def prepare(self, case: Case) -> Migration:
        """Copy the fixture, migrate the workflow (if the case has a layout), point
        ghcr.io at the local registry (in workflows and build files), and add the build contexts (services.py)."""
        staging = self.tmp / "staging"
        shutil.copytree(FIXTURES / case.fixture, staging)
        workflow = staging / ".github" / "workflows" / case.workflow
        migration = Migration(0, "")
        if case.layout is not None:
            migration = migrate(workflow, case.layout, case.sign)
        # Build files name images too (Jib's `jib.to.image`).
        build_files = [*staging.rglob("build.gradle*"), *staging.rglob("pom.xml")]
        for path in [*(staging / ".github" / "workflows").glob("*.yml"), *build_files]:
            path.write_text(local_registry(path.read_text(encoding="utf-8"), self.registry.host), encoding="utf-8")
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
            # what amazon-ecr-login's token exchange yields, for its stand-in
            "E2E_REGISTRY_AUTH": f"{ACTOR}:{TOKEN}",
            "DOCKER_HOST": self.dockerd.host,
        }

    def job_environment(self, job_dir: str) -> dict[str, str]:
        return services.new_job_environment(Path(job_dir), registry=self.registry, dockerd=self.dockerd)

    # -- running

    def run(self, case: Case, hooks: Hooks | None = None) -> RunResult:
        assert self.repo is not None, "prepare() first"
        seed = SEEDS.get((case.fixture, case.workflow))
        if seed is not None:
            seeded = self._run(seed[0], case, None)
            self.report.add(Case(case.fixture, seed[0], case.event, None, findings=case.findings), seeded, self)
            if seeded.conclusion != "success":
                raise HarnessError(f"{seed[0]} did not push what {case.workflow} promotes:\n{seeded.describe()}")
        result = self._run(case.workflow, case, hooks)
        self.report.add(case, result, self)
        return result

    def _run(self, workflow: str, case: Case, hooks: Hooks | None) -> RunResult:
        assert self.repo is not None, "prepare() first"
        return run_workflow(
            str(self.repo / ".github" / "workflows" / workflow),
            case.event,
            repo_dir=str(self.repo),
            env=self.env(),
            secrets={"GITHUB_TOKEN": TOKEN, "REGISTRY_TOKEN": TOKEN, "DEPLOY_HOOK": self.hook.url},
            actions_dir=str(services.ACTIONS_DIR),
            work_dir=str(self.tmp / "work"),
            job_env_factory=self.job_environment,
            hooks=hooks,
            repository=f"acme/{case.fixture}",
            actor=ACTOR,
        )

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
        """Every repository of the registry that holds a tag, with its tags."""
        tags = {repo: self.registry.tags(repo) for repo in self.registry.repositories()}
        return {repo: got for repo, got in tags.items() if got}

    def expected_tags(self, case: Case, run: RunResult) -> dict[str, list[str]]:
        assert self.repo is not None
        key = (case.fixture, case.workflow, event_id(case.event))
        assert key in EXPECTED_TAGS, f"no expectation for {key}: add what the workflow pushes to EXPECTED_TAGS"
        want = EXPECTED_TAGS[key]
        sha = services.head_sha(self.repo)
        fill = {"sha7": sha[:7], "run": str(run.run_id)}
        return {repo: sorted(tag.format(**fill) for tag in tags) for repo, tags in want.items()}


def local_registry(text: str, host: str) -> str:
    """Point a workflow at the local registry (TLS, its CA trusted by the tools): ghcr.io
    becomes `host`, the only edit made to a workflow (or a build file)."""
    return text.replace("ghcr.io", host)


def migrate(workflow: Path, layout: str, sign: bool) -> Migration:
    """`scangate migrate --write` on one workflow file; the exit code is the caller's to judge."""
    if not SCANGATE.is_file():
        raise HarnessError(f"{SCANGATE} not found: run `cargo build` first (or set SCANGATE_BIN)")
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
        line = f"{case.id} attempt {run.attempt}: {run.conclusion}" + (f" ({'; '.join(failed)})" if failed else "")
        self.lines.append(line)
        # Also as it happens, so a long or interrupted session still shows where it got.
        TARGET.mkdir(parents=True, exist_ok=True)
        with open(TARGET / "e2e-progress.txt", "a", encoding="utf-8") as progress:
            progress.write(line + "\n")
        records = [r for r in harness.records() if int(r.get("attempt", run.attempt)) == run.attempt]
        self.bytes.append(
            {
                "case": case.id,
                "attempt": run.attempt,
                "conclusion": run.conclusion,
                "artifact_bytes_uploaded": _sum(records, "bytes_up"),
                "artifact_bytes_downloaded": _sum(records, "bytes_down"),
                "registry_bytes_stored": harness.registry.bytes_stored(),
            }
        )

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "e2e-bytes.json").write_text(json.dumps(self.bytes, indent=2) + "\n", encoding="utf-8")
        (folder / "e2e-summary.txt").write_text("".join(f"{line}\n" for line in self.lines), encoding="utf-8")


def _sum(records: Iterable[dict[str, Any]], key: str) -> int:
    return sum(int(r.get(key) or 0) for r in records)




# ---------------------------------------------------------------- what every run must show


def steps_named(run: RunResult, name: str) -> list[Any]:
    """Every step of the run (all jobs and legs) with this rendered name."""
    return [step for leg in run.legs() for step in leg.steps if step.name == name]


def summaries(run: RunResult) -> str:
    return "".join(leg.summary for leg in run.legs())


def check_tags(harness: Harness, case: Case, run: RunResult) -> None:
    """The registry holds exactly the tags the original workflow pushes for this event."""
    want = harness.expected_tags(case, run)
    got = {repo: images for repo, tags in harness.registry_tags().items()
           if (images := [t for t in tags if not SIGNATURE_TAG.match(t)])}
    assert got == want, f"{case.id}: registry holds {got}, expected {want}\n{run.describe()}"


def _digest(harness: Harness, repo: str, tag: str) -> str:
    digest = harness.registry.manifest_digest(f"{repo}:{tag}")
    assert digest, f"{repo}:{tag} is not in the registry"
    return digest


def check_after_push(harness: Harness, case: Case, run: RunResult) -> None:
    """The steps that followed the push in the original workflow ran, with their env and outputs."""
    host = harness.registry.host
    key = (case.fixture, case.workflow)
    if event_id(case.event) == "pr":
        return
    if key == ("shapes", "attestations.yml"):
        # The attestations the builds asked for were pushed with the images.
        for repo in ("acme/attested-api", "acme/attested-worker"):
            _, index = harness.registry.manifest(f"{repo}:v1.2.3")
            kinds = [(m.get("annotations") or {}).get("vnd.docker.reference.type") for m in index.get("manifests", [])]
            assert "attestation-manifest" in kinds, (repo, index)
    if key == ("app-service", "release.yml"):
        digest = _digest(harness, "acme/app-service", "1.2.3")
        summary = summaries(run)
        assert "### app-service 1.2.3" in summary, summary
        assert f"Image: `{host}/acme/app-service@{digest}`" in summary, (summary, digest)
    elif key == ("model-service", "release.yml"):
        (release,) = steps_named(run, "Create GitHub release")
        assert release.conclusion == "success", release.log
        assert (release.inputs["tag_name"], release.inputs["name"]) == ("v1.2.3", "model-service v1.2.3")
    elif key == ("model-service", "prerelease.yml"):
        (tag,) = steps_named(run, "Tag pre-release")
        assert tag.conclusion == "success", tag.log
        assert harness.repo is not None
        tags = subprocess.run(["git", "-C", str(harness.repo), "tag"], capture_output=True, text=True).stdout.split()
        assert f"v0.4.2-pre.{run.run_id}" in tags, tags
    elif key == ("shapes", "push-to-registry.yml"):
        # Later steps read push-to-registry's outputs: the pushed manifest's digest, the names.
        summary = summaries(run)
        app = _digest(harness, "acme/redhat-app", "v1.2.3")
        paths = re.search(r"app pushed \S+ to (\[.*\])", summary)
        assert f"app pushed {app} to " in summary and paths, summary
        assert json.loads(paths.group(1)) == [f"{host}/acme/redhat-app:latest", f"{host}/acme/redhat-app:v1.2.3"], summary
        tools = _digest(harness, "acme/redhat-tools", "v1.2.3")
        assert f"tools pushed {tools} as {host}/acme/redhat-tools:v1.2.3" in summary, summary
        assert f"edge pushed {_digest(harness, 'acme/redhat-edge', 'v1.2.3')}" in summary, summary
    elif key == ("shapes", "imageid.yml"):
        # Read after the push, the build's image id and digest are the pushed
        # image's config and manifest digests (in one job, the build step's
        # own outputs: its export is the pushed image byte for byte).
        summary = summaries(run)
        # Unmigrated, buildx's default provenance makes an index of the image.
        config = harness.registry.config_digest("acme/imageid-app:v1.2.3", platform="linux/amd64")
        manifest = _digest(harness, "acme/imageid-app", "v1.2.3")
        assert config and f"imageid {config} digest {manifest}" in summary, (summary, config, manifest)
    elif key == ("shapes", "promote.yml"):
        # A promotion keeps the candidate's bytes: the index as it is; a single
        # manifest listed in a new manifest list (what `imagetools create` does).
        app = _digest(harness, "acme/candidates/app", "rc")
        assert _digest(harness, "acme/released-app", "latest") == app
        assert _digest(harness, "acme/released-app", "v1.2.3") == app
        assert f"app released at {app}" in summaries(run), summaries(run)
        _, listed = harness.registry.manifest("acme/released-tool:v1.2.3")
        assert [m["digest"] for m in listed.get("manifests", [])] == [_digest(harness, "acme/candidates/tool", "rc")], listed
    elif key == ("shapes", "run-defaults.yml"):
        # The step after the push still runs with the job's defaults (sh, in services/).
        assert "released from services" in summaries(run), summaries(run)
    elif key == ("shapes", "podman.yml"):
        assert "toolbox v1.2.3 pushed" in summaries(run)
    elif key == ("shapes", "two-images.yml"):
        summary = summaries(run)
        assert f"api: {_digest(harness, 'acme/api', '1.2.3')}" in summary, summary
        assert f"worker: {_digest(harness, 'acme/worker', '1.2.3')}" in summary, summary
    elif key == ("shapes", "script-push.yml"):
        (release,) = steps_named(run, "Create GitHub release")
        assert release.conclusion == "success", release.log
        assert release.inputs["tag_name"] == "v1.2.3"
    elif key == ("shapes", "several-steps.yml"):
        assert harness.hook.bodies == [f"image={host}/acme/service:edge"], harness.hook.bodies


def check_platforms(harness: Harness, case: Case) -> None:
    """Multi-platform builds are indexes of linux/amd64 and linux/arm64; the others are one
    image (alone, or in an index with BuildKit's attestation manifest)."""
    multi = MULTI_PLATFORM.get((case.fixture, case.workflow), set())
    for repo, tags in harness.registry_tags().items():
        # cosign's `sha256-HEX.sig|.att` tags are signatures of an image, not images
        for tag in (t for t in tags if not SIGNATURE_TAG.match(t)):
            _, manifest = harness.registry.manifest(f"{repo}:{tag}")
            platforms = sorted(
                f"{m['platform']['os']}/{m['platform']['architecture']}"
                for m in manifest.get("manifests", [])
                if "platform" in m and m["platform"].get("os") != "unknown"
            )
            if repo in multi:
                assert platforms == ["linux/amd64", "linux/arm64"], (repo, tag, manifest)
            else:
                assert len(platforms) == 1 or "manifests" not in manifest, (repo, tag, manifest)
