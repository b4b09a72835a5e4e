#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the repository's fixtures and the small
# hostile inputs in tests/data/hostile/. Run before `cargo fuzz run`; the
# corpus folders are not committed (fuzz/.gitignore).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
for target in locate migrate; do
  dir="$here/corpus/$target"
  mkdir -p "$dir"
  n=0
  while IFS= read -r -d '' f; do
    # Name each seed by its content so reseeding never duplicates.
    cp "$f" "$dir/seed-$(sha1sum "$f" | cut -c1-16)"
    n=$((n + 1))
  done < <(find "$root/fixtures" "$root/tests/data/hostile" -type f \
             \( -name '*.yml' -o -name '*.yaml' -o -name '*.bin' -o -name 'crash-*' \) \
             -size -64k -print0 2>/dev/null)
  echo "$target: $n seed(s) in $dir"
done
