"""The runner's GitHub semantics on small workflows of `run:` steps and a toy action
(no services needed): needs and status functions, outputs, GITHUB_ENV/PATH,
matrices and fail-fast, continue-on-error, triggers, and re-running failed jobs."""

import json
import textwrap
from pathlib import Path

import pytest

from runner import Event, Hooks, WorkflowError, rerun_failed, run_workflow
from runner.executor import parse_env_file
from runner.workflow import expand_matrix, matches_filters


def run(tmp_path: Path, text: str, event: Event = Event.tag("v1.2.3"), **kw):
    wf = tmp_path / "wf.yml"
    wf.write_text(textwrap.dedent(text))
    actions = tmp_path / "actions"
    toy = actions / "acme" / "toy"
    toy.mkdir(parents=True, exist_ok=True)
    (toy / "action.yml").write_text("inputs:\n  name:\n    default: ${{ github.actor }}\n  build-args:\n    default: ''\n")
    # Python, not sh: dash drops variables like INPUT_BUILD-ARGS from its environment.
    (toy / "main").write_text(
        "#!/usr/bin/env python3\n"
        "import os\n"
        "with open(os.environ['GITHUB_OUTPUT'], 'a') as out:\n"
        "    out.write(f\"greeting=hello {os.environ['INPUT_NAME']}\\n\")\n"
        "    out.write(f\"args={os.environ['INPUT_BUILD-ARGS']}\\n\")\n"
        "with open(os.environ['GITHUB_ENV'], 'a') as env:\n"
        "    env.write('TOY_RAN=yes\\n')\n"
    )
    (toy / "main").chmod(0o755)
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    return run_workflow(
        str(wf),
        event,
        repo_dir=str(repo),
        env={},
        secrets={"GITHUB_TOKEN": "s3cr3t-token", **kw.pop("secrets", {})},
        actions_dir=str(actions),
        work_dir=str(tmp_path / "work"),
        job_env_factory=lambda job_dir: {"JOB_DIR": job_dir},
        **kw,
    )


def test_outputs_env_and_needs(tmp_path):
    result = run(
        tmp_path,
        """
        on: {push: {tags: ['v*']}}
        env: {IMAGE: 'ghcr.io/${{ github.repository_owner }}/app'}
        jobs:
          build:
            runs-on: ubuntu-latest
            outputs:
              version: ${{ steps.v.outputs.version }}
              greeting: ${{ steps.toy.outputs.greeting }}
            steps:
              - id: v
                run: |
                  echo "version=${GITHUB_REF#refs/tags/v}" >> "$GITHUB_OUTPUT"
                  echo "version=${GITHUB_REF#refs/tags/v}" >> "$GITHUB_ENV"
                  {
                    echo "multi<<EOF"
                    echo "a"
                    echo "b"
                    echo "EOF"
                  } >> "$GITHUB_OUTPUT"
              - id: toy
                uses: acme/toy@v1
                with:
                  build-args: V=${{ env.version }}
                  unknown: x
              - run: test "$TOY_RAN" = yes && test "$version" = 1.2.3 && test "$IMAGE" = ghcr.io/acme/app
              - run: echo "token $TOKEN"
                env: {TOKEN: '${{ secrets.GITHUB_TOKEN }}'}
          announce:
            needs: build
            runs-on: ubuntu-latest
            steps:
              - run: echo "v=$V g=$G" >> "$GITHUB_STEP_SUMMARY"
                env:
                  V: ${{ needs.build.outputs.version }}
                  G: ${{ needs.build.outputs.greeting }}
        """,
    )
    assert result.conclusion == "success", result.describe()
    build = result.job("build")
    assert build.step("v").outputs == {"version": "1.2.3", "multi": "a\nb"}
    assert build.step("toy").outputs == {"greeting": "hello octocat", "args": "V=1.2.3"}
    assert ("warning", "Unexpected input(s) 'unknown', valid inputs are ['build-args', 'name']") in build.annotations
    assert "s3cr3t-token" not in build.log() and "token ***" in build.log()
    assert result.job("announce").summary == "v=1.2.3 g=hello octocat\n"


