"""Run one fixture workflow by hand, as the suite does, and print what happened.

    cd tests/e2e
    ../../.tools/venv/bin/python -m runner ../../fixtures/app-service/.github/workflows/release.yml \\
        --event tag:v1.2.3 [--layout jobs|steps] [--sign] [--critical CONTEXT[:ARCH]] [--keep DIR]

Starts the registry and a private dockerd (services.py, as root), prepares the
repository (harness.py), runs the workflow, prints every job and step with the
logs of failed steps and the registry's tags, then stops the services.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .workflow import Event, WorkflowError


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("workflow", help="fixtures/REPO/.github/workflows/FILE.yml")
    parser.add_argument("--event", default="tag:v1.2.3", help="tag:NAME, branch:NAME or pr:NUMBER")
    parser.add_argument("--layout", choices=("jobs", "steps"), help="migrate with scangate first")
    parser.add_argument("--sign", action="store_true", help="migrate with --sign")
    parser.add_argument("--critical", action="append", default=[], metavar="CONTEXT[:ARCH]",
                        help="inject a fixable CRITICAL into a build context (e.g. . or services/api:arm64)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    import harness  # the suite's module next to this package (tests/e2e)
    import services

    path = Path(args.workflow).resolve()
    if path.parent.parent.name != ".github":
        print(f"{args.workflow}: expected fixtures/REPO/.github/workflows/FILE.yml", file=sys.stderr)
        return 2
    try:
        event = Event.parse(args.event)
    except WorkflowError as err:
        print(err, file=sys.stderr)
        return 2
    findings = []
    for spec in args.critical:
        context, _, arch = spec.partition(":")
        findings.append(services.Finding(context=context, arch=arch or None))
    case = harness.Case(path.parents[2].name, path.name, event, args.layout, args.sign, findings)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="e2e-case-"))
    work.mkdir(parents=True, exist_ok=True)
    with services.started(work / "services", auth=(harness.ACTOR, harness.TOKEN)) as svc, harness.HookServer() as hook:
        runner = harness.Harness(work, svc.dockerd, svc.registry, harness.Report(), hook)
        migration = runner.prepare(case)
        if migration.code != 0:
            print(f"scangate migrate exited {migration.code}:\n{migration.output}")
            return 1
        result = runner.run(case)
        print(result.describe())
        for leg in result.legs():
            for step in leg.steps:
                if step.outcome == "failure":
                    print(f"\n--- log of {leg.name} / {step.name}\n{step.log}")
            for level, message in leg.annotations:
                print(f"{level}: {leg.name}: {message}")
        print(f"\nregistry {svc.registry.host}: {runner.registry_tags()}")
        print(f"work folder: {work}")
    return 0 if result.conclusion in ("success", "not triggered") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
