#!/usr/bin/env bash
# Installs what the interop suite needs: Debian packages from packages.apt and PyPI packages
# from packages.pip. Idempotent: installs only what is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
list() { grep -v '^\s*#' "$1" | sed 's/\s*#.*//' | awk 'NF{print $1}'; }

missing_apt=()
for p in $(list "$here/packages.apt"); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_apt+=("$p")
done
if [ ${#missing_apt[@]} -gt 0 ]; then
    echo "interop/install.sh: apt-get install ${missing_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing_apt[@]}" >/dev/null
fi

missing_pip=()
for p in $(list "$here/packages.pip"); do
    python3 -m pip show -q "${p%%[=<>]*}" >/dev/null 2>&1 || missing_pip+=("$p")
done
if [ ${#missing_pip[@]} -gt 0 ]; then
    echo "interop/install.sh: pip install ${missing_pip[*]}" >&2
    python3 -m pip install -q --disable-pip-version-check "${missing_pip[@]}"
fi
