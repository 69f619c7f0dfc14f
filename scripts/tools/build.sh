#!/usr/bin/env bash
# Builds the project's helper tools from Go modules, pinned by the wrapper modules beside this script, cached
# outside the repo keyed by go.mod/go.sum (as test/support/control-plane/build.sh does) and linked into .tools/bin:
#   actionlint   checks .github/workflows in `make lint-workflows` (part of make test)
#   syft         writes an SPDX SBOM per image in `make images`
# Usage: scripts/tools/build.sh <tool>...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${COMPOSER_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/composer-mcp}/bin
tools=${COMPOSER_MCP_TOOLS:-$here/../../.tools}/bin
mkdir -p "$cache" "$tools"
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

for name in "$@"; do
  dir=$here/$name
  [ -f "$dir/go.mod" ] || { echo "scripts/tools/build.sh: no wrapper module for $name" >&2; exit 2; }
  pkg=$(sed -n 's/^tool \(.*\)$/\1/p; /^tool (/,/^)/{/^\t/{s/^\t//;p}}' "$dir/go.mod" | head -n 1)
  version=$(cd "$dir" && go list -m -f '{{.Version}}' "$(cd "$dir" && go list -f '{{.Module.Path}}' "$pkg")")
  ldflags="-s -X main.version=$version"
  key=$( (cat "$dir/go.mod" "$dir/go.sum"; echo "$ldflags") | sha256sum | cut -c1-12)
  out=$cache/$name-$key
  if [ ! -x "$out" ]; then
    echo "Building $name $version from $pkg (first time on this machine; cached at $out)" >&2
    start=$SECONDS
    log=$(mktemp)
    if ! (cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$out.tmp.$$" "$pkg") >"$log" 2>&1; then
      echo "ERROR: building $name failed. Last lines:" >&2; tail -n 30 "$log" >&2; rm -f "$log" "$out.tmp.$$"; exit 1
    fi
    mv "$out.tmp.$$" "$out"; rm -f "$log"
    echo "Built $name in $((SECONDS - start))s" >&2
  fi
  ln -sfn "$out" "$tools/$name"
done
