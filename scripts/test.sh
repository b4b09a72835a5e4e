#!/usr/bin/env bash
# The project's test command (README, .ci/run): install the pinned validators,
# then build and run every test. Works on a fresh machine with Rust 1.95 and
# python3; reaches only crates.io and PyPI.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-tools.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets --quiet -- -D warnings
cargo test --locked
