#!/usr/bin/env bash
# Whole-process time of `scangate check` against `zizmor --offline` on the
# same workflow files, measured by hyperfine in one run (same machine, same
# load, same page cache).
#
#   scripts/bench-check.sh [CORPUS_DIR]
#
# CORPUS_DIR holds robustness/ and real/ (default: ../shared/corpus beside
# the repository); together they must give at least 250 files. `check` runs
# on every push, so the goal is at most one fifth of zizmor's time; the
# script exits 1 when the goal is missed.
#
# Needs hyperfine (apt-get install hyperfine), python3, and zizmor from
# scripts/install-tools.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${1:-$root/../shared/corpus}"
zizmor="$root/.tools/venv/bin/zizmor"
scangate="$root/target/release/scangate"

die() {
  echo "bench-check: $*" >&2
  exit 2
}

command -v hyperfine >/dev/null || die "hyperfine is not installed (apt-get install hyperfine)"
command -v python3 >/dev/null || die "python3 is needed to read hyperfine's results"
[ -x "$zizmor" ] || die "zizmor not found at $zizmor: run scripts/install-tools.sh"
[ -d "$corpus/robustness" ] && [ -d "$corpus/real" ] ||
  die "no robustness/ and real/ under $corpus (pass the corpus folder)"

shopt -s nullglob
files=("$corpus"/robustness/*.yml "$corpus"/robustness/*.yaml "$corpus"/real/*.yml "$corpus"/real/*.yaml)
[ "${#files[@]}" -ge 250 ] || die "only ${#files[@]} workflow files under $corpus; the benchmark needs at least 250"
for f in "${files[@]}"; do
  case "$f" in
    *[[:space:]]*) die "a path with whitespace cannot be passed through hyperfine -N: $f" ;;
  esac
done

cargo build --release --quiet --manifest-path "$root/Cargo.toml"

results="$(mktemp)"
trap 'rm -f "$results"' EXIT

echo "bench-check: ${#files[@]} files; $("$scangate" --version); $("$zizmor" --version)"
# -N: no intermediate shell, so its start-up is not counted for either.
# --ignore-failure: both exit non-zero when they find something.
hyperfine -N --warmup 3 --min-runs 20 --ignore-failure --export-json "$results" \
  --command-name "scangate check" "$scangate check --format json ${files[*]}" \
  --command-name "zizmor --offline" "$zizmor --offline --no-progress --format json ${files[*]}"

python3 - "$results" <<'PY'
import json, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ours, theirs = runs["scangate check"], runs["zizmor --offline"]
ratio = ours["mean"] / theirs["mean"]
print(f"scangate check:   {ours['mean'] * 1000:7.1f} ms ± {ours['stddev'] * 1000:.1f}")
print(f"zizmor --offline: {theirs['mean'] * 1000:7.1f} ms ± {theirs['stddev'] * 1000:.1f}")
verdict = "met" if ratio <= 0.2 else "MISSED"
print(f"ratio: {ratio:.3f} of zizmor's time (goal: at most 0.200): {verdict}")
sys.exit(0 if ratio <= 0.2 else 1)
PY
