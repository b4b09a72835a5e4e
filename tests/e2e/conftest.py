"""Fixtures of the end-to-end suite: the real services (services.py) and the case
harness (harness.py).

Services are context managers held by fixtures, so pytest stops them after the
last test even when a test fails. Each case gets its own registry (so "the
registry stays empty" means something); the Docker daemon is shared and pruned
at the start of every job (services.new_job_environment).
"""

from __future__ import annotations

from typing import Any

import pytest

import services
from harness import ACTOR, TARGET, TOKEN, Harness, HookServer, Report

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
def e2e(tmp_path, dockerd, registry):
    with HookServer() as hook:
        yield Harness(tmp_path, dockerd, registry, _REPORT, hook)


@pytest.fixture
def e2e_pair(tmp_path, dockerd, registry):
    """Two harnesses of one test, in folders of their own, on one registry:
    for runs whose pushes are compared there."""
    with HookServer() as hook:
        yield tuple(Harness(tmp_path / name, dockerd, registry, _REPORT, hook) for name in ("first", "second"))
