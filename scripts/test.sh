#!/usr/bin/env bash
# The project's test command (README, .ci/run): install the pinned validators
# and the end-to-end tools, then build and run every test. Works on a fresh
# machine with Rust 1.95 and python3; reaches only crates.io, PyPI and Debian's
# packages (scripts/install-e2e.sh, as root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# A one-shot CI build gains nothing from incremental caches (GBs of disk).
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
scripts/install-tools.sh
scripts/install-e2e.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets --quiet -- -D warnings
cargo test --locked
# The end-to-end suite (tests/e2e/README.md) executes workflows with the binary.
cargo build --locked --quiet
SCANGATE_BIN="$root/target/debug/scangate" \
  .tools/venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider
