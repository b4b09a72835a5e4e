"""A small GitHub Actions executor for scangate's end-to-end tests (see tests/e2e/README.md)."""

from .executor import Hooks, JobResult, RunResult, StepResult, rerun_failed, run_workflow
from .expressions import ExpressionError
from .workflow import Event, Workflow, WorkflowError

__all__ = [
    "Event",
    "ExpressionError",
    "Hooks",
    "JobResult",
    "RunResult",
    "StepResult",
    "Workflow",
    "WorkflowError",
    "rerun_failed",
    "run_workflow",
]
