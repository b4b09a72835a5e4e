#!/usr/bin/env bash
# Saves what scangate prints for every workflow, so that a refactoring can be
# proven byte-identical: run it before and after, then `diff -r BEFORE AFTER`.
#
#   scripts/migrate-outputs.sh OUTDIR [DIR...]
#
# DIRs default to the fixtures plus ../shared/corpus/{real,robustness} when
# they exist. For each workflow file it records stdout, stderr and the exit
# code of `migrate` (default layout, steps layout, --sign, --format json) and of
# `check --format json`. SCANGATE names the binary (default
# target/debug/scangate). Runs from the crate root with a config-free working
# folder, so paths in the output are the same from run to run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: $0 OUTDIR [DIR...]}"
shift
bin="$(realpath "${SCANGATE:-$root/target/debug/scangate}")"
cd "$root"
if [ "$#" -eq 0 ]; then
  set -- fixtures
  for d in ../shared/corpus/real ../shared/corpus/robustness; do
    [ -d "$d" ] && set -- "$@" "$d"
  done
fi
mkdir -p "$out"
out="$(realpath "$out")"

# run NAME ARGS...: stdout, stderr and exit code of `scangate ARGS...` under NAME.
run() {
  local name="$1"
  shift
  local code=0
  "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err" </dev/null || code=$?
  echo "$code" >"$out/$name.code"
}

count=0
while IFS= read -r -d '' file; do
  key="$(printf '%s' "${file#../}" | tr '/' '_')"
  run "$key.jobs" migrate --color never "$file"
  run "$key.steps" migrate --color never --layout steps "$file"
  run "$key.sign" migrate --color never --sign "$file"
  run "$key.json" migrate --format json "$file"
  run "$key.check" check --format json "$file"
  count=$((count + 1))
done < <(find "$@" -type f \( -name '*.yml' -o -name '*.yaml' \) -print0 | sort -z)
echo "$count workflow files, $((count * 5)) runs → $out" >&2
