"""The runner on the fixture workflows as they are (not migrated): each runs and
pushes what it should to the local registry. This proves the runner and the
stand-ins before the migrated workflows are judged with them."""

import pytest

from harness import Case, check_after_push, check_platforms, check_tags, fixture_workflows, workflow_events

CASES = [Case(fixture, workflow, event) for fixture, workflow in fixture_workflows() for event in workflow_events(fixture, workflow)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_unmigrated_workflow_runs_and_pushes(e2e, case):
    e2e.prepare(case)
    run = e2e.run(case)
    assert run.triggered
    assert run.conclusion == "success", run.describe() + "\n" + "\n".join(leg.log() for leg in run.legs())
    check_tags(e2e, case, run)
    check_platforms(e2e, case)
    check_after_push(e2e, case, run)
