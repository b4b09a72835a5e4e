"""What a JavaScript action sees and does through @actions/core: inputs from
INPUT_* variables, outputs/env/path through the GITHUB_* files, annotations
on stdout; plus the E2E_LOG record every stand-in appends."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path


class ActionError(Exception):
    """A failure the action reports with core.setFailed (exit 1)."""


def get_input(name: str, *, required: bool = False) -> str:
    """@actions/core getInput: INPUT_<NAME> (spaces → '_', upper-cased,
    dashes kept), trimmed; a required empty input is an error."""
    value = os.environ.get("INPUT_" + name.replace(" ", "_").upper(), "").strip()
    if required and not value:
        raise ActionError(f"Input required and not supplied: {name}")
    return value


def get_bool(name: str) -> bool:
    """@actions/core getBooleanInput: only the YAML 1.2 core-schema booleans."""
    value = get_input(name)
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    raise ActionError(
        f'Input does not meet YAML 1.2 "Core Schema" specification: {name}\n'
        "Support boolean input list: `true | True | TRUE | false | False | FALSE`"
    )


def get_list(name: str, *, ignore_comma: bool = False) -> list[str]:
    """docker/actions-toolkit Util.getInputList: one item per line and, unless
    ignore_comma, per comma; items trimmed, empty ones and `#` comments
    dropped (src/util.ts)."""
    items: list[str] = []
    for line in get_input(name).splitlines():
        parts = [line] if ignore_comma else line.split(",")
        for part in parts:
            part = part.strip()
            if part and not part.startswith("#"):
                items.append(part)
    return items


def _append(var: str, text: str) -> None:
    path = os.environ.get(var)
    if not path:
        raise ActionError(f"{var} is not set (not running under the e2e runner?)")
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def _keyed(name: str, value: str) -> str:
    delim = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delim}\n{value}\n{delim}\n"


def set_output(name: str, value: str) -> None:
    _append("GITHUB_OUTPUT", _keyed(name, value))


def export_variable(name: str, value: str) -> None:
    os.environ[name] = value
    _append("GITHUB_ENV", _keyed(name, value))


def add_path(path: str | Path) -> None:
    _append("GITHUB_PATH", f"{path}\n")


def summary(markdown: str) -> None:
    _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n")


def warning(message: str) -> None:
    print(f"::warning::{message}", flush=True)


def info(message: str) -> None:
    print(message, flush=True)


def record(tool: str, **fields) -> None:
    """Append one JSON line to E2E_LOG: what this call did."""
    path = os.environ.get("E2E_LOG")
    if not path:
        return
    entry = {
        "tool": tool,
        "job": os.environ.get("GITHUB_JOB", ""),
        "attempt": int(os.environ.get("GITHUB_RUN_ATTEMPT", "1") or 1),
        **fields,
    }
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def run(main) -> None:
    """Run an action's main(); an ActionError becomes `::error::` + exit 1,
    like core.setFailed."""
    try:
        main()
    except ActionError as err:
        print(f"::error::{err}", flush=True)
        sys.exit(1)