def test_failure_skips_dependents_unless_a_status_function_says_otherwise(tmp_path):
    result = run(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: x
            steps:
              - id: bad
                run: exit 3
              - run: echo never
              - if: failure()
                run: echo cleanup
              - if: always()
                run: echo "outcome=${{ steps.bad.outcome }}"
          b: {needs: a, runs-on: x, steps: [{run: 'true'}]}
          c: {needs: b, runs-on: x, steps: [{run: 'true'}]}
          d:
            needs: c
            if: always()
            runs-on: x
            steps:
              - run: echo "${{ needs.c.result }}"
          e: {needs: [a], if: failure(), runs-on: x, steps: [{run: 'true'}]}
          f: {needs: [a, b], if: "!cancelled() && contains(needs.*.result, 'failure')", runs-on: x, steps: [{run: 'true'}]}
        """,
    )
    a = result.job("a")
    assert [(s.outcome, s.conclusion) for s in a.steps] == [
        ("failure", "failure"),
        ("skipped", "skipped"),
        ("success", "success"),
        ("success", "success"),
    ]
    assert "outcome=failure" in a.steps[3].log
    assert {j: result.result(j) for j in result.jobs} == {
        "a": "failure",
        "b": "skipped",
        "c": "skipped",
        "d": "success",
        "e": "success",
        "f": "success",
    }
    assert "skipped" in result.job("d").steps[0].log
    assert result.conclusion == "failure"


def test_continue_on_error_keeps_the_job_green(tmp_path):
    result = run(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: x
            steps:
              - id: soft
                continue-on-error: true
                run: exit 1
              - run: echo "${{ steps.soft.outcome }}/${{ steps.soft.conclusion }}"
        """,
    )
    assert result.conclusion == "success"
    assert "failure/success" in result.job("a").steps[1].log


def test_a_job_that_continues_on_error_looks_successful_to_its_needs(tmp_path):
    result = run(
        tmp_path,
        """
        on: push
        jobs:
          soft:
            runs-on: x
            continue-on-error: ${{ github.event_name == 'push' }}
            outputs:
              early: ${{ steps.early.outputs.v }}
              late: ${{ steps.late.outputs.v }}
            steps:
              - id: early
                run: echo v=set >> "$GITHUB_OUTPUT"
              - run: exit 1
              - id: late
                run: echo v=never >> "$GITHUB_OUTPUT"
          after:
            needs: soft
            if: needs.soft.result == 'success'
            runs-on: x
            steps:
              - run: echo "[${{ needs.soft.outputs.early }}][${{ needs.soft.outputs.late }}]"
          hard:
            runs-on: x
            continue-on-error: false
            steps:
              - run: exit 1
        """,
    )
    assert (result.job("soft").result, result.job("soft").outcome) == ("success", "failure")
    assert "[set][]" in result.job("after").steps[0].log
    assert result.job("hard").result == "failure"
    assert result.conclusion == "failure"


def test_matrix_legs_strategy_context_and_fail_fast(tmp_path):
    result = run(
        tmp_path,
        """
        on: push
        jobs:
          legs:
            runs-on: x
            strategy:
              matrix:
                os: [a, b, c]
            outputs:
              last: ${{ steps.o.outputs.os }}
            steps:
              - id: o
                run: |
                  echo "os=${{ matrix.os }}" >> "$GITHUB_OUTPUT"
                  echo "${{ strategy.job-index }}/${{ strategy.job-total }}"
                  test "${{ matrix.os }}" != b
          after:
            needs: legs
            if: always()
            runs-on: x
            steps:
              - run: echo "${{ needs.legs.outputs.last }}"
        """,
    )
    assert [leg.result for leg in result.jobs["legs"]] == ["success", "failure", "cancelled"]
    assert [leg.name for leg in result.jobs["legs"]] == ["legs (a)", "legs (b)", "legs (c)"]
    assert "1/3" in result.job("legs", 1).steps[0].log
    assert result.result("legs") == "failure"
    assert result.outputs("legs") == {"last": "b"}  # the last leg that set it wins


def test_matrix_include_exclude():
    combos = expand_matrix(
        {
            "fruit": ["apple", "pear"],
            "animal": ["cat", "dog"],
            "include": [
                {"color": "green"},
                {"color": "pink", "animal": "cat"},
                {"fruit": "apple", "shape": "circle"},
                {"fruit": "banana"},
                {"fruit": "banana", "animal": "cat"},
            ],
            "exclude": [{"fruit": "pear", "animal": "dog"}],
        }
    )
    # GitHub's documented example, less the excluded combination
    assert combos == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_triggers(tmp_path):
    text = """
        on:
          push:
            tags: ['v[0-9]+.[0-9]+.[0-9]+']
          pull_request:
            branches: [main]
        jobs: {a: {runs-on: x, steps: [{run: 'true'}]}}
        """
    assert run(tmp_path, text, Event.tag("v1.2.3")).triggered
    assert not run(tmp_path, text, Event.tag("v1.2")).triggered
    assert not run(tmp_path, text, Event.branch("main")).triggered
    assert run(tmp_path, text, Event.pull_request(7)).triggered
    assert not run(tmp_path, text, Event.pull_request(7, base="dev")).triggered
    assert matches_filters("release/1.2", ["release/**"])
    assert not matches_filters("release/1.2", ["release/*", "!release/1.*"])
    assert matches_filters("v1.2.3-rc.1", ["v*-rc*"])


def test_timeout_is_enforced(tmp_path):
    result = run(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: x
            steps:
              - run: sleep 30
                timeout-minutes: 0.02
        """,
    )
    assert result.result("a") == "failure"
    assert any("timed out" in msg for _, msg in result.job("a").annotations)


def test_unsupported_things_are_errors(tmp_path):
    with pytest.raises(WorkflowError, match="container"):
        run(tmp_path, "on: push\njobs: {a: {runs-on: x, container: alpine, steps: [{run: 'true'}]}}\n")
    result = run(tmp_path, "on: push\njobs: {a: {runs-on: x, steps: [{uses: nobody/nothing@v1}]}}\n")
    assert result.result("a") == "failure"
    assert "no stand-in for nobody/nothing" in result.job("a").steps[0].log


def test_rerun_failed_jobs_keeps_the_others(tmp_path):
    flag = tmp_path / "fixed"
    text = f"""
        on: push
        jobs:
          build:
            runs-on: x
            outputs: {{n: '${{{{ steps.s.outputs.n }}}}'}}
            steps: [{{id: s, run: 'echo "n=$GITHUB_RUN_ATTEMPT" >> "$GITHUB_OUTPUT"'}}]
          push:
            needs: build
            runs-on: x
            steps: [{{run: 'test -e {flag} && echo "built in ${{{{ needs.build.outputs.n }}}}, now $GITHUB_RUN_ATTEMPT"'}}]
          after: {{needs: push, runs-on: x, steps: [{{run: 'true'}}]}}
        """
    seen = []
    first = run(tmp_path, text, hooks=Hooks(after_job=lambda job, res: seen.append((job, res.result))))
    assert seen == [("build", "success"), ("push", "failure")]
    assert (first.result("push"), first.result("after")) == ("failure", "skipped")
    flag.touch()
    second = rerun_failed(first)
    assert (second.run_id, second.attempt) == (first.run_id, 2)
    assert second.conclusion == "success"
    assert second.jobs["build"] is first.jobs["build"]
    assert "built in 1, now 2" in second.job("push").steps[0].log


def test_env_file_format():
    assert parse_env_file("a=1\n\nb<<X\nl1\nl2\nX\nc=x=y\n", "f") == {"a": "1", "b": "l1\nl2", "c": "x=y"}
    with pytest.raises(WorkflowError):
        parse_env_file("b<<X\nnever closed\n", "f")
    with pytest.raises(WorkflowError):
        parse_env_file("no equals sign\n", "f")


def test_event_payload_and_github_context(tmp_path):
    result = run(
        tmp_path,
        """
        on: pull_request
        jobs:
          a:
            runs-on: x
            steps:
              - run: |
                  echo "${{ github.event.pull_request.number }} ${{ github.head_ref }} ${{ github.base_ref }} $GITHUB_REF"
                  jq -r .pull_request.number "$GITHUB_EVENT_PATH"
        """,
        Event.pull_request(7),
    )
    log = result.job("a").steps[0].log
    assert "7 feature main refs/pull/7/merge" in log
    assert log.strip().endswith("7")
    assert json.loads((tmp_path / "work").glob("event-*.json").__next__().read_text())["number"] == 7
