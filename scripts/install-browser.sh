#!/usr/bin/env bash
# Install the headless browser tests/report_html.rs renders the report page
# in: Debian's chromium, at the pinned version, only if it is missing.
#
#   CHROMIUM_VERSION   the Debian package version (default below)
#
# Needs apt-get (Debian 12) and root; a machine that has chromium already
# (any version) is left alone. Debian's security archive keeps only the
# latest chromium build, so a superseded pin cannot be installed any more:
# then the script installs Debian 12's current chromium and says so, rather
# than fail the whole test command on a browser update.
set -euo pipefail
CHROMIUM_VERSION="${CHROMIUM_VERSION:-156.0.8078.129-1~deb12u1}"

if command -v chromium >/dev/null 2>&1; then
  echo "install-browser: $(chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || {
  echo "install-browser: chromium is missing and apt-get is not available; install chromium $CHROMIUM_VERSION" >&2
  exit 1
}
sudo=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "install-browser: installing chromium needs root (or sudo)" >&2
    exit 1
  }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
package="chromium=$CHROMIUM_VERSION"
if ! apt-cache madison chromium | grep -qF "| $CHROMIUM_VERSION |"; then
  echo "install-browser: chromium $CHROMIUM_VERSION is no longer in Debian's archive; installing its successor $(apt-cache policy chromium | sed -n 's/^ *Candidate: //p')" >&2
  package=chromium
fi
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "$package" fonts-dejavu-core >/dev/null
echo "install-browser: installed $(chromium --version)"
