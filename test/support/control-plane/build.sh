#!/usr/bin/env bash
# Builds the control-plane programs the tests use from Go modules, pinned by the wrapper modules
# beside this script, and caches each binary outside the repo keyed by module and go.sum hash.
# A fresh machine builds once (minutes); later runs only link the cached binaries into .tools/bin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${COMPOSER_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/composer-mcp}/bin
tools=${COMPOSER_MCP_TOOLS:-$here/../../../.tools}/bin
mkdir -p "$cache" "$tools"
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

# build <wrapper dir> <binary name> <package>
build() {
  local dir=$here/$1 name=$2 pkg=$3
  local key; key=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-12)
  local out=$cache/$name-$key
  if [ ! -x "$out" ]; then
    echo "Building $name from $pkg (first time on this machine; cached at $out)"
    local start=$SECONDS log; log=$(mktemp)
    if ! (cd "$dir" && go build -trimpath -ldflags=-s -o "$out.tmp" "$pkg") >"$log" 2>&1; then
      echo "ERROR: building $name failed (go build $pkg in $dir). Last lines:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    mv "$out.tmp" "$out"; rm -f "$log"
    echo "Built $name in $((SECONDS - start))s"
  fi
  ln -sfn "$out" "$tools/$name"
}

build tools kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build tools kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build tools kubectl k8s.io/kubernetes/cmd/kubectl
build etcd etcd go.etcd.io/etcd/server/v3
build helm helm helm.sh/helm/v4/cmd/helm
