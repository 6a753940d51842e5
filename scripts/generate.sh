#!/usr/bin/env bash
# Regenerates the files that come from the command table: shell completions and the man page.
# CI's test suite fails when the committed files differ from what the binary generates.
#   scripts/generate.sh [path/to/xalorra]   (default: builds and uses the debug binary)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
if [[ -z "$bin" ]]; then
  swift build --product xalorra >/dev/null
  bin="$(swift build --show-bin-path)/xalorra"
fi
"$bin" completions bash > completions/xalorra.bash
"$bin" completions zsh > completions/_xalorra
"$bin" completions fish > completions/xalorra.fish
"$bin" man > man/xalorra.1
echo "regenerated completions/ and man/ with $bin"
