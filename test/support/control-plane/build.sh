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

# The version a wrapper pins for <module> (from its go.mod), e.g. v1.36.3.
pinned() { (cd "$here/$1" && go list -m -f '{{.Version}}' "$2"); }

# Go's module builds leave version variables at their "v0.0.0-master" defaults; stamp the real versions so
# `kubectl version`, the apiserver's /version and Helm's kubeVersion checks see what was built.
k8s_version=$(pinned tools k8s.io/kubernetes)
k8s_minor=${k8s_version#v1.}; k8s_minor=${k8s_minor%%.*}
k8s_ldflags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
helm_ldflags="-X helm.sh/helm/v4/internal/version.version=$(pinned helm helm.sh/helm/v4)"

# build <wrapper dir> <binary name> <package> [extra ldflags]
build() {
  local dir=$here/$1 name=$2 pkg=$3 ldflags="-s ${4:-}"
  local key; key=$( (cat "$dir/go.mod" "$dir/go.sum"; echo "$ldflags") | sha256sum | cut -c1-12)
  local out=$cache/$name-$key
  if [ ! -x "$out" ]; then
    echo "Building $name from $pkg (first time on this machine; cached at $out)" >&2
    local start=$SECONDS log; log=$(mktemp)
    if ! (cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$out.tmp" "$pkg") >"$log" 2>&1; then
      echo "ERROR: building $name failed (go build $pkg in $dir). Last lines:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    mv "$out.tmp" "$out"; rm -f "$log"
    echo "Built $name in $((SECONDS - start))s" >&2
  fi
  ln -sfn "$out" "$tools/$name"
}

build tools kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
build tools kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$k8s_ldflags"
build tools kubectl k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags"
build etcd etcd go.etcd.io/etcd/server/v3
build helm helm helm.sh/helm/v4/cmd/helm "$helm_ldflags"
