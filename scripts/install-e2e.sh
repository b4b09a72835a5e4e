#!/usr/bin/env bash
# Install the Debian packages the end-to-end suite (tests/e2e) runs for real,
# then check their versions:
#
#   skopeo 1.9.*, buildah 1.28.*, podman 4.3.*   (containers tools; as root with
#                                                 --isolation chroot)
#   docker-registry 2.8.*                        (the distribution registry)
#   docker.io 20.10.*                            (dockerd + its legacy builder)
#   busybox-static                               (FROM-scratch test images)
#   uidmap; git, node + npm, python3-venv when absent (fixture steps run them)
#
# These are Debian 12 (bookworm)'s versions; the suite's stand-ins and
# assertions were proven against them. Idempotent: `apt-get update` and
# `apt-get install` run only when a package is missing. Quiet on success (one
# summary line); errors go to stderr. Needs root (or sudo) for apt-get.
set -euo pipefail

# Debian packages, installed when dpkg does not list them.
packages=(skopeo buildah podman docker-registry docker.io busybox-static uidmap jq)
# command|Debian package: installed only when the command is absent (a
# machine may have git or Node.js from elsewhere, e.g. NodeSource's nodejs
# ships npm and conflicts with Debian's npm package).
commands=("git|git" "node|nodejs" "npm|npm" "newuidmap|uidmap")

# name|command printing the version|wanted version (a bash glob)
checks=(
  "skopeo|skopeo --version|skopeo version 1.9.*"
  "buildah|buildah --version|buildah version 1.28.*"
  "podman|podman --version|podman version 4.3.*"
  "docker-registry|docker-registry --version|* 2.8.*"
  "dockerd|dockerd --version|Docker version 20.10.*"
  "docker|/usr/bin/docker --version|Docker version 20.10.*"
)

die() {
  echo "install-e2e: $*" >&2
  exit 1
}

missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null || true)"
  [[ "$status" == ii* ]] || missing+=("$p")
done
for c in "${commands[@]}"; do
  command -v "${c%%|*}" >/dev/null || missing+=("${c#*|}")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)

if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "missing packages (${missing[*]}): run as root or install sudo"
    sudo=(sudo)
  fi
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! { "${sudo[@]}" apt-get update -q && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get could not install: ${missing[*]}"
  fi
fi

summary=()
for c in "${checks[@]}"; do
  IFS='|' read -r name cmd want <<<"$c"
  got="$($cmd 2>&1 | head -n1)" || die "$name: \`$cmd\` failed: $got"
  # shellcheck disable=SC2053 # $want is a glob on purpose
  [[ "$got" == $want ]] || die "$name: found \"$got\", the suite needs \"$want\" (Debian 12's package). Install that version or run the suite on Debian 12."
  summary+=("$name $(grep -oE '[0-9]+\.[0-9]+\.[0-9]+' <<<"$got" | head -n1)")
done
[[ -x /bin/busybox ]] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' \
  || die "/bin/busybox is not the static busybox (apt-get install busybox-static)"

installed=""
((${#missing[@]})) && installed=" (installed: ${missing[*]})"
echo "install-e2e: ok: $(IFS=,; echo "${summary[*]}" | sed 's/,/, /g')$installed"
