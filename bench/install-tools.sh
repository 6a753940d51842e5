#!/usr/bin/env bash
# Install the benchmark tools (hyperfine, sqlite3) from Debian packages, only
# when missing. Expects to run as root (no sudo). Idempotent and quick when
# everything is already there.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# tool name -> Debian package providing it
declare -A package_for=(
    [hyperfine]=hyperfine
    [sqlite3]=sqlite3
)

missing=()
for tool in "${!package_for[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${package_for[$tool]}")
done

if ((${#missing[@]} == 0)); then
    echo "install-tools: hyperfine and sqlite3 already installed"
else
    [[ "$(id -u)" == 0 ]] || die "need root to install: ${missing[*]}"
    echo "install-tools: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq
    timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "install-tools: $(hyperfine --version), sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
