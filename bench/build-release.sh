#!/usr/bin/env bash
# Build xalorra the way users install it (release, static Swift stdlib) and print
# the absolute path of the binary on stdout. Build chatter goes to stderr, so
# callers can do:   BIN="$(bench/build-release.sh)"
#
# Environment:
#   SCRATCH        optional build directory, passed as --scratch-path "$SCRATCH"
#   PACKAGE_DIR    package to build (default: the repository root)
#   BUILD_TIMEOUT  seconds before the build is abandoned (default 3600)
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need swift timeout

PACKAGE_DIR="${PACKAGE_DIR:-$REPO_ROOT}"
BUILD_TIMEOUT="${BUILD_TIMEOUT:-3600}"

args=(-c release --static-swift-stdlib --product xalorra --package-path "$PACKAGE_DIR")
if [[ -n "${SCRATCH:-}" ]]; then
    args+=(--scratch-path "$SCRATCH")
fi

echo "building: swift build$(printf ' %q' "${args[@]}")" >&2
start=$(now_ns)
# stdout of the build is redirected to stderr: our stdout is reserved for the path.
timeout "$BUILD_TIMEOUT" swift build "${args[@]}" >&2 \
    || die "swift build failed or exceeded ${BUILD_TIMEOUT}s"
elapsed_ms=$(( ($(now_ns) - start) / 1000000 ))

bin_dir="$(swift build "${args[@]}" --show-bin-path)"
bin="$bin_dir/xalorra"
[[ -x "$bin" ]] || die "build succeeded but '$bin' is not an executable"

echo "built $bin ($(du -h "$bin" | cut -f1), ${elapsed_ms} ms)" >&2
echo "$bin"
